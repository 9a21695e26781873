using System;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>
    /// The parts of hours a window cuts are decoded once per process and shared by its connections (each cmdlet call
    /// opens one): a question on a new connection after the store changed (an import, events changed or deleted in
    /// place by another connection, a write the triggers do not count, a change another connection made and rolled
    /// back) answers from the store as it is.
    /// </summary>
    public class SharedPartsTests
    {
        private static readonly DateTimeOffset Nov3 = SummaryConsistencyTests.Nov3;

        // Cut at minutes and seconds at both ends (as -Since (Get-Date).AddDays(-7)): an hour's part at each end from the
        // events, the rest from the hour and day tables.
        private static readonly QueryFilter Window = new QueryFilter { Since = Nov3.AddHours(10).AddMinutes(55).AddSeconds(13), Until = Nov3.AddDays(2).AddHours(14).AddMinutes(7).AddSeconds(7) };

        // The events of the window's parts of hours (the events view), which the hour and day tables do not answer.
        private const string InParts = "(SELECT id FROM events WHERE (timestamp >= @a AND timestamp < @b) OR (timestamp >= @c AND timestamp < @d))";

        private static object Parts => new
        {
            a = Window.Since!.Value.ToUnixTimeMilliseconds(), b = Nov3.AddHours(11).ToUnixTimeMilliseconds(),
            c = Nov3.AddDays(2).AddHours(14).ToUnixTimeMilliseconds(), d = Window.Until!.Value.ToUnixTimeMilliseconds(),
        };

        [Fact]
        public void AnUnchangedStoreHasTheSameStampOnEachNewConnection()
        {
            // As cmdlet calls open and close their connections one after another: the last one to close removes the
            // store's log of changes (WAL) and the next makes it again, empty; only a change counts.
            using var temp = TestPaths.NewTemp();
            var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).ToList();
            new LogImporter(new ImportOptions { DatabasePath = temp.Db }).Import(logs.Take(3));
            string? Stamp()
            {
                using var c = MadfDatabase.Open(temp.Db, forWrite: false);
                Assert.NotEmpty(Analysis.Sessions(c, Window));
                return Engine.Query.Questions.SharedParts.Stamp(c);
            }
            var first = Stamp();
            Assert.NotNull(first);
            System.Threading.Thread.Sleep(20); // a file made again would have another time
            Assert.Equal(first, Stamp());
            using (var other = MadfDatabase.Open(temp.Db))
                other.Execute("UPDATE event_rows SET tokens_used = coalesce(tokens_used, 0) + 1 WHERE id = (SELECT min(id) FROM event_rows)");
            Assert.NotEqual(first, Stamp());
        }

        [Fact]
        public void AQuestionOnANewConnectionAfterTheStoreChangedAnswersFromTheStoreAsItIs()
        {
            using var temp = TestPaths.NewTemp();
            var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).ToList();
            new LogImporter(new ImportOptions { DatabasePath = temp.Db }).Import(logs.Take(3)); // to Nov 4
            // A connection held open (as another process's) leaves the store's file as it is after each change: the last
            // connection to close copies the changes logged beside it (WAL) into it.
            using var held = MadfDatabase.Open(temp.Db, forWrite: false);
            void Ask()
            {
                using var c = MadfDatabase.Open(temp.Db, forWrite: false);
                SummaryConsistencyTests.AssertDayQuestionsMatch(c, Window);
            }
            Ask();
            Ask(); // unchanged: the parts decoded on the first connection

            // An import adds the events of the window's last day.
            new LogImporter(new ImportOptions { DatabasePath = temp.Db }).Import(logs.Skip(4));
            Ask();

            // Another connection (as another process would) changes events of the parts in place: their blocks, the
            // parts' conditions, stay as they were.
            using (var other = MadfDatabase.Open(temp.Db))
            {
                Assert.True(other.Execute($"UPDATE event_rows SET tokens_used = coalesce(tokens_used, 0) + 100000 WHERE id IN {InParts}", Parts) > 10);
                Assert.Equal(0, other.ExecuteScalar<long>("SELECT count(*) FROM events WHERE tokens_used < 100000 AND id IN " + InParts, Parts));
            }
            Ask();

            // ... and deletes some of them.
            using (var other = MadfDatabase.Open(temp.Db))
                Assert.Equal(5, other.Execute($"DELETE FROM event_rows WHERE id IN (SELECT id FROM events WHERE id IN {InParts} ORDER BY id LIMIT 5)", Parts));
            Ask();

            // A write that the triggers do not count (the combined store's refresh copies changed events again with its
            // triggers dropped): the file's log of changes tells it.
            using (var other = MadfDatabase.Open(temp.Db))
            {
                using var tx = other.BeginTransaction();
                var trigger = other.ExecuteScalar<string>("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'event_rows_updated'", transaction: tx)!;
                other.Execute("DROP TRIGGER event_rows_updated", transaction: tx);
                Assert.True(other.Execute($"UPDATE event_rows SET tokens_used = tokens_used + 300 WHERE id IN {InParts}", Parts, tx) > 10);
                other.Execute(trigger, transaction: tx);
                tx.Commit();
            }
            Ask();

            // A connection asks inside a transaction that changes the parts' events, then rolls it back; another commits a
            // change as large: what the first one saw was never the store's.
            using (var other = MadfDatabase.Open(temp.Db))
            {
                other.Execute("BEGIN;");
                other.Execute($"UPDATE event_rows SET tokens_used = tokens_used + 5000 WHERE id IN {InParts}", Parts);
                Assert.NotEmpty(Analysis.Sessions(other, Window));
                other.Execute("ROLLBACK;");
                other.Execute($"UPDATE event_rows SET tokens_used = tokens_used + 7 WHERE id IN {InParts}", Parts);
            }
            Ask();
        }
    }
}

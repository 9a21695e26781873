using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>
    /// The check every migration that rewrites event_rows gets: the sample logs imported whole into a fresh store and in
    /// part into another, which is turned back to the layout before the migration (with a gap at the end of its ids, as
    /// retention leaves) and upgraded by opening it. Then it answers as before (ShapesInKindsTests.Answers, the summaries
    /// against a scan), reads the same in plain SQLite, keeps AUTOINCREMENT's counter and its change sequence, imports the
    /// rest as the fresh store did, and adds nothing when the logs are imported again.
    /// </summary>
    internal static class TurnedBackStore
    {
        /// <param name="before">Checks of the store as imported, before it is turned back.</param>
        /// <param name="turnBack">Turns the store back (and checks it is in the old layout).</param>
        /// <param name="upgraded">Checks of the migration's own after the upgrade.</param>
        /// <param name="importedOn">Checks of the upgraded store (first) against the fresh one once it imported the rest.</param>
        /// <param name="firstLogs">Logs imported before the sample logs, into both stores (given a folder to write them in).</param>
        public static void Check(Action<SqliteConnection> before, Action<SqliteConnection> turnBack, Action<SqliteConnection> upgraded,
                                 Action<SqliteConnection, SqliteConnection>? importedOn = null, Func<TempFolder, IEnumerable<string>>? firstLogs = null)
        {
            using var t = TestPaths.NewTemp();
            using var fresh = TestPaths.NewTemp();
            var logs = (firstLogs?.Invoke(t) ?? Enumerable.Empty<string>())
                .Concat(Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f)).ToList();
            new LogImporter(new ImportOptions { DatabasePath = fresh.Db, BatchSize = 700 }).Import(logs);
            new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 700 }).Import(logs.Take(3));
            string expected;
            long sequence, changes;
            using (var c = MadfDatabase.Open(t.Db))
            {
                before(c);
                expected = ShapesInKindsTests.Answers(c);
                turnBack(c);
                // A gap at the end of the ids (rows retention moved out): AUTOINCREMENT's counter must survive the copy.
                c.Execute("UPDATE sqlite_sequence SET seq = seq + 1000 WHERE name = 'event_rows'");
                sequence = c.ExecuteScalar<long>("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'");
                changes = c.ExecuteScalar<long>("SELECT seq FROM event_changes WHERE id = -1");
            }
            var plain = EventExtrasTests.PlainRead(t.Db);
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                upgraded(c);
                Assert.Equal(sequence, c.ExecuteScalar<long>("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'"));
                Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_rows'"));
                // The copy is no change of the events.
                Assert.Equal(changes, c.ExecuteScalar<long>("SELECT seq FROM event_changes WHERE id = -1"));
                Assert.Equal(expected, ShapesInKindsTests.Answers(c));
                Query.SummaryConsistencyTests.AssertQuestionsMatch(c);
            }
            Assert.Equal(plain, EventExtrasTests.PlainRead(t.Db));
            new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 700 }).Import(logs.Skip(3));
            using (var c = MadfDatabase.Open(t.Db))
            using (var f = MadfDatabase.Open(fresh.Db))
            {
                Assert.Equal(ShapesInKindsTests.Answers(f), ShapesInKindsTests.Answers(c));
                Assert.True(c.ExecuteScalar<long>("SELECT min(id) FROM event_rows WHERE id > @sequence", new { sequence }) > sequence);
                importedOn?.Invoke(c, f);
            }
            // Exactly once: the same logs again add nothing.
            Assert.Equal(0, new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 700 }).Import(logs).Imported);
        }
    }
}

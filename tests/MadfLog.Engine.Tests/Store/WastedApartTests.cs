using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>Schema 56: the time saved or wasted is kept in event_extras, not a column of every event_rows row.</summary>
    public class WastedApartTests
    {
        private const string OnlyWasted = "confidence_score IS NULL AND impact_score IS NULL AND user_satisfaction_delta IS NULL AND created_rule IS NULL";

        [Fact]
        public void AStoreOfSchema55AnswersTheSameOnceItsTimeWastedIsInItsExtrasAndImportsOnAsAFreshOne()
        {
            using var t = TestPaths.NewTemp();
            using var fresh = TestPaths.NewTemp();
            var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).ToList();
            new LogImporter(new ImportOptions { DatabasePath = fresh.Db, BatchSize = 700 }).Import(logs);
            new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 700 }).Import(logs.Take(3));
            string expected;
            long sequence, changes, reported;
            using (var c = MadfDatabase.Open(t.Db))
            {
                expected = ShapesInKindsTests.Answers(c);
                reported = c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE time_saved_or_wasted_ms IS NOT NULL");
                Assert.True(reported > 0);
                // As schema 55 held it: a column at the end of each row.
                CompactStorageTests.UndoWastedApart(c);
                Assert.Equal(reported, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE time_saved_or_wasted_ms IS NOT NULL"));
                Assert.DoesNotContain("time_saved_or_wasted_ms", c.Query<string>("SELECT name FROM pragma_table_info('event_extras')"));
                // A gap at the end of the ids (rows retention moved out): AUTOINCREMENT's counter must survive the copy.
                c.Execute("UPDATE sqlite_sequence SET seq = seq + 1000 WHERE name = 'event_rows'");
                sequence = c.ExecuteScalar<long>("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'");
                changes = c.ExecuteScalar<long>("SELECT seq FROM event_changes WHERE id = -1");
            }
            var plain = EventExtrasTests.PlainRead(t.Db);
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                Assert.DoesNotContain("time_saved_or_wasted_ms", c.Query<string>("SELECT name FROM pragma_table_info('event_rows')"));
                Assert.Equal(reported, c.ExecuteScalar<long>("SELECT count(*) FROM event_extras WHERE time_saved_or_wasted_ms IS NOT NULL"));
                Assert.Equal(sequence, c.ExecuteScalar<long>("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'"));
                Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'ix_event_rows_pattern'"));
                Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_rows'"));
                Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_extras'"));
                // The move is no change of the events.
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
                Assert.Equal(f.ExecuteScalar<long>("SELECT sum(time_saved_or_wasted_ms) FROM events"), c.ExecuteScalar<long>("SELECT sum(time_saved_or_wasted_ms) FROM events"));
                Assert.True(c.ExecuteScalar<long>("SELECT min(id) FROM event_rows WHERE id > @sequence", new { sequence }) > sequence);
            }
            // Exactly once: the same logs again add nothing.
            Assert.Equal(0, new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 700 }).Import(logs).Imported);
        }

        [Fact]
        public void ANewEventsTimeWastedIsNoChangeInPlaceButARuleCreatedFromItIs()
        {
            using var t = TestPaths.NewTemp();
            var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).Take(1).ToList();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(logs);
            using var c = MadfDatabase.Open(t.Db);
            var id = c.ExecuteScalar<long>($"SELECT min(id) FROM event_extras WHERE {OnlyWasted}");
            Assert.True(id > 0);
            // An -IncludeArchive cache takes new events by their ids; only events changed in place are listed.
            Assert.Equal(0, c.ExecuteScalar<long>($"SELECT count(*) FROM event_changes WHERE id IN (SELECT id FROM event_extras WHERE {OnlyWasted})"));
            using (var tx = c.BeginTransaction())
            {
                EventStorage.SetCreatedRule(c, tx, "id = @event", new { Id = 9, @event = id });
                tx.Commit();
            }
            Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM event_changes WHERE id = @id", new { id }));
            var listed = c.ExecuteScalar<long>("SELECT seq FROM event_changes WHERE id = @id", new { id });
            // Changed again (an upsert of its extras row, listed already): listed with the newer change.
            using (var tx = c.BeginTransaction())
            {
                EventStorage.SetCreatedRule(c, tx, "id = @event", new { Id = 9, @event = id });
                tx.Commit();
            }
            Assert.True(c.ExecuteScalar<long>("SELECT seq FROM event_changes WHERE id = @id", new { id }) > listed);
            Assert.Equal(9, c.ExecuteScalar<long>("SELECT created_rule FROM events WHERE id = @id", new { id }));
            Assert.NotNull(c.ExecuteScalar<long?>("SELECT time_saved_or_wasted_ms FROM events WHERE id = @id", new { id }));
        }
    }
}

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
            long reported = 0;
            TurnedBackStore.Check(
                before: c =>
                {
                    reported = c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE time_saved_or_wasted_ms IS NOT NULL");
                    Assert.True(reported > 0);
                },
                turnBack: c =>
                {
                    // As schema 55 held it: a column at the end of each row.
                    CompactStorageTests.UndoWastedApart(c);
                    Assert.Equal(reported, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE time_saved_or_wasted_ms IS NOT NULL"));
                    Assert.DoesNotContain("time_saved_or_wasted_ms", c.Query<string>("SELECT name FROM pragma_table_info('event_extras')"));
                },
                upgraded: c =>
                {
                    Assert.DoesNotContain("time_saved_or_wasted_ms", c.Query<string>("SELECT name FROM pragma_table_info('event_rows')"));
                    Assert.Equal(reported, c.ExecuteScalar<long>("SELECT count(*) FROM event_extras WHERE time_saved_or_wasted_ms IS NOT NULL"));
                    Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'ix_event_rows_pattern'"));
                    Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_extras'"));
                },
                importedOn: (c, f) =>
                    Assert.Equal(f.ExecuteScalar<long>("SELECT sum(time_saved_or_wasted_ms) FROM events"), c.ExecuteScalar<long>("SELECT sum(time_saved_or_wasted_ms) FROM events")));
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

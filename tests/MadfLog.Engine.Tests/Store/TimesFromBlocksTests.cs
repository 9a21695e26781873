using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>Schema 61: a row's time is an offset from its block's base, whole for a row with a pattern.</summary>
    public class TimesFromBlocksTests
    {
        // Each row's time as the view gives it, against what the row holds: offsets from the block's base, whole with a pattern.
        private static void AssertTimesAsStored(Microsoft.Data.Sqlite.SqliteConnection c)
        {
            Assert.Equal(0, c.ExecuteScalar<long>(@"SELECT count(*) FROM event_rows r JOIN event_blocks b ON b.block = r.id / 512 JOIN events e ON e.id = r.id
                WHERE e.timestamp <> CASE WHEN r.pattern_id IS NULL THEN r.ts + b.base_ts ELSE r.ts END OR e.timestamp IS NULL"));
            // Every row has its block, whose span holds its rows' times.
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows r WHERE NOT EXISTS (SELECT 1 FROM event_blocks b WHERE b.block = r.id / 512)"));
            Assert.Equal(0, c.ExecuteScalar<long>(@"SELECT count(*) FROM events e JOIN event_blocks b ON b.block = e.id / 512 WHERE e.timestamp < b.min_ts OR e.timestamp > b.max_ts"));
        }

        [Fact]
        public void AStoreOfSchema60AnswersTheSameOnceItsTimesAreOffsetsAndImportsOnAsAFreshOne() =>
            TurnedBackStore.Check(
                before: c =>
                {
                    AssertTimesAsStored(c);
                    Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE pattern_id IS NOT NULL") > 0);
                    // Offsets: most rows' are far below a whole time's 41 bits.
                    Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE pattern_id IS NULL AND abs(ts) < 1 << 31") > 0);
                },
                turnBack: c =>
                {
                    // As schema 60 held it: each row's time whole.
                    CompactStorageTests.UndoTimesFromBlocks(c);
                    Assert.Contains("timestamp", c.Query<string>("SELECT name FROM pragma_table_info('event_rows')"));
                    Assert.DoesNotContain("base_ts", c.Query<string>("SELECT name FROM pragma_table_info('event_blocks')"));
                },
                upgraded: c =>
                {
                    Assert.DoesNotContain("timestamp", c.Query<string>("SELECT name FROM pragma_table_info('event_rows')"));
                    AssertTimesAsStored(c);
                    Assert.Contains("(pattern_id, ts)", c.ExecuteScalar<string>("SELECT sql FROM sqlite_master WHERE name = 'ix_event_rows_pattern'"));
                },
                importedOn: (c, f) =>
                {
                    AssertTimesAsStored(c);
                    Assert.Equal(f.Query<long>("SELECT timestamp FROM events ORDER BY timestamp"), c.Query<long>("SELECT timestamp FROM events ORDER BY timestamp"));
                });

        [Fact]
        public void ABlockKeepsItsBaseWhenLaterRowsAreOlderAndAMergedPatternsRowsKeepTheirTimes()
        {
            using var t = TestPaths.NewTemp();
            var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).ToList();
            // The newest logs first, then the older ones into the same blocks, a commit every 100 events.
            new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 100 }).Import(logs.Skip(logs.Count / 2));
            new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 100 }).Import(logs.Take(logs.Count / 2));
            using var c = MadfDatabase.Open(t.Db);
            AssertTimesAsStored(c);
            // Some block holds rows older than its base (negative offsets): its base was fixed by its first write.
            Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE pattern_id IS NULL AND ts < 0") > 0);
            var patterns = c.Query<long>("SELECT pattern_id FROM event_rows WHERE pattern_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 2").ToList();
            Assert.Equal(2, patterns.Count);
            var before = c.Query<long>("SELECT timestamp FROM events WHERE pattern_id IN @patterns ORDER BY timestamp", new { patterns }).ToList();
            using (var tx = c.BeginTransaction())
            {
                EventStorage.MovePattern(c, tx, patterns[1], patterns[0]);
                tx.Commit();
            }
            Assert.Equal(before, c.Query<long>("SELECT timestamp FROM events WHERE pattern_id = @p ORDER BY timestamp", new { p = patterns[0] }));
            AssertTimesAsStored(c);
        }
    }
}

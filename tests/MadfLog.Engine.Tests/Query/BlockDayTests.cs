using System;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>
    /// Each block's time span per day and story (event_block_days): kept by the writer as a rebuild from the rows gives it,
    /// filled on upgrade, and the id ranges it gives a filter hold every event of the filter, also when events arrive
    /// out of time order (so blocks span many days and stories).
    /// </summary>
    public class BlockDayTests : IClassFixture<BlockDayTests.ShuffledStore>
    {
        /// <summary>Takes a store back to before the block-day migration (15), with the version rows deleted by the caller.</summary>
        internal const string DropBlockDays = " DROP TABLE event_block_days;";

        /// <summary>The sample logs' lines in a seeded random order, in small batches: every block holds several days and stories.</summary>
        public sealed class ShuffledStore : IDisposable
        {
            public TempFolder Temp { get; } = TestPaths.NewTemp();
            public ShuffledStore()
            {
                var lines = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f)
                    .SelectMany(File.ReadAllLines).Where(l => l.Length > 0).ToList();
                var random = new Random(18);
                var shuffled = lines.OrderBy(_ => random.Next()).ToList();
                var log = Temp.File("shuffled.jsonl");
                // Two imports, so spans merge into rows written by an earlier run.
                File.WriteAllLines(log, shuffled.Take(shuffled.Count / 2));
                new LogImporter(new ImportOptions { DatabasePath = Temp.Db, BatchSize = 300 }).Import(new[] { log });
                File.AppendAllLines(log, shuffled.Skip(shuffled.Count / 2));
                new LogImporter(new ImportOptions { DatabasePath = Temp.Db, BatchSize = 300 }).Import(new[] { log });
            }
            public void Dispose() => Temp.Dispose();
        }

        private readonly ShuffledStore _s;
        public BlockDayTests(ShuffledStore s) { _s = s; }

        private static string Dump(SqliteConnection c) =>
            string.Join("\n", c.Query<(long, long, long, long, long)>("SELECT day, story, block, min_ts, max_ts FROM event_block_days ORDER BY 1, 2, 3"));

        /// <summary>event_block_days as a rebuild from the rows gives it (rolled back).</summary>
        private static string Rebuilt(SqliteConnection c)
        {
            using var tx = c.BeginTransaction();
            EventStorage.RefreshBlocks(c, tx);
            var rebuilt = Dump(c);
            tx.Rollback();
            return rebuilt;
        }

        [Fact]
        public void TheWriterKeepsEachBlocksSpanPerDayAndStoryAsARebuildGivesIt()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db);
            var kept = Dump(c);
            Assert.Equal(Rebuilt(c), kept);
            // Shuffled: blocks hold several days and stories, so there are more rows than blocks.
            Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_block_days") > 3 * c.ExecuteScalar<long>("SELECT count(*) FROM event_blocks"));
        }

        [Fact]
        public void UpgradingFillsThemFromTheStoredEvents()
        {
            using var t = TestPaths.NewTemp();
            File.Copy(_s.Temp.Db, t.Db);
            string kept;
            using (var c = MadfDatabase.Open(t.Db))
            {
                kept = Dump(c);
                Store.CompactStorageTests.UndoRareColumnsApart(c);
                c.Execute(ErrorSequenceSummaryTests.UndoKeyedSessions + SummaryConsistencyTests.UndoKeyedRollups + "DELETE FROM schema_version WHERE version >= 15;" + DropBlockDays);
            }
            using (var c = MadfDatabase.Open(t.Db)) Assert.Equal(kept, Dump(c));
        }

        [Fact]
        public void TheBlocksOfAFilterHoldEveryEventOfIt()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var nov3 = SummaryConsistencyTests.Nov3;
            var filters = new[]
            {
                new QueryFilter { Since = nov3.AddHours(13), Until = nov3.AddDays(1).AddHours(2) },
                new QueryFilter { Stories = new[] { "1.2" } },
                new QueryFilter { Stories = new[] { "1.1", "1.3" }, Since = nov3.AddHours(13) },
                new QueryFilter { Until = nov3.AddHours(10) },
                new QueryFilter { Since = nov3.AddYears(1) },
            };
            var all = c.ExecuteScalar<long>("SELECT count(*) FROM event_blocks");
            foreach (var f in filters)
            {
                long Count(SqliteConnection? with) { var p = new DynamicParameters(); return c.ExecuteScalar<long>("SELECT count(*) FROM events e WHERE 1=1" + f.Where(with, p), p); }
                var scanned = c.ExecuteScalar<long>("SELECT count(*) FROM events e WHERE 1=1" +
                    (f.Stories == null ? "" : " AND e.story_id IN @stories") + (f.Since.HasValue ? " AND e.timestamp >= @since" : "") + (f.Until.HasValue ? " AND e.timestamp < @until" : ""),
                    new { stories = f.Stories, since = f.Since?.ToUnixTimeMilliseconds(), until = f.Until?.ToUnixTimeMilliseconds() });
                Assert.Equal(scanned, Count(null));
                Assert.Equal(scanned, Count(c));
                var ranges = EventStorage.BlockRanges(c, f.Since?.ToUnixTimeMilliseconds(), f.Until?.ToUnixTimeMilliseconds(), f.Stories);
                Assert.True(ranges.Sum(r => r.to - r.from) <= all * EventStorage.BlockSize);
            }
        }

        [Fact]
        public void QuestionsOverEventsThatArrivedOutOfOrderMatchAScan()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var nov3 = SummaryConsistencyTests.Nov3;
            SummaryConsistencyTests.AssertErrorQuestionsMatch(c, SummaryConsistencyTests.Scan, new QueryFilter());
            SummaryConsistencyTests.AssertDayQuestionsMatch(c, new QueryFilter { Stories = new[] { "1.2" } });
            SummaryConsistencyTests.AssertDayQuestionsMatch(c, new QueryFilter { Since = nov3.AddHours(13), Until = nov3.AddDays(2).AddHours(7.5) });
            SummaryConsistencyTests.AssertDayQuestionsMatch(c, new QueryFilter { Since = nov3, Until = nov3.AddDays(2) });
        }
    }
}

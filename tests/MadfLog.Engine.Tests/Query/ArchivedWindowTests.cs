using System;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Query;
using MadfLog.Engine.Summaries;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>
    /// Once retention has moved old events to archives, every question covers the active window: the summaries
    /// answer exactly like a scan of the events that are still active, for the whole store, a story and a week.
    /// </summary>
    public class ArchivedWindowTests : IClassFixture<ArchivedWindowTests.RotatedStore>
    {
        public sealed class RotatedStore : IDisposable
        {
            public TempFolder Temp { get; } = TestPaths.NewTemp();
            public RotationResult Rotation { get; }
            public long EventsBefore { get; }

            // The example logs cover 2026-11-02..07; a 3-day window on 2026-11-08 12:00 keeps 2026-11-05 12:00 onwards,
            // so story 1.1 (the first days) is archived whole and the cut falls inside a day.
            public static readonly DateTimeOffset Now = new DateTimeOffset(2026, 11, 8, 12, 0, 0, TimeSpan.Zero);

            public RotatedStore()
            {
                var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).ToList();
                new LogImporter(new ImportOptions { DatabasePath = Temp.Db, BatchSize = 700 }).Import(logs.Take(3));
                new LogImporter(new ImportOptions { DatabasePath = Temp.Db, BatchSize = 700 }).Import(logs.Skip(3));
                using (var c = MadfDatabase.Open(Temp.Db, forWrite: false)) EventsBefore = c.ExecuteScalar<long>("SELECT count(*) FROM event_rows");
                Directory.CreateDirectory(Temp.File("live")); // no live logs: only retention acts
                Rotation = new Rotation(new RotationOptions
                {
                    DatabasePath = Temp.Db, LogPaths = new[] { Temp.File("live") }, ArchivePath = Temp.File("archive"), RetentionDays = 3, Now = Now,
                }).Run();
            }

            public void Dispose() => Temp.Dispose();
        }

        private readonly RotatedStore _s;
        public ArchivedWindowTests(RotatedStore s) { _s = s; }

        private static readonly QueryFilter Everything = new QueryFilter();

        [Fact]
        public void RetentionMovedPartOfTheStore()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var active = c.ExecuteScalar<long>("SELECT count(*) FROM event_rows");
            Assert.True(_s.Rotation.EventsMoved > 0 && active > 0);
            Assert.Equal(_s.EventsBefore, active + _s.Rotation.EventsMoved);
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE story_id = '1.1'"));
        }

        [Fact]
        public void WholeStoreSummariesMatchAScanOfTheActiveWindow()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            SummaryConsistencyTests.AssertQuestionsMatch(c);
            SummaryConsistencyTests.AssertAgentPerformanceMatches(c);
            SummaryConsistencyTests.AssertStoryComparisonsMatch(c, "1.1", "1.2");
        }

        [Fact]
        public void TheErrorSequenceCellsCountTheActiveSessionsOnly()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db);
            ErrorSequenceSummaryTests.AssertCellsAsCounted(c);
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sequence_lead_cells WHERE story_id = '1.1'"));
        }

        [Fact]
        public void PatternsMergedInARotatedStoreKeepTheErrorSequenceCellsCurrent()
        {
            // A copy: the fixture's store is shared.
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            using (var fixture = MadfDatabase.Open(_s.Temp.Db, forWrite: false)) fixture.BackupDatabase(c);
            // The two patterns most often next to each other in an active session's errors, merged as a single merge is.
            var (from, into) = ErrorSequenceSummaryTests.MostAdjacentPatterns(c);
            var before = PatternAnalysis.ErrorSequences(c, Everything, 100_000, 1);
            using (var tx = c.BeginTransaction())
            {
                MadfLog.Engine.Patterns.PatternStore.MergeInto(c, tx, from, into, MadfLog.Engine.Rules.RuleStore.MovePattern);
                tx.Commit();
            }
            // Counted again with the survivor (questions read the cells, not every session's rows), and answering as a scan.
            ErrorSequenceSummaryTests.AssertCellsAsCounted(c);
            ErrorSequenceSummaryTests.AssertMatchesScan(c);
            Assert.NotEqual(before.Select(x => (x.Sequence, x.Occurrences)), PatternAnalysis.ErrorSequences(c, Everything, 100_000, 1).Select(x => (x.Sequence, x.Occurrences)));
        }

        [Fact]
        public void PerStoryAndPerWeekSummariesMatchAScanOfTheActiveWindow()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            SummaryConsistencyTests.AssertDayQuestionsMatch(c, new QueryFilter { Stories = new[] { "1.2" } });
            // The week that the cut falls in: its archived part is in no answer.
            SummaryConsistencyTests.AssertDayQuestionsMatch(c, new QueryFilter { Since = new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero), Until = new DateTimeOffset(2026, 11, 9, 0, 0, 0, TimeSpan.Zero) });
            // The same week from 13:00 to 13:00: its whole days from the day summaries, the parts of its first and last day from the events.
            SummaryConsistencyTests.AssertDayQuestionsMatch(c, new QueryFilter { Since = new DateTimeOffset(2026, 11, 2, 13, 0, 0, TimeSpan.Zero), Until = new DateTimeOffset(2026, 11, 9, 13, 0, 0, TimeSpan.Zero) });
            // From minutes past an hour: the whole hours of the cut days from the hour summaries (rebuilt by the rotation), the parts of hours from the events.
            SummaryConsistencyTests.AssertDayQuestionsMatch(c, new QueryFilter { Since = new DateTimeOffset(2026, 11, 4, 9, 17, 42, TimeSpan.Zero), Until = new DateTimeOffset(2026, 11, 9, 13, 5, 0, TimeSpan.Zero) });
            Assert.Empty(Analysis.AgentPerformance(c, new QueryFilter { Stories = new[] { "1.1" } }));
        }

        [Fact]
        public void TheErrorBriefsCountsAgreeWithItsPatterns()
        {
            // The brief's headline ("N errors in M events") and its shares must describe the same events.
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            foreach (var f in new[] { Everything, new QueryFilter { Stories = new[] { "1.2" } }, new QueryFilter { Stories = new[] { "1.1" } } })
            {
                var items = Analysis.ErrorSummary(c, f, 100000);
                Assert.Equal(Analysis.CountErrors(c, f), items.Sum(i => i.Count));
            }
            Assert.True(Analysis.CountErrors(c, Everything) > 0);
        }

        [Fact]
        public void StoriesAndWeeksCountOnlyActiveEvents()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var active = c.Query<(string story, long n)>("SELECT story_id, count(*) FROM events WHERE story_id IS NOT NULL GROUP BY 1").ToDictionary(x => x.story, x => x.n);
            var fromSummaries = Analysis.Stories(c, Everything).ToDictionary(s => s.Story, s => s.Events);
            Assert.Equal(active.OrderBy(x => x.Key), fromSummaries.Where(x => x.Value > 0).OrderBy(x => x.Key));
            // An archived story: nothing in the active window, and comparing it says so instead of counting its archive.
            var cmp = Analysis.CompareStories(c, "1.1", "1.2", Everything);
            Assert.Equal(0, cmp.Reference.Events);
            Assert.Equal(Analysis.CountEvents(c, new QueryFilter { Stories = new[] { "1.2" } }), cmp.Difference.Events);
            Assert.Equal(Analysis.CountEvents(c, Everything), Analysis.Trend(c, Everything).Where(t => t.Kind == "Week").Sum(t => t.Events));
        }

        [Fact]
        public void TheStoreSaysWhatItsAnswersCover()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var since = ActiveWindow.Start(c);
            Assert.NotNull(since);
            Assert.True(c.ExecuteScalar<long>("SELECT min(timestamp) FROM events") >= since!.Value.ToUnixTimeMilliseconds());
            Assert.True(since.Value <= RotatedStore.Now.AddDays(-3)); // archived events are older than the cut
            Assert.Contains(since.Value.UtcDateTime.ToString("yyyy-MM-dd"), ActiveWindow.Note(c));
            Assert.Equal(_s.Rotation.EventsMoved, ActiveWindow.ArchivedEvents(c));
        }

        [Fact]
        public void ARotationInterruptedAfterMovingEventsIsFinishedByTheNext()
        {
            using var t = TestPaths.NewTemp();
            var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).ToList();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(logs);
            Directory.CreateDirectory(t.File("live"));
            RotationOptions Options(Action<string>? checkpoint) => new RotationOptions
            {
                DatabasePath = t.Db, LogPaths = new[] { t.File("live") }, ArchivePath = t.File("archive"), RetentionDays = 3, Now = RotatedStore.Now, Checkpoint = checkpoint,
            };
            Assert.Throws<IOException>(() => new Rotation(Options(step => { if (step == "events-moved") throw new IOException("crash"); })).Run());
            using (var c = MadfDatabase.Open(t.Db, forWrite: false)) Assert.True(SummaryTables.CountsMoreThanTheEvents(c));
            var second = new Rotation(Options(null)).Run();
            Assert.Contains(second.Notes, n => n.Contains("rebuilt"));
            using (var c = MadfDatabase.Open(t.Db, forWrite: false))
            {
                Assert.False(SummaryTables.CountsMoreThanTheEvents(c));
                SummaryConsistencyTests.AssertQuestionsMatch(c);
                SummaryConsistencyTests.AssertDayQuestionsMatch(c, new QueryFilter { Stories = new[] { "1.2" } });
            }
        }
    }
}

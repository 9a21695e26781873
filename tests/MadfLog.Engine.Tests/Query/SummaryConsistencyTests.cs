using Dapper;
using System;
using System.IO;
using System.Linq;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Query.Questions;
using MadfLog.Engine.Summaries;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>The summaries kept at import answer exactly like a scan of the events (medians and p95s within a bucket).</summary>
    public class SummaryConsistencyTests : IClassFixture<SummaryConsistencyTests.SampleStore>
    {
        public sealed class SampleStore : IDisposable
        {
            public TempFolder Temp { get; } = TestPaths.NewTemp();
            public SampleStore()
            {
                // Imported in two runs, so summaries are built incrementally and patterns merge across runs.
                var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).ToList();
                new LogImporter(new ImportOptions { DatabasePath = Temp.Db, BatchSize = 700 }).Import(logs.Take(3));
                new LogImporter(new ImportOptions { DatabasePath = Temp.Db, BatchSize = 700 }).Import(logs.Skip(3));
            }
            public void Dispose() => Temp.Dispose();
        }

        private readonly SampleStore _s;
        public SummaryConsistencyTests(SampleStore s) { _s = s; }

        // A window that covers everything (and cuts a day), answered by a scan of the events.
        internal static readonly QueryFilter Scan = new QueryFilter { Since = new DateTimeOffset(2000, 1, 1, 0, 0, 0, 1, TimeSpan.Zero), ScanEvents = true };
        private static readonly QueryFilter Summary = new QueryFilter();

        /// <summary>
        /// Undoes migration 82: session_day and session_hour tables keyed by the session's text again (with <see cref="UndoKeyedRollups"/>
        /// for every test that replays migrations from before 82: 20's script replaces session_hour as a table).
        /// </summary>
        internal const string UndoKeyedSessionGrains = @"
            CREATE TABLE session_day_text AS SELECT * FROM session_day; DROP VIEW session_day; DROP TABLE session_day_cells; ALTER TABLE session_day_text RENAME TO session_day;
            CREATE TABLE session_hour_text AS SELECT * FROM session_hour; DROP VIEW session_hour; DROP TABLE session_hour_cells; ALTER TABLE session_hour_text RENAME TO session_hour; ";

        /// <summary>Undoes migration 35 (and 82) for a test that replays earlier ones: day_rollup and hour_rollup tables with their texts again.</summary>
        internal const string UndoKeyedRollups = UndoKeyedSessionGrains + @"
            CREATE TABLE day_rollup_text AS SELECT * FROM day_rollup; DROP VIEW day_rollup; ALTER TABLE day_rollup_text RENAME TO day_rollup;
            CREATE TABLE hour_rollup_text AS SELECT * FROM hour_rollup; DROP VIEW hour_rollup; ALTER TABLE hour_rollup_text RENAME TO hour_rollup;
            DROP TABLE day_rollup_cells; DROP TABLE hour_rollup_cells; DROP TABLE rollup_keys; ";

        /// <summary>Undoes migration 73: day_hist and hour_hist keyed by their story, scope and key as texts again.</summary>
        internal const string UndoKeyedHistograms = @"
            CREATE TABLE day_hist_text (day INTEGER NOT NULL, story_id TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, buckets BLOB NOT NULL,
                PRIMARY KEY (day, story_id, scope, key)) WITHOUT ROWID;
            INSERT INTO day_hist_text SELECT x.day, k.story_id, k.scope, k.key, x.buckets FROM day_hist x JOIN hist_keys k ON k.id = x.key;
            CREATE TABLE hour_hist_text (hour INTEGER NOT NULL, story_id TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, buckets BLOB NOT NULL,
                PRIMARY KEY (hour, story_id, scope, key)) WITHOUT ROWID;
            INSERT INTO hour_hist_text SELECT x.hour, k.story_id, k.scope, k.key, x.buckets FROM hour_hist x JOIN hist_keys k ON k.id = x.key;
            DROP TABLE day_hist; DROP TABLE hour_hist; DROP TABLE hist_keys;
            ALTER TABLE day_hist_text RENAME TO day_hist; ALTER TABLE hour_hist_text RENAME TO hour_hist; ";

        [Fact]
        public void UpgradingKeysTheHistogramsByNumberAnswersTheSameAndTheImportGoesOnAsAFreshOne() =>
            // A store at schema 72 (the histograms keyed by their texts) with the first logs, upgraded, then the other logs.
            AssertUpgradedMidwayImportsOnAsAFreshStore(UndoKeyedHistograms, 73,
                turnedBack: c => Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM pragma_table_info('hour_hist') WHERE name IN ('story_id', 'scope')")),
                upgraded: c =>
                {
                    Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM pragma_table_info('hour_hist') WHERE name IN ('story_id', 'scope')"));
                    Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM pragma_table_info('day_hist') WHERE name IN ('story_id', 'scope')"));
                    Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM hist_keys") < c.ExecuteScalar<long>("SELECT count(*) FROM hour_hist"));
                    AssertAgentPerformanceMatches(c);
                });

        /// <summary>Undoes migration 79: session_rollup a table keyed by the session's text again, with its index.</summary>
        internal const string UndoKeyedSessionRollup = @"
            CREATE TABLE session_rollup_text (session_id TEXT NOT NULL, agent_name TEXT NOT NULL, story_id TEXT, events INTEGER NOT NULL, max_context REAL NOT NULL,
                ctx_hot INTEGER NOT NULL, ctx_hot_errors INTEGER NOT NULL, ctx_cool INTEGER NOT NULL, ctx_cool_errors INTEGER NOT NULL, PRIMARY KEY (session_id, agent_name)) WITHOUT ROWID;
            INSERT INTO session_rollup_text SELECT * FROM session_rollup;
            DROP VIEW session_rollup; DROP TABLE session_rollup_cells;
            ALTER TABLE session_rollup_text RENAME TO session_rollup; CREATE INDEX ix_session_rollup_context ON session_rollup(max_context); ";

        private static string DumpSessionRollup(SqliteConnection c) => string.Join("\n", c.Query<string>(
            "SELECT printf('%s|%s|%s|%d|%f|%d|%d|%d|%d', session_id, agent_name, story_id, events, max_context, ctx_hot, ctx_hot_errors, ctx_cool, ctx_cool_errors) FROM session_rollup")
            .OrderBy(x => x, StringComparer.Ordinal));

        [Fact]
        public void UpgradingKeysSessionRollupByNumberAnswersTheSameAndTheImportGoesOnAsAFreshOne()
        {
            // A store at schema 78 (session_rollup keyed by the session's text) with the first logs, upgraded, then the other logs.
            string? turnedBackRows = null;
            AssertUpgradedMidwayImportsOnAsAFreshStore(UndoKeyedSessionRollup, 79,
                turnedBack: c =>
                {
                    Assert.Equal("table", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'session_rollup'"));
                    turnedBackRows = DumpSessionRollup(c);
                    Assert.NotEmpty(turnedBackRows);
                },
                upgraded: c =>
                {
                    Assert.Equal("view", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'session_rollup'"));
                    Assert.Equal("session_rollup_cells", c.ExecuteScalar<string>("SELECT tbl_name FROM sqlite_master WHERE name = 'ix_session_rollup_context'"));
                    Assert.Equal(turnedBackRows, DumpSessionRollup(c));
                    AssertContextPressureMatches(c);
                },
                imported: c =>
                {
                    using (var f = MadfDatabase.Open(_s.Temp.Db, forWrite: false)) Assert.Equal(DumpSessionRollup(f), DumpSessionRollup(c));
                    AssertContextPressureMatches(c);
                });
        }

        [Fact]
        public void UpgradingKeysTheSessionDaysAndHoursByNumberAnswersTheSameAndTheImportGoesOnAsAFreshOne()
        {
            // A store at schema 81 (session_day and session_hour keyed by the session's text) with the first logs, upgraded,
            // then the other logs; AssertUpgradedMidwayImportsOnAsAFreshStore compares both tables' rows (through the views)
            // before, after the upgrade and with the sample store, and asks the sessions and context pressure of a cut
            // window, whose whole days and hours come from them, against a scan.
            AssertUpgradedMidwayImportsOnAsAFreshStore(UndoKeyedSessionGrains, 82,
                turnedBack: c =>
                {
                    Assert.Equal("table", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'session_day'"));
                    Assert.Equal("table", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'session_hour'"));
                },
                upgraded: c =>
                {
                    foreach (var (view, cells) in new[] { ("session_day", "session_day_cells"), ("session_hour", "session_hour_cells") })
                    {
                        Assert.Equal("view", c.ExecuteScalar<string>($"SELECT type FROM sqlite_master WHERE name = '{view}'"));
                        Assert.True(c.ExecuteScalar<long>($"SELECT count(*) FROM {cells}") > 0);
                        // Every row names its session by number, and the view gives each row back.
                        Assert.Equal("integer", c.ExecuteScalar<string>($"SELECT DISTINCT typeof(session) FROM {cells}"));
                        Assert.Equal(c.ExecuteScalar<long>($"SELECT count(*) FROM {cells}"), c.ExecuteScalar<long>($"SELECT count(*) FROM {view}"));
                    }
                    AssertContextPressureMatches(c);
                });
        }

        // The whole store's context pressure (from session_rollup, highest first) as a scan of the events answers it.
        private static void AssertContextPressureMatches(SqliteConnection c)
        {
            var scan = Analysis.ContextPressure(c, Scan).Select(x => (x.SessionId, x.Agent, x.Story, x.MaxContextPercent, x.Events, x.EventsAbove80, x.ErrorRateAbove80, x.ErrorRateBelow80)).ToList();
            Assert.NotEmpty(scan);
            Assert.Equal(scan.OrderBy(x => x.SessionId + x.Agent), Analysis.ContextPressure(c, Summary).Select(x => (x.SessionId, x.Agent, x.Story, x.MaxContextPercent, x.Events, x.EventsAbove80, x.ErrorRateAbove80, x.ErrorRateBelow80)).OrderBy(x => x.SessionId + x.Agent));
            Assert.Equal(scan.Max(x => x.MaxContextPercent), Analysis.ContextPressure(c, Summary, top: 1).Single().MaxContextPercent);
        }

        [Fact]
        public void UpgradingKeysTheRollupsByNumberAndTheImportGoesOnAsAFreshOne() =>
            // A store at schema 34 (the rollups as tables keyed by their texts) with the first logs, upgraded, then the
            // other logs.
            AssertUpgradedMidwayImportsOnAsAFreshStore(UndoKeyedRollups, 35,
                turnedBack: c => Assert.Equal("table", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'hour_rollup'")),
                upgraded: c =>
                {
                    Assert.Equal("view", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'day_rollup'"));
                    Assert.Equal("view", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'hour_rollup'"));
                    Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM rollup_keys") < c.ExecuteScalar<long>("SELECT count(*) FROM hour_rollup_cells"));
                });

        /// <summary>
        /// Imports the first sample logs, turns the store back below <paramref name="migration"/> with <paramref name="undo"/>,
        /// upgrades it (the same summaries as before), imports the other logs: the same summaries as the sample store,
        /// which imported them all at today's schema; the day questions answer as a scan and a rebuild changes nothing.
        /// </summary>
        private void AssertUpgradedMidwayImportsOnAsAFreshStore(string undo, int migration, Action<SqliteConnection> turnedBack, Action<SqliteConnection> upgraded,
            Action<SqliteConnection>? imported = null)
        {
            using var t = TestPaths.NewTemp();
            var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).ToList();
            new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 700 }).Import(logs.Take(3));
            string before;
            using (var c = MadfDatabase.Open(t.Db))
            {
                before = DumpTimeSummaries(c);
                c.Execute(undo + $"DELETE FROM schema_version WHERE version >= {migration};");
                turnedBack(c);
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                upgraded(c);
                Assert.Equal(before, DumpTimeSummaries(c));
            }
            new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 700 }).Import(logs.Skip(3));
            string fresh;
            using (var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false)) fresh = DumpTimeSummaries(c);
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(fresh, DumpTimeSummaries(c));
                imported?.Invoke(c);
                AssertAgentPerformanceMatches(c);
                AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(9).AddMinutes(20), Until = Nov3.AddDays(2).AddHours(10).AddMinutes(41) });
                using var tx = c.BeginTransaction();
                SummaryTables.Rebuild(c, tx);
                Assert.Equal(fresh, DumpTimeSummaries(c));
                tx.Rollback();
            }
        }

        [Fact]
        public void ComparingStoriesFromCountsMatchesTheEvents()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var stories = c.Query<string>("SELECT story_id FROM story_rollup ORDER BY story_id").ToList();
            Assert.True(stories.Count >= 2);
            AssertStoryComparisonsMatch(c, stories[0], stories[stories.Count - 1]);
        }

        [Fact]
        public void AgentPerformanceMatches()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            AssertAgentPerformanceMatches(c);
        }

        [Fact]
        public void BottlenecksToolFailuresStoriesAndWeeksMatch()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            AssertQuestionsMatch(c);
        }

        [Fact]
        public void HumanInteractionsOfAStoryAreAnsweredByTheSummariesAndMatchTheEvents()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var stories = c.Query<string>("SELECT DISTINCT story_id FROM human_groups WHERE story_id <> '' ORDER BY story_id").ToList();
            Assert.NotEmpty(stories);
            foreach (var story in stories)
            {
                var filter = new QueryFilter { Stories = new[] { story } };
                // The whole-store human summaries are keyed by story, so a -Story filter reads them, not the events.
                Assert.Equal(Source.Summaries, Sources.For(filter, HumanInteractionsQuestion.Answers));
                var fromSummaries = Analysis.HumanInteractions(c, filter);
                var fromEvents = Analysis.HumanInteractions(c, new QueryFilter { Stories = filter.Stories, ScanEvents = true });
                Assert.NotEmpty(fromEvents);
                Assert.Equal(fromEvents.Select(h => (h.Category, h.Agent, h.Story, h.Count)).OrderBy(h => h),
                             fromSummaries.Select(h => (h.Category, h.Agent, h.Story, h.Count)).OrderBy(h => h));
                Assert.All(fromSummaries, h => Assert.Equal(story, h.Story));
            }
        }

        [Fact]
        public void TheTrendOfAStoryIsAnsweredByTheSummariesAndMatchesTheEvents()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var stories = c.Query<string>("SELECT story_id FROM story_rollup ORDER BY story_id").ToList();
            Assert.NotEmpty(stories);
            foreach (var story in stories)
            {
                var filter = new QueryFilter { Stories = new[] { story } };
                Assert.Equal(Source.Summaries, Sources.For(filter, TrendQuestion.WeeksAnswer));
                // A pattern's first agent is not kept, so -Agent is answered from the events, as are error sequences.
                var agent = new QueryFilter { Stories = filter.Stories, Agents = new[] { "dev" } };
                Assert.Equal(Source.Events, Sources.For(agent, TrendQuestion.WeeksAnswer));
                Assert.Equal(Source.Events, Sources.For(agent, ErrorSequencesQuestion.Answers));
                Assert.Equal(Source.DaySummaries, Sources.For(agent, AgentPerformanceQuestion.Answers));
                var fromEvents = Analysis.Trend(c, new QueryFilter { Stories = filter.Stories, ScanEvents = true });
                Assert.Contains(fromEvents, x => x.Kind == "Week" && x.RepeatedErrorRate > 0);
                Assert.Equal(fromEvents.Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)),
                             Analysis.Trend(c, filter).Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)));
            }
        }

        [Fact]
        public void TheTrendOfWholeDaysIsAnsweredByTheDaySummariesAndMatchesTheEvents()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var (first, last) = c.QuerySingle<(long, long)>("SELECT min(timestamp), max(timestamp) FROM events");
            var firstDay = DateTimeOffset.FromUnixTimeMilliseconds(first).UtcDateTime.Date;
            var lastDay = DateTimeOffset.FromUnixTimeMilliseconds(last).UtcDateTime.Date;
            var mid = firstDay.AddDays((lastDay - firstDay).Days / 2);
            var stories = c.Query<string>("SELECT story_id FROM story_rollup ORDER BY story_id").ToList();
            // The whole store cut at midnights: from the middle on, up to the middle, and a story in its second half.
            var windows = new[]
            {
                new QueryFilter { Since = new DateTimeOffset(mid, TimeSpan.Zero) },
                new QueryFilter { Until = new DateTimeOffset(mid, TimeSpan.Zero) },
                new QueryFilter { Since = new DateTimeOffset(mid, TimeSpan.Zero), Stories = new[] { stories[stories.Count - 1] } },
            };
            foreach (var w in windows)
            {
                Assert.Equal(Source.DaySummaries, Sources.For(w, TrendQuestion.WeeksAnswer));
                // The trend (both parts) and human interactions read the day summaries, also for a window that cuts days.
                foreach (var x in new[] { w, new QueryFilter { Since = w.Since?.AddHours(13), Until = w.Until?.AddHours(13), Stories = w.Stories } })
                {
                    Assert.Equal(Source.DaySummaries, Sources.For(x, StoriesQuestion.Answers));
                    Assert.Equal(Source.DaySummaries, Sources.For(x, TrendQuestion.WeeksAnswer));
                    Assert.Equal(Source.DaySummaries, Sources.For(x, HumanInteractionsQuestion.Answers));
                }
                var scan = new QueryFilter { Since = w.Since, Until = w.Until, Stories = w.Stories, ScanEvents = true };
                var fromEvents = Analysis.Trend(c, scan);
                Assert.Contains(fromEvents, x => x.Kind == "Week" && x.Events > 0);
                Assert.Equal(fromEvents.Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)),
                             Analysis.Trend(c, w).Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)));
            }
        }

        /// <summary>Errors per pattern per story: the counts kept at import equal a scan (also used after rotation).</summary>
        internal static void AssertStoryComparisonsMatch(SqliteConnection c, string reference, string difference)
        {
            var a = Analysis.CompareStories(c, reference, difference, Scan);
            var b = Analysis.CompareStories(c, reference, difference, Summary);
            Assert.Equal(new[] { a.Reference, a.Difference }.Select(x => (x.Story, x.Events, x.Errors, x.RepeatedErrors, x.Tokens, x.HumanInteractions)),
                         new[] { b.Reference, b.Difference }.Select(x => (x.Story, x.Events, x.Errors, x.RepeatedErrors, x.Tokens, x.HumanInteractions)));
            Assert.Equal(a.PatternsGained.Select(x => (x.PatternId, x.ReferenceCount, x.DifferenceCount)), b.PatternsGained.Select(x => (x.PatternId, x.ReferenceCount, x.DifferenceCount)));
            Assert.Equal(a.PatternsLost.Select(x => (x.PatternId, x.ReferenceCount, x.DifferenceCount)), b.PatternsLost.Select(x => (x.PatternId, x.ReferenceCount, x.DifferenceCount)));
            // Every pattern's errors per story, not only the top ones.
            var scanned = c.Query<(long, string, long)>($"SELECT e.pattern_id, e.story_id, count(*) FROM events e WHERE {MadfLog.Engine.Domain.Errors.InEvents} AND e.pattern_id IS NOT NULL AND e.story_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2").ToList();
            var counted = c.Query<(long, string, long)>("SELECT pattern_id, story_id, errors FROM pattern_stories WHERE errors > 0 ORDER BY 1, 2").ToList();
            Assert.True(counted.Count > 5);
            Assert.Equal(scanned, counted);
        }

        internal static void AssertAgentPerformanceMatches(SqliteConnection c) => AssertAgentPerformanceMatches(c, Scan, Summary);

        private static void AssertAgentPerformanceMatches(SqliteConnection c, QueryFilter scan, QueryFilter summary)
        {
            Assert.True((Analysis.FromSummaries(summary) || Analysis.FromDaySummaries(summary)) && !Analysis.FromSummaries(scan) && !Analysis.FromDaySummaries(scan));
            var a = Analysis.AgentPerformance(c, scan).OrderBy(x => x.Agent).ToList();
            var b = Analysis.AgentPerformance(c, summary).OrderBy(x => x.Agent).ToList();
            Assert.NotEmpty(a);
            Assert.Equal(a.Select(x => (x.Agent, x.Events, x.Errors, x.SuccessRate, x.Tokens, x.ContextPressure, x.TimeWastedMs)),
                         b.Select(x => (x.Agent, x.Events, x.Errors, x.SuccessRate, x.Tokens, x.ContextPressure, x.TimeWastedMs)));
            foreach (var (exact, approx) in a.Zip(b, (x, y) => (x, y)))
            {
                Assert.InRange(approx.MedianDurationMs, exact.MedianDurationMs * 0.99, exact.MedianDurationMs * 1.1);
                Assert.InRange(approx.P95DurationMs, exact.P95DurationMs * 0.99, exact.P95DurationMs * 1.1);
            }
        }

        /// <summary>
        /// A story or a window (of whole days, or cutting days: their parts are read from the events), answered from the
        /// day-grain summaries, against a scan of the same events.
        /// </summary>
        internal static void AssertDayQuestionsMatch(SqliteConnection c, QueryFilter days)
        {
            Assert.True(Analysis.FromDaySummaries(days));
            var scan = new QueryFilter { Stories = days.Stories, Agents = days.Agents, Since = days.Since ?? Scan.Since, Until = days.Until, ScanEvents = true };
            Assert.Equal(Analysis.CountEvents(c, days), Analysis.CountEvents(c, scan)); // the same events
            AssertAgentPerformanceMatches(c, scan, days);
            var bottlenecks = Analysis.Bottlenecks(c, scan, 50);
            Assert.NotEmpty(bottlenecks);
            Assert.Equal(bottlenecks.Select(x => (x.Kind, x.Name, x.Count, x.TotalMs, x.TimeWastedMs)),
                         Analysis.Bottlenecks(c, days, 50).Select(x => (x.Kind, x.Name, x.Count, x.TotalMs, x.TimeWastedMs)));
            foreach (var (exact, approx) in bottlenecks.Zip(Analysis.Bottlenecks(c, days, 50), (x, y) => (x, y)))
                Assert.InRange(approx.P95Ms, exact.P95Ms * 0.99, exact.P95Ms * 1.1);
            Assert.Equal(Analysis.ToolFailures(c, scan).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures, x.TopError)),
                         Analysis.ToolFailures(c, days).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures, x.TopError)));
            var sessions = Analysis.Sessions(c, scan);
            Assert.NotEmpty(sessions);
            Assert.Equal(sessions.Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)),
                         Analysis.Sessions(c, days).Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)));
            Assert.Equal(Analysis.Sessions(c, scan, "*-dev-*").Select(x => (x.SessionId, x.Events)), Analysis.Sessions(c, days, "*-dev-*").Select(x => (x.SessionId, x.Events)));
            var pressure = Analysis.ContextPressure(c, scan);
            Assert.Equal(pressure.Select(x => (x.SessionId, x.Agent, x.Story, x.MaxContextPercent, x.Events, x.EventsAbove80, x.ErrorRateAbove80, x.ErrorRateBelow80)),
                         Analysis.ContextPressure(c, days).Select(x => (x.SessionId, x.Agent, x.Story, x.MaxContextPercent, x.Events, x.EventsAbove80, x.ErrorRateAbove80, x.ErrorRateBelow80)));
            Assert.Equal(pressure.Take(3).Select(x => x.SessionId), Analysis.ContextPressure(c, days, top: 3).Select(x => x.SessionId));
            // Stories (with their first and last time), the trend and human interactions.
            var stories = Analysis.Stories(c, scan);
            Assert.NotEmpty(stories);
            Assert.Equal(stories.Select(x => (x.Story, x.Events, x.Errors, x.RepeatedErrors, x.Tokens, x.HumanInteractions, string.Join(",", x.Agents), x.Start, x.End)),
                         Analysis.Stories(c, days).Select(x => (x.Story, x.Events, x.Errors, x.RepeatedErrors, x.Tokens, x.HumanInteractions, string.Join(",", x.Agents), x.Start, x.End)));
            Assert.Equal(Analysis.Trend(c, scan).Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)),
                         Analysis.Trend(c, days).Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)));
            var human = Analysis.HumanInteractions(c, scan);
            Assert.NotEmpty(human);
            Assert.Equal(human.Select(x => (x.Category, x.Agent, x.Story, x.Count)).OrderBy(x => x),
                         Analysis.HumanInteractions(c, days).Select(x => (x.Category, x.Agent, x.Story, x.Count)).OrderBy(x => x));
            Assert.Equal(human.Take(2).Select(x => x.Count), Analysis.HumanInteractions(c, days, 2).Select(x => x.Count));
            AssertErrorQuestionsMatch(c, scan, days);
        }

        /// <summary>
        /// The error summary, the error patterns (breakdowns and examples) and the first page of events under a filter
        /// answered as the dispatcher picks, against a scan of the same events.
        /// </summary>
        internal static void AssertErrorQuestionsMatch(SqliteConnection c, QueryFilter scan, QueryFilter filter)
        {
            var summary = Analysis.ErrorSummary(c, scan, 100);
            Assert.NotEmpty(summary);
            Assert.Equal(Analysis.CountErrors(c, scan), Analysis.CountErrors(c, filter));
            Assert.Equal(Analysis.CountEvents(c, scan), Analysis.CountEvents(c, filter));
            Assert.Equal(summary.Select(x => (x.PatternId, x.Template, x.ErrorClass, x.Count, x.Share, string.Join(",", x.Agents), string.Join(",", x.Stories), x.FirstSeen, x.LastSeen)),
                         Analysis.ErrorSummary(c, filter, 100).Select(x => (x.PatternId, x.Template, x.ErrorClass, x.Count, x.Share, string.Join(",", x.Agents), string.Join(",", x.Stories), x.FirstSeen, x.LastSeen)));
            static string Dump(System.Collections.Generic.Dictionary<string, long> d) => string.Join(",", d.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
            var patterns = PatternAnalysis.ErrorPatterns(c, scan, 100);
            Assert.NotEmpty(patterns);
            Assert.Equal(patterns.Select(x => (x.PatternId, x.Count, x.Share, Dump(x.ByStory), Dump(x.ByAgent), string.Join("|", x.Examples), x.FirstSeen, x.LastSeen)),
                         PatternAnalysis.ErrorPatterns(c, filter, 100).Select(x => (x.PatternId, x.Count, x.Share, Dump(x.ByStory), Dump(x.ByAgent), string.Join("|", x.Examples), x.FirstSeen, x.LastSeen)));
            // Examples: the messages of each pattern's 20 newest errors (time, then id), the first three distinct.
            foreach (var p in patterns)
                Assert.Equal(Analysis.Events(c, scan, new Analysis.EventFilter { PatternId = p.PatternId }).Where(e => MadfLog.Engine.Domain.Errors.IsError(e.Success, e.Category))
                                 .Reverse().Take(20).Select(e => e.Message).Where(m => m != null).Distinct().Take(3).Select(m => MadfLog.Engine.Text.SafeText.Redact(m)),
                             p.Examples);
            AssertSequencesMatch(c, scan, filter);
            // The first page of events is the first rows of all of them in time order (600: more than the first try's
            // blocks hold in a shuffled store), each row as the events view gives it.
            var all = Analysis.Events(c, scan, new Analysis.EventFilter()).Select(e => e.Id).ToList();
            Assert.True(all.Count > 50);
            foreach (var first in new[] { 1, 50, 600, all.Count, all.Count + 1 })
            {
                var page = Analysis.Events(c, filter, new Analysis.EventFilter { First = first }).ToList();
                Assert.Equal(all.Take(first), page.Select(e => e.Id));
                var p = new DynamicParameters(new { first });
                var view = c.Query<string>($@"SELECT printf('%d|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', id, timestamp, event_type, category, session_id, story_id, workflow_id,
                                                    agent_name, duration_ms, tokens_used, context_percent, success, pattern_id, created_rule, needs_review, details)
                                                FROM events e WHERE 1=1{filter.Where(c, p)} ORDER BY timestamp, id LIMIT @first", p).ToList();
                Assert.Equal(view.Count, page.Count);
                for (var i = 0; i < view.Count; i++) Assert.Equal(view[i], ViewRow(page[i]));
            }
        }

        // An event as the events view's columns print (printf's %s of each value; NULL as empty).
        private static string ViewRow(EventRecord e)
        {
            static string Of(object? v) => v switch
            {
                null => "",
                bool b => b ? "1" : "0",
                double d => d.ToString("0.0###############", System.Globalization.CultureInfo.InvariantCulture),
                DateTime t => new DateTimeOffset(t, TimeSpan.Zero).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => v.ToString() ?? "",
            };
            return string.Join("|", new object?[] { e.Id, e.Timestamp, e.EventType, e.Category, e.SessionId, e.StoryId, e.WorkflowId, e.AgentName, e.DurationMs,
                e.TokensUsed, e.ContextPercent, e.Success, e.PatternId, e.CreatedRule, e.NeedsReview, e.Details }.Select(Of));
        }

        internal static readonly DateTimeOffset Nov3 = new DateTimeOffset(2026, 11, 3, 0, 0, 0, TimeSpan.Zero);

        [Fact]
        public void DaySummariesMatchAScanForAStoryAndForWholeDays()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            AssertDayQuestionsMatch(c, new QueryFilter { Stories = new[] { "1.2" } });
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3, Until = Nov3.AddDays(3) });
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddDays(1) });
            AssertDayQuestionsMatch(c, new QueryFilter { Stories = new[] { "1.1" }, Until = Nov3.AddDays(1), Agents = new[] { "dev", "qa" } });
            // Parts of hours at both ends under a story and an agent filter (bottlenecks sum the parts' rows apart from
            // the day and hour rows, which SQL filters: the parts are read under both filters).
            AssertDayQuestionsMatch(c, new QueryFilter { Stories = new[] { "1.1" }, Since = Nov3.AddHours(13).AddMinutes(27).AddSeconds(42), Until = Nov3.AddDays(2).AddHours(7.5) });
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(13).AddMinutes(27).AddSeconds(42), Until = Nov3.AddDays(2).AddHours(7.5), Agents = new[] { "dev" } });
        }

        /// <summary>Retry loops and leads to errors (every one: top and support wide open) equal a scan's.</summary>
        internal static void AssertSequencesMatch(SqliteConnection c, QueryFilter scan, QueryFilter filter)
        {
            var a = PatternAnalysis.ErrorSequences(c, scan, 100_000, 1);
            Assert.Contains(a, x => x.Kind == "LeadsToError");
            Assert.Equal(a.Select(x => (x.Kind, x.Sequence, x.Occurrences, x.Sessions, x.PatternId, x.LongestRun)),
                         PatternAnalysis.ErrorSequences(c, filter, 100_000, 1).Select(x => (x.Kind, x.Sequence, x.Occurrences, x.Sessions, x.PatternId, x.LongestRun)));
            Assert.Equal(PatternAnalysis.ErrorSequences(c, scan, 3, 2).Select(x => (x.Kind, x.Sequence, x.Occurrences)),
                         PatternAnalysis.ErrorSequences(c, filter, 3, 2).Select(x => (x.Kind, x.Sequence, x.Occurrences)));
        }

        [Fact]
        public void WindowsThatCutDaysMatchAScan()
        {
            // Whole days from the day summaries, the parts of days at the ends from the events.
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(13), Until = Nov3.AddDays(2).AddHours(7.5) });
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(9), Until = Nov3.AddHours(17) });      // within one day
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(13), Until = Nov3.AddDays(1).AddHours(13) }); // two parts, no whole day
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddDays(1).AddMinutes(1) });                   // open end
            AssertDayQuestionsMatch(c, new QueryFilter { Until = Nov3.AddDays(1).AddHours(5) });                     // open start
            AssertDayQuestionsMatch(c, new QueryFilter { Stories = new[] { "1.2" }, Since = Nov3.AddHours(13), Agents = new[] { "dev" } });
        }

        [Fact]
        public void WindowsThatCutHoursMatchAScan()
        {
            // Whole days from the day summaries, the whole hours of the cut days from the hour summaries, the parts of
            // hours at the ends (-Since (Get-Date).AddDays(-7) cuts at minutes and seconds) from the events.
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            var (since, until) = (Nov3.AddHours(10).AddMinutes(55).AddSeconds(13), Nov3.AddDays(2).AddHours(14).AddMinutes(7).AddSeconds(7));
            // Both cuts fall inside sessions that cross an hour's start: each such session's rows come from the part of an
            // hour (events) and from whole hours (hour tables), and the window leaves out its events beyond the cut.
            foreach (var cut in new[] { since, until })
                Assert.True(c.ExecuteScalar<long>(
                    "SELECT count(*) FROM (SELECT session_id FROM events WHERE session_id IS NOT NULL GROUP BY 1 HAVING min(timestamp) < @t AND max(timestamp) > @t AND min(timestamp) / 3600000 < max(timestamp) / 3600000)",
                    new { t = cut.ToUnixTimeMilliseconds() }) > 0);
            AssertDayQuestionsMatch(c, new QueryFilter { Since = since, Until = until });
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(8).AddMinutes(30), Until = Nov3.AddHours(15).AddMinutes(45) });        // hours within one day
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(9).AddMinutes(10), Until = Nov3.AddHours(9).AddMinutes(50) });         // within one hour
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(10).AddMinutes(15), Until = Nov3.AddDays(1).AddHours(11).AddMinutes(20) }); // two cut days, no whole day
            AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(9).AddMilliseconds(1) });                                                // open end, a millisecond past the hour
            AssertDayQuestionsMatch(c, new QueryFilter { Until = Nov3.AddDays(1).AddHours(10).AddMinutes(18).AddSeconds(30) });                        // open start
            AssertDayQuestionsMatch(c, new QueryFilter { Stories = new[] { "1.2" }, Since = Nov3.AddDays(2).AddHours(9).AddMinutes(37), Agents = new[] { "dev" } });
        }

        [Fact]
        public void APartOfADayIsSplitIntoWholeHoursAndThePartsOfHoursAtItsEnds()
        {
            long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();
            long Hour(DateTimeOffset t) => Ms(t) / MadfLog.Engine.Domain.IsoWeeks.HourMs;
            var from = Nov3.AddHours(13).AddMinutes(27);
            var (hours, edges) = Sources.Hours(new() { (Ms(from), Ms(Nov3.AddDays(1))) });
            Assert.Equal(new[] { (Hour(Nov3.AddHours(14)), Hour(Nov3.AddDays(1))) }, hours);
            Assert.Equal(new[] { (Ms(from), Ms(Nov3.AddHours(14))) }, edges);
            // At whole hours: no part of an hour is read from the events.
            (hours, edges) = Sources.Hours(new() { (Ms(Nov3.AddHours(13)), Ms(Nov3.AddDays(1).AddHours(2))) });
            Assert.Equal(new[] { (Hour(Nov3.AddHours(13)), Hour(Nov3.AddDays(1).AddHours(2))) }, hours);
            Assert.Empty(edges);
            // Within one hour, or across an hour's start with no whole hour: all from the events.
            (hours, edges) = Sources.Hours(new() { (Ms(Nov3.AddMinutes(10)), Ms(Nov3.AddMinutes(50))), (Ms(Nov3.AddMinutes(50)), Ms(Nov3.AddMinutes(70))) });
            Assert.Empty(hours);
            Assert.Equal(2, edges.Count);
        }

        [Fact]
        public void TheHourSummariesAddUpToTheDaySummaries()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            string Sum(string sql) => string.Join("\n", c.Query(sql).Select(r => string.Join("|", ((System.Collections.Generic.IDictionary<string, object>)r).Values)));
            Assert.True(c.ExecuteScalar<long>("SELECT count(DISTINCT hour) FROM hour_rollup") > c.ExecuteScalar<long>("SELECT count(DISTINCT day) FROM day_rollup"));
            Assert.Equal(Sum("SELECT day, story_id, agent_name, workflow_id, event_type, category, step, pattern_id, outcome, events, timed, duration_ms, tokens, ctx_known, ctx_hot, wasted_ms FROM day_rollup ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"),
                         Sum(@"SELECT hour / 24, story_id, agent_name, workflow_id, event_type, category, step, pattern_id, outcome, sum(events), sum(timed), sum(duration_ms), sum(tokens), sum(ctx_known), sum(ctx_hot), sum(wasted_ms)
                               FROM hour_rollup GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"));
            Assert.Equal(Sum("SELECT day, story_id, session_id, agent_name, events, errors, tokens, human, first_ts, last_ts, ctx_events, max_context FROM session_day ORDER BY 1, 2, 3, 4"),
                         Sum(@"SELECT hour / 24, story_id, session_id, agent_name, sum(events), sum(errors), sum(tokens), sum(human), min(first_ts), max(last_ts), sum(ctx_events), max(max_context)
                               FROM session_hour GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"));
            Assert.Equal(Sum("SELECT story_id, min(timestamp), max(timestamp) FROM events WHERE story_id IS NOT NULL GROUP BY 1 ORDER BY 1"),
                         Sum("SELECT story_id, min(first_ts), max(last_ts) FROM hour_stories GROUP BY 1 ORDER BY 1"));
        }

        /// <summary>
        /// The summary tables as two stores are compared: the keys numbered as met (the rollups', the histograms') read
        /// by their texts, through the rollups' views and <see cref="SummaryTables.Grain.HistRows"/>; the key tables left out.
        /// </summary>
        internal static System.Collections.Generic.List<string> ComparedByText(System.Collections.Generic.IEnumerable<string> tables) => tables
            .Except(new[] { "rollup_keys", "day_rollup_cells", "hour_rollup_cells", "hist_keys" })
            .Select(t => t == "day_hist" ? SummaryTables.Grain.Day.HistRows : t == "hour_hist" ? SummaryTables.Grain.Hour.HistRows : t == "sequence_spans" ? "session_sequences" : t == "session_rollup_cells" ? "session_rollup"
                : t == "session_day_cells" ? "session_day" : t == "session_hour_cells" ? "session_hour" : t)
            .Concat(new[] { "day_rollup", "hour_rollup" }).ToList();

        /// <summary>Every row of the day and hour summaries, for comparing a store with another.</summary>
        internal static string DumpTimeSummaries(SqliteConnection c) => string.Join("\n",
            new[] { "day_rollup", SummaryTables.Grain.Day.HistRows, "session_day", "hour_rollup", SummaryTables.Grain.Hour.HistRows, "session_hour", "hour_stories" }.Select(t => t + ":\n" + string.Join("\n",
                c.Query($"SELECT * FROM {t}").Select(r => string.Join("|", ((System.Collections.Generic.IDictionary<string, object>)r).Values.Select(v => v is byte[] b ? Convert.ToBase64String(b) : v)))
                    .OrderBy(x => x, StringComparer.Ordinal))));

        [Fact]
        public void ReimportingTheSameLogsLeavesTheHourSummariesAsTheyWere()
        {
            using var t = TestPaths.NewTemp();
            using (var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false)) c.Execute("VACUUM INTO @path", new { path = t.Db });
            string before;
            using (var c = MadfDatabase.Open(t.Db, forWrite: false)) before = DumpTimeSummaries(c);
            var logs = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).ToList();
            // Copies under other names: read again from the start, every line a duplicate.
            foreach (var log in logs) File.Copy(log, t.File("again-" + Path.GetFileName(log)));
            var result = new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 300 }).Import(logs.Select(l => t.File("again-" + Path.GetFileName(l))));
            Assert.True(result.Duplicates > 0);
            using (var c = MadfDatabase.Open(t.Db, forWrite: false)) Assert.Equal(before, DumpTimeSummaries(c));
        }

        [Fact]
        public void AStoreAtSchema19GetsItsHourSummariesFromItsEvents()
        {
            using var t = TestPaths.NewTemp();
            using (var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false)) c.Execute("VACUUM INTO @path", new { path = t.Db });
            string kept;
            using (var c = MadfDatabase.Open(t.Db))
            {
                kept = DumpTimeSummaries(c);
                // Back to schema 19's tables (without the hour tables), then migration 20 as Open runs it on such a store
                // (run here by itself: the migrations after it are other changes').
                c.Execute(UndoKeyedRollups + "DROP TABLE hour_rollup; DROP TABLE hour_hist; DROP TABLE session_hour; DROP TABLE hour_stories");
                using var tx = c.BeginTransaction();
                c.Execute(Schema.MigrationsAfter(19).First(m => m.Key == 20).Value, transaction: tx);
                Schema.AfterScript(20, c, tx);
                // And 35, which keys the rollups by number.
                c.Execute(Schema.MigrationsAfter(34).First(m => m.Key == 35).Value, transaction: tx);
                Schema.AfterScript(35, c, tx);
                tx.Commit();
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(kept, DumpTimeSummaries(c));
                AssertDayQuestionsMatch(c, new QueryFilter { Since = Nov3.AddHours(9).AddMinutes(20), Until = Nov3.AddDays(2).AddHours(10).AddMinutes(41) });
            }
        }

        [Fact]
        public void WholeStoreErrorPatternsSessionsAndFirstEventsMatchAScan()
        {
            using var c = MadfDatabase.Open(_s.Temp.Db, forWrite: false);
            AssertErrorQuestionsMatch(c, Scan, Summary);
            Assert.Contains(PatternAnalysis.ErrorSequences(c, Summary), x => x.Kind == "RetryLoop");
            Assert.Equal(Analysis.Sessions(c, Scan).Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)),
                         Analysis.Sessions(c, Summary).Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)));
            var agents = new QueryFilter { Agents = new[] { "qa" } };
            Assert.Equal(Analysis.Sessions(c, new QueryFilter { Agents = agents.Agents, ScanEvents = true }).Select(x => (x.SessionId, string.Join(",", x.Agents), x.Events, x.Errors)),
                         Analysis.Sessions(c, agents).Select(x => (x.SessionId, string.Join(",", x.Agents), x.Events, x.Errors)));
        }

        [Fact]
        public void SessionsFromTheSummariesListAgentsAndOrderTiesAsTheScan()
        {
            // Several agents, one whose name holds a comma (the scan's group_concat splits it), sessions starting at the
            // same time (ordered by id), a session over two days and stories.
            using var t = TestPaths.NewTemp();
            var t0 = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
            var rows = new System.Collections.Generic.List<MadfLog.Engine.Events.EventRow>();
            void Add(long ts, string session, string agent, string story) => rows.Add(new MadfLog.Engine.Events.EventRow
                { Timestamp = ts, EventType = "tool_call", Category = "tool", SessionId = session, AgentName = agent, StoryId = story, Success = true, DedupKey = rows.Count + 1 });
            Add(t0, "s2", "dev", "1.1"); Add(t0, "s1", "qa,review", "1.1"); Add(t0 + 1, "s1", "dev", "1.2"); Add(t0 + 2, "s1", "dev", "1.1");
            Add(t0 + 86_400_000, "s2", "qa", "1.1"); Add(t0 + 5, "s3", "zed", "1.1"); Add(t0 + 6, "s3", "zed", "1.2"); Add(t0 + 7, "s3", "ann", "1.1");
            using var c = WriteAndOpen(t, rows);
            var scan = Analysis.Sessions(c, new QueryFilter { ScanEvents = true });
            Assert.Equal(new[] { "s1", "s2", "s3" }, scan.Select(x => x.SessionId));
            Assert.Equal(new[] { "dev", "qa", "review" }, scan[0].Agents);
            Assert.Equal(scan.Select(x => (x.SessionId, x.Story, string.Join("|", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.HumanInteractions)),
                         Analysis.Sessions(c, new QueryFilter()).Select(x => (x.SessionId, x.Story, string.Join("|", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.HumanInteractions)));
        }

        // Stores the rows as the import's stages do and opens the store to read.
        private static Microsoft.Data.Sqlite.SqliteConnection WriteAndOpen(TempFolder t, System.Collections.Generic.List<MadfLog.Engine.Events.EventRow> rows)
        {
            using (var w = MadfDatabase.Open(t.Db))
            {
                using var tx = w.BeginTransaction();
                ImportStages.Write(w, tx, rows);
                tx.Commit();
            }
            return MadfDatabase.Open(t.Db, forWrite: false);
        }

        [Fact]
        public void ASessionsEmptyAgentNameIsNoAgentInTheScanAsInTheSummaries()
        {
            // An agent logged as "" names no agent: session_day keeps it as none, and the scan listed it as an agent "".
            using var t = TestPaths.NewTemp();
            var t0 = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
            var rows = new System.Collections.Generic.List<MadfLog.Engine.Events.EventRow>();
            void Add(long ts, string session, string agent) => rows.Add(new MadfLog.Engine.Events.EventRow
                { Timestamp = ts, EventType = "tool_call", Category = "tool", SessionId = session, AgentName = agent, StoryId = "1.1", Success = true, DedupKey = rows.Count + 1 });
            Add(t0, "s1", "dev"); Add(t0 + 1, "s1", ""); Add(t0 + 2, "s2", ""); Add(t0 + 3, "s3", "qa"); Add(t0 + 4, "s3", "dev"); Add(t0 + 5, "s3", "");
            using var c = WriteAndOpen(t, rows);
            var scan = Analysis.Sessions(c, new QueryFilter { ScanEvents = true });
            Assert.Equal(new[] { "dev" }, scan[0].Agents);
            Assert.Empty(scan[1].Agents);
            Assert.Equal(new[] { "dev", "qa" }, scan[2].Agents);
            Assert.Equal(scan.Select(x => (x.SessionId, string.Join("|", x.Agents), x.Events)),
                         Analysis.Sessions(c, new QueryFilter()).Select(x => (x.SessionId, string.Join("|", x.Agents), x.Events)));
        }

        [Fact]
        public void RebuildingTheSummariesFromTheEventsGivesWhatTheImportKept()
        {
            // Retention and the day-summary migration compute the summaries in SQL; the import in C#: the same rows.
            using var c = MadfDatabase.Open(_s.Temp.Db);
            string Dump(string table) => string.Join("\n", c.Query($"SELECT * FROM {table}")
                .Select(r => string.Join("|", ((System.Collections.Generic.IDictionary<string, object>)r).Values.Select(v => v is byte[] b ? Convert.ToBase64String(b) : v))).OrderBy(x => x, StringComparer.Ordinal));
            // The error sequences' cells number their leads and steps as they meet them: compared by name; the rollups'
            // keys too: compared by their views.
            var tables = ComparedByText(SummaryTables.Names.Except(SequenceCells.Tables));
            var kept = tables.ToDictionary(t => t, Dump);
            var cells = ErrorSequenceSummaryTests.DumpCells(c);
            Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM day_rollup") > 10);
            using var tx = c.BeginTransaction();
            SummaryTables.Rebuild(c, tx);
            foreach (var t in tables) Assert.Equal(kept[t], Dump(t));
            Assert.Equal(cells, ErrorSequenceSummaryTests.DumpCells(c, tx));
            tx.Rollback();
        }

        internal static void AssertQuestionsMatch(SqliteConnection c)
        {
            Assert.Equal(Analysis.Bottlenecks(c, Scan, 50).Select(x => (x.Kind, x.Name, x.Count, x.TotalMs, x.TimeWastedMs)),
                         Analysis.Bottlenecks(c, Summary, 50).Select(x => (x.Kind, x.Name, x.Count, x.TotalMs, x.TimeWastedMs)));
            Assert.Equal(Analysis.ToolFailures(c, Scan).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures, x.TopError)),
                         Analysis.ToolFailures(c, Summary).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures, x.TopError)));
            Assert.Equal(Analysis.Stories(c, Scan).Select(x => (x.Story, x.Events, x.Errors, x.RepeatedErrors, x.Tokens, x.HumanInteractions, string.Join(",", x.Agents), x.Start, x.End)),
                         Analysis.Stories(c, Summary).Select(x => (x.Story, x.Events, x.Errors, x.RepeatedErrors, x.Tokens, x.HumanInteractions, string.Join(",", x.Agents), x.Start, x.End)));
            Assert.Equal(Analysis.Trend(c, Scan).Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)),
                         Analysis.Trend(c, Summary).Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)));
            // Error summary: first/last seen come from the pattern, the rest from the summaries.
            Assert.Equal(Analysis.ErrorSummary(c, Scan, 100).Select(x => (x.PatternId, x.Template, x.ErrorClass, x.Count, x.Share, string.Join(",", x.Agents), string.Join(",", x.Stories), x.FirstSeen, x.LastSeen)),
                         Analysis.ErrorSummary(c, Summary, 100).Select(x => (x.PatternId, x.Template, x.ErrorClass, x.Count, x.Share, string.Join(",", x.Agents), string.Join(",", x.Stories), x.FirstSeen, x.LastSeen)));
            Assert.Equal(Analysis.ContextPressure(c, Scan).Select(x => (x.SessionId, x.Agent, x.Story, x.MaxContextPercent, x.Events, x.EventsAbove80, x.ErrorRateAbove80, x.ErrorRateBelow80)).OrderBy(x => x.SessionId + x.Agent),
                         Analysis.ContextPressure(c, Summary).Select(x => (x.SessionId, x.Agent, x.Story, x.MaxContextPercent, x.Events, x.EventsAbove80, x.ErrorRateAbove80, x.ErrorRateBelow80)).OrderBy(x => x.SessionId + x.Agent));
            // Human interactions: the same groups and counts (topics come from the stored patterns instead of a fresh miner).
            Assert.Equal(Analysis.HumanInteractions(c, Scan).Select(x => (x.Category, x.Agent, x.Story, x.Count)).OrderBy(x => x.Category + x.Agent + x.Story),
                         Analysis.HumanInteractions(c, Summary).Select(x => (x.Category, x.Agent, x.Story, x.Count)).OrderBy(x => x.Category + x.Agent + x.Story));
            var story = new QueryFilter { Stories = new[] { "1.2" } };
            Assert.Equal(Analysis.ToolFailures(c, new QueryFilter { Stories = story.Stories, Since = Scan.Since }).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures)),
                         Analysis.ToolFailures(c, story).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures)));
        }
    }
}

namespace MadfLog.Engine.Tests.Query
{
    public class DayHistogramTests
    {
        [Fact]
        public void HistogramsRoundTripAddAndComeFromText()
        {
            var a = DayHistogram.Encode(new[] { new System.Collections.Generic.KeyValuePair<int, long>(130, 3), new(0, 1), new(7, 0), new(200, 5_000_000_000) });
            Assert.Equal(new[] { (0, 1L), (130, 3L), (200, 5_000_000_000L) }, DayHistogram.Decode(a));
            var b = DayHistogram.FromText("130:2,5:1,130:1");
            Assert.Equal(new[] { (5, 1L), (130, 3L) }, DayHistogram.Decode(b));
            Assert.Equal(new[] { (0, 1L), (5, 1L), (130, 6L), (200, 5_000_000_000L) }, DayHistogram.Decode(DayHistogram.Add(a, b)));
            Assert.Empty(DayHistogram.Decode(DayHistogram.Add(null, DayHistogram.FromText(""))));
        }

        // A histogram as blobs were written before schema 42: a (bucket gap, count) pair per counted bucket.
        private static byte[] Pairs(System.Collections.Generic.IEnumerable<(int bucket, long n)> counted)
        {
            var bytes = new System.Collections.Generic.List<byte>();
            var previous = 0;
            foreach (var (bucket, n) in counted)
            {
                foreach (var v in new[] { (long)(bucket - previous), n })
                {
                    var u = (ulong)v;
                    while (u >= 0x80) { bytes.Add((byte)(u | 0x80)); u >>= 7; }
                    bytes.Add((byte)u);
                }
                previous = bucket;
            }
            return bytes.ToArray();
        }

        // The encoder as it was before it wrote into reused arrays (schema 42's): lists of pairs and of bytes.
        private static byte[] ListEncoded(System.Collections.Generic.IReadOnlyList<(int Bucket, long N)> counted)
        {
            if (counted.Count == 0) return Array.Empty<byte>();
            var pairs = Pairs(counted).ToList();
            var bytes = new System.Collections.Generic.List<byte>(DayHistogram.Mark);
            void Put(long v) { var u = (ulong)v; while (u >= 0x80) { bytes.Add((byte)(u | 0x80)); u >>= 7; } bytes.Add((byte)u); }
            var previous = 0;
            for (var i = 0; i < counted.Count;)
            {
                var end = i + 1;
                while (end < counted.Count && counted[end].Bucket - counted[end - 1].Bucket <= 2) end++;
                Put(counted[i].Bucket - previous);
                Put(counted[end - 1].Bucket - counted[i].Bucket + 1);
                for (var j = i; j < end; j++)
                {
                    if (j > i) for (var empty = counted[j - 1].Bucket + 1; empty < counted[j].Bucket; empty++) bytes.Add(0);
                    Put(counted[j].N);
                }
                previous = counted[end - 1].Bucket;
                i = end;
                if (bytes.Count >= pairs.Count) return pairs.ToArray();
            }
            return bytes.Count < pairs.Count ? bytes.ToArray() : pairs.ToArray();
        }

        [Fact]
        public void BucketCountsEncodeAsTheDenseCountsAndAsBefore()
        {
            // Cells of a few buckets (held in fields), of many (a range), grown down and up, counts taken back to 0,
            // and wider than the encoder's first arrays.
            var random = new Random(7);
            for (var round = 0; round < 2000; round++)
            {
                var counts = new BucketCounts();
                var dense = new long[400];
                var adds = random.Next(1, round % 10 == 0 ? 400 : 12);
                var spread = random.Next(1, round % 7 == 0 ? 400 : 40);
                var from = random.Next(0, 400 - spread);
                for (var i = 0; i < adds; i++)
                {
                    var bucket = from + random.Next(spread);
                    var n = random.Next(1, 4) * (long)(random.Next(5) == 0 && dense[bucket] > 0 ? -1 : 1);
                    if (dense[bucket] + n < 0) n = -dense[bucket];
                    counts.Add(bucket, n);
                    dense[bucket] += n;
                }
                var sum = new BucketCounts();
                sum.Add(counts);
                sum.Add(counts);
                var places = Enumerable.Range(0, counts.Length).Select(i => counts.BucketAt(i)).ToArray();
                Assert.Equal(places.OrderBy(b => b), places);
                var counted = dense.Select((n, b) => (b, n)).Where(x => x.n != 0).ToList();
                Assert.Equal(DayHistogram.Encode(dense), DayHistogram.Encode(counts));
                Assert.Equal(ListEncoded(counted), DayHistogram.Encode(counts));
                Assert.Equal(ListEncoded(counted.Select(x => (x.b, 2 * x.n)).ToList()), DayHistogram.Encode(sum));
                Assert.Equal(counted, DayHistogram.Decode(DayHistogram.Encode(counts)));
            }
        }

        [Fact]
        public void BlobsOfPairsAreReadAndAddedAsRunsOfNeighbouringBuckets()
        {
            // A histogram of many events: its buckets next to each other (one empty between two), two far off.
            var counted = Enumerable.Range(20, 24).Where(b => b != 30).Select(b => (b, (long)(b % 5 + 1))).Concat(new[] { (130, 3L), (200, 5_000_000_000L) }).ToArray();
            var old = Pairs(counted);
            Assert.Equal(counted, DayHistogram.Decode(old));
            var runs = DayHistogram.Add(old, null);
            Assert.Equal(DayHistogram.Mark, runs.Take(2));
            Assert.Equal(counted, DayHistogram.Decode(runs));
            Assert.True(runs.Length < old.Length * 3 / 4, $"{runs.Length} bytes of runs against {old.Length} of pairs");
            Assert.Equal(counted.Select(c => c.Item1 == 21 || c.Item1 == 130 ? (c.Item1, c.Item2 + 2) : c).Concat(new[] { (300, 1L) }).OrderBy(c => c.Item1),
                DayHistogram.Decode(DayHistogram.Add(runs, DayHistogram.FromText("21:2,130:2,300:1"))));
            // A few scattered buckets stay pairs: runs would be longer.
            var few = new[] { (3, 2L), (90, 1L) };
            Assert.Equal(Pairs(few), DayHistogram.Add(Pairs(few), null));
            Assert.Equal(few, DayHistogram.Decode(DayHistogram.Add(null, Pairs(few))));
            Assert.Empty(DayHistogram.Add(Pairs(Array.Empty<(int, long)>()), null));
        }

        [Fact]
        public void UpgradingWritesTheStoredHistogramsInTheShorterEncoding()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f));
            string Dump(SqliteConnection c, string table) => string.Join("\n", c.Query<(long at, string story, string scope, string key, byte[] buckets)>(
                    $"SELECT * FROM {(table == "day_hist" ? SummaryTables.Grain.Day.HistRows : SummaryTables.Grain.Hour.HistRows)} ORDER BY 1, 2, 3, 4")
                .Select(r => $"{r.at}|{r.story}|{r.scope}|{r.key}|" + string.Join(",", DayHistogram.Decode(r.buckets))));
            var tables = new[] { "day_hist", "hour_hist" };
            string[] before;
            using (var c = MadfDatabase.Open(t.Db))
            {
                before = tables.Select(x => Dump(c, x)).ToArray();
                Assert.All(before, Assert.NotEmpty);
                // A store at schema 41: every blob a pair per counted bucket.
                c.Execute("DELETE FROM schema_version WHERE version >= 42");
                foreach (var table in tables)
                    foreach (var (at, key, buckets) in c.Query<(long, long, byte[])>($"SELECT * FROM {table}").ToList())
                        c.Execute($"UPDATE {table} SET buckets = @old WHERE {(table == "day_hist" ? "day" : "hour")} = @at AND key = @key",
                            new { old = Pairs(DayHistogram.Decode(buckets)), at, key });
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM hour_hist WHERE substr(buckets, 1, 2) = x'8000'"));
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(before, tables.Select(x => Dump(c, x)).ToArray());
                // Each blob in the shorter encoding (as the import writes it), the hours' busiest as runs.
                foreach (var table in tables)
                    Assert.All(c.Query<byte[]>($"SELECT buckets FROM {table}"), b => Assert.Equal(DayHistogram.Add(b, null), b));
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM hour_hist WHERE substr(buckets, 1, 2) = x'8000'") > 0);
            }
        }

        [Fact]
        public void TheFlushsEncodingAndMergeGiveTheBytesOfTheGeneralEncoding()
        {
            // The import encodes counts indexed by bucket and merges stored blobs in one pass: both must give exactly
            // the bytes of encoding the summed pairs (the stored blobs are compared and summed by SQL and by questions).
            var random = new System.Random(18);
            for (var round = 0; round < 500; round++)
            {
                long[] Counts()
                {
                    var counts = new long[random.Next(0, 160)];
                    for (var i = 0; i < counts.Length; i++) counts[i] = random.Next(4) == 0 ? random.Next(1, 1000) * (random.Next(8) == 0 ? 10_000_000L : 1) : 0;
                    return counts;
                }
                static System.Collections.Generic.IEnumerable<System.Collections.Generic.KeyValuePair<int, long>> Pairs(long[] c) =>
                    System.Linq.Enumerable.Select(System.Linq.Enumerable.Range(0, c.Length), i => new System.Collections.Generic.KeyValuePair<int, long>(i, c[i]));
                var a = Counts();
                var b = Counts();
                Assert.Equal(DayHistogram.Encode(Pairs(a)), DayHistogram.Encode(a));
                var sum = new long[System.Math.Max(a.Length, b.Length)];
                for (var i = 0; i < a.Length; i++) sum[i] += a[i];
                for (var i = 0; i < b.Length; i++) sum[i] += b[i];
                Assert.Equal(DayHistogram.Encode(Pairs(sum)), DayHistogram.Add(DayHistogram.Encode(a), DayHistogram.Encode(b)));
                Assert.Equal(DayHistogram.Encode(a), DayHistogram.Add(DayHistogram.Encode(a), null));
                Assert.Equal(DayHistogram.Encode(b), DayHistogram.Add(null, DayHistogram.Encode(b)));
                // The import's per-day and per-hour counts cover only the buckets met, grown both ways as cells add theirs
                // in any order: they encode as the same counts from bucket 0 do.
                var ranged = new BucketCounts();
                var cell = new BucketCounts();
                foreach (var i in System.Linq.Enumerable.OrderBy(System.Linq.Enumerable.Range(0, a.Length), _ => random.Next())) if (a[i] != 0) ranged.Add(i, a[i]);
                foreach (var i in System.Linq.Enumerable.OrderBy(System.Linq.Enumerable.Range(0, b.Length), _ => random.Next())) if (b[i] != 0) cell.Add(i, b[i]);
                ranged.Add(cell);
                Assert.Equal(DayHistogram.Encode(sum), DayHistogram.Encode(ranged));
            }
        }
    }
}

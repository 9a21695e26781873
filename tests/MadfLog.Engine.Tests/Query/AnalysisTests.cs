using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Briefing;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    public class AnalysisTests
    {
        private static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
        private long _key;

        private EventRow E(int minute, string story, string agent, string type = "tool_call", bool? ok = true, long? pattern = null, long? ms = null,
                           long? tokens = null, double? ctx = null, string? tool = "Read", string category = "tool", string session = "s1", string? message = null) => new EventRow
        {
            Timestamp = T0.AddMinutes(minute).ToUnixTimeMilliseconds(), EventType = type, Category = category, StoryId = story, AgentName = agent,
            SessionId = session, Success = ok, PatternId = pattern, DurationMs = ms, TokensUsed = tokens, ContextPercent = ctx, DedupKey = ++_key,
            Details = "{" + string.Join(",", new[] { tool != null ? $"\"tool\":\"{tool}\"" : null, message != null ? $"\"message\":\"{message}\"" : null }.Where(x => x != null)) + "}",
        };

        private static SqliteConnection Seed(TempFolder t, IEnumerable<EventRow> rows)
        {
            var c = MadfDatabase.Open(t.Db);
            c.Execute("INSERT INTO patterns(id, template, token_count, error_class, created, display) VALUES (1, 'a <*>', 2, 'FileNotFound', 0, 'File does not exist: <*>'), (2, 'b', 1, 'Timeout', 0, 'Command timed out'), (3, 'c', 1, 'Other', 0, 'Brand new error')");
            using var tx = c.BeginTransaction();
            ImportStages.Write(c, tx, rows.ToList());
            tx.Commit();
            return c;
        }

        private List<EventRow> TwoStories() => new List<EventRow>
        {
            // Story 1.1: 10 events, 4 errors: pattern 1 three times (2 repeats), pattern 2 once; one cascade (not an error).
            E(0, "1.1", "dev", ok: false, pattern: 1, ms: 100), E(1, "1.1", "dev", ok: false, pattern: 1, ms: 300), E(2, "1.1", "qa", ok: false, pattern: 1, ms: 500),
            E(3, "1.1", "dev", ok: false, pattern: 2, ms: 700, tool: "Bash"), E(4, "1.1", "dev", ok: false, category: "cascade", ms: 50),
            E(5, "1.1", "dev", ms: 10, tokens: 100, ctx: 85), E(6, "1.1", "qa", ms: 20, tokens: 200, ctx: 90), E(7, "1.1", "qa", ms: 30, ctx: 50),
            E(8, "1.1", "dev", type: "human_interaction", category: "clarification", tool: null, message: "Which database?"), E(9, "1.1", "dev", type: "llm_call", tokens: 1000, tool: null),
            // Story 1.2: 5 events, 2 errors: pattern 1 once (a repeat of 1.1's), pattern 3 once (new).
            E(100, "1.2", "dev", ok: false, pattern: 1, ms: 100, session: "s2"), E(101, "1.2", "dev", ok: false, pattern: 3, ms: 100, session: "s2"),
            E(102, "1.2", "dev", session: "s2"), E(103, "1.2", "architect", session: "s2"), E(104, "1.2", "architect", type: "llm_call", tokens: 500, tool: null, session: "s2"),
        };

        [Fact]
        public void ErrorSummaryCountsPatternsWithSharesAndLeavesCascadesOut()
        {
            using var t = TestPaths.NewTemp();
            using var c = Seed(t, TwoStories());
            var all = Analysis.ErrorSummary(c, new QueryFilter());
            Assert.Equal(6, Analysis.CountErrors(c, new QueryFilter()));
            Assert.Equal(new long?[] { 1, 2, 3 }, all.Select(a => a.PatternId));
            Assert.Equal(4, all[0].Count);
            Assert.Equal(4.0 / 6, all[0].Share, 6);
            Assert.Equal("File does not exist: <*>", all[0].Template);
            Assert.Equal(new[] { "dev", "qa" }, all[0].Agents);
            var story = Analysis.ErrorSummary(c, new QueryFilter { Stories = new[] { "1.2" } }, top: 1);
            Assert.Single(story);
            Assert.Equal(0.5, story[0].Share);
        }

        [Fact]
        public void AgentPerformanceHasMedianP95ContextPressureAndWaste()
        {
            using var t = TestPaths.NewTemp();
            using var c = Seed(t, TwoStories());
            // A scan of the events: exact medians and p95s.
            var dev = Analysis.AgentPerformance(c, new QueryFilter { Stories = new[] { "1.1" }, Since = new DateTimeOffset(2000, 1, 1, 0, 0, 0, 1, TimeSpan.Zero), ScanEvents = true }).Single(a => a.Agent == "dev");
            Assert.Equal(7, dev.Events);
            Assert.Equal(3, dev.Errors);                          // the cascade is not an error
            Assert.Equal(3.0 / 7, dev.SuccessRate, 4);           // 3 of 7 with a known outcome succeeded
            Assert.Equal(100, dev.MedianDurationMs);              // durations 100,300,700,50,10 → median 100
            Assert.Equal(700, dev.P95DurationMs);
            Assert.Equal(1, dev.ContextPressure);                 // its one event with a context reading was above 80
            Assert.Equal(100 + 300 + 700 + 50, dev.TimeWastedMs); // failed durations
            Assert.Equal(1100, dev.Tokens);
            // The story alone reads the day summaries: the same figures, percentiles within their histogram bucket (9%).
            var fromDays = Analysis.AgentPerformance(c, new QueryFilter { Stories = new[] { "1.1" } }).Single(a => a.Agent == "dev");
            Assert.Equal((dev.Events, dev.Errors, dev.SuccessRate, dev.ContextPressure, dev.TimeWastedMs, dev.Tokens),
                         (fromDays.Events, fromDays.Errors, fromDays.SuccessRate, fromDays.ContextPressure, fromDays.TimeWastedMs, fromDays.Tokens));
            Assert.InRange(fromDays.MedianDurationMs, 100, 109);
            Assert.InRange(fromDays.P95DurationMs, 700, 763);
        }

        [Fact]
        public void StoriesCompareOnRepeatedErrorsAndPatterns()
        {
            using var t = TestPaths.NewTemp();
            using var c = Seed(t, TwoStories());
            var cmp = Analysis.CompareStories(c, "1.1", "1.2", new QueryFilter());
            Assert.Equal(2, cmp.Reference.RepeatedErrors);  // pattern 1's 2nd and 3rd occurrences
            Assert.Equal(1, cmp.Difference.RepeatedErrors); // pattern 1 again
            Assert.Equal(0.2, cmp.Reference.RepeatedErrorRate, 4);
            Assert.Equal(0.2, cmp.Difference.RepeatedErrorRate, 4);
            Assert.Equal(0, cmp.RepeatedErrorsChangePercent);
            Assert.Equal(new long[] { 3 }, cmp.PatternsGained.Select(p => p.PatternId));
            Assert.Equal(new long[] { 2 }, cmp.PatternsLost.Select(p => p.PatternId));
            Assert.Equal(new[] { "architect" }, cmp.AgentsAdded);
            Assert.Equal(new[] { "qa" }, cmp.AgentsRemoved);
            Assert.Equal(1, cmp.Reference.HumanInteractions);
            Assert.StartsWith("Repeated errors changed by 0%", cmp.Headline);
        }

        [Fact]
        public void TrendOrdersStoriesAsVersionsAndForecastsWithARange()
        {
            Assert.Equal(new[] { "1.2", "1.10", "2.1" }, new[] { "2.1", "1.10", "1.2" }.OrderBy(s => s, StoryOrder.Instance));
            // A falling rate is forecast to keep falling, but never below 0 (a straight line would say 0 % here).
            var f = StoryForecast.Next(new (long, long)[] { (1000, 300), (1000, 200), (1000, 100) })!;
            Assert.InRange(f.ErrorRate, 0.01, 0.1);
            Assert.True(f.ErrorRateLow > 0 && f.ErrorRateLow < f.ErrorRate && f.ErrorRate < f.ErrorRateHigh && f.ErrorRateHigh < 1);
            Assert.Equal(0, f.BacktestStories);
            Assert.Null(f.BacktestError);
            // Below three stories: no number.
            Assert.Null(StoryForecast.Next(new (long, long)[] { (100, 30), (100, 20) }));
            // A story with few events counts for little: the small noisy third story hardly moves the forecast.
            var steady = StoryForecast.Next(new (long, long)[] { (5000, 500), (5000, 500), (10, 9), (5000, 500) })!;
            Assert.InRange(steady.ErrorRate, 0.09, 0.11);
            Assert.Equal(1, steady.BacktestStories);
            Assert.EndsWith(" over 1 story", StoryForecast.Text(steady, 4));

            using var t = TestPaths.NewTemp();
            using var c = Seed(t, TwoStories());
            var trend = Analysis.Trend(c, new QueryFilter());
            Assert.Equal(new[] { "1.1", "1.2" }, trend.Where(p => p.Kind == "Story").Select(p => p.Period));
            Assert.Equal(0.4, trend.First(p => p.Period == "1.1").ErrorRate);
            Assert.Single(trend, p => p.Kind == "Week");
            Assert.DoesNotContain(trend, p => p.Kind == "Forecast"); // two stories: not enough for a forecast
            Assert.Contains("not enough stories", Briefs.Trend(trend));
        }

        [Fact]
        public void ToolFailuresSessionsContextAndEventsAnswerFromTheSameData()
        {
            using var t = TestPaths.NewTemp();
            using var c = Seed(t, TwoStories());
            var read = Analysis.ToolFailures(c, new QueryFilter()).Single(x => x.Tool == "Read" && x.Agent == "dev");
            Assert.Equal(4 + 3, read.Calls);  // dev's Read calls: 2 errors, a cascade and an ok in 1.1; 2 errors and an ok in 1.2
            Assert.Equal(4, read.Failures);
            Assert.Equal("File does not exist: <*>", read.TopError);

            var sessions = Analysis.Sessions(c, new QueryFilter());
            Assert.Equal(new[] { "s1", "s2" }, sessions.Select(s => s.SessionId));
            Assert.Equal(4, sessions[0].Errors);
            Assert.Equal(9 * 60_000, sessions[0].DurationMs);
            Assert.Equal(90, sessions[0].MaxContextPercent);

            var pressure = Analysis.ContextPressure(c, new QueryFilter());
            Assert.Equal(new[] { ("s1", "dev"), ("s1", "qa") }, pressure.Select(p => (p.SessionId, p.Agent)).OrderBy(x => x.Agent));
            var (above, below, n) = Analysis.ContextEffect(c, new QueryFilter());
            Assert.Equal(2, n);

            var failedBash = Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter { Success = false, PatternId = 2 }).ToList();
            Assert.Single(failedBash);
            // The view's 0/1/NULL come back as the record's bool? and bool.
            Assert.Equal(false, failedBash[0].Success);
            Assert.False(failedBash[0].NeedsReview);
            Assert.Contains(Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter { Success = true }), e => e.Success == true);
            Assert.Equal("Bash", System.Text.Json.JsonDocument.Parse(failedBash[0].Details!).RootElement.GetProperty("tool").GetString());
            Assert.Equal(3, Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter { First = 3 }).Count());
            Assert.Equal(new[] { "1.1", "1.2" }, Analysis.DistinctValues(c, "story_id", ""));
            Assert.Equal(new[] { "architect" }, Analysis.DistinctValues(c, "agent_name", "arch"));
        }

        [Fact]
        public void HumanInteractionsAreGroupedWithTheirTopics()
        {
            using var t = TestPaths.NewTemp();
            var rows = TwoStories();
            rows.Add(E(10, "1.1", "dev", type: "human_interaction", category: "clarification", tool: null, message: "Which database?"));
            using var c = Seed(t, rows);
            var h = Analysis.HumanInteractions(c, new QueryFilter()).Single();
            Assert.Equal("clarification", h.Category);
            Assert.Equal(2, h.Count);
            Assert.Equal("Which database? (2×)", Assert.Single(h.Topics));
        }

        [Fact]
        public void HumanInteractionsLoggedWithKindAndQuestionGetTopics()
        {
            using var t = TestPaths.NewTemp();
            EventRow H(int i, string details) => new EventRow { Timestamp = 1_760_000_000_000 + i, EventType = "human_interaction", Category = "human", StoryId = "1.1", AgentName = "dev", Success = true, DedupKey = 500 + i, Details = details };
            var rows = new List<EventRow>
            {
                H(0, "{\"kind\":\"clarification\",\"question\":\"Which database should the tests use?\"}"),
                H(1, "{\"kind\":\"clarification\",\"question\":\"Which database should the tests use?\"}"),
                H(2, "{\"kind\":\"approval\"}"),
            };
            using var c = Seed(t, rows);
            foreach (var filter in new[] { new QueryFilter(), new QueryFilter { Since = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero) } })
            {
                var h = Analysis.HumanInteractions(c, filter).Single();
                Assert.Equal(3, h.Count);
                Assert.Equal(new[] { "Which database should the tests use? (2×)", "approval" }, h.Topics);
            }
        }
    }
}

namespace MadfLog.Engine.Tests.Query
{
    public class BottleneckOutlierTests
    {
        [Fact]
        public void StepsThatTakeMoreThanThreeTimesTheirMedianAreCountedAsOutliers()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            // Bash: nine calls around 100 ms and two at 10 s; Read: all 50 ms.
            var ms = new long[] { 90, 95, 100, 100, 100, 105, 110, 100, 100, 10_000, 12_000 };
            var rows = ms.Select((d, i) => new EventRow { Timestamp = 1_760_000_000_000 + i, EventType = "tool_call", Category = "tool", Success = true, DurationMs = d, DedupKey = i + 1, Details = "{\"tool\":\"Bash\"}" })
                .Concat(Enumerable.Range(0, 5).Select(i => new EventRow { Timestamp = 1_760_000_100_000 + i, EventType = "tool_call", Category = "tool", Success = true, DurationMs = 50, DedupKey = 100 + i, Details = "{\"tool\":\"Read\"}" }))
                .ToList();
            using (var tx = c.BeginTransaction()) { ImportStages.Write(c, tx, rows); tx.Commit(); }
            foreach (var filter in new[] { new QueryFilter(), new QueryFilter { Since = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero) } })
            {
                var b = Analysis.Bottlenecks(c, filter);
                var bash = b.Single(x => x.Name == "Bash");
                Assert.Equal(2, bash.Outliers);
                Assert.InRange(bash.MedianMs, 100, 110);
                Assert.Equal(0, b.Single(x => x.Name == "Read").Outliers);
            }
        }

        [Fact]
        public void WorkflowRowsHaveTheirOwnMedianAndP95()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            // Workflow a: 1..100 ms (median 50, p95 95); workflow b: 1,000..20,000 ms in steps of 1,000 (median 10,000, p95 19,000).
            var rows = Enumerable.Range(1, 100).Select(i => new EventRow { Timestamp = 1_760_000_000_000 + i, EventType = "tool_call", Category = "tool", Success = true, DurationMs = i, WorkflowId = "a", DedupKey = i, Details = "{\"tool\":\"Bash\"}" })
                .Concat(Enumerable.Range(1, 20).Select(i => new EventRow { Timestamp = 1_760_000_100_000 + i, EventType = "step", Category = "workflow", Success = true, DurationMs = i * 1000, WorkflowId = "b", DedupKey = 1000 + i, Details = "{\"step\":\"review\"}" }))
                .ToList();
            using (var tx = c.BeginTransaction()) { ImportStages.Write(c, tx, rows); tx.Commit(); }
            foreach (var filter in new[] { new QueryFilter(), new QueryFilter { Since = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero) } })
            {
                var b = Analysis.Bottlenecks(c, filter).Where(x => x.Kind == "workflow").ToDictionary(x => x.Name);
                // Exact from the events, or within one histogram bucket (2^(1/8), 9 %) from the summaries.
                Assert.InRange(b["a"].MedianMs, 50, 50 * 1.091);
                Assert.InRange(b["a"].P95Ms, 95, 95 * 1.091);
                Assert.InRange(b["b"].MedianMs, 10_000, 10_000 * 1.091);
                Assert.InRange(b["b"].P95Ms, 19_000, 19_000 * 1.091);
            }
        }

        [Fact]
        public void UpgradingFillsWorkflowDurationsFromTheStoredEvents()
        {
            using var t = TestPaths.NewTemp();
            var rows = Enumerable.Range(1, 20).Select(i => new EventRow { Timestamp = 1_760_000_000_000 + i, EventType = "step", Category = "workflow", Success = true, DurationMs = i * 100, WorkflowId = i % 2 == 0 ? "a" : "b", DedupKey = i, Details = "{\"step\":\"review\"}" }).ToList();
            List<(string, int, long)> Hist(SqliteConnection c) => c.Query<(string, int, long)>("SELECT key, bucket, n FROM duration_hist WHERE scope = 'workflow' ORDER BY 1, 2").ToList();
            List<(string, int, long)> imported;
            using (var c = MadfDatabase.Open(t.Db))
            {
                using (var tx = c.BeginTransaction()) { ImportStages.Write(c, tx, rows); tx.Commit(); }
                imported = Hist(c);
                Assert.Equal(20, imported.Sum(h => h.Item3));
                // A version-9 store: no workflow histograms yet.
                Store.EventKeysTests.UnpackKeys(c);
                Store.CompactStorageTests.UndoEightDetailsValues(c);
                c.Execute(ErrorSequenceSummaryTests.UndoKeyedSessions + SummaryConsistencyTests.UndoKeyedRollups + "DELETE FROM duration_hist WHERE scope = 'workflow'; DELETE FROM schema_version WHERE version >= 10; DROP TABLE day_rollup; DROP TABLE day_hist; DROP TABLE session_day; " + ErrorSequenceSummaryTests.DropSequenceTables + BlockDayTests.DropBlockDays);
            }
            using (var c = MadfDatabase.Open(t.Db)) Assert.Equal(imported, Hist(c));
        }

        [Fact]
        public void UpgradingFillsTheDaySummariesAsTheImportKeepsThem()
        {
            using var t = TestPaths.NewTemp();
            var logs = System.IO.Directory.GetFiles(System.IO.Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f).Take(2);
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(logs);
            string Dump(SqliteConnection c, string table) => string.Join("\n", c.Query($"SELECT * FROM {table}")
                .Select(r => string.Join("|", ((IDictionary<string, object>)r).Values.Select(v => v is byte[] b ? Convert.ToBase64String(b) : v))).OrderBy(x => x, StringComparer.Ordinal));
            var tables = new[] { "day_rollup", SummaryTables.Grain.Day.HistRows, "session_day" };
            Dictionary<string, string> imported;
            using (var c = MadfDatabase.Open(t.Db))
            {
                imported = tables.ToDictionary(x => x, x => Dump(c, x));
                Assert.All(imported.Values, Assert.NotEmpty);
                // A version-10 store: no day summaries yet.
                Store.EventKeysTests.UnpackKeys(c);
                Store.CompactStorageTests.UndoEightDetailsValues(c);
                c.Execute(ErrorSequenceSummaryTests.UndoKeyedSessions + SummaryConsistencyTests.UndoKeyedRollups + "DELETE FROM schema_version WHERE version >= 11; DROP TABLE day_rollup; DROP TABLE day_hist; DROP TABLE session_day; " + ErrorSequenceSummaryTests.DropSequenceTables + BlockDayTests.DropBlockDays);
            }
            using (var c = MadfDatabase.Open(t.Db))
                foreach (var x in tables) Assert.Equal(imported[x], Dump(c, x));
        }
    }
}

namespace MadfLog.Engine.Tests.Query
{
    public class ForecastBacktestTests
    {
        /// <summary>
        /// Stories whose true error rate falls by a fixed factor per story, drawn binomially (seeded): the logit line
        /// should forecast better than "same as the last story", and the interval should cover most held-out stories.
        /// </summary>
        [Fact]
        public void OnATrendTheForecastBeatsTheNaiveOneAndItsIntervalCovers()
        {
            var rnd = new System.Random(11);
            var stories = new List<(long, long)>();
            for (var i = 0; i < 12; i++)
            {
                var p = 0.2 * System.Math.Pow(0.85, i);
                var n = 400 + rnd.Next(400);
                var errors = 0L;
                for (var j = 0; j < n; j++) if (rnd.NextDouble() < p) errors++;
                stories.Add((n, errors));
            }
            var f = StoryForecast.Next(stories)!;
            Assert.Equal(9, f.BacktestStories);
            Assert.True(f.BacktestError < f.NaiveBacktestError, $"model {f.BacktestError} vs naive {f.NaiveBacktestError}");
            var covered = 0;
            for (var k = StoryForecast.MinStories; k < stories.Count; k++)
            {
                var g = StoryForecast.Next(stories.Take(k).ToList())!;
                var actual = (double)stories[k].Item2 / stories[k].Item1;
                if (g.ErrorRateLow <= actual && actual <= g.ErrorRateHigh) covered++;
            }
            Assert.True(covered >= 8, $"{covered} of 9 held-out stories inside the 95% interval");
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Briefing;
using MadfLog.Engine.Store;
using Xunit;
using Xunit.Abstractions;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>Every brief stays within its budget, counted with the real tokenizer, on a large high-cardinality store.</summary>
    public class BriefBudgetTests : IClassFixture<BriefBudgetTests.LargeStore>
    {
        public sealed class LargeStore : IDisposable
        {
            public TempFolder Temp { get; } = TestPaths.NewTemp();
            public string Db => Temp.Db;

            public LargeStore()
            {
                // 10,000 distinct patterns with long messages, 500 agents, 40 stories, 2,000 sessions.
                var rnd = new Random(7);
                using var c = MadfDatabase.Open(Db);
                using var tx = c.BeginTransaction();
                for (var p = 1; p <= 10_000; p++)
                {
                    var words = string.Join(" ", Enumerable.Range(0, 40).Select(i => "word" + (char)('a' + (p + i) % 26) + p));
                    c.Execute("INSERT INTO patterns(id, template, token_count, error_class, created, display, example) VALUES (@p, @t, 40, 'Other', 0, @t, @t)",
                        new { p, t = $"Failure {p}: {words} <*> with a very long explanation that keeps going and going" }, tx);
                }
                var rows = new List<EventRow>();
                var t0 = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);
                for (var i = 0; i < 60_000; i++)
                {
                    var failed = i % 3 == 0;
                    rows.Add(new EventRow
                    {
                        Timestamp = t0.AddMinutes(i * 2).ToUnixTimeMilliseconds(), EventType = i % 50 == 0 ? "human_interaction" : "tool_call",
                        Category = i % 50 == 0 ? new[] { "clarification", "approval", "rejection", "correction" }[i % 4] : "tool",
                        StoryId = $"{1 + i % 8}.{1 + i % 5}", AgentName = "agent-" + (i % 500).ToString("000") + "-with-a-long-descriptive-name",
                        SessionId = "session-" + (i % 2000) + "-" + new string('x', 20), Success = !failed, PatternId = failed ? 1 + rnd.Next(10_000) : (long?)null,
                        DurationMs = rnd.Next(10, 600_000), TokensUsed = rnd.Next(100, 9000), ContextPercent = rnd.Next(0, 100),
                        // Only human interactions carry a message here: tool errors keep the pattern ids given above.
                        Details = i % 50 == 0 ? "{\"message\":\"A long human message number " + i + " " + new string('m', 300) + "\"}" : "{\"tool\":\"Tool" + (i % 300) + "\"}",
                        DedupKey = i + 1,
                    });
                }
                ImportStages.Write(c, tx, rows);
                tx.Commit();
            }

            public void Dispose() => Temp.Dispose();
        }

        private readonly LargeStore _store;
        private readonly ITestOutputHelper _out;
        public BriefBudgetTests(LargeStore store, ITestOutputHelper output) { _store = store; _out = output; }

        private void Fits(string name, string brief, int budget)
        {
            var tokens = TokenCounter.Count(brief);
            _out.WriteLine($"{name}: {tokens}/{budget} tokens");
            Assert.True(tokens <= budget, $"{name} brief has {tokens} tokens, budget {budget}:\n{brief}");
            Assert.True(tokens >= budget / 4, $"{name} brief uses only {tokens} of {budget} tokens: too little to be useful:\n{brief}");
            Assert.Matches(@"\d", brief);
        }

        [Fact]
        public void EveryBriefFitsItsBudgetOnAHighCardinalityStore()
        {
            using var c = MadfDatabase.Open(_store.Db, forWrite: false);
            var f = new QueryFilter();
            Assert.InRange(c.ExecuteScalar<long>("SELECT count(DISTINCT pattern_id) FROM events WHERE pattern_id IS NOT NULL"), 8_000, 10_000);
            var errors = Analysis.ErrorSummary(c, f, 100_000);
            var summary = Briefs.ErrorSummary(errors, Analysis.CountErrors(c, f), Analysis.CountEvents(c, f), f);
            Fits("error summary", summary, Briefs.ErrorSummaryBudget);
            Assert.Matches(@"…and \d+ more patterns", summary);
            Fits("agent performance", Briefs.AgentPerformance(Analysis.AgentPerformance(c, f)), Briefs.AgentPerformanceBudget);
            Fits("bottlenecks", Briefs.Bottlenecks(Analysis.Bottlenecks(c, f, 1000)), Briefs.BottleneckBudget);
            Fits("compare", Briefs.Compare(Analysis.CompareStories(c, "1.1", "2.2", f, 1000)), Briefs.CompareBudget);
            Fits("trend", Briefs.Trend(Analysis.Trend(c, f)), Briefs.TrendBudget);
            Fits("human", Briefs.HumanInteractions(Analysis.HumanInteractions(c, f)), Briefs.HumanBudget);
            Fits("tool failures", Briefs.ToolFailures(Analysis.ToolFailures(c, f)), Briefs.ToolFailureBudget);
            Fits("sessions", Briefs.Sessions(Analysis.Sessions(c, f)), Briefs.SessionBudget);
            var (above, below, n) = Analysis.ContextEffect(c, f);
            Fits("context", Briefs.ContextPressure(Analysis.ContextPressure(c, f), above, below, n), Briefs.ContextBudget);
            Fits("error patterns", MoreBriefs.ErrorPatterns(PatternAnalysis.ErrorPatterns(c, f, 200), Analysis.CountErrors(c, f)), Briefs.ErrorPatternBudget);
            Fits("storage", MoreBriefs.Storage(MadfLog.Engine.Lifecycle.StorageReport.Get(_store.Db)), Briefs.StorageBudget);
            Fits("health", MoreBriefs.Health(MadfLog.Engine.Insights.Health.Check(_store.Db, DateTimeOffset.UtcNow)), Briefs.HealthBudget);
        }

        [Fact]
        public void RuleEffectivenessBriefFitsWithManyRules()
        {
            using var t = TestPaths.NewTemp();
            var effects = Enumerable.Range(1, 2000).Select(i => new MadfLog.Engine.Rules.RuleEffect
            {
                RuleId = i, PatternId = i, Rule = "Check that the path exists before reading or editing it, and " + new string('x', 200),
                CallsBefore = 1000, HitsBefore = i % 50, CallsAfter = 1000, HitsAfter = i % 30, PValue = 0.01 * (i % 100), Verdict = (MadfLog.Engine.Rules.EffectVerdict)(i % 4),
            }).ToList();
            var brief = MoreBriefs.RuleEffectiveness(effects);
            Assert.True(TokenCounter.Count(brief) <= Briefs.RuleEffectivenessBudget);
            Assert.Matches(@"…and \d+ more rules", brief);
        }

        [Fact]
        public void OneHugeLineIsCutToFit()
        {
            var b = new BriefBuilder(50).Line(new string('x', 20_000) + " tail").Items(new[] { "a", "b" }, s => s, "items").Build();
            Assert.True(TokenCounter.Count(b) <= 50);
        }
    }
}

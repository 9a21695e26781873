using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using MadfLog.Engine.Query;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Briefing
{
    /// <summary>
    /// The -Brief text of each question: numbers first, written for an agent, within the question's token budget
    /// (counted with o200k_base, with a 10% safety margin). Log text is redacted.
    /// </summary>
    public static class Briefs
    {
        public const int ErrorSummaryBudget = 200, AgentPerformanceBudget = 300, BottleneckBudget = 100, CompareBudget = 400,
            TrendBudget = 300, HumanBudget = 200, ToolFailureBudget = 200, SessionBudget = 200, ContextBudget = 200,
            ErrorPatternBudget = 300, RuleEffectivenessBudget = 300, StorageBudget = 100, HealthBudget = 100, ErrorSequenceBudget = 200;

        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
        private static string P(double v) => Percent.Brief(v);
        private static string Ms(double ms) => ms >= 3_600_000 ? (ms / 3_600_000).ToString("0.#", Inv) + "h" : ms >= 60_000 ? (ms / 60_000).ToString("0.#", Inv) + "m" : ms >= 1000 ? (ms / 1000).ToString("0.#", Inv) + "s" : ms.ToString("0", Inv) + "ms";
        private static string N(double v) => v >= 1_000_000 ? (v / 1_000_000).ToString("0.#", Inv) + "M" : v >= 10_000 ? (v / 1000).ToString("0", Inv) + "k" : v.ToString("0", Inv);
        private static string Safe(string? s) => SafeText.Redact(s) ?? "";
        private static string Few(string[] items, int n = 3) => items.Length <= n ? string.Join(",", items) : string.Join(",", items.Take(n)) + $"+{items.Length - n}";

        public static string ErrorSummary(IReadOnlyList<ErrorSummaryItem> items, long totalErrors, long totalEvents, QueryFilter f) =>
            new BriefBuilder(ErrorSummaryBudget)
                .Line($"Errors ({f.Describe()}): {totalErrors} in {totalEvents} events ({P(totalEvents > 0 ? (double)totalErrors / totalEvents : 0)}). Top patterns by share:")
                .Items(items, i => $"{P(i.Share)} ({i.Count}) {i.ErrorClass}: {Safe(i.Template)} [{Few(i.Agents)}]", "patterns", maxLineChars: 120)
                .Build();

        public static string AgentPerformance(IReadOnlyList<AgentPerformance> items) =>
            new BriefBuilder(AgentPerformanceBudget)
                .Line($"Agents: events, success, median/p95 duration, tokens, >{Domain.HighContext.Percent}% context share, time wasted")
                .Items(items, a => $"{Safe(a.Agent)}: {a.Events} ev, {P(a.SuccessRate)} ok, {Ms(a.MedianDurationMs)}/{Ms(a.P95DurationMs)}, {N(a.Tokens)} tok, ctx>{Domain.HighContext.Percent} {P(a.ContextPressure)}, wasted {Ms(a.TimeWastedMs)}", "agents", maxLineChars: 120)
                .Build();

        public static string Bottlenecks(IReadOnlyList<Bottleneck> items) =>
            new BriefBuilder(BottleneckBudget)
                .Line("Where time goes (share, p95, wasted, outliers >3x median):")
                .Items(items, b => $"{b.Kind}:{Safe(b.Name)} {P(b.ShareOfTime)}, p95 {Ms(b.P95Ms)}, wasted {Ms(b.TimeWastedMs)}, {b.Outliers} slow", "steps", maxItems: 4, maxLineChars: 80)
                .Build();

        public static string Compare(StoryComparison c)
        {
            string M(StoryMetrics m) => $"{m.Events} ev, errors {P(m.ErrorRate)}, repeated {P(m.RepeatedErrorRate)} ({m.RepeatedErrors}), {N(m.TokensPerEvent)} tok/ev, {m.HumanInteractions} human";
            var b = new BriefBuilder(CompareBudget)
                .Line(c.Headline)
                .Line($"{c.Reference.Story}: {M(c.Reference)}")
                .Line($"{c.Difference.Story}: {M(c.Difference)}");
            if (c.AgentsAdded.Length + c.AgentsRemoved.Length > 0)
                b.Line($"Agents added: {Few(c.AgentsAdded, 5)}; removed: {Few(c.AgentsRemoved, 5)}");
            b.Line(c.PatternsGained.Length == 0 ? "Patterns gained: none" : "Patterns gained:").Items(c.PatternsGained, g => $"+{g.DifferenceCount} {Safe(g.Template)}", "gained", maxItems: 5, maxLineChars: 110);
            b.Line(c.PatternsLost.Length == 0 ? "Patterns lost: none" : "Patterns lost:").Items(c.PatternsLost, g => $"-{g.ReferenceCount} {Safe(g.Template)}", "lost", maxItems: 5, maxLineChars: 110);
            return b.Build();
        }

        public static string Trend(IReadOnlyList<TrendPoint> points)
        {
            var stories = points.Where(p => p.Kind == "Story").ToList();
            var weeks = points.Where(p => p.Kind == "Week").ToList();
            var forecast = points.FirstOrDefault(p => p.Kind == "Forecast");
            var b = new BriefBuilder(TrendBudget);
            b.Line(StoryForecast.Text(forecast, stories.Count) + ".");
            b.Line("Per story: error rate, repeated, tok/ev, human");
            // The latest stories matter most: newest first.
            b.Items(stories.AsEnumerable().Reverse().ToList(), s => $"{Safe(s.Period)}: {P(s.ErrorRate)}, {P(s.RepeatedErrorRate)}, {N(s.TokensPerEvent)}, {s.HumanInteractions}", "earlier stories", maxLineChars: 60);
            b.Line("Per week:");
            b.Items(weeks.AsEnumerable().Reverse().ToList(), w => $"{w.Period}: {P(w.ErrorRate)}, {P(w.RepeatedErrorRate)}, {N(w.TokensPerEvent)}, {w.HumanInteractions}", "earlier weeks", maxLineChars: 60);
            return b.Build();
        }

        public static string HumanInteractions(IReadOnlyList<HumanInteractionSummary> items)
        {
            var byCategory = items.GroupBy(i => i.Category).Select(g => $"{g.Key} {g.Sum(x => x.Count)}");
            return new BriefBuilder(HumanBudget)
                .Line($"Human interactions: {items.Sum(i => i.Count)} ({string.Join(", ", byCategory)}). By agent/story:")
                .Items(items, i => $"{i.Category} {i.Count} {Safe(i.Agent)}{(string.IsNullOrEmpty(i.Story) ? "" : "/" + Safe(i.Story))}: {Safe(string.Join("; ", i.Topics))}", "groups", maxLineChars: 130)
                .Build();
        }

        public static string ToolFailures(IReadOnlyList<ToolFailure> items) =>
            new BriefBuilder(ToolFailureBudget)
                .Line($"Tool failures: {items.Sum(t => t.Failures)} of {items.Sum(t => t.Calls)} calls. By tool/agent:")
                .Items(items.Where(t => t.Failures > 0).ToList(), t => $"{Safe(t.Tool)}/{Safe(t.Agent)}: {P(t.FailureRate)} ({t.Failures}/{t.Calls}){(t.TopError != null ? " top: " + Safe(t.TopError) : "")}", "tool/agent pairs", maxLineChars: 120)
                .Build();

        public static string Sessions(IReadOnlyList<SessionSummary> items) =>
            new BriefBuilder(SessionBudget)
                .Line($"Sessions: {items.Count}, {items.Sum(s => s.Events)} events, {items.Sum(s => s.Errors)} errors. Most errors first:")
                .Items(items.OrderByDescending(s => s.Errors).ThenByDescending(s => s.Events).ToList(),
                    s => $"{Safe(s.SessionId)}{(string.IsNullOrEmpty(s.Story) ? "" : " story " + Safe(s.Story))} agents {Few(s.Agents)}: {s.Events} ev, {s.Errors} err, {Ms(s.DurationMs)}, {N(s.Tokens)} tok, ctx max {(s.MaxContextPercent ?? 0).ToString("0", Inv)}%", "sessions", maxLineChars: 130)
                .Build();

        public static string ContextPressure(IReadOnlyList<ContextPressure> items, double above, double below, long aboveEvents) =>
            new BriefBuilder(ContextBudget)
                .Line($"Above {Domain.HighContext.Percent}% context: {aboveEvents} events, error rate {P(above)} vs {P(below)} below. Sessions near the limit:")
                .Items(items, c => $"{Safe(c.SessionId)} {Safe(c.Agent)}: max {c.MaxContextPercent.ToString("0", Inv)}%, {c.EventsAbove80} ev >{Domain.HighContext.Percent}, errors {P(c.ErrorRateAbove80)} vs {P(c.ErrorRateBelow80)}", "sessions", maxLineChars: 110)
                .Build();
    }
}

namespace MadfLog.Engine.Briefing
{
    /// <summary>Briefs of the pattern, rule, storage and health questions.</summary>
    public static class MoreBriefs
    {
        private static readonly System.Globalization.CultureInfo Inv = System.Globalization.CultureInfo.InvariantCulture;
        private static string P(double v) => MadfLog.Engine.Text.Percent.Brief(v);

        // " | stories 1.1:3,1.2:4", the stories named only: errors without a story (Claude Code transcripts) add nothing to read.
        private static string Stories(Dictionary<string, long> byStory)
        {
            var named = byStory.Where(kv => kv.Key.Length > 0).Select(kv => kv.Key + ":" + kv.Value).ToList();
            return named.Count == 0 ? "" : " | stories " + string.Join(",", named);
        }
        private static string Safe(string? s) => MadfLog.Engine.Text.SafeText.Redact(s) ?? "";

        public static string ErrorPatterns(System.Collections.Generic.IReadOnlyList<ErrorPattern> items, long totalErrors) =>
            new BriefBuilder(Briefs.ErrorPatternBudget)
                .Line($"Error patterns ({totalErrors} errors): share, count, class, stories, top agents")
                .Items(items, p => $"P{p.PatternId} {P(p.Share)} ({p.Count}) {p.ErrorClass}: {Safe(p.Template)}{Stories(p.ByStory)} | {string.Join(",", System.Linq.Enumerable.Take(System.Linq.Enumerable.Select(p.ByAgent, kv => kv.Key + ":" + kv.Value), 3))}", "patterns", maxLineChars: 170)
                .Build();

        public static string ErrorSequences(System.Collections.Generic.IReadOnlyList<ErrorSequence> items) =>
            new BriefBuilder(Briefs.ErrorSequenceBudget)
                .Line("Error sequences, the most frequent of each kind in turn (retry: one error again and again in a session; leads: the three steps before an error):")
                .Items(items, s => $"{(s.Kind == "RetryLoop" ? "retry" : "leads")} {s.Occurrences}x in {s.Sessions} session{(s.Sessions == 1 ? "" : "s")}{(s.Kind == "RetryLoop" ? $", max {s.LongestRun} in a row" : "")}: {Safe(s.Sequence)}", "sequences", maxLineChars: 150)
                .Build();

        public static string RuleEffectiveness(System.Collections.Generic.IReadOnlyList<Rules.RuleEffect> items) =>
            items.Count == 0
                // A legend over an empty list reads as if the rules were left out.
                ? "No active rules to measure: a rule is measured once it is approved (Get-MadfRule -Status Proposed | Approve-MadfRule)."
                : new BriefBuilder(Briefs.RuleEffectivenessBudget)
                .Line($"Active rules: {items.Count}; effective {Count(items, Rules.EffectVerdict.Effective)}, no clear change {Count(items, Rules.EffectVerdict.NoClearChange)}, worse {Count(items, Rules.EffectVerdict.Worse)}, too early {Count(items, Rules.EffectVerdict.TooEarly)}, no control {Count(items, Rules.EffectVerdict.NoControl)}. Per rule: per 1k calls before→after (the week that proposed it left out); vs control = change relative to the other errors (95% CI):")
                .Items(items, e => $"R{e.RuleId} {e.VerdictText}{(e.Verdict == Rules.EffectVerdict.TooEarly ? " (" + e.Reason + ")" : "")}{(e.RecommendRetirement ? " retire?" : "")}: {e.RateBeforePer1000.ToString("0.##", Inv)}→{e.RateAfterPer1000.ToString("0.##", Inv)} {e.Step}; {(e.HasControl ? "vs control" : "no control")} {e.RelativeChangeText} {Safe(e.Rule)}", "rules", maxLineChars: 170)
                .Build();

        private static int Count(System.Collections.Generic.IReadOnlyList<Rules.RuleEffect> items, Rules.EffectVerdict v) => System.Linq.Enumerable.Count(items, e => e.Verdict == v);

        public static string Storage(Lifecycle.StorageReport s) =>
            new BriefBuilder(Briefs.StorageBudget)
                .Line($"Active DB {(s.ActiveBytes / 1048576.0).ToString("0.0", Inv)} of {s.MaxActiveMB} MB{(s.OverBudget ? " (OVER BUDGET)" : "")}, {s.ActiveEvents} events, {s.BytesPerEvent.ToString("0", Inv)} B/event; archives {((s.ArchiveDatabaseBytes + s.ArchiveLogBytes) / 1048576.0).ToString("0.0", Inv)} MB, {s.ArchivedEvents} events{(s.CombinedCacheBytes > 0 ? $" (+{(s.CombinedCacheBytes / 1048576.0).ToString("0.0", Inv)} MB -IncludeArchive cache)" : "")}; logs {(s.LogFolderBytes / 1048576.0).ToString("0.0", Inv)} MB.")
                .Items(s.Periods, p => $"{p.Period}: {p.ActiveEvents} active, {p.ArchivedEvents} archived", "months")
                .Build();

        public static string Health(Insights.HealthReport h) =>
            new BriefBuilder(Briefs.HealthBudget)
                .Line($"Health {h.Status}.")
                .Items(System.Linq.Enumerable.ToList(System.Linq.Enumerable.OrderByDescending(h.Checks, c => c.Status)), c => $"{c.Status} {c.Name}: {c.Message}", "checks", maxLineChars: 110)
                .Build();
    }
}

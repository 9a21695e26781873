using System;
using MadfLog.Engine.Domain;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Rules
{
    /// <summary>What the comparison with the control says about a rule.</summary>
    public enum EffectVerdict { TooEarly, Effective, NoClearChange, Worse, NoControl }

    /// <summary>
    /// Did a rule work? Its pattern's rate per 1,000 calls of the same tool (or step) before and after the rule took
    /// effect, against the change over the same windows of every other error (the control). The week whose errors
    /// proposed the rule is in neither window.
    /// </summary>
    public sealed class RuleEffect
    {
        public long RuleId { get; set; }
        public long PatternId { get; set; }
        public string Rule { get; set; } = "";
        /// <summary>When the rule took effect (Approve-MadfRule, or -EffectiveFrom).</summary>
        public DateTime Activated { get; set; }
        /// <summary>
        /// The tool or step whose calls are the denominator ("tool:Bash", "step:review"), or "all events" when the
        /// pattern has none, or when most of its step's calls are its own errors (a tool logged only when it fails).
        /// </summary>
        public string Step { get; set; } = "";
        /// <summary>Where the before window starts, and now (the after window's end).</summary>
        public DateTime WindowStart { get; set; }
        public DateTime WindowEnd { get; set; }
        /// <summary>
        /// The revision window whose errors proposed the rule (its evidence), left out of both windows: the pattern was
        /// chosen because it was high there, so it would fall after it by chance alone.
        /// </summary>
        public DateTime EvidenceStart { get; set; }
        public DateTime EvidenceEnd { get; set; }
        /// <summary>Calls of the step in the window before and after the rule took effect.</summary>
        public long CallsBefore { get; set; }
        public long HitsBefore { get; set; }
        public long CallsAfter { get; set; }
        public long HitsAfter { get; set; }
        public double RateBeforePer1000 => Per1000(HitsBefore, CallsBefore);
        public double RateAfterPer1000 => Per1000(HitsAfter, CallsAfter);
        /// <summary>The control: every other error, per 1,000 events, over the same two windows (see RuleEffectiveness).</summary>
        public string Control { get; set; } = "";
        public long ControlEventsBefore { get; set; }
        public long ControlErrorsBefore { get; set; }
        public long ControlEventsAfter { get; set; }
        public long ControlErrorsAfter { get; set; }
        public double ControlRateBeforePer1000 => Per1000(ControlErrorsBefore, ControlEventsBefore);
        public double ControlRateAfterPer1000 => Per1000(ControlErrorsAfter, ControlEventsAfter);
        /// <summary>True when there were enough other errors to compare with; otherwise the ratio is the rule's own before/after.</summary>
        public bool HasControl { get; set; }
        /// <summary>
        /// Difference-in-differences on the log scale: (rule's after/before rate) ÷ (control's after/before rate).
        /// 1 = the pattern changed as much as every other error; 0.4 = it fell to 40 % of what the control predicts.
        /// </summary>
        public double RelativeChange { get; set; }
        /// <summary>95 % confidence interval of RelativeChange.</summary>
        public double RelativeChangeLow { get; set; }
        public double RelativeChangeHigh { get; set; }
        /// <summary>RelativeChange with its interval as the reports write it ("×0.24 (0.13-0.43)"), or "–" with no calls in a window.</summary>
        public string RelativeChangeText => CallsBefore == 0 || CallsAfter == 0
            ? "–"
            : string.Format(System.Globalization.CultureInfo.InvariantCulture, "×{0:0.00} ({1:0.00}-{2:0.00})", RelativeChange, RelativeChangeLow, RelativeChangeHigh);
        /// <summary>
        /// How much the pattern's rate relative to the control moves from week to week anyway, beyond its counts' noise
        /// (the standard deviation of a week's log ratio; 0.1: about ±10 %), taken into the interval: the larger of the
        /// pattern's own, from its weeks before the rule, and the store's patterns' typical one (see <see cref="WeekToWeekFrom"/>).
        /// </summary>
        public double WeekToWeek { get; set; }
        /// <summary>Whose week-to-week movement that is ("its own 3 weeks", "21 patterns' weeks").</summary>
        public string WeekToWeekFrom { get; set; } = "";
        /// <summary>WeekToWeek as the reports write it beside the interval ("wander ±12 % a week (its own 3 weeks)"), or "" with none.</summary>
        public string WeekToWeekText => WeekToWeek > 0
            ? string.Format(System.Globalization.CultureInfo.InvariantCulture, "wander ±{0:0} % a week ({1})", WeekToWeek * 100, WeekToWeekFrom)
            : "";
        /// <summary>Two-sided p-value of RelativeChange = 1.</summary>
        public double PValue { get; set; }
        /// <summary>Share of the pattern's occurrences that repeat it within the same session, before and after.</summary>
        public double RepeatedBefore { get; set; }
        public double RepeatedAfter { get; set; }
        public EffectVerdict Verdict { get; set; }
        /// <summary>The verdict as the reports write it: Effective, No clear change, Worse, Too early, No control.</summary>
        public string VerdictText => RuleEffectiveness.Text(Verdict);
        /// <summary>Why a rule is Too early or has No control ("no events before the week that proposed it"); empty otherwise.</summary>
        public string Reason { get; set; } = "";
        /// <summary>The verdict with its reason, as the reports write it ("Too early: fewer than 200 calls since it took effect").</summary>
        public string VerdictWithReason => Reason.Length == 0 ? VerdictText : VerdictText + ": " + Reason;
        /// <summary>
        /// Whether the pattern's rate measurably fell since the rule took effect: Effective, or with no control, its own
        /// interval below 1 (a fall that may not be the rule's, but is no sign of a rule not followed).
        /// </summary>
        public bool Fell => Verdict == EffectVerdict.Effective || (Verdict == EffectVerdict.NoControl && RelativeChangeHigh < 1);
        /// <summary>No clear change after enough data: a candidate for Deny-MadfRule (retirement).</summary>
        public bool RecommendRetirement { get; set; }

        private static double Per1000(long hits, long n) => n > 0 ? Math.Round(1000.0 * hits / n, 2) : 0;
    }

    /// <summary>
    /// validate_rule_effectiveness. For each active rule: windows before and after the rule took effect, both without
    /// the rule's evidence window (the revision window it was proposed from: the pattern was chosen because it was high
    /// there, and would fall after it by chance alone; before: whole weeks, as many as the time since, 1 to 4, taken back
    /// from the activation past the evidence window). The pattern's hits per call of its tool or step in each
    /// window, against the same windows' errors of every other pattern per event (the control): ruled ones too, as the
    /// errors that were not proposed for a rule are not like the ones that were (fewer, more specific, falling or rising
    /// on their own). Effective is read only against it; other rules that worked make that harder, never easier. A rule
    /// that is not Effective there is measured again without the patterns of the rules that took effect inside its
    /// windows and read Effective (their fall would make it read Worse); that second look does not make it Effective.
    /// The effect is the ratio of the two rate ratios with a 95 % interval on the log scale; each count's variance is
    /// from its sessions (errors repeat within a session: retries, one agent stuck), never below the Poisson variance;
    /// to it is added how far the pattern's ratio to the control wanders between the two windows anyway (WeekToWeek).
    /// Too early: fewer than 200 calls after, fewer than 10 hits in all, or no hits or no events before (a rule from a
    /// store's first week has no clean before window). No control: fewer than 10 other errors in either window; the
    /// rule's own change is reported, but it is no verdict: a change in all errors (another model, another kind of
    /// work) looks the same. After 1,000 calls and 14 days a rule is recommended for retirement when it made things worse,
    /// or when its change is not clear and its interval rules out a fall of a fifth or more (WorthwhileChange).
    /// </summary>
    public static class RuleEffectiveness
    {
        public const int MinCallsAfter = 200, MinHits = 10, MinControlErrors = 10, RetireAfterCalls = 1000, RetireAfterDays = 14;

        /// <summary>
        /// A rule earns its line in CLAUDE.md when it cuts its errors by a fifth or more (relative to the control). "No
        /// clear change" also means "cannot tell yet" while the interval is wide: retirement is recommended only once the
        /// interval rules a worthwhile fall out (its low end at or above this), or when the rule made things worse.
        /// </summary>
        public const double WorthwhileChange = 0.8;

        /// <summary>Whether a rule measured long enough (RetireAfterCalls, RetireAfterDays) should be retired.</summary>
        public static bool ShouldRetire(EffectVerdict verdict, double relativeChangeLow) =>
            verdict == EffectVerdict.Worse || (verdict == EffectVerdict.NoClearChange && relativeChangeLow >= WorthwhileChange);

        /// <summary>The weeks before a rule read for how much a pattern moves from week to week (a quarter).</summary>
        public const int HistoryWeeks = 12;
        private const long WeekMs = 7 * IsoWeeks.DayMs;
        private const double Z95 = 1.959964;
        /// <summary>The window a revision reads when a rule's evidence has none (-Since's default: 7 days before it ran).</summary>
        private const long DefaultEvidenceMs = 7 * IsoWeeks.DayMs;

        public static string Text(EffectVerdict v) => v switch
        {
            EffectVerdict.Effective => "Effective",
            EffectVerdict.NoClearChange => "No clear change",
            EffectVerdict.Worse => "Worse",
            EffectVerdict.NoControl => "No control",
            _ => "Too early",
        };

        public static List<RuleEffect> Evaluate(SqliteConnection c, DateTimeOffset now)
        {
            var nowMs = now.ToUnixTimeMilliseconds();
            var range = c.QueryFirst<(long? first, long? last)>("SELECT min(min_ts), max(max_ts) FROM event_blocks");
            var events = new Span(range.first ?? nowMs, (range.last ?? nowMs) + 1);
            var denominators = Denominators.Of(c);
            var plans = RuleStore.List(c, RuleStatus.Active).Select(r => Plan.Of(r, nowMs, events, denominators)).ToList();
            var counts = new WindowCounts(c);
            var spreads = new WeekToWeek(counts, plans, denominators, events);
            foreach (var p in plans) (p.WeekToWeek, p.WeekToWeekFrom) = spreads.Of(p);
            var first = plans.Select(p => Measure(counts, p, Array.Empty<long>(), nowMs)).ToList();
            var worked = plans.Where((p, i) => first[i].Verdict == EffectVerdict.Effective).ToList();
            return plans.Select((p, i) =>
            {
                // Effective only against every other error: other rules' falls there make it harder, never easier.
                var leftOut = worked.Where(w => w.PatternId != p.PatternId && w.ActivatedMs > p.Before.Min(s => s.From)).Select(w => w.PatternId).ToArray();
                if (first[i].Verdict == EffectVerdict.Effective || leftOut.Length == 0) return first[i];
                // Measured again without the patterns of rules that worked meanwhile, so their fall cannot make this one
                // read Worse; a second look does not make it Effective.
                var again = Measure(counts, p, leftOut, nowMs);
                if (again.Verdict == EffectVerdict.Effective)
                {
                    again.Verdict = EffectVerdict.NoClearChange;
                    again.Reason = "below 1 only without the patterns of rules that worked meanwhile";
                    again.RecommendRetirement = false;
                }
                return again;
            }).ToList();
        }

        private static RuleEffect Measure(WindowCounts counts, Plan p, long[] leftOut, long nowMs)
        {
            var rule = p.Rule;
            var e = new RuleEffect
            {
                RuleId = rule.Id, PatternId = rule.PatternId, Rule = rule.Text, Activated = rule.Activated!.Value,
                WindowStart = Time(p.Before.Min(s => s.From)), WindowEnd = Time(nowMs),
                EvidenceStart = Time(p.EvidenceFrom), EvidenceEnd = Time(p.EvidenceTo),
                Step = p.Step == null ? (p.StepIsOwnErrors == null ? "all events" : $"all events ({p.StepIsOwnErrors}: its calls are mostly this error)") : p.Step.Value.kind + ":" + p.Step.Value.name,
            };
            var before = counts.Sessions(p.Before, p.PatternId, p.Step, leftOut);
            var after = counts.Sessions(p.After, p.PatternId, p.Step, leftOut);
            (e.HitsBefore, e.CallsBefore, e.ControlErrorsBefore, e.ControlEventsBefore, e.RepeatedBefore) = before.Totals();
            (e.HitsAfter, e.CallsAfter, e.ControlErrorsAfter, e.ControlEventsAfter, e.RepeatedAfter) = after.Totals();
            e.HasControl = e.ControlErrorsBefore >= MinControlErrors && e.ControlErrorsAfter >= MinControlErrors;
            // Named only where it cut into the windows (not for a rule whose stored evidence lies before them).
            var evidence = p.EvidenceTo > p.Before.Min(s => s.From) ? $" (the week that proposed it, {Day(p.EvidenceFrom)} to {Day(p.EvidenceTo)}, left out)" : "";
            e.Control = e.HasControl
                ? $"every other error{(leftOut.Length > 0 ? $" but those of {leftOut.Length} rule{(leftOut.Length == 1 ? "" : "s")} that worked meanwhile" : "")}: {e.ControlRateBeforePer1000:0.##} → {e.ControlRateAfterPer1000:0.##} per 1,000 events{evidence}"
                : $"none (fewer than {MinControlErrors} other errors in a window): the rule's own change";
            e.WeekToWeek = Math.Round(Math.Sqrt(p.WeekToWeek), 3);
            e.WeekToWeekFrom = p.WeekToWeekFrom;
            // How far the ratio wanders between the two windows anyway adds to the variance of the counts.
            Compare(e, before.Variances(), after.Variances(), p.WeekToWeek * WeekToWeek.Apart(p.Before, p.After, p.Events));
            e.Reason = e.CallsBefore == 0 ? (evidence.Length > 0 ? $"no events before the week that proposed it ({Day(p.EvidenceFrom)} to {Day(p.EvidenceTo)})" : "no events before it took effect")
                : e.CallsAfter < MinCallsAfter ? $"fewer than {MinCallsAfter} calls since it took effect"
                : e.HitsBefore == 0 ? "no occurrence before it took effect" + (evidence.Length > 0 ? " outside the week that proposed it" : "")
                : e.HitsBefore + e.HitsAfter < MinHits ? $"fewer than {MinHits} occurrences in both windows"
                : "";
            if (e.Reason.Length > 0) e.Verdict = EffectVerdict.TooEarly;
            // No other error to compare with: a fall (or rise) of this one cannot be told from one of all errors.
            else if (!e.HasControl) { e.Verdict = EffectVerdict.NoControl; e.Reason = $"fewer than {MinControlErrors} other errors in a window"; }
            else if (e.RelativeChangeHigh < 1) e.Verdict = EffectVerdict.Effective;
            else if (e.RelativeChangeLow > 1) e.Verdict = EffectVerdict.Worse;
            else e.Verdict = EffectVerdict.NoClearChange;
            var measuredLongEnough = e.CallsAfter >= RetireAfterCalls && nowMs - p.ActivatedMs >= RetireAfterDays * IsoWeeks.DayMs;
            e.RecommendRetirement = measuredLongEnough && ShouldRetire(e.Verdict, e.RelativeChangeLow);
            if (measuredLongEnough && e.Verdict == EffectVerdict.NoClearChange && !e.RecommendRetirement)
                e.Reason = $"a fall of a fifth or more is not ruled out yet: the interval reaches ×{e.RelativeChangeLow.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)}";
            return e;
        }

        /// <summary>
        /// The ratio of rate ratios with its 95 % interval and p-value (log scale). The variances of the log counts
        /// (hits before and after, control errors before and after) are given; without them, Poisson (1/count).
        /// </summary>
        public static void Compare(RuleEffect e, (double hits, double control)? before = null, (double hits, double control)? after = null, double weekToWeek = 0)
        {
            static double Cell(long n) => n == 0 ? 0.5 : n;
            if (e.CallsBefore == 0 || e.CallsAfter == 0)
            {
                e.RelativeChange = 1; e.RelativeChangeLow = 0; e.RelativeChangeHigh = double.PositiveInfinity; e.PValue = 1;
                return;
            }
            var log = Math.Log(Cell(e.HitsAfter) / e.CallsAfter) - Math.Log(Cell(e.HitsBefore) / e.CallsBefore);
            var variance = (after?.hits ?? 1 / Cell(e.HitsAfter)) + (before?.hits ?? 1 / Cell(e.HitsBefore));
            if (e.HasControl)
            {
                log -= Math.Log((double)e.ControlErrorsAfter / e.ControlEventsAfter) - Math.Log((double)e.ControlErrorsBefore / e.ControlEventsBefore);
                variance += (after?.control ?? 1.0 / e.ControlErrorsAfter) + (before?.control ?? 1.0 / e.ControlErrorsBefore) + weekToWeek;
            }
            var se = Math.Sqrt(variance);
            e.RelativeChange = Math.Round(Math.Exp(log), 3);
            e.RelativeChangeLow = Math.Round(Math.Exp(log - Z95 * se), 3);
            e.RelativeChangeHigh = Math.Round(Math.Exp(log + Z95 * se), 3);
            e.PValue = Math.Round(2 * (1 - Stats.NormalCdf(Math.Abs(log) / se)), 4);
        }

        /// <summary>A span of time [From, To) in Unix milliseconds.</summary>
        private readonly struct Span
        {
            public readonly long From, To;
            public Span(long from, long to) { From = from; To = to; }
            public long Length => To - From;
            /// <summary>How much of this span lies within another.</summary>
            public long Within(Span s) => Math.Max(0, Math.Min(To, s.To) - Math.Max(From, s.From));
        }

        /// <summary>One rule's windows and denominator, before anything is counted.</summary>
        private sealed class Plan
        {
            public Rule Rule = null!;
            public long PatternId, ActivatedMs, EvidenceFrom, EvidenceTo;
            public (string kind, string name)? Step;
            /// <summary>The step left for all events because its calls are mostly this pattern's errors ("tool:llm").</summary>
            public string? StepIsOwnErrors;
            public List<Span> Before = new List<Span>(), After = new List<Span>();
            /// <summary>
            /// The weeks before the rule took effect, newest first, each 7 days back from the next without the evidence
            /// window (one or two spans), for at most <see cref="HistoryWeeks"/>, down to the store's first event; the
            /// before window is the first of them.
            /// </summary>
            public List<List<Span>> Weeks = new List<List<Span>>();
            /// <summary>The weeks after it took effect, oldest first, up to the store's last event or now (the after window's first weeks).</summary>
            public List<List<Span>> Later = new List<List<Span>>();
            /// <summary>From the store's first event to its last.</summary>
            public Span Events;
            /// <summary>The variance per week of the log ratio's wander (see <see cref="WeekToWeek"/>), and whose it is.</summary>
            public double WeekToWeek;
            public string WeekToWeekFrom = "";

            public static Plan Of(Rule rule, long nowMs, Span events, Denominators denominators)
            {
                var activated = new DateTimeOffset(rule.Activated!.Value, TimeSpan.Zero).ToUnixTimeMilliseconds();
                // Every revision stores its window; a rule without one (written by hand) gets the default week before it was made.
                var created = new DateTimeOffset(rule.Created, TimeSpan.Zero).ToUnixTimeMilliseconds();
                var known = rule.Evidence.WindowEnd > rule.Evidence.WindowStart;
                var evidence = known
                    ? new Span(Ms(rule.Evidence.WindowStart), Ms(rule.Evidence.WindowEnd))
                    : new Span(created - DefaultEvidenceMs, created);
                var p = new Plan { Rule = rule, PatternId = rule.PatternId, ActivatedMs = activated, EvidenceFrom = evidence.From, EvidenceTo = evidence.To };
                // After: its weeks (the store's patterns' wander reads them too: one read for both), then the rest up to now.
                var until = nowMs + 1;
                for (var from = activated; p.Later.Count < HistoryWeeks && from < Math.Min(events.To, until); from += WeekMs)
                    p.Later.Add(Without(new Span(from, Math.Min(from + WeekMs, until)), evidence).ToList());
                p.After.AddRange(p.Later.SelectMany(w => w));
                var rest = activated + p.Later.Count * WeekMs;
                if (rest < until) p.After.AddRange(Without(new Span(rest, until), evidence));
                // Whole weeks (each weekday as often as the other), as long as the time since, between 1 and 4.
                var weeks = Math.Max(1, Math.Min(4, (int)Math.Ceiling((double)p.After.Sum(s => s.Length) / WeekMs)));
                for (var end = activated; p.Weeks.Count < Math.Max(weeks, HistoryWeeks) && (p.Weeks.Count < weeks || end > events.From);)
                {
                    var week = Back(end, WeekMs, evidence).ToList();
                    p.Weeks.Add(week);
                    end = week.Min(s => s.From);
                }
                p.Before.AddRange(p.Weeks.Take(weeks).SelectMany(w => w));
                p.Events = events;
                (p.Step, p.StepIsOwnErrors) = denominators.Of(rule.PatternId);
                return p;
            }

            /// <summary>A span without another: none, one or two pieces.</summary>
            private static IEnumerable<Span> Without(Span s, Span cut)
            {
                if (cut.To <= s.From || cut.From >= s.To) { yield return s; yield break; }
                if (cut.From > s.From) yield return new Span(s.From, cut.From);
                if (cut.To < s.To) yield return new Span(cut.To, s.To);
            }

            /// <summary>`length` of time back from `end`, skipping the cut (so the window is as long as without it).</summary>
            private static IEnumerable<Span> Back(long end, long length, Span cut)
            {
                if (cut.To <= end - length || cut.From >= end) { yield return new Span(end - length, end); yield break; }
                var left = length;
                if (cut.To < end) { yield return new Span(cut.To, end); left -= end - cut.To; }
                var top = Math.Min(cut.From, end);
                yield return new Span(top - left, top);
            }

            private static long Ms(DateTime t) =>
                new DateTimeOffset(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        }

        /// <summary>
        /// Each pattern's denominator: the tool or step most of its errors happened in (from the import-time summaries), or
        /// none (all events) when they have none, or when most of that step's calls are the pattern's errors: a tool the
        /// logs name only when it fails (an API error logged as a tool call "llm") is no count of the chances to make the
        /// error, and would read 1,000 per 1,000 whatever the rule did. Read for every pattern at once.
        /// </summary>
        private sealed class Denominators
        {
            private readonly Dictionary<long, (string type, string step, long errors)> _top = new Dictionary<long, (string, string, long)>();
            private readonly Dictionary<(string type, string step), long> _calls = new Dictionary<(string, string), long>();

            public static Denominators Of(SqliteConnection c)
            {
                var d = new Denominators();
                foreach (var r in c.Query<(long pattern, string type, string step, long errors)>(
                             $@"SELECT pattern_id, event_type, step, sum(events) FROM event_rollup WHERE {Domain.Errors.InRollup()}
                                GROUP BY pattern_id, event_type, step ORDER BY pattern_id, sum(events) DESC, event_type, step"))
                    if (!d._top.ContainsKey(r.pattern)) d._top[r.pattern] = (r.type, r.step, r.errors);
                foreach (var r in c.Query<(string type, string step, long calls)>(
                             "SELECT event_type, step, sum(events) FROM event_rollup WHERE event_type IN ('tool_call', 'step') GROUP BY event_type, step"))
                    d._calls[(r.type, r.step)] = r.calls;
                return d;
            }

            /// <summary>The pattern's step (null: all events), and the step it is not counted by because its calls are mostly this error.</summary>
            public ((string kind, string name)? step, string? ownErrors) Of(long patternId)
            {
                if (!_top.TryGetValue(patternId, out var top) || (top.type != "tool_call" && top.type != "step")) return (null, null);
                var step = (Domain.Steps.Kind(top.type), Domain.Steps.Name(top.type, top.step));
                _calls.TryGetValue((top.type, top.step), out var all);
                return all - top.errors < top.errors ? (((string, string)?)null, step.Item1 + ":" + step.Item2) : (step, null);
            }
        }

        /// <summary>
        /// How much a pattern's rate relative to the control wanders anyway, beyond what its counts' noise explains. The
        /// log ratio is taken as a random walk (its weeks' differences grow with the time between them: on the realistic
        /// logs their excess variance was 0.004 one week apart, 0.011 two, 0.022 three), with a variance σ² per week: the
        /// difference of two windows' mean ratios then varies by σ² × ∫F², F(t) the share of the later window after t less
        /// that of the earlier (<see cref="Apart"/>: for two adjacent weeks 2/3 of a week, for a week before and after an
        /// evidence week 1 2/3). σ² is read from the weeks' log ratios pairwise (method of moments: each pair's squared
        /// difference less its sampling variances from sessions, over its ∫F², weighted by the inverse square of those
        /// variances), over the weeks before the rule took effect. Its own weeks are few (two, often, on a store of a
        /// month) and their estimate is often 0 by chance, so it is never taken below the store's typical figure: the same
        /// moments pooled over every error pattern's weeks of the store (empirical Bayes: what patterns like it do), each
        /// pattern's weeks after its own rule took effect, or holding the week that proposed it, left out (a rule that
        /// worked, or the week it was chosen for being high, is no wander).
        /// </summary>
        private sealed class WeekToWeek
        {
            private readonly WindowCounts _counts;
            private readonly Denominators _denominators;
            private readonly ILookup<long, Plan> _ruled;
            private readonly Span _events;
            private readonly Dictionary<string, (double variance, int patterns)> _pooled = new Dictionary<string, (double, int)>(StringComparer.Ordinal);
            // Apart of two weeks (the same lists for every pattern).
            private readonly Dictionary<(List<Span>, List<Span>), double> _apart = new Dictionary<(List<Span>, List<Span>), double>();

            public WeekToWeek(WindowCounts counts, List<Plan> plans, Denominators denominators, Span events)
            {
                _counts = counts;
                _denominators = denominators;
                _ruled = plans.ToLookup(p => p.PatternId);
                _events = events;
            }

            /// <summary>The plan's wander per week (variance of the log ratio), and whose it is.</summary>
            public (double variance, string from) Of(Plan p)
            {
                var own = Moments(p.PatternId, p.Step, p.Weeks);
                var ownVariance = own.weight > 0 ? Math.Max(0, own.excess / own.weight) : 0;
                var weeks = p.Weeks.Concat(p.Later).ToList();
                var key = string.Join(";", weeks.SelectMany(w => w).Select(s => s.From + "-" + s.To));
                if (!_pooled.TryGetValue(key, out var pooled)) _pooled[key] = pooled = Pooled(weeks);
                return own.weeks >= 2 && ownVariance >= pooled.variance
                    ? (ownVariance, $"its own {own.weeks} weeks")
                    : (pooled.variance, $"{pooled.patterns} patterns' weeks");
            }

            /// <summary>
            /// ∫F² in weeks for two sets of spans, each clipped to the store's events: the variance of the difference of
            /// their means of a random walk of variance 1 per week. Summed by the hour.
            /// </summary>
            public static double Apart(List<Span> earlier, List<Span> later, Span events)
            {
                const long Hour = 3_600_000;
                var a = earlier.Select(s => new Span(Math.Max(s.From, events.From), Math.Min(s.To, events.To))).Where(s => s.Length > 0).ToList();
                var b = later.Select(s => new Span(Math.Max(s.From, events.From), Math.Min(s.To, events.To))).Where(s => s.Length > 0).ToList();
                if (a.Count == 0 || b.Count == 0) return 0;
                double lengthA = a.Sum(s => s.Length), lengthB = b.Sum(s => s.Length);
                var from = Math.Min(a.Min(s => s.From), b.Min(s => s.From));
                var to = Math.Max(a.Max(s => s.To), b.Max(s => s.To));
                // F from the end back: the later window's share after t less the earlier's.
                double f = 0, sum = 0;
                for (var t = to; t > from; t -= Hour)
                {
                    var cell = new Span(Math.Max(from, t - Hour), t);
                    f += b.Sum(s => s.Within(cell)) / lengthB - a.Sum(s => s.Within(cell)) / lengthA;
                    sum += f * f * cell.Length;
                }
                return sum / WeekMs;
            }

            /// <summary>
            /// The moments of the pattern's weeks' log ratios (its rate per call of its step to the control's per event):
            /// over every pair of weeks, Σ w (d² − v) and Σ w ∫F² (w = 1 ÷ v², v the pair's sampling variance), and how many
            /// weeks had the pattern.
            /// </summary>
            private (double excess, double weight, int weeks) Moments(long pattern, (string kind, string name)? step, IEnumerable<List<Span>> weeks)
            {
                var points = new List<(List<Span> week, double r, double v)>();
                foreach (var week in weeks)
                {
                    var s = _counts.Sessions(week, pattern, step, Array.Empty<long>());
                    var (hits, calls, control, events, _) = s.Totals();
                    if (hits == 0 || calls == 0 || control == 0) continue;
                    var (hitsVariance, controlVariance) = s.Variances();
                    points.Add((week, Math.Log((double)hits / calls) - Math.Log((double)control / events), hitsVariance + controlVariance));
                }
                double excess = 0, weight = 0;
                for (var i = 0; i < points.Count; i++)
                    for (var j = i + 1; j < points.Count; j++)
                    {
                        var (earlier, later) = points[i].week[0].From < points[j].week[0].From ? (points[i], points[j]) : (points[j], points[i]);
                        var v = earlier.v + later.v;
                        var w = 1 / (v * v);
                        excess += w * ((later.r - earlier.r) * (later.r - earlier.r) - v);
                        if (!_apart.TryGetValue((earlier.week, later.week), out var apart)) _apart[(earlier.week, later.week)] = apart = Apart(earlier.week, later.week, _events);
                        weight += w * apart;
                    }
                return (excess, weight, points.Count);
            }

            /// <summary>The wander per week of every error pattern of the weeks, their moments summed, and how many patterns had two weeks or more.</summary>
            private (double variance, int patterns) Pooled(List<List<Span>> weeks)
            {
                double excess = 0, weight = 0;
                var n = 0;
                foreach (var pattern in _counts.Patterns(weeks.SelectMany(w => w)))
                {
                    var usable = weeks.Where(w => _ruled[pattern].All(r => w.All(s => s.To <= r.ActivatedMs && (s.To <= r.EvidenceFrom || s.From >= r.EvidenceTo))));
                    var m = Moments(pattern, _denominators.Of(pattern).step, usable);
                    if (m.weeks < 2) continue;
                    excess += m.excess; weight += m.weight; n++;
                }
                return (weight > 0 ? Math.Max(0, excess / weight) : 0, n);
            }
        }

        /// <summary>
        /// Counts per session over spans of time, read in one grouped scan per span for all rules (rules from one revision
        /// share their windows): every event, by its error pattern and by its tool or step.
        /// </summary>
        private sealed class WindowCounts
        {
            private readonly SqliteConnection _c;
            private readonly Dictionary<(long, long), List<WindowRows.Row>> _spans = new Dictionary<(long, long), List<WindowRows.Row>>();

            public WindowCounts(SqliteConnection c) => _c = c;

            public SessionCounts Sessions(List<Span> spans, long patternId, (string kind, string name)? step, long[] leftOut)
            {
                var s = new SessionCounts();
                var skip = new HashSet<long>(leftOut);
                var stepKey = step == null ? null : WindowRows.StepKey(step.Value.kind, step.Value.name);
                foreach (var span in spans.Where(x => x.Length > 0))
                    foreach (var r in Rows(span))
                    {
                        var k = SessionCounts.Key(r.Session);
                        s.Events.Add(k, r.N);
                        if (step == null || r.Step == stepKey) s.Calls.Add(k, r.N);
                        if (r.Pattern == patternId) s.Hits.Add(k, r.N);
                        else if (r.Pattern != WindowRows.NotAnError && !skip.Contains(r.Pattern)) s.Control.Add(k, r.N);
                    }
                return s;
            }

            /// <summary>The error patterns (not errors without one) the spans' events have.</summary>
            public IEnumerable<long> Patterns(IEnumerable<Span> spans) =>
                spans.Where(x => x.Length > 0).SelectMany(Rows).Where(r => r.Pattern > 0).Select(r => r.Pattern).Distinct().OrderBy(x => x);

            private List<WindowRows.Row> Rows(Span span)
            {
                if (!_spans.TryGetValue((span.From, span.To), out var rows)) _spans[(span.From, span.To)] = rows = WindowRows.Read(_c, span.From, span.To);
                return rows;
            }
        }

        /// <summary>A window's counts per session: the rule's hits and its step's calls, the control's errors and events.</summary>
        private sealed class SessionCounts
        {
            /// <summary>Events without a session are each their own: their counts are taken as Poisson.</summary>
            public const string NoSession = "\0";
            public readonly Tally Hits = new Tally(), Calls = new Tally(), Control = new Tally(), Events = new Tally();

            public static string Key(string? session) => session ?? NoSession;

            public (long hits, long calls, long controlErrors, long events, double repeated) Totals()
            {
                var hits = Hits.Total;
                // Occurrences after the first in their session (as before: events without a session repeat nothing).
                var repeats = Hits.Where(kv => kv.Key != NoSession).Sum(kv => kv.Value - 1);
                return (hits, Calls.Total, Control.Total, Events.Total, hits == 0 ? 0 : Math.Round((double)repeats / hits, 3));
            }

            /// <summary>
            /// The variance of log(count ÷ exposure) for the hits (per call) and the control (per event), with sessions as
            /// the units that are independent: Σ (count_s − rate × exposure_s)² ÷ count², at least the Poisson 1 ÷ count.
            /// </summary>
            public (double hits, double control) Variances() => (Variance(Hits, Calls), Variance(Control, Events));

            private static double Variance(Tally counts, Tally exposure)
            {
                var total = counts.Total;
                if (total == 0 || exposure.Total == 0) return 1 / 0.5;
                var rate = (double)total / exposure.Total;
                double sum = 0;
                foreach (var session in exposure.Keys.Union(counts.Keys))
                {
                    counts.TryGetValue(session, out var n);
                    exposure.TryGetValue(session, out var x);
                    sum += session == NoSession ? n : (n - rate * x) * (n - rate * x);
                }
                return Math.Max(sum, total) / ((double)total * total);
            }
        }

        /// <summary>Counts by session, with their total.</summary>
        private sealed class Tally : Dictionary<string, long>
        {
            public long Total { get; private set; }

            public new void Add(string key, long n)
            {
                TryGetValue(key, out var had);
                this[key] = had + n;
                Total += n;
            }
        }

        private static string Day(long ms) => Time(ms).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        private static DateTime Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
    }
}

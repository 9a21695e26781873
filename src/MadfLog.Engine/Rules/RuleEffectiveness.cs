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
    /// there, and would fall after it by chance alone; before: as long as the time since, between 7 and 28 days, taken
    /// back from the activation past the evidence window). The pattern's hits per call of its tool or step in each
    /// window, against the same windows' errors of every other pattern per event (the control): ruled ones too, as the
    /// errors that were not proposed for a rule are not like the ones that were (fewer, more specific, falling or rising
    /// on their own). Effective is read only against it; other rules that worked make that harder, never easier. A rule
    /// that is not Effective there is measured again without the patterns of the rules that took effect inside its
    /// windows and read Effective (their fall would make it read Worse); that second look does not make it Effective.
    /// The effect is the ratio of the two rate ratios with a 95 % interval on the log scale; each count's variance is
    /// from its sessions (errors repeat within a session: retries, one agent stuck), never below the Poisson variance.
    /// Too early: fewer than 200 calls after, fewer than 10 hits in all, or no hits or no events before (a rule from a
    /// store's first week has no clean before window). No control: fewer than 10 other errors in either window; the
    /// rule's own change is reported, but it is no verdict: a change in all errors (another model, another kind of
    /// work) looks the same. A rule with no clear change after 1,000 calls and 14 days is recommended for retirement.
    /// </summary>
    public static class RuleEffectiveness
    {
        public const int MinCallsAfter = 200, MinHits = 10, MinControlErrors = 10, RetireAfterCalls = 1000, RetireAfterDays = 14;
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
            var plans = RuleStore.List(c, RuleStatus.Active).Select(r => Plan.Of(c, r, nowMs)).ToList();
            var counts = new WindowCounts(c);
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
            Compare(e, before.Variances(), after.Variances());
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
            e.RecommendRetirement = e.Verdict == EffectVerdict.NoClearChange && e.CallsAfter >= RetireAfterCalls && nowMs - p.ActivatedMs >= RetireAfterDays * IsoWeeks.DayMs;
            return e;
        }

        /// <summary>
        /// The ratio of rate ratios with its 95 % interval and p-value (log scale). The variances of the log counts
        /// (hits before and after, control errors before and after) are given; without them, Poisson (1/count).
        /// </summary>
        public static void Compare(RuleEffect e, (double hits, double control)? before = null, (double hits, double control)? after = null)
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
                variance += (after?.control ?? 1.0 / e.ControlErrorsAfter) + (before?.control ?? 1.0 / e.ControlErrorsBefore);
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

            public static Plan Of(SqliteConnection c, Rule rule, long nowMs)
            {
                var activated = new DateTimeOffset(rule.Activated!.Value, TimeSpan.Zero).ToUnixTimeMilliseconds();
                // Every revision stores its window; a rule without one (written by hand) gets the default week before it was made.
                var created = new DateTimeOffset(rule.Created, TimeSpan.Zero).ToUnixTimeMilliseconds();
                var known = rule.Evidence.WindowEnd > rule.Evidence.WindowStart;
                var evidence = known
                    ? new Span(Ms(rule.Evidence.WindowStart), Ms(rule.Evidence.WindowEnd))
                    : new Span(created - DefaultEvidenceMs, created);
                var p = new Plan { Rule = rule, PatternId = rule.PatternId, ActivatedMs = activated, EvidenceFrom = evidence.From, EvidenceTo = evidence.To };
                p.After.AddRange(Without(new Span(activated, nowMs + 1), evidence));
                var length = Math.Max(7 * IsoWeeks.DayMs, Math.Min(28 * IsoWeeks.DayMs, p.After.Sum(s => s.Length)));
                p.Before.AddRange(Back(activated, length, evidence));
                var step = StepOf(c, rule.PatternId);
                if (step != null && MostlyOwnErrors(c, rule.PatternId, step.Value)) { p.StepIsOwnErrors = step.Value.kind + ":" + step.Value.name; step = null; }
                p.Step = step;
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

        /// <summary>The tool or step most of the pattern's errors happened in (from the import-time summaries), or null when they have none.</summary>
        private static (string kind, string name)? StepOf(SqliteConnection c, long patternId)
        {
            var row = c.QueryFirstOrDefault<(string? type, string? step)>(
                $@"SELECT event_type, step FROM event_rollup WHERE pattern_id = @patternId AND {Domain.Errors.InRollup()}
                  GROUP BY event_type, step ORDER BY sum(events) DESC, event_type, step LIMIT 1", new { patternId });
            return row.type == "tool_call" || row.type == "step" ? (Domain.Steps.Kind(row.type), Domain.Steps.Name(row.type, row.step)) : ((string, string)?)null;
        }

        /// <summary>
        /// Whether most of the step's calls are this pattern's errors: a tool the logs name only when it fails (an API
        /// error logged as a tool call "llm") is no count of the chances to make the error, and would read 1,000 per
        /// 1,000 whatever the rule did.
        /// </summary>
        private static bool MostlyOwnErrors(SqliteConnection c, long patternId, (string kind, string name) step)
        {
            var (own, all) = c.QueryFirst<(long, long)>(
                $@"SELECT coalesce(sum(CASE WHEN pattern_id = @patternId AND {Domain.Errors.InRollup()} THEN events END), 0), coalesce(sum(events), 0)
                   FROM event_rollup WHERE event_type = @type AND step = @name",
                new { patternId, type = step.kind == "tool" ? "tool_call" : "step", step.name });
            return all - own < own;
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
                var stepKey = step == null ? null : WindowRows.StepKey(step.Value.kind == "tool" ? "tool_call" : "step", step.Value.name);
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

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
    /// effect, against the change over the same windows of the errors that have no active rule (the control).
    /// </summary>
    public sealed class RuleEffect
    {
        public long RuleId { get; set; }
        public long PatternId { get; set; }
        public string Rule { get; set; } = "";
        /// <summary>When the rule took effect (Approve-MadfRule, or -EffectiveFrom).</summary>
        public DateTime Activated { get; set; }
        /// <summary>The tool or step whose calls are the denominator ("tool:Bash", "step:review"), or "all events" when the pattern has none.</summary>
        public string Step { get; set; } = "";
        public DateTime WindowStart { get; set; }
        public DateTime WindowEnd { get; set; }
        /// <summary>Calls of the step in the window before and after the rule took effect.</summary>
        public long CallsBefore { get; set; }
        public long HitsBefore { get; set; }
        public long CallsAfter { get; set; }
        public long HitsAfter { get; set; }
        public double RateBeforePer1000 => Per1000(HitsBefore, CallsBefore);
        public double RateAfterPer1000 => Per1000(HitsAfter, CallsAfter);
        /// <summary>The control: errors of patterns with no active rule, per 1,000 events, over the same two windows.</summary>
        public string Control { get; set; } = "";
        public long ControlEventsBefore { get; set; }
        public long ControlErrorsBefore { get; set; }
        public long ControlEventsAfter { get; set; }
        public long ControlErrorsAfter { get; set; }
        public double ControlRateBeforePer1000 => Per1000(ControlErrorsBefore, ControlEventsBefore);
        public double ControlRateAfterPer1000 => Per1000(ControlErrorsAfter, ControlEventsAfter);
        /// <summary>True when there were enough control errors to compare with; otherwise the ratio is the rule's own before/after.</summary>
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
    /// validate_rule_effectiveness. For each active rule: windows before and after the rule took effect (before: as long
    /// as the time since, between 7 and 28 days); the pattern's hits per call of its tool or step in each; the same
    /// windows' errors of patterns with no active rule per event (the control). The effect is the ratio of the two
    /// rate ratios with a 95 % interval from the Poisson counts (Var log ratio = 1/a + 1/b + 1/c + 1/d, half a count
    /// added to empty cells). Too early: fewer than 200 calls after, fewer than 10 hits in all, or no hits before.
    /// No control: fewer than 10 unruled errors in either window. The rule's own change is reported, but it is no
    /// verdict: a change in all errors (another model, another kind of work) looks the same, so it reads No control.
    /// A rule with no clear change after 1,000 calls and 14 days is recommended for retirement.
    /// </summary>
    public static class RuleEffectiveness
    {
        public const int MinCallsAfter = 200, MinHits = 10, MinControlErrors = 10, RetireAfterCalls = 1000, RetireAfterDays = 14;
        private const double Z95 = 1.959964;

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
            var effects = new List<RuleEffect>();
            var active = RuleStore.List(c, RuleStatus.Active);
            var ruled = active.Select(r => r.PatternId).ToArray();
            var nowMs = now.ToUnixTimeMilliseconds();
            foreach (var rule in active)
            {
                var activated = new DateTimeOffset(rule.Activated!.Value, TimeSpan.Zero).ToUnixTimeMilliseconds();
                var span = Math.Min(28 * IsoWeeks.DayMs, Math.Max(0, nowMs - activated));
                var beforeStart = activated - Math.Max(span, 7 * IsoWeeks.DayMs);
                var e = new RuleEffect
                {
                    RuleId = rule.Id, PatternId = rule.PatternId, Rule = rule.Text, Activated = rule.Activated.Value,
                    WindowStart = Time(beforeStart), WindowEnd = now.UtcDateTime,
                };
                var step = StepOf(c, rule.PatternId);
                e.Step = step == null ? "all events" : step.Value.kind + ":" + step.Value.name;
                (e.HitsBefore, e.RepeatedBefore) = Hits(c, rule.PatternId, beforeStart, activated);
                (e.HitsAfter, e.RepeatedAfter) = Hits(c, rule.PatternId, activated, nowMs + 1);
                e.CallsBefore = Calls(c, step, beforeStart, activated);
                e.CallsAfter = Calls(c, step, activated, nowMs + 1);
                (e.ControlEventsBefore, e.ControlErrorsBefore) = Control(c, ruled, beforeStart, activated);
                (e.ControlEventsAfter, e.ControlErrorsAfter) = Control(c, ruled, activated, nowMs + 1);
                e.HasControl = e.ControlErrorsBefore >= MinControlErrors && e.ControlErrorsAfter >= MinControlErrors;
                e.Control = e.HasControl
                    ? $"errors without an active rule: {e.ControlRateBeforePer1000:0.##} → {e.ControlRateAfterPer1000:0.##} per 1,000 events"
                    : $"none (fewer than {MinControlErrors} errors without an active rule in a window): the rule's own change";
                Compare(e);
                var tooEarly = e.CallsAfter < MinCallsAfter || e.HitsBefore + e.HitsAfter < MinHits || e.HitsBefore == 0 || e.CallsBefore == 0;
                if (tooEarly) e.Verdict = EffectVerdict.TooEarly;
                // Every recurring error has a rule: a fall (or rise) of this one cannot be told from one of all errors.
                else if (!e.HasControl) e.Verdict = EffectVerdict.NoControl;
                else if (e.RelativeChangeHigh < 1) e.Verdict = EffectVerdict.Effective;
                else if (e.RelativeChangeLow > 1) e.Verdict = EffectVerdict.Worse;
                else e.Verdict = EffectVerdict.NoClearChange;
                e.RecommendRetirement = e.Verdict == EffectVerdict.NoClearChange && e.CallsAfter >= RetireAfterCalls && nowMs - activated >= RetireAfterDays * IsoWeeks.DayMs;
                effects.Add(e);
            }
            return effects;
        }

        /// <summary>The ratio of rate ratios with its 95 % interval and p-value (log scale, Poisson counts).</summary>
        public static void Compare(RuleEffect e)
        {
            static double Cell(long n) => n == 0 ? 0.5 : n;
            if (e.CallsBefore == 0 || e.CallsAfter == 0)
            {
                e.RelativeChange = 1; e.RelativeChangeLow = 0; e.RelativeChangeHigh = double.PositiveInfinity; e.PValue = 1;
                return;
            }
            var log = Math.Log(Cell(e.HitsAfter) / e.CallsAfter) - Math.Log(Cell(e.HitsBefore) / e.CallsBefore);
            var variance = 1 / Cell(e.HitsAfter) + 1 / Cell(e.HitsBefore);
            if (e.HasControl)
            {
                log -= Math.Log((double)e.ControlErrorsAfter / e.ControlEventsAfter) - Math.Log((double)e.ControlErrorsBefore / e.ControlEventsBefore);
                variance += 1.0 / e.ControlErrorsAfter + 1.0 / e.ControlErrorsBefore;
            }
            var se = Math.Sqrt(variance);
            e.RelativeChange = Math.Round(Math.Exp(log), 3);
            e.RelativeChangeLow = Math.Round(Math.Exp(log - Z95 * se), 3);
            e.RelativeChangeHigh = Math.Round(Math.Exp(log + Z95 * se), 3);
            e.PValue = Math.Round(2 * (1 - Stats.NormalCdf(Math.Abs(log) / se)), 4);
        }

        /// <summary>The tool or step most of the pattern's errors happened in (from the import-time summaries), or null when they have none.</summary>
        private static (string kind, string name)? StepOf(SqliteConnection c, long patternId)
        {
            var row = c.QueryFirstOrDefault<(string? type, string? step)>(
                $@"SELECT event_type, step FROM event_rollup WHERE pattern_id = @patternId AND {Domain.Errors.InRollup()}
                  GROUP BY event_type, step ORDER BY sum(events) DESC, event_type, step LIMIT 1", new { patternId });
            return row.type == "tool_call" || row.type == "step" ? (Domain.Steps.Kind(row.type), Domain.Steps.Name(row.type, row.step)) : ((string, string)?)null;
        }

        private static long Calls(SqliteConnection c, (string kind, string name)? step, long from, long to) =>
            step == null
                ? c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE " + EventStorage.Window("", "@from", "@to"), new { from, to })
                : c.ExecuteScalar<long>(
                    $@"SELECT count(*) FROM events e WHERE e.event_type = @type AND {EventStorage.Window("e", "@from", "@to")} AND {Domain.Steps.NameSql} = @name",
                    new { type = step.Value.kind == "tool" ? "tool_call" : "step", name = step.Value.name, from, to });

        private static (long hits, double repeated) Hits(SqliteConnection c, long patternId, long from, long to)
        {
            var hits = c.Query<string?>(
                "SELECT e.session_id FROM events e WHERE e.pattern_id = @patternId AND " + Domain.Errors.InEvents + " AND " + EventStorage.Window("e", "@from", "@to") + " ORDER BY e.timestamp",
                new { patternId, from, to }).ToList();
            var seen = new HashSet<string>();
            var repeats = hits.Count(s => s != null && !seen.Add(s));
            return (hits.Count, hits.Count == 0 ? 0 : Math.Round((double)repeats / hits.Count, 3));
        }

        /// <summary>All events, and the errors whose pattern has no active rule, in [from, to).</summary>
        private static (long events, long errors) Control(SqliteConnection c, long[] ruled, long from, long to) =>
            c.QueryFirst<(long, long)>(
                $@"SELECT count(*), coalesce(sum({Domain.Errors.InEvents} AND (e.pattern_id IS NULL OR e.pattern_id NOT IN @ruled)), 0)
                   FROM events e WHERE {EventStorage.Window("e", "@from", "@to")}", new { ruled, from, to });

        private static DateTime Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Rules
{
    public enum EffectVerdict { TooLittleData, Effective, NoChange, Worse }

    /// <summary>Did a rule work? Its pattern's rate before and after the rule became active.</summary>
    public sealed class RuleEffect
    {
        public long RuleId { get; set; }
        public long PatternId { get; set; }
        public string Rule { get; set; } = "";
        public DateTime Activated { get; set; }
        public long EventsBefore { get; set; }
        public long HitsBefore { get; set; }
        public long EventsAfter { get; set; }
        public long HitsAfter { get; set; }
        public double RateBeforePer1000 => EventsBefore > 0 ? Math.Round(1000.0 * HitsBefore / EventsBefore, 2) : 0;
        public double RateAfterPer1000 => EventsAfter > 0 ? Math.Round(1000.0 * HitsAfter / EventsAfter, 2) : 0;
        /// <summary>Share of the pattern's occurrences that repeat it within the same session, before and after.</summary>
        public double RepeatedBefore { get; set; }
        public double RepeatedAfter { get; set; }
        /// <summary>Two-sided p-value of the two-proportion z-test (hits per event, before vs after).</summary>
        public double PValue { get; set; }
        public EffectVerdict Verdict { get; set; }
        /// <summary>No effect after enough data: a candidate for Deny-MadfRule (retirement).</summary>
        public bool RecommendRetirement { get; set; }
    }

    /// <summary>
    /// validate_rule_effectiveness: for each active rule, compares the pattern's rate per 1,000 events in equal
    /// windows before and after activation (before: up to 28 days, never longer than the time since activation)
    /// with a two-proportion z-test at 5%. Too little data: fewer than 200 events after, or fewer than 10 hits in all.
    /// A rule with no change after 1,000 events and 14 days is recommended for retirement.
    /// </summary>
    public static class RuleEffectiveness
    {
        public const int MinEventsAfter = 200, MinHits = 10, RetireAfterEvents = 1000, RetireAfterDays = 14;

        public static List<RuleEffect> Evaluate(SqliteConnection c, DateTimeOffset now)
        {
            var effects = new List<RuleEffect>();
            foreach (var rule in RuleStore.List(c, RuleStatus.Active))
            {
                var activated = new DateTimeOffset(rule.Activated!.Value, TimeSpan.Zero).ToUnixTimeMilliseconds();
                var nowMs = now.ToUnixTimeMilliseconds();
                var span = Math.Min(28L * 86_400_000, Math.Max(0, nowMs - activated));
                var beforeStart = activated - Math.Max(span, 7L * 86_400_000);
                var e = new RuleEffect { RuleId = rule.Id, PatternId = rule.PatternId, Rule = rule.Text, Activated = rule.Activated.Value };
                (e.EventsBefore, e.HitsBefore, e.RepeatedBefore) = Window(c, rule.PatternId, beforeStart, activated);
                (e.EventsAfter, e.HitsAfter, e.RepeatedAfter) = Window(c, rule.PatternId, activated, nowMs + 1);
                e.PValue = TwoProportionP(e.HitsBefore, e.EventsBefore, e.HitsAfter, e.EventsAfter);
                if (e.EventsAfter < MinEventsAfter || e.HitsBefore + e.HitsAfter < MinHits || e.EventsBefore == 0) e.Verdict = EffectVerdict.TooLittleData;
                else if (e.PValue < 0.05) e.Verdict = e.RateAfterPer1000 < e.RateBeforePer1000 ? EffectVerdict.Effective : EffectVerdict.Worse;
                else e.Verdict = EffectVerdict.NoChange;
                e.RecommendRetirement = e.Verdict != EffectVerdict.Effective && e.Verdict != EffectVerdict.TooLittleData
                                        && e.EventsAfter >= RetireAfterEvents && nowMs - activated >= RetireAfterDays * 86_400_000L;
                effects.Add(e);
            }
            return effects;
        }

        private static (long events, long hits, double repeated) Window(SqliteConnection c, long patternId, long from, long to)
        {
            var events = c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE " + EventStorage.Window("", "@from", "@to"), new { from, to });
            var hits = c.Query<(string? session, long ts)>(
                "SELECT e.session_id, e.timestamp FROM events e WHERE e.pattern_id = @patternId AND " + Query.Analysis.IsError + " AND " + EventStorage.Window("e", "@from", "@to") + " ORDER BY e.timestamp",
                new { patternId, from, to }).ToList();
            var seen = new HashSet<string>();
            var repeats = hits.Count(h => h.session != null && !seen.Add(h.session));
            return (events, hits.Count, hits.Count == 0 ? 0 : Math.Round((double)repeats / hits.Count, 3));
        }

        /// <summary>Two-sided p-value for H0: equal proportions (pooled z-test).</summary>
        public static double TwoProportionP(long x1, long n1, long x2, long n2)
        {
            if (n1 == 0 || n2 == 0) return 1;
            var p = (double)(x1 + x2) / (n1 + n2);
            var se = Math.Sqrt(p * (1 - p) * (1.0 / n1 + 1.0 / n2));
            if (se == 0) return 1;
            var z = Math.Abs((double)x1 / n1 - (double)x2 / n2) / se;
            return 2 * (1 - NormalCdf(z));
        }

        private static double NormalCdf(double z)
        {
            // Abramowitz-Stegun 7.1.26 erf approximation (|error| < 1.5e-7).
            var x = z / Math.Sqrt(2);
            var t = 1 / (1 + 0.3275911 * x);
            var erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
            return 0.5 * (1 + erf);
        }
    }
}

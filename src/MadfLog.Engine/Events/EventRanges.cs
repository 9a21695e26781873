using System;
using System.Globalization;

namespace MadfLog.Engine.Events
{
    /// <summary>
    /// The values each numeric field may hold (documented in docs/input-limits.md). Bounded per event so that a sum over
    /// any store stays inside 64 bits: 3.5 billion events at the longest duration, 9.2 billion at the most tokens.
    /// An event outside them is quarantined with the field and its range, never stored.
    /// </summary>
    public static class EventRanges
    {
        public const long MaxDurationMs = 30L * 24 * 3600 * 1000;   // 30 days
        public const long MaxTokens = 1_000_000_000;
        public const long MaxTimeSavedOrWastedMs = MaxDurationMs;    // either sign
        public const double MaxContextPercent = 100;
        public const double MaxConfidence = 1;
        public const double MaxScore = 1_000_000;                   // impact_score, user_satisfaction_delta: either sign
        public const long MaxCreatedRule = 9_007_199_254_740_991;    // 2^53 - 1: a rule id JSON readers keep exact

        /// <summary>The range of a field as shown in reasons and docs, or null for a field without one.</summary>
        public static string? Describe(string field) => field switch
        {
            "duration_ms" => Range(0, MaxDurationMs),
            "tokens_used" => Range(0, MaxTokens),
            "time_saved_or_wasted_ms" => Range(-MaxTimeSavedOrWastedMs, MaxTimeSavedOrWastedMs),
            "context_percent" => Range(0, MaxContextPercent),
            "confidence_score" => Range(0, MaxConfidence),
            "impact_score" => Range(-MaxScore, MaxScore),
            "user_satisfaction_delta" => Range(-MaxScore, MaxScore),
            "created_rule" => Range(0, MaxCreatedRule),
            _ => null,
        };

        /// <summary>Why the event cannot be stored (field, value and range), or null when every value is in range.</summary>
        public static string? Violation(EventRow e) =>
            Check("duration_ms", e.DurationMs, 0, MaxDurationMs)
            ?? Check("tokens_used", e.TokensUsed, 0, MaxTokens)
            ?? Check("time_saved_or_wasted_ms", e.TimeSavedOrWastedMs, -MaxTimeSavedOrWastedMs, MaxTimeSavedOrWastedMs)
            ?? Check("created_rule", e.CreatedRule, 0, MaxCreatedRule)
            ?? Check("context_percent", e.ContextPercent, 0, MaxContextPercent)
            ?? Check("confidence_score", e.ConfidenceScore, 0, MaxConfidence)
            ?? Check("impact_score", e.ImpactScore, -MaxScore, MaxScore)
            ?? Check("user_satisfaction_delta", e.UserSatisfactionDelta, -MaxScore, MaxScore);

        /// <summary>The reason for a value outside its field's range (also for numbers too large for any field).</summary>
        public static string OutOfRange(string field, string value) =>
            string.Format(Messages.Culture, Messages.ReasonOutOfRange, field, value, Describe(field) ?? Messages.ReasonAnyInteger);

        private static string? Check(string field, long? v, long min, long max) =>
            v.HasValue && (v.Value < min || v.Value > max) ? OutOfRange(field, v.Value.ToString(CultureInfo.InvariantCulture)) : null;

        private static string? Check(string field, double? v, double min, double max) =>
            v.HasValue && !(v.Value >= min && v.Value <= max) ? OutOfRange(field, v.Value.ToString("R", CultureInfo.InvariantCulture)) : null;

        private static string Range(long min, long max) =>
            min.ToString("#,0", CultureInfo.InvariantCulture) + ".." + max.ToString("#,0", CultureInfo.InvariantCulture);

        private static string Range(double min, double max) =>
            min.ToString("#,0.##", CultureInfo.InvariantCulture) + ".." + max.ToString("#,0.##", CultureInfo.InvariantCulture);
    }
}

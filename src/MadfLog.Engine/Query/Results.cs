using System;

namespace MadfLog.Engine.Query
{
    public sealed class ErrorSummaryItem
    {
        public long? PatternId { get; set; }
        public string Template { get; set; } = "";
        public string ErrorClass { get; set; } = "Other";
        public long Count { get; set; }
        /// <summary>Share of all (non-cascade) errors matching the filter.</summary>
        public double Share { get; set; }
        public string[] Agents { get; set; } = Array.Empty<string>();
        public string[] Stories { get; set; } = Array.Empty<string>();
        public DateTime FirstSeen { get; set; }
        public DateTime LastSeen { get; set; }
        public string? Example { get; set; }
    }

    public sealed class AgentPerformance
    {
        public string Agent { get; set; } = "";
        public long Events { get; set; }
        public long Errors { get; set; }
        public double SuccessRate { get; set; }
        public double MedianDurationMs { get; set; }
        public double P95DurationMs { get; set; }
        public long Tokens { get; set; }
        /// <summary>Share of the agent's events logged above 80% context.</summary>
        public double ContextPressure { get; set; }
        /// <summary>Duration of failed events plus reported waste (negative time_saved_or_wasted_ms).</summary>
        public long TimeWastedMs { get; set; }
    }

    public sealed class Bottleneck
    {
        /// <summary>tool, step, workflow or event type.</summary>
        public string Kind { get; set; } = "";
        public string Name { get; set; } = "";
        public long Count { get; set; }
        public long TotalMs { get; set; }
        public double ShareOfTime { get; set; }
        public double P95Ms { get; set; }
        public long TimeWastedMs { get; set; }
        /// <summary>Events of this step that took more than three times its median: the outliers worth a look.</summary>
        public long Outliers { get; set; }
        public double MedianMs { get; set; }
    }

    public sealed class StoryMetrics
    {
        public string Story { get; set; } = "";
        public long Events { get; set; }
        public long Errors { get; set; }
        public double ErrorRate { get; set; }
        /// <summary>Errors whose pattern had occurred before (in an earlier story or earlier in this one).</summary>
        public long RepeatedErrors { get; set; }
        public double RepeatedErrorRate { get; set; }
        public long Tokens { get; set; }
        public double TokensPerEvent { get; set; }
        public long HumanInteractions { get; set; }
        public string[] Agents { get; set; } = Array.Empty<string>();
        public DateTime? Start { get; set; }
        public DateTime? End { get; set; }
    }

    public sealed class PatternDelta
    {
        public long PatternId { get; set; }
        public string Template { get; set; } = "";
        public long ReferenceCount { get; set; }
        public long DifferenceCount { get; set; }
    }

    public sealed class StoryComparison
    {
        public StoryMetrics Reference { get; set; } = new StoryMetrics();
        public StoryMetrics Difference { get; set; } = new StoryMetrics();
        /// <summary>Change of the repeated-error rate (per event), in percent of the reference.</summary>
        public double? RepeatedErrorsChangePercent { get; set; }
        public double? ErrorRateChangePercent { get; set; }
        public PatternDelta[] PatternsGained { get; set; } = Array.Empty<PatternDelta>();
        public PatternDelta[] PatternsLost { get; set; } = Array.Empty<PatternDelta>();
        public string[] AgentsAdded { get; set; } = Array.Empty<string>();
        public string[] AgentsRemoved { get; set; } = Array.Empty<string>();
        public string Headline { get; set; } = "";
    }

    public sealed class TrendPoint
    {
        /// <summary>Story, Week or Forecast.</summary>
        public string Kind { get; set; } = "";
        public string Period { get; set; } = "";
        public long Events { get; set; }
        public double ErrorRate { get; set; }
        public double RepeatedErrorRate { get; set; }
        public double TokensPerEvent { get; set; }
        public long HumanInteractions { get; set; }
        /// <summary>For the forecast: the error rate's 95 % prediction interval.</summary>
        public double? ErrorRateLow { get; set; }
        public double? ErrorRateHigh { get; set; }
        /// <summary>For the forecast: its mean absolute one-step-ahead error over the past stories it could have forecast, and the naive "same as the last story" forecast's.</summary>
        public double? BacktestError { get; set; }
        public double? NaiveBacktestError { get; set; }
        public int BacktestStories { get; set; }
    }

    public sealed class HumanInteractionSummary
    {
        public string Category { get; set; } = "";
        public string Agent { get; set; } = "";
        public string Story { get; set; } = "";
        public long Count { get; set; }
        /// <summary>What they were about: the most common message patterns.</summary>
        public string[] Topics { get; set; } = Array.Empty<string>();
    }

    public sealed class ToolFailure
    {
        public string Tool { get; set; } = "";
        public string Agent { get; set; } = "";
        public long Calls { get; set; }
        public long Failures { get; set; }
        public double FailureRate { get; set; }
        public string? TopError { get; set; }
    }

    public sealed class SessionSummary
    {
        public string SessionId { get; set; } = "";
        public string? Story { get; set; }
        public string[] Agents { get; set; } = Array.Empty<string>();
        public DateTime Start { get; set; }
        public DateTime End { get; set; }
        public long DurationMs { get; set; }
        public long Events { get; set; }
        public long Errors { get; set; }
        public long Tokens { get; set; }
        public double? MaxContextPercent { get; set; }
        public long HumanInteractions { get; set; }
    }

    public sealed class ContextPressure
    {
        public string SessionId { get; set; } = "";
        public string Agent { get; set; } = "";
        public string? Story { get; set; }
        public double MaxContextPercent { get; set; }
        public long Events { get; set; }
        public long EventsAbove80 { get; set; }
        public double ErrorRateAbove80 { get; set; }
        public double ErrorRateBelow80 { get; set; }
    }

    /// <summary>One stored event, for the pipeline.</summary>
    public sealed class EventRecord
    {
        public long Id { get; set; }
        public DateTime Timestamp { get; set; }
        public string EventType { get; set; } = "";
        public string Category { get; set; } = "";
        public string? SessionId { get; set; }
        public string? StoryId { get; set; }
        public string? WorkflowId { get; set; }
        public string? AgentName { get; set; }
        public long? DurationMs { get; set; }
        public long? TokensUsed { get; set; }
        public double? ContextPercent { get; set; }
        public bool? Success { get; set; }
        public long? PatternId { get; set; }
        public long? CreatedRule { get; set; }
        public bool NeedsReview { get; set; }
        public string? Message { get; set; }
        public string? Details { get; set; }
    }
}

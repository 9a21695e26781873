namespace MadfLog.Engine.Events
{
    /// <summary>
    /// One row of the universal events table, as importers produce it and queries read it.
    /// Timestamp is Unix epoch milliseconds (UTC); Details is a JSON object text.
    /// </summary>
    public sealed class EventRow
    {
        public long Id { get; set; }
        public long Timestamp { get; set; }
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
        public double? ConfidenceScore { get; set; }
        public string? Details { get; set; }
        public double? ImpactScore { get; set; }
        public long? TimeSavedOrWastedMs { get; set; }
        public double? UserSatisfactionDelta { get; set; }
        public long? CreatedRule { get; set; }
        public bool PatternDetected { get; set; }
        public bool NeedsReview { get; set; }
        public long? PatternId { get; set; }

        /// <summary>64-bit identity of the event's source (raw line or a format's own id): equal keys are one event.</summary>
        public long DedupKey { get; set; }

        /// <summary>
        /// When this event's key is already stored, keep the larger tokens_used (and its details): a response's usage
        /// grows over the lines Claude Code writes for it, and only the last one is final. Not a column.
        /// </summary>
        public bool KeepLargestTokens { get; set; }

        /// <summary>Set by the writer when a stored event's tokens grew (KeepLargestTokens): by how much, for the summaries. Not a column.</summary>
        public long TokensGrowth { get; set; }

        /// <summary>The tool (tool_call) or workflow step (step) this event is, from details; computed at import. Not a column.</summary>
        public string? Step { get; set; }

        /// <summary>
        /// Details split for storage, computed on the preparing thread so the writer only binds; used while it was made
        /// from the current Details (a later change, such as redaction, makes the writer split again). Not a column.
        /// </summary>
        public Store.DetailsShape.Split? StoredDetails { get; set; }

        /// <summary>What the event's pattern is mined over (its error signature), computed on the import's preparing thread. Not a column.</summary>
        public Patterns.ErrorSignature? Signature { get; set; }

        /// <summary>The message's masked tokens, computed on the import's preparing thread for pattern mining. Not a column.</summary>
        public string[]? MessageTokens { get; set; }

        /// <summary>The error or interaction text, when the event has one (details.message); not a column, used for pattern mining.</summary>
        public string? Message { get; set; }
    }
}

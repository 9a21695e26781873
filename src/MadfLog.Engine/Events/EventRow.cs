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
        public long? DurationMs { get => Has(HasDuration) ? _durationMs : (long?)null; set => _durationMs = Set(HasDuration, value); }
        public long? TokensUsed { get => Has(HasTokens) ? _tokensUsed : (long?)null; set => _tokensUsed = Set(HasTokens, value); }
        public double? ContextPercent { get => Has(HasContext) ? _contextPercent : (double?)null; set { _contextPercent = value ?? 0; Flag(HasContext, value.HasValue); } }
        public bool? Success { get => Has(HasSuccess) ? Has(Succeeded) : (bool?)null; set { Flag(HasSuccess, value.HasValue); Flag(Succeeded, value == true); } }

        // The optional numbers as a value and a bit of _has each: a nullable long is 16 bytes of every event, with its flag
        // padded to eight (an import holds thousands of events at a time and makes a million per 1M lines).
        private long _durationMs, _tokensUsed, _timeSavedOrWastedMs, _patternId;
        private double _contextPercent;
        private byte _has;
        private const byte HasDuration = 1, HasTokens = 2, HasContext = 4, HasSuccess = 8, Succeeded = 16, HasWasted = 32, HasPattern = 64;

        private bool Has(byte bit) => (_has & bit) != 0;

        private void Flag(byte bit, bool on) => _has = on ? (byte)(_has | bit) : (byte)(_has & ~bit);

        private long Set(byte bit, long? value)
        {
            Flag(bit, value.HasValue);
            return value ?? 0;
        }
        public double? ConfidenceScore { get => _rare?.ConfidenceScore; set { if (value.HasValue || _rare != null) Rare.ConfidenceScore = value; } }
        /// <summary>
        /// Setting different text drops <see cref="StoredDetails"/>, which was split from the old text. A parser may give
        /// the split alone (<see cref="DetailsFromSplit"/>): the text is then put back together from it when first read.
        /// </summary>
        public string? Details
        {
            get
            {
                if (_detailsInSplit) { _details = _storedDetails!.Joined(); _detailsInSplit = false; }
                return _details;
            }
            set
            {
                if (string.Equals(Details, value, System.StringComparison.Ordinal)) return;
                _details = value;
                _detailsInSplit = false;
                _storedDetails = null;
            }
        }

        private string? _details;
        private bool _detailsInSplit; // the text is the split's, not made yet

        /// <summary>Whether the event has details (without making their text).</summary>
        public bool HasDetails => _detailsInSplit || _details != null;

        /// <summary>
        /// Gives the details as their split alone, for a split that puts back exactly the text it was made from
        /// (<see cref="DetailsShape.Splitter.Into"/>): most events' text is never read during an import (the writer binds the
        /// split's values), and making it was a string per event.
        /// </summary>
        internal void DetailsFromSplit(DetailsShape.Split split)
        {
            _details = null;
            _storedDetails = split;
            _detailsInSplit = true;
        }
        public double? ImpactScore { get => _rare?.ImpactScore; set { if (value.HasValue || _rare != null) Rare.ImpactScore = value; } }
        public long? TimeSavedOrWastedMs { get => Has(HasWasted) ? _timeSavedOrWastedMs : (long?)null; set => _timeSavedOrWastedMs = Set(HasWasted, value); }
        public double? UserSatisfactionDelta { get => _rare?.UserSatisfactionDelta; set { if (value.HasValue || _rare != null) Rare.UserSatisfactionDelta = value; } }
        public long? CreatedRule { get => _rare?.CreatedRule; set { if (value.HasValue || _rare != null) Rare.CreatedRule = value; } }

        // The rarely set columns (event_extras' values), in an object of their own made when one is set: 64 bytes of
        // every event a parser makes, most of them never set (an import holds thousands of events at a time).
        private sealed class RareValues
        {
            public double? ConfidenceScore, ImpactScore, UserSatisfactionDelta;
            public long? CreatedRule;
        }

        private RareValues? _rare;
        private RareValues Rare => _rare ??= new RareValues();
        public bool PatternDetected { get; set; }
        public bool NeedsReview { get; set; }
        public long? PatternId { get => Has(HasPattern) ? _patternId : (long?)null; set => _patternId = Set(HasPattern, value); }

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
        /// Details split for storage, computed on the preparing thread (or by the parser) so the writer only binds; always
        /// the split of the current <see cref="Details"/> (changing Details, as redaction does, drops it). Not a column.
        /// </summary>
        public DetailsShape.Split? StoredDetails
        {
            get => _storedDetails;
            set
            {
                if (_detailsInSplit && !ReferenceEquals(value, _storedDetails)) _ = Details; // the text outlives its split
                _storedDetails = value;
            }
        }

        private DetailsShape.Split? _storedDetails;

        /// <summary>
        /// Details a parser wrote as UTF-8 and left for the import's preparing thread to split (Import.UnsplitDetails):
        /// until then the event shows no details. Only between the import's reading and preparing threads. Not a column.
        /// </summary>
        internal System.ArraySegment<byte> UnsplitDetails { get; set; }

        /// <summary>The error or interaction text, when the event has one (details.message); not a column, used for pattern mining.</summary>
        public string? Message { get; set; }
    }
}

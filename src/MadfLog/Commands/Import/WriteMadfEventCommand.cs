using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Import
{
    /// <summary>Appends one event to today's QuickLogger file (madf-YYYY-MM-DD.jsonl) in a log folder; safe with concurrent writers.</summary>
    [Cmdlet(VerbsCommunications.Write, "MadfEvent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(FileInfo))]
    public sealed class WriteMadfEventCommand : PSCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string EventType { get; set; } = "";

        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Category { get; set; } = "";

        /// <summary>Stored as details.message: the text errors are grouped by.</summary>
        [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
        public string? Message { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)] public string? SessionId { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)][Alias("Story")] public string? StoryId { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public string? WorkflowId { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)][Alias("Agent")] public string? AgentName { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public long DurationMs { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public long TokensUsed { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)][ValidateRange(0, 100)] public double ContextPercent { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public bool Success { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)][ValidateRange(0, 1)] public double ConfidenceScore { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public double ImpactScore { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public long TimeSavedOrWastedMs { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public double UserSatisfactionDelta { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public SwitchParameter NeedsReview { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public IDictionary? Details { get; set; }

        /// <summary>When the event happened; default now.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)] public DateTimeOffset Timestamp { get; set; }

        /// <summary>The log folder; default $env:MADFLOG_LOG_DIR, else logs/ in the MadfLog data folder.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? LogPath { get; set; }

        /// <summary>Write the log file's FileInfo to the pipeline.</summary>
        [Parameter] public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            var bound = MyInvocation.BoundParameters;
            var e = new EventRow
            {
                Timestamp = (bound.ContainsKey(nameof(Timestamp)) ? Timestamp : DateTimeOffset.UtcNow).ToUnixTimeMilliseconds(),
                EventType = EventType,
                Category = Category,
                SessionId = SessionId,
                StoryId = StoryId,
                WorkflowId = WorkflowId,
                AgentName = AgentName,
                DurationMs = bound.ContainsKey(nameof(DurationMs)) ? DurationMs : (long?)null,
                TokensUsed = bound.ContainsKey(nameof(TokensUsed)) ? TokensUsed : (long?)null,
                ContextPercent = bound.ContainsKey(nameof(ContextPercent)) ? ContextPercent : (double?)null,
                Success = bound.ContainsKey(nameof(Success)) ? Success : (bool?)null,
                ConfidenceScore = bound.ContainsKey(nameof(ConfidenceScore)) ? ConfidenceScore : (double?)null,
                ImpactScore = bound.ContainsKey(nameof(ImpactScore)) ? ImpactScore : (double?)null,
                TimeSavedOrWastedMs = bound.ContainsKey(nameof(TimeSavedOrWastedMs)) ? TimeSavedOrWastedMs : (long?)null,
                UserSatisfactionDelta = bound.ContainsKey(nameof(UserSatisfactionDelta)) ? UserSatisfactionDelta : (double?)null,
                NeedsReview = NeedsReview.IsPresent,
            };
            var details = new Hashtable(StringComparer.Ordinal);
            if (Details != null)
                foreach (DictionaryEntry entry in Details) details[entry.Key?.ToString() ?? ""] = Unwrap(entry.Value);
            if (Message != null) details["message"] = Message;

            var folder = LogPath == null ? StoreLocation.DefaultLogFolder() : SessionState.Path.GetUnresolvedProviderPathFromPSPath(LogPath);
            var target = System.IO.Path.Combine(folder, EventLogWriter.FileNameFor(DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp)));
            if (!ShouldProcess(target, $"Append {EventType}/{Category} event")) return;
            try
            {
                var written = EventLogWriter.Append(folder, e, details);
                if (PassThru) WriteObject(new FileInfo(written));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(ex, "LogWriteFailed", ErrorCategory.WriteError, target));
            }
        }

        /// <summary>PowerShell values arrive wrapped in PSObject; the JSON writer wants plain .NET values.</summary>
        private static object? Unwrap(object? value)
        {
            if (value is PSObject pso) value = pso.BaseObject;
            if (value is IDictionary dict)
            {
                var copy = new Hashtable(StringComparer.Ordinal);
                foreach (DictionaryEntry entry in dict) copy[entry.Key?.ToString() ?? ""] = Unwrap(entry.Value);
                return copy;
            }
            if (value is object[] array)
            {
                var copy = new object?[array.Length];
                for (var i = 0; i < array.Length; i++) copy[i] = Unwrap(array[i]);
                return copy;
            }
            return value;
        }
    }
}

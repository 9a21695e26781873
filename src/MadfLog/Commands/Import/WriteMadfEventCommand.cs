using System;
using System.Collections;
using System.IO;
using System.Management.Automation;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Config;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Import
{
    /// <summary>Appends one event to today's QuickLogger log file (madf-YYYY-MM-DD.jsonl, UTC date) in a log folder.</summary>
    /// <remarks>
    /// <para>Each event is written as one whole line in one append under a machine-wide lock per file, so scripts, jobs and agents can log to the same folder at once. Import the folder later with Import-MadfLog.</para>
    /// <para>Objects with matching property names (EventType, Category, AgentName, StoryId, ...) can be piped in.</para>
    /// <para>Each line carries a new event_id, its identity on import: the same step logged twice counts twice, and importing the file again (or a copy) adds nothing. Numbers are held to the ranges in docs/input-limits.md.</para>
    /// </remarks>
    /// <example>
    /// <code>Write-MadfEvent -EventType tool_call -Category error -Message 'File does not exist: src/a.py' -Agent dev -Story 1.2 -Success $false -Details @{ tool = 'Read' }</code>
    /// Logs a failed tool call of the dev agent in story 1.2.
    /// </example>
    /// <example>
    /// <code>[pscustomobject]@{ EventType = 'step'; Category = 'workflow'; AgentName = 'sm'; StoryId = '1.3'; DurationMs = 1200 } | Write-MadfEvent -LogPath ./live -PassThru</code>
    /// Objects with the event's properties can be piped in; -PassThru returns the log file written.
    /// </example>
    /// <returns>Nothing by default; with -PassThru, the FileInfo of the daily log the event was appended to.</returns>
    [Cmdlet(VerbsCommunications.Write, "MadfEvent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(FileInfo))]
    public sealed class WriteMadfEventCommand : MadfCmdlet
    {
        /// <summary>The kind of event: tool_call, llm_call, human_interaction, step, error, ...</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string EventType { get; set; } = "";

        /// <summary>The event's category (for human_interaction: clarification, approval, correction, rejection, interruption).</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Category { get; set; } = "";

        /// <summary>Stored as details.message: the text errors are grouped by.</summary>
        [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
        public string? Message { get; set; }

        /// <summary>The agent session the event belongs to.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)] public string? SessionId { get; set; }
        /// <summary>The story being worked on, e.g. 1.2.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][Alias("Story")] public string? StoryId { get; set; }
        /// <summary>The workflow (or project) the event belongs to.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)] public string? WorkflowId { get; set; }
        /// <summary>The agent that produced the event, e.g. dev, qa, architect.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][Alias("Agent")] public string? AgentName { get; set; }
        /// <summary>How long the step took, in milliseconds.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][ValidateRange(0, EventRanges.MaxDurationMs)] public long DurationMs { get; set; }
        /// <summary>Tokens consumed by the step.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][ValidateRange(0, EventRanges.MaxTokens)] public long TokensUsed { get; set; }
        /// <summary>How full the agent's context window was, 0-100.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][ValidateRange(0, 100)] public double ContextPercent { get; set; }
        /// <summary>Whether the step succeeded; $$false marks an error.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)] public bool Success { get; set; }
        /// <summary>The agent's confidence, 0-1.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][ValidateRange(0, 1)] public double ConfidenceScore { get; set; }
        /// <summary>How much the event mattered (free scale).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][ValidateRange(-EventRanges.MaxScore, EventRanges.MaxScore)] public double ImpactScore { get; set; }
        /// <summary>Time saved (positive) or wasted (negative), in milliseconds.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][ValidateRange(-EventRanges.MaxTimeSavedOrWastedMs, EventRanges.MaxTimeSavedOrWastedMs)] public long TimeSavedOrWastedMs { get; set; }
        /// <summary>Change in user satisfaction caused by the event.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)][ValidateRange(-EventRanges.MaxScore, EventRanges.MaxScore)] public double UserSatisfactionDelta { get; set; }
        /// <summary>Marks the event for human review.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)] public SwitchParameter NeedsReview { get; set; }
        /// <summary>Extra data stored in the event's details object (a hashtable; nested hashtables and arrays are kept).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)] public IDictionary? Details { get; set; }

        /// <summary>When the event happened; default now.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)] public DateTimeOffset Timestamp { get; set; }

        /// <summary>The log folder; default: the first folder configured with Set-MadfConfig -LogPath (so the jobs import it), else $env:MADFLOG_LOG_DIR, else logs/ in the MadfLog data folder.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? LogPath { get; set; }

        /// <summary>Write the log file's FileInfo to the pipeline.</summary>
        [Parameter] public SwitchParameter PassThru { get; set; }

        private string? _configured;

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

            var folder = LogPath != null ? ResolveOutputPath(LogPath) : (_configured ??= Engine(() => MadfConfig.Load(DatabasePath)).EventLogFolder);
            var target = System.IO.Path.Combine(folder, EventLogWriter.FileNameFor(DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp)));
            if (!ShouldProcess(target, $"Append {EventType}/{Category} event")) return;
            try
            {
                var written = EventLogWriter.Append(folder, e, details);
                if (PassThru) WriteObject(new FileInfo(written));
            }
            catch (ArgumentException ex)
            {
                // EventLogWriter.CheckFolder: -LogPath names a file. Every event would fail the same way.
                ThrowTerminatingError(new ErrorRecord(ex, "LogPathIsFile", ErrorCategory.InvalidArgument, LogPath ?? folder));
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

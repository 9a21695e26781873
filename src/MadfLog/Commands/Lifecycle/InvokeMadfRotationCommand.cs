using System;
using System.Management.Automation;
using MadfLog.Engine.Lifecycle;

namespace MadfLog.Commands.Lifecycle
{
    /// <summary>Rotates, compresses and archives MadfLog data so the active store stays small without losing an event.</summary>
    /// <remarks>
    /// <para>Daily: closes earlier days' madf-YYYY-MM-DD.jsonl files that are fully imported, moving them to the archive's closed/ folder (a file not fully imported is never moved). Weekly: compresses closed logs into one gzip per ISO week (archive/madf-YYYY-Www.jsonl.gz, readable by zcat and re-importable). Retention: events older than the window move into per-month archive databases (archive/madflog-YYYY-MM.db); patterns and summaries stay. Storage budget: when the active database is over -MaxActiveMB the window shrinks and the result says so; the database is vacuumed after a move.</para>
    /// <para>Every step is journaled and idempotent: an interrupted run leaves both copies and the next run finishes the job.</para>
    /// </remarks>
    /// <example>
    /// <code>Invoke-MadfRotation -RetentionDays 60 -WhatIf</code>
    /// Shows which logs would be closed, compressed and which months of events would move to archives.
    /// </example>
    /// <example>
    /// <code>Invoke-MadfRotation -ArchivePath ./archive -RetentionDays 3650</code>
    /// Closes and compresses fully imported logs into ./archive and keeps ten years of events active.
    /// </example>
    /// <returns>One RotationResult: files closed, weekly archives written and their compression, events moved to archive databases, and the window kept (with a note when the budget shrank it).</returns>
    [Cmdlet(VerbsLifecycle.Invoke, "MadfRotation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(RotationResult))]
    public sealed class InvokeMadfRotationCommand : MadfCmdlet
    {
        /// <summary>Live log folders to close files in; default: the configured log folders.</summary>
        [Parameter]
        public string[]? LogPath { get; set; }

        /// <summary>Where closed logs, weekly gzip archives and archive databases go; default: the configured archive folder.</summary>
        [Parameter]
        public string? ArchivePath { get; set; }

        /// <summary>Events older than this many days leave the active database; default: the configured value (90).</summary>
        [Parameter]
        [ValidateRange(1, 36500)]
        public int RetentionDays { get; set; }

        /// <summary>The active database's budget in MB; default: the configured value (100).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxActiveMB { get; set; }

        protected override void EndProcessing()
        {
            // -WhatIf must not leave a new database behind: creating one is a change of its own.
            if (!System.IO.File.Exists(DatabasePath) && !ShouldProcess(DatabasePath, "Create the MadfLog database")) return;
            UpgradeStore();
            var bound = MyInvocation.BoundParameters;
            var options = new RotationOptions
            {
                DatabasePath = DatabasePath,
                LogPaths = LogPath == null ? null : Array.ConvertAll(LogPath, ResolveOutputPath),
                ArchivePath = ArchivePath == null ? null : ResolveOutputPath(ArchivePath),
                RetentionDays = bound.ContainsKey(nameof(RetentionDays)) ? RetentionDays : (int?)null,
                MaxActiveMB = bound.ContainsKey(nameof(MaxActiveMB)) ? MaxActiveMB : (int?)null,
            };
            if (!RunInBackground(run =>
                {
                    options.ShouldProcess = run.ShouldProcess;
                    // Every step is journaled and idempotent, so a step boundary is where Ctrl+C stops safely.
                    options.Checkpoint = step =>
                    {
                        run.Cancellation.ThrowIfCancellationRequested();
                        run.Status(step);
                    };
                    return new Rotation(options).Run();
                }, out var result))
                return; // Ctrl+C: the finished steps stay; the next run finishes the job.
            foreach (var note in result.Notes) WriteWarning(note);
            WriteObject(result);
        }
    }
}

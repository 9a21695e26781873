using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using MadfLog.Engine;
using MadfLog.Engine.Facade;
using MadfLog.Engine.Store;

namespace MadfLog.Commands
{
    /// <summary>
    /// Shared plumbing for MadfLog cmdlets: -Database, path resolution, the database opened once per pipeline, and engine
    /// errors as ErrorRecords. Cmdlets reach the engine only through its types (MadfStore and the result types), never a
    /// dependency's (see Hosting/ModuleInitializer: the engine's dependencies load in their own context on PowerShell 7).
    /// </summary>
    public abstract class MadfCmdlet : PSCmdlet, IDisposable
    {
        private MadfStore? _store;
        /// <summary>The MadfLog database; default $env:MADFLOG_DB, else the per-user data folder.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Database { get; set; }

        /// <summary>-Database resolved against the PowerShell location (not the process's working directory).</summary>
        protected string DatabasePath =>
            Database == null ? StoreLocation.DefaultDatabasePath() : ResolveOutputPath(Database);

        /// <summary>
        /// The database, opened on first use and kept for the whole pipeline (every record reuses it); PowerShell disposes
        /// the cmdlet when the pipeline ends, is stopped (Ctrl+C) or fails, which closes it. A missing database is
        /// DatabaseNotFound unless the cmdlet opens it for writing.
        /// </summary>
        protected MadfStore Store(bool forWrite = false)
        {
            if (_store == null)
            {
                var path = DatabasePath;
                _store = Engine(() => forWrite ? MadfStore.OpenWrite(path, ShowUpgrade) : IncludesArchives ? MadfStore.OpenWithArchives(path, ShowUpgrade) : MadfStore.OpenRead(path, ShowUpgrade));
            }
            return _store;
        }

        /// <summary>
        /// Upgrades the database when it is of an older schema, showing each migration (for cmdlets whose engine work
        /// opens the database itself, on its own or on a background thread, where progress cannot be written).
        /// </summary>
        protected void UpgradeStore()
        {
            var path = DatabasePath;
            Engine(() => { MadfStore.Upgrade(path, ShowUpgrade); return true; });
        }

        // On the pipeline thread, while the database opens: a progress bar per migration (and for an old store's VACUUM
        // after them), and each one's time as a verbose line.
        private void ShowUpgrade(SchemaUpgradeStep step)
        {
            var status = step.IsVacuum ? Messages.UpgradingStoreVacuum
                : string.Format(Messages.Culture, Messages.UpgradingStoreStep, step.Version, Math.Min(step.Index + 1, step.Count), step.Count);
            var progress = new ProgressRecord(2, string.Format(Messages.Culture, Messages.UpgradingStore, step.Path, step.From, Schema.CurrentVersion), status)
            { PercentComplete = step.IsVacuum ? 100 : 100 * step.Index / Math.Max(1, step.Count) };
            if (step.Elapsed is TimeSpan took)
            {
                if (step.IsCommit || step.IsVacuum) progress.RecordType = ProgressRecordType.Completed;
                WriteVerbose(step.IsVacuum ? string.Format(Messages.Culture, Messages.UpgradedStoreVacuum, step.Path, took.TotalSeconds)
                    : step.IsCommit ? string.Format(Messages.Culture, Messages.UpgradedStore, step.Path, step.From, step.Version, took.TotalSeconds)
                    : string.Format(Messages.Culture, Messages.UpgradedStoreStep, step.Path, step.Version, step.Index + 1, step.Count, took.TotalSeconds));
            }
            WriteProgress(progress);
            // The upgrade committed; the VACUUM after it failed (a full disk): the command goes on, the user is told.
            if (step.Problem != null) WriteWarning(step.Problem);
        }

        /// <summary>Whether questions cover the archived events too (the question cmdlets' -IncludeArchive); otherwise the active window.</summary>
        protected virtual bool IncludesArchives => false;

        /// <summary>Closes the pipeline's database (PowerShell calls this once the pipeline is done).</summary>
        public void Dispose()
        {
            _store?.Dispose();
            _store = null;
            GC.SuppressFinalize(this);
        }

        /// <summary>A DateTime parameter as UTC, or null when the user did not give it.</summary>
        protected DateTimeOffset? Bound(string name, DateTime value) =>
            MyInvocation.BoundParameters.ContainsKey(name) ? new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero) : (DateTimeOffset?)null;

        /// <summary>The error for a window whose start is not before its end (it holds no events), or null for a window that can hold some.</summary>
        protected static ErrorRecord? EmptyWindow(DateTimeOffset? since, DateTimeOffset? until) =>
            since.HasValue && until.HasValue && since.Value >= until.Value
                ? new ErrorRecord(new ArgumentException(string.Format(Messages.Culture, Messages.EmptyTimeWindow, since.Value, until.Value)),
                    "EmptyTimeWindow", ErrorCategory.InvalidArgument, until.Value)
                : null;

        /// <summary>A path that may not exist yet, resolved against the current PowerShell location.</summary>
        protected string ResolveOutputPath(string path) =>
            SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

        /// <summary>Resolves -Path (wildcards) or -LiteralPath to file-system paths; missing items become ObjectNotFound errors.</summary>
        protected List<string> ResolvePaths(IEnumerable<string> paths, bool literal)
        {
            var resolved = new List<string>();
            foreach (var path in paths)
            {
                try
                {
                    if (literal)
                    {
                        var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                        if (!File.Exists(full) && !Directory.Exists(full))
                            throw new ItemNotFoundException(string.Format(Messages.Culture, Messages.PathNotFound, full));
                        resolved.Add(full);
                    }
                    else
                    {
                        var found = SessionState.Path.GetResolvedProviderPathFromPSPath(path, out var provider);
                        if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                        {
                            WriteError(new ErrorRecord(new ArgumentException(string.Format(Messages.Culture, Messages.PathNotFileSystem, path)),
                                "PathNotFileSystem", ErrorCategory.InvalidArgument, path));
                            continue;
                        }
                        // A wildcard that matches nothing is no error in PowerShell, but a job importing nothing should say so.
                        if (found.Count == 0) WriteWarning(string.Format(Messages.Culture, Messages.NoPathMatches, path));
                        resolved.AddRange(found);
                    }
                }
                catch (ItemNotFoundException ex)
                {
                    WriteError(new ErrorRecord(ex, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                }
                catch (System.Management.Automation.DriveNotFoundException ex)
                {
                    WriteError(new ErrorRecord(ex, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                }
            }
            return resolved;
        }

        /// <summary>The database's names matching the given names or wildcards; an unknown name is a non-terminating error, a wildcard that matches nothing a warning.</summary>
        protected string[]? Match(MadfStore store, string column, string[]? given, string what)
        {
            if (given == null || given.Length == 0) return given;
            var known = Engine(() => store.KnownNames(column));
            var matched = new List<string>();
            foreach (var name in given)
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                var hits = known.Where(pattern.IsMatch).ToList();
                if (hits.Count == 0)
                {
                    if (WildcardPattern.ContainsWildcardCharacters(name))
                        WriteWarning(string.Format(Messages.Culture, Messages.NoNameMatches, what.ToLowerInvariant(), DatabasePath, name));
                    else
                        WriteError(new ErrorRecord(new ItemNotFoundException(string.Format(Messages.Culture, Messages.NameNotFound, what.ToLowerInvariant(), name, DatabasePath) + Known(known) + Archived(store)),
                            what + "NotFound", ErrorCategory.ObjectNotFound, name));
                }
                foreach (var h in hits) if (!matched.Contains(h)) matched.Add(h);
            }
            return matched.ToArray();
        }

        private static string Known(List<string> known) =>
            known.Count == 0 ? Messages.KnownNamesNone : known.Count <= 12 ? string.Format(Messages.Culture, Messages.KnownNamesList, string.Join(", ", known)) : string.Format(Messages.Culture, Messages.KnownNamesMany, known.Count);

        // Questions cover the active window: a name that only archived events had is not found, and the error says why.
        private string Archived(MadfStore store)
        {
            if (store.IncludesArchives) return "";
            var note = Engine(() => store.ActiveWindowNote());
            return note.Length == 0 ? "" : " " + note + Messages.OpenAnArchive;
        }

        /// <summary>Writes a question's brief, led by what it covers when older events are archived (see ActiveWindow).</summary>
        protected void WriteBrief(MadfStore store, string brief)
        {
            var note = Engine(() => store.ActiveWindowNote());
            WriteObject(note.Length == 0 ? brief : note + "\n" + brief);
        }

        protected static ErrorRecord ToErrorRecord(MadfException ex) =>
            new ErrorRecord(ex, ex.ErrorId, ErrorCategoryOf(ex.Kind), ex.Target);

        protected static ErrorCategory ErrorCategoryOf(MadfErrorKind kind) => kind switch
        {
            MadfErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
            MadfErrorKind.NotFound => ErrorCategory.ObjectNotFound,
            MadfErrorKind.InvalidData => ErrorCategory.InvalidData,
            MadfErrorKind.ReadOnly => ErrorCategory.PermissionDenied,
            MadfErrorKind.VersionMismatch => ErrorCategory.InvalidData,
            _ => ErrorCategory.WriteError,
        };

        internal bool AskShouldProcess(string target, string action) => ShouldProcess(target, action);

        private BackgroundWork? _background;

        /// <summary>
        /// Runs long engine work (Import-MadfLog, Invoke-MadfRevision, Invoke-MadfRotation) on a thread-pool thread while
        /// this, the pipeline thread, shows its progress, writes its issues, answers its ShouldProcess questions and turns
        /// Ctrl+C into cancellation. A failure goes through the same error translation as <see cref="Engine{T}"/>.
        /// Returns false when the user stopped it (what was committed stays; the next run resumes).
        /// </summary>
        protected bool RunInBackground<T>(Func<BackgroundWork, T> work, out T result)
        {
            using var run = new BackgroundWork(MyInvocation.MyCommand.Name);
            _background = run;
            var task = Task.Run(() => work(run));
            var progress = new ProgressRecord(1, run.Activity, "Starting");
            var shown = false;
            try
            {
                // Wait without Task.Wait, which would wrap an engine failure in an AggregateException.
                while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(100))
                {
                    run.Drain(this);
                    shown |= ShowProgress(run, progress);
                }
                run.Drain(this);
                if (shown)
                {
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                }
            }
            catch (Exception)
            {
                // A write failed on this thread (a stopping pipeline throws PipelineStoppedException from every Write*):
                // the work must not outlive the cmdlet, holding the database or writing after it returned.
                run.Stop();
                ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
                throw;
            }
            finally
            {
                _background = null;
            }
            if (run.Unreported > 0)
                WriteWarning(string.Format(Messages.Culture, Messages.MoreLinesQuarantined, run.Unreported, DatabasePath));
            if (task.IsCanceled || (task.IsFaulted && task.Exception!.GetBaseException() is OperationCanceledException && run.Cancellation.IsCancellationRequested))
            {
                result = default!;
                return false;
            }
            result = Engine(() => task.GetAwaiter().GetResult());
            return true;
        }

        private bool ShowProgress(BackgroundWork run, ProgressRecord progress)
        {
            var status = run.TakeStatus();
            var p = run.TakeImportProgress();
            if (p != null)
            {
                progress.StatusDescription = $"{p.FileIndex + 1}/{p.FileCount}: {Path.GetFileName(p.File)} ({p.Events:N0} events)";
                progress.PercentComplete = (int)Math.Min(100, 100.0 * (p.FileIndex + (p.BytesTotal > 0 ? (double)p.BytesRead / p.BytesTotal : 1)) / Math.Max(1, p.FileCount));
            }
            else if (status != null)
            {
                progress.StatusDescription = status;
            }
            else return false;
            WriteProgress(progress);
            return true;
        }

        /// <summary>Ctrl+C: background work is cancelled (the pipeline thread then returns).</summary>
        protected override void StopProcessing() => _background?.Stop();

        /// <summary>Quarantined lines reported one by one per run; the rest are counted in one warning (Get-MadfQuarantine lists them all).</summary>
        protected internal const int MaxReportedLines = 20;

        /// <summary>An import issue (a quarantined line, an unreadable file or folder, a damaged gzip) as a non-terminating error with its id.</summary>
        protected internal void WriteImportIssue(MadfLog.Engine.Import.ImportIssue issue)
        {
            var category = issue.ErrorId == "FileUnreadable" || issue.ErrorId == "FolderUnreadable" ? ErrorCategory.ReadError : ErrorCategory.InvalidData;
            WriteError(new ErrorRecord(new FormatException(issue.ToString()), issue.ErrorId, category, issue));
        }

        /// <summary>Runs engine work; an engine failure terminates the cmdlet with its specific error id.</summary>
        protected T Engine<T>(Func<T> work)
        {
            try
            {
                return work();
            }
            catch (UnauthorizedAccessException ex)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "AccessDenied", ErrorCategory.PermissionDenied, null));
                throw; // not reached
            }
            catch (Exception ex) when (!(ex is PipelineStoppedException) && MadfStore.Translate(ex, DatabasePath) is MadfException known)
            {
                // The engine's own errors, and SQLite failing in a query or a write (a damaged page, a full disk): the
                // engine names the error id (the cmdlets never see SQLite's types, see MadfStore).
                ThrowTerminatingError(ToErrorRecord(known));
                throw;
            }
        }

        /// <summary>Runs engine work that returns nothing (reads and writes objects itself) under the same error translation.</summary>
        protected void Engine(Action work) => Engine(() => { work(); return true; });
    }
}

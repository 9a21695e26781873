using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using MadfLog.Engine.Import;

namespace MadfLog.Commands
{
    /// <summary>
    /// What long engine work (an import, a revision, a rotation) may do from its own thread while the cmdlet waits:
    /// report issues and progress, ask ShouldProcess, and see Ctrl+C. Everything is handed to the pipeline thread,
    /// the only thread allowed to write to PowerShell's streams or ask the user (see MadfCmdlet.RunInBackground).
    /// </summary>
    public sealed class BackgroundWork : IDisposable
    {
        private readonly BlockingCollection<Action<MadfCmdlet>> _calls = new BlockingCollection<Action<MadfCmdlet>>();
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private ImportProgress? _latestImport;
        private string? _latestStatus;
        private int _issues;
        private long _unreported;

        internal BackgroundWork(string activity) { Activity = activity; }

        /// <summary>The progress activity (the cmdlet's name).</summary>
        public string Activity { get; }

        /// <summary>Cancelled by Ctrl+C (StopProcessing): committed work stays, the next run resumes.</summary>
        public CancellationToken Cancellation => _stop.Token;

        /// <summary>The latest import progress is shown; intermediate ones are skipped, never queued.</summary>
        public IProgress<ImportProgress> ImportProgress => new Reporter(p => Interlocked.Exchange(ref _latestImport, p));

        /// <summary>The step the work is in (shown as the progress status).</summary>
        public void Status(string text) => Interlocked.Exchange(ref _latestStatus, text);

        /// <summary>
        /// An import issue as a non-terminating error with its id; quarantined lines beyond MadfCmdlet.MaxReportedLines
        /// are only counted (one warning at the end points to Get-MadfQuarantine).
        /// </summary>
        public void Issue(ImportIssue issue)
        {
            if (issue.ErrorId == "LineQuarantined" && Interlocked.Increment(ref _issues) > MadfCmdlet.MaxReportedLines)
            {
                Interlocked.Increment(ref _unreported);
                return;
            }
            _calls.Add(c => c.WriteImportIssue(issue));
        }

        /// <summary>ShouldProcess, asked on the pipeline thread (for -WhatIf/-Confirm); the work waits for the answer.</summary>
        public bool ShouldProcess(string target, string action)
        {
            var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _calls.Add(c =>
            {
                try { answer.SetResult(c.AskShouldProcess(target, action)); }
                catch (Exception ex) { answer.SetException(ex); }
            });
            try
            {
                answer.Task.Wait(Cancellation);
            }
            catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            }
            return answer.Task.Result;
        }

        internal void Stop()
        {
            // Ctrl+C may arrive (on PowerShell's thread) just as the work ends and is disposed.
            try { _stop.Cancel(); }
            catch (ObjectDisposedException) { }
        }

        public void Dispose()
        {
            _stop.Dispose();
            _calls.Dispose();
        }

        internal long Unreported => Interlocked.Read(ref _unreported);

        /// <summary>Runs what the work handed over, on the pipeline thread.</summary>
        internal void Drain(MadfCmdlet cmdlet)
        {
            while (_calls.TryTake(out var call)) call(cmdlet);
        }

        internal ImportProgress? TakeImportProgress() => Interlocked.Exchange(ref _latestImport, null);
        internal string? TakeStatus() => Interlocked.Exchange(ref _latestStatus, null);

        private sealed class Reporter : IProgress<ImportProgress>
        {
            private readonly Action<ImportProgress> _report;
            public Reporter(Action<ImportProgress> report) { _report = report; }
            public void Report(ImportProgress value) => _report(value);
        }
    }
}

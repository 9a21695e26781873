using System;
using System.Threading;

namespace MadfLog.Engine.Import
{
    public sealed class ImportOptions
    {
        /// <summary>Database file; null means the default location.</summary>
        public string? DatabasePath { get; set; }

        /// <summary>"Auto" (recognise per file), or a format name such as "Madf" or "ClaudeCode".</summary>
        public string Format { get; set; } = "Auto";

        /// <summary>Story id to stamp on events that do not carry one.</summary>
        public string? Story { get; set; }

        /// <summary>
        /// Events per batch handed between the import's threads (several batches share a transaction, see CommitEvents).
        /// Small batches keep the events in flight young for the garbage collector: 500 measured fastest.
        /// </summary>
        public int BatchSize { get; set; } = 500;

        /// <summary>At most this many events (and quarantined lines) per transaction when batches queue up.</summary>
        public int CommitEvents { get; set; } = 200_000;

        public IProgress<ImportProgress>? Progress { get; set; }

        /// <summary>Called (from a worker thread) for every quarantined line and every file-level problem.</summary>
        public Action<ImportIssue>? OnIssue { get; set; }

        public CancellationToken Cancellation { get; set; }
    }

    public sealed class ImportProgress
    {
        public ImportProgress(string file, int fileIndex, int fileCount, long bytesRead, long bytesTotal, long events)
        {
            File = file; FileIndex = fileIndex; FileCount = fileCount; BytesRead = bytesRead; BytesTotal = bytesTotal; Events = events;
        }

        public string File { get; }
        public int FileIndex { get; }
        public int FileCount { get; }
        public long BytesRead { get; }
        public long BytesTotal { get; }
        public long Events { get; }
    }

    /// <summary>A problem found while importing: a quarantined line (LineNumber > 0) or a file-level failure.</summary>
    public sealed class ImportIssue
    {
        public ImportIssue(string errorId, string file, long lineNumber, string reason)
        {
            ErrorId = errorId; File = file; LineNumber = lineNumber; Reason = reason;
        }

        /// <summary>Stable id: LineQuarantined, FileUnreadable, FolderUnreadable, FolderLoop, GzipTruncated, GzipCorrupt, GzipTooLarge.</summary>
        public string ErrorId { get; }
        public string File { get; }
        public long LineNumber { get; }
        public string Reason { get; }

        public override string ToString() => LineNumber > 0 ? $"{File}:{LineNumber}: {Reason}" : $"{File}: {Reason}";
    }
}

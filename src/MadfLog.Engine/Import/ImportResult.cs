using System;
using System.Collections.Generic;

namespace MadfLog.Engine.Import
{
    /// <summary>What one Import-MadfLog run did, in total and per file.</summary>
    public sealed class ImportResult
    {
        public string Database { get; set; } = "";
        public int Files { get; set; }
        public long LinesRead { get; set; }
        public long Imported { get; set; }
        public long Duplicates { get; set; }
        public long Quarantined { get; set; }
        /// <summary>Lines of record types with nothing to analyse (e.g. transcript snapshots); not errors.</summary>
        public long Skipped { get; set; }
        public long BlankLines { get; set; }
        /// <summary>Bytes of unterminated last lines left for the next run (a writer is still appending).</summary>
        public long PendingBytes { get; set; }
        public TimeSpan Elapsed { get; set; }
        public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Math.Round(Imported / Elapsed.TotalSeconds) : 0;
        /// <summary>
        /// Seconds each stage of the import pipeline was busy (reading and parsing; redaction, tokenizing and shaping;
        /// writing): the stage closest to Elapsed is what limits the speed. Wall-clock, so time waiting for a CPU counts.
        /// </summary>
        public double ReadSeconds { get; set; }
        /// <summary>Seconds the reading thread waited for room in the queue (the threads after it were behind).</summary>
        public double ReadBlockedSeconds { get; set; }
        public double PrepareSeconds { get; set; }
        public double WriteSeconds { get; set; }
        /// <summary>Bytes the collector handed each of the three threads (reading, preparing, writing; helper threads of
        /// the stages not counted): where an import's allocations, and so its collections, come from.</summary>
        public long ReadAllocatedBytes { get; set; }
        public long PrepareAllocatedBytes { get; set; }
        public long WriteAllocatedBytes { get; set; }
        /// <summary>Transactions the import committed (each one flushes the summaries and the dedup keys it touched).</summary>
        public int Commits { get; set; }
        /// <summary>Times the import compacted the collector's heap between transactions (its free space had grown past a
        /// quarter of the heap: Import.HeapCompaction), so that memory stays flat in the input's size.</summary>
        public int HeapCompactions { get; set; }
        /// <summary>
        /// Seconds the writer thread spent in each of its steps (stages before and after the insert, dedup keys, row
        /// inserts, each stage's flush, the keys' flush, the commit): where the writer's time goes. The thread's CPU
        /// seconds on Linux, wall seconds elsewhere (<see cref="Store.StepClock"/>).
        /// </summary>
        public Dictionary<string, double> WriterSteps { get; } = new Dictionary<string, double>(StringComparer.Ordinal);
        /// <summary>Bytes the writer thread allocated in each of <see cref="WriterSteps"/>.</summary>
        public Dictionary<string, long> WriterStepBytes { get; } = new Dictionary<string, long>(StringComparer.Ordinal);
        public List<FileImportResult> FileResults { get; } = new List<FileImportResult>();
    }

    public sealed class FileImportResult
    {
        public string Path { get; set; } = "";
        public string Format { get; set; } = "";
        public long StartOffset { get; set; }
        public long EndOffset { get; set; }
        public long LinesRead { get; set; }
        public long Imported { get; set; }
        public long Duplicates { get; set; }
        public long Quarantined { get; set; }
        public long Skipped { get; set; }
        public long BlankLines { get; set; }
        public long PendingBytes { get; set; }
        /// <summary>Why the file was not read, or read only in part (null when all went well).</summary>
        public string? Problem { get; set; }
    }

    /// <summary>What an import would read (for -WhatIf).</summary>
    public sealed class ImportPlanItem
    {
        public string Path { get; set; } = "";
        public string Format { get; set; } = "";
        public long StartOffset { get; set; }
        public long Length { get; set; }
        public bool NothingNew { get; set; }
    }
}

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// Streams log files into the store, exactly once. One thread reads and parses, a second prepares (redaction,
    /// details, mining tokens), and the thread that called Import writes (docs/ARCHITECTURE.md#threads). Events, their
    /// quarantined lines and the files' new read positions commit together (several batches per transaction), so a
    /// crash or Ctrl+C leaves a consistent store and the next run resumes.
    /// </summary>
    public sealed class LogImporter
    {
        internal const int HeadBytes = 1024;

        /// <summary>SQLite's page cache on the import's connection, in KiB.</summary>
        internal const int ImportCacheKib = 16 * 1024;

        private readonly ImportOptions _options;

        public LogImporter(ImportOptions options) { _options = options; }

        /// <summary>What an import would read, without reading or writing anything.</summary>
        public List<ImportPlanItem> Plan(IEnumerable<string> paths, Action<ImportIssue>? onFolderIssue = null)
        {
            var files = LogFileFinder.Expand(paths, onFolderIssue);
            // Nothing is written: with no database yet every file is new, and none is created (-WhatIf).
            var exists = File.Exists(Path.GetFullPath(_options.DatabasePath ?? StoreLocation.DefaultDatabasePath()));
            using var connection = exists ? MadfDatabase.Open(_options.DatabasePath, forWrite: false) : null;
            var cursors = connection != null ? FileCursor.LoadAll(connection) : new FileCursors();
            var plan = new List<ImportPlanItem>();
            foreach (var path in files)
            {
                var item = new ImportPlanItem { Path = path };
                try
                {
                    var probe = FileProbe.Stat(path);
                    if (Unchanged(cursors.ByPath(path), probe) is { } same)
                    {
                        item.Format = same.Format;
                        item.StartOffset = same.Offset;
                        item.NothingNew = true;
                        item.Length = probe.Length;
                        plan.Add(item);
                        continue;
                    }
                    probe.ReadHead();
                    var cursor = cursors.Match(path, probe);
                    item.Format = FormatFor(path, probe, cursor, out var readAgain).Name;
                    item.StartOffset = readAgain ? 0 : cursor?.ResumeOffset(probe) ?? 0;
                    item.NothingNew = !readAgain && cursor != null && cursor.NothingNew(probe);
                    item.Length = probe.Length;
                }
                catch (IOException ex) { item.Format = "unreadable: " + ex.Message; }
                catch (UnauthorizedAccessException ex) { item.Format = "unreadable: " + ex.Message; }
                plan.Add(item);
            }
            return plan;
        }

        public ImportResult Import(IEnumerable<string> paths)
        {
            var clock = Stopwatch.StartNew();
            var files = LogFileFinder.Expand(paths, _options.OnIssue);
            var result = new ImportResult { Files = files.Count };
            var started = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

            using var connection = MadfDatabase.Open(_options.DatabasePath);
            result.Database = connection.DataSource;
            // A smaller page cache than questions get (MadfDatabase.Open): the writer appends rows and rewrites key and
            // summary rows in order, so it reads few pages twice, and the 64 MB it would fill was a fifth of the peak
            // memory (docs/storage.md, "Where the import's memory goes").
            connection.Execute($"PRAGMA cache_size = -{ImportCacheKib}");
            Patterns.PatternRekey.RunIfPending(connection, Rules.RuleStore.MovePattern); // once, after the upgrade to error signatures
            var cursors = FileCursor.LoadAll(connection);
            cursors.LoadNumbering(connection, files);
            var stages = ImportStages.Create();

            // Three stages in a pipeline: read and parse → prepare (redaction, tokenizing: CPU without the database) →
            // write (this thread). Bounded queues (4 batches each) keep memory constant. (Longer ones, 32 and 128 batches,
            // were measured to let the first two threads go on while the writer flushes a commit: 0.9 KB more peak memory
            // per queued event, and the events waiting longer survived into gen1: twice the gen1 collections.)
            using var parsed = new BlockingCollection<Batch>(boundedCapacity: 4);
            using var queue = new BlockingCollection<Batch>(boundedCapacity: 4);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(_options.Cancellation);
            Exception? readerFailure = null;
            var readerClock = new Stopwatch();
            var prepareClock = new Stopwatch();
            var writeClock = new Stopwatch();
            _readerBlocked.Reset();
            var reader = new Thread(() =>
            {
                readerClock.Start();
                var readerAllocated = StepClock.AllocatedBytes();
                try
                {
                    for (var i = 0; i < files.Count && !stop.IsCancellationRequested; i++)
                        ReadFile(files[i], i, files.Count, cursors, parsed, stop.Token);
                }
                catch (OperationCanceledException) { }
                catch (Exception ex) { readerFailure = ex; }
                finally { parsed.CompleteAdding(); readerClock.Stop(); result.ReadAllocatedBytes = StepClock.AllocatedBytes() - readerAllocated; }
            }) { IsBackground = true, Name = "MadfLog reader" };
            var preparer = new Thread(() =>
            {
                var preparerAllocated = StepClock.AllocatedBytes();
                // The details the parsers left as UTF-8 are split here, by one splitter for all files (what it learns of
                // repeated strings carries over).
                var splitter = new DetailsShape.Splitter();
                try
                {
                    foreach (var batch in parsed.GetConsumingEnumerable(stop.Token))
                    {
                        prepareClock.Start();
                        UnsplitDetails.SplitAll(batch.Events, splitter);
                        batch.Prepared = PreparedStages.Run(stages, batch.Events);
                        prepareClock.Stop();
                        queue.Add(batch, stop.Token);
                    }
                }
                catch (OperationCanceledException) { }
                catch (Exception ex) { readerFailure ??= ex; }
                finally { queue.CompleteAdding(); result.PrepareAllocatedBytes = StepClock.AllocatedBytes() - preparerAllocated; }
            }) { IsBackground = true, Name = "MadfLog prepare" };
            reader.Start();
            preparer.Start();

            SqliteTransaction? tx = null;
            EventWriter? writer = null; // one per transaction: its statements and name ids last as long as the transaction
            // The dedup keys' rows read stay cached from one transaction to the next (EventKeys checks that no other
            // connection wrote in between); a failure ends the import, and the cache with it.
            using var keys = new EventKeys(connection);
            using var responseKeys = EventKeys.Responses(connection);
            var writerCaches = new EventWriter.Caches(); // each transaction's writer empties and reuses them
            var uncommitted = 0;
            var sinceCommit = Stopwatch.StartNew();
            // Each file's newest cursor in this transaction, saved once when it commits (its batches' cursors in between
            // would be overwritten before anyone could read them).
            var cursorsToSave = new Dictionary<int, FileCursor>();
            var steps = new StepClock(); // the writer's steps (ImportResult.WriterSteps)
            var writerAllocated = StepClock.AllocatedBytes();
            void Commit()
            {
                steps.Start();
                foreach (var c in cursorsToSave.Values) c.Save(connection, tx!);
                cursorsToSave.Clear();
                steps.Lap("commit: cursors");
                ImportStages.BeforeCommit(stages, connection, tx!, steps);
                writer!.Flush();
                writer.Dispose();
                writer = null;
                steps.Lap("flush: keys");
                tx!.Commit();
                tx.Dispose();
                tx = null;
                steps.Lap("commit");
                // Between transactions nothing of the last one is alive: the moment to give back the heap's free space.
                if (HeapCompaction.CompactIfFragmented()) result.HeapCompactions++;
                steps.Lap("commit: compaction");
                uncommitted = 0;
                result.Commits++;
                sinceCommit.Restart();
            }
            try
            {
                long eventsSoFar = 0;
                while (true)
                {
                    // While a transaction is open, wait a second at most: when the reader has had nothing ready for that long
                    // (the lines trickle in), what came so far is made durable.
                    if (!queue.TryTake(out var batch, tx != null ? 1000 : Timeout.Infinite))
                    {
                        if (queue.IsCompleted) break;
                        _options.Cancellation.ThrowIfCancellationRequested();
                        writeClock.Start();
                        Commit();
                        writeClock.Stop();
                        continue;
                    }
                    _options.Cancellation.ThrowIfCancellationRequested();
                    writeClock.Start();
                    var file = batch.File;
                    // A file with nothing new and a cursor with nothing to save opens no transaction.
                    if (batch.Events.Count > 0 || batch.Quarantine.Count > 0 || batch.ForgetQuarantine || !batch.Cursor.Skip)
                    {
                        steps.Start();
                        if (tx == null)
                        {
                            tx = connection.BeginTransaction();
                            writer = new EventWriter(connection, tx, keys, responseKeys, writerCaches) { Steps = steps };
                        }
                        cursorsToSave[batch.FileIndex] = batch.Cursor;
                        steps.Lap("begin");
                        if (batch.Events.Count > 0)
                        {
                            var inserted = ImportStages.Write(connection, tx, batch.Events, stages, batch.Prepared, flush: false, writer: writer, clock: steps);
                            file.Imported += inserted;
                            file.Duplicates += batch.Events.Count - inserted;
                        }
                        if (batch.ForgetQuarantine) QuarantineRow.Forget(connection, tx, file.Path);
                        foreach (var q in batch.Quarantine) q.Save(connection, tx);
                        uncommitted += batch.Events.Count + batch.Quarantine.Count;
                    }
                    // Commit every CommitEvents events, and every 10 s while batches keep coming slowly: batches share a
                    // transaction and the summaries and keys are flushed once for them all. (A commit whenever the queue was
                    // empty after a second made a reader just slower than the writer commit every second: 11 commits instead
                    // of 1 at 200k events on a busy machine, each flushing the summaries and key rows it touched.)
                    if (tx != null && (uncommitted >= _options.CommitEvents || queue.Count == 0 && sinceCommit.ElapsedMilliseconds >= 10_000)) Commit();
                    writeClock.Stop();
                    file.LinesRead += batch.LinesRead;
                    file.Quarantined += batch.Quarantine.Count;
                    file.Skipped += batch.Skipped;
                    file.BlankLines += batch.Blank;
                    file.EndOffset = batch.Cursor.Offset;
                    if (batch.Last)
                    {
                        file.PendingBytes = batch.PendingBytes;
                        file.Problem = batch.Problem;
                        result.FileResults.Add(file);
                    }
                    eventsSoFar += batch.Events.Count;
                    _options.Progress?.Report(new ImportProgress(file.Path, batch.FileIndex, files.Count, batch.Cursor.Offset, batch.FileLength, eventsSoFar));
                }
                if (tx != null) Commit();
            }
            catch
            {
                writer?.Dispose();
                tx?.Dispose(); // rolls back the batches since the last commit; their cursors roll back with them
                stop.Cancel();
                // Drain so no thread stays blocked on a full queue.
                while (queue.TryTake(out _) || parsed.TryTake(out _)) { }
                reader.Join();
                preparer.Join();
                throw;
            }
            reader.Join();
            preparer.Join();
            if (readerFailure != null) throw readerFailure;
            _options.Cancellation.ThrowIfCancellationRequested();

            foreach (var f in result.FileResults)
            {
                result.LinesRead += f.LinesRead; result.Imported += f.Imported; result.Duplicates += f.Duplicates;
                result.Quarantined += f.Quarantined; result.Skipped += f.Skipped; result.BlankLines += f.BlankLines;
                result.PendingBytes += f.PendingBytes;
            }
            result.Elapsed = clock.Elapsed;
            result.ReadSeconds = Math.Round((readerClock.Elapsed - _readerBlocked.Elapsed).TotalSeconds, 2);
            result.ReadBlockedSeconds = Math.Round(_readerBlocked.Elapsed.TotalSeconds, 2);
            result.PrepareSeconds = Math.Round(prepareClock.Elapsed.TotalSeconds, 2);
            result.WriteSeconds = Math.Round(writeClock.Elapsed.TotalSeconds, 2);
            result.WriteAllocatedBytes = StepClock.AllocatedBytes() - writerAllocated;
            steps.CopyTo(result.WriterSteps);
            steps.CopyAllocationsTo(result.WriterStepBytes);
            connection.Execute(
                "INSERT INTO import_runs(started, finished, files, lines_read, imported, duplicates, quarantined) VALUES (@s, @f, @files, @l, @i, @d, @q)",
                new { s = started, f = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), files = result.Files, l = result.LinesRead, i = result.Imported, d = result.Duplicates, q = result.Quarantined });
            MadfDatabase.ReleaseFreePages(connection);
            return result;
        }

        private ILogFormat ChooseFormat(string path, FileProbe probe)
        {
            if (!string.Equals(_options.Format, "Auto", StringComparison.OrdinalIgnoreCase))
            {
                return LogFormats.Find(_options.Format) ?? throw new MadfException("UnknownFormat", MadfErrorKind.InvalidArgument,
                    string.Format(Messages.Culture, Messages.UnknownFormat, _options.Format, string.Join(", ", LogFormats.Names)), _options.Format);
            }
            return LogFormats.Recognize(path, probe.Head, probe.FirstLine);
        }

        /// <summary>
        /// The format to read a file as: the one it was read as before (so a forced -Format sticks), unless that was the
        /// fallback and its content is now recognised (a shape this version learned): then it is read again from the start.
        /// </summary>
        private ILogFormat FormatFor(string path, FileProbe probe, FileCursor? cursor, out bool readAgain)
        {
            readAgain = false;
            var before = cursor != null && string.Equals(_options.Format, "Auto", StringComparison.OrdinalIgnoreCase) ? LogFormats.Find(cursor.Format) : null;
            if (before == null) return ChooseFormat(path, probe);
            if (!ReferenceEquals(before, LogFormats.Fallback)) return before;
            var now = ChooseFormat(path, probe);
            readAgain = !ReferenceEquals(now, before);
            return now;
        }

        /// <summary>
        /// The cursor of a file at this path when the file is unchanged since it was read to its end (FileCursor.Unchanged)
        /// and would be read as the same format: nothing to read, not even its first bytes. Null otherwise (a file read as
        /// the fallback, the event log's format, has its first line looked at again, since this version may recognise it
        /// as another: a daily log's 1 KB, against thousands of transcripts skipped on a stat).
        /// </summary>
        private FileCursor? Unchanged(FileCursor? cursor, FileProbe probe)
        {
            if (cursor == null || !cursor.Unchanged(probe)) return null;
            var auto = string.Equals(_options.Format, "Auto", StringComparison.OrdinalIgnoreCase);
            var format = LogFormats.Find(cursor.Format);
            if (format == null || ReferenceEquals(format, LogFormats.Fallback)) return null;
            return auto || string.Equals(_options.Format, format.Name, StringComparison.OrdinalIgnoreCase) ? cursor : null;
        }

        private void Report(string errorId, string file, long line, string reason) =>
            _options.OnIssue?.Invoke(new ImportIssue(errorId, file, line, reason));

        // Time the reader spends waiting for room in the queue (the stages after it are slower), so busy time can be told apart.
        private readonly Stopwatch _readerBlocked = new Stopwatch();

        private void Enqueue(BlockingCollection<Batch> queue, Batch batch, CancellationToken token)
        {
            _readerBlocked.Start();
            try { queue.Add(batch, token); }
            finally { _readerBlocked.Stop(); }
        }

        [MethodImpl(Hot.Path)]
        private void ReadFile(string path, int index, int count, FileCursors cursors, BlockingCollection<Batch> queue, CancellationToken token)
        {
            var fileResult = new FileImportResult { Path = path };
            FileProbe probe;
            try
            {
                probe = FileProbe.Stat(path);
                if (Unchanged(cursors.ByPath(path), probe) is { } same)
                {
                    // A stat and the cursor: nothing to read, and nothing to save (the cursor says all there is).
                    fileResult.Format = same.Format;
                    fileResult.StartOffset = fileResult.EndOffset = same.Offset;
                    var unchanged = same.Snapshot();
                    unchanged.Skip = true;
                    Enqueue(queue, new Batch(fileResult, unchanged, index, probe.Length) { Last = true }, token);
                    return;
                }
                probe.ReadHead();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                var problem = ex is FileNotFoundException || ex is DirectoryNotFoundException ? Messages.IssueFileNotFound : ex.Message;
                fileResult.Problem = problem;
                Report("FileUnreadable", path, 0, problem);
                var c = new FileCursor { Path = path, Format = "", Skip = true };
                Enqueue(queue, new Batch(fileResult, c, index, 0) { Last = true, Problem = problem }, token);
                return;
            }

            var cursor = cursors.Match(path, probe);
            var format = FormatFor(path, probe, cursor, out var readAgain);
            fileResult.Format = format.Name;
            if (cursor == null)
            {
                cursor = new FileCursor { Path = path, FirstImported = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
                cursors.Add(cursor);
            }
            else if (!readAgain && cursor.NothingNew(probe))
            {
                fileResult.StartOffset = fileResult.EndOffset = cursor.Offset;
                // Saved only when it moved or its size or time changed (the fallback format's files, whose first bytes are
                // looked at again, come here unchanged).
                var same = cursor.Path == path && cursor.Unchanged(probe);
                cursor.Touch(path, probe);
                var snapshot = cursor.Snapshot();
                snapshot.Skip = same;
                Enqueue(queue, new Batch(fileResult, snapshot, index, probe.Length) { Last = true }, token);
                return;
            }
            var start = readAgain ? 0 : cursor.ResumeOffset(probe);
            var lineNumber = start == cursor.Offset ? cursor.Lines : 0;
            if (start == 0) lineNumber = 0;
            cursor.Format = format.Name;
            cursor.Path = path;
            fileResult.StartOffset = start;

            var parser = format.CreateParser(new LogFileContext(path, _options) { KeepDetailsUnsplit = true });
            var replay = parser as IReplaysEarlierLines;
            // A grown file continues from the state saved with its cursor; without one (a store from before schema 45, a
            // moved file, a cursor saved mid-file) the lines before are replayed.
            if (start > 0 && replay != null && !(start == cursor.Offset && cursor.Numbering != null && replay.ContinueFrom(cursor.Numbering)))
                ReplayEarlierLines(path, probe.IsGzip, start, MaxLineBytes(format), replay, token);
            using var raw = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
            Stream stream = probe.IsGzip ? new GzipLimitStream(raw) : (Stream)raw;
            LineReader? lineReader = null;
            try
            {
                if (probe.IsGzip) SkipBytes(stream, start);
                else raw.Seek(start, SeekOrigin.Begin);
                // A JSON array's elements are its records; everything else is read line by line.
                var maxLine = MaxLineBytes(format);
                var array = format is IJsonArrayFormat ? new JsonArrayReader(stream, start, maxRecordBytes: maxLine) : null;
                lineReader = array == null ? new LineReader(stream, start, maxLineBytes: maxLine) : null;
                IRecordReader lines = (IRecordReader?)array ?? lineReader!;
                // Read again as what it is: the lines quarantined when it was read as the fallback go with the first batch.
                var batch = new Batch(fileResult, null!, index, probe.Length) { ForgetQuarantine = readAgain };
                var events = batch.Events;
                long consumed = start, pendingBytes = 0;
                string? problem = null;
                var corrupt = false;
                var capped = false;
                try
                {
                while (lines.TryReadLine(out var seg, out var lineOffset, out var terminated, out var tooLong))
                {
                    token.ThrowIfCancellationRequested();
                    if (!terminated && (!probe.IsGzip || probe.GzipTruncatedAt(lines.Position)))
                    {
                        // The writer may still be appending this line, or the .gz was cut inside it (a copy still running):
                        // leave it for the next run, which reads it whole once the rest is there.
                        pendingBytes = lines.Position - lineOffset;
                        break;
                    }
                    lineNumber = array?.RecordLine ?? lineNumber + 1;
                    batch.LinesRead++;
                    var span = WithoutBom(new ReadOnlySpan<byte>(seg.Array, seg.Offset, seg.Count));
                    if (tooLong)
                    {
                        // Never held whole: kept are its first 4 KB, its length and a hash of all of it.
                        Quarantine(batch, path, lineNumber, lineOffset, lineReader != null
                            ? string.Format(Messages.Culture, Messages.ReasonLineTooLong, lineReader.OversizeLength, maxLine >> 20, lineReader.OversizeSha256, span.Length)
                            : string.Format(Messages.Culture, Messages.ReasonRecordTooLong, maxLine >> 20, span.Length), span);
                    }
                    else if (IsBlank(span))
                    {
                        batch.Blank++;
                    }
                    else if (Utf8Validation.FirstInvalid(span) is var bad && bad >= 0)
                    {
                        // Checked here for every format: a bad byte would otherwise throw from whatever decodes the text.
                        Quarantine(batch, path, lineNumber, lineOffset, string.Format(Messages.Culture, Messages.ReasonNotUtf8, span[bad], bad + 1), span);
                    }
                    else
                    {
                        var before = events.Count;
                        LineOutcome outcome;
                        string? reason;
                        try { outcome = parser.Parse(span, lineNumber, lineOffset, events, out reason); }
                        catch (Exception ex) when (ex is InvalidOperationException || ex is FormatException || ex is OverflowException || ex is ArgumentException)
                        {
                            // One line a parser cannot take must not stop the import: it is quarantined like any other.
                            outcome = LineOutcome.Quarantined;
                            reason = string.Format(Messages.Culture, Messages.ReasonNotUnderstoodBecause, ex.Message);
                        }
                        for (var i = before; i < events.Count && outcome == LineOutcome.Parsed; i++)
                        {
                            // Every format's values are held to the documented ranges, so no sum can overflow or wrap.
                            var violation = EventRanges.Violation(events[i]);
                            if (violation != null) { outcome = LineOutcome.Quarantined; reason = violation; }
                        }
                        if (outcome == LineOutcome.Quarantined)
                        {
                            if (events.Count > before) events.RemoveRange(before, events.Count - before);
                            Quarantine(batch, path, lineNumber, lineOffset, reason ?? Messages.ReasonNotUnderstood, span);
                        }
                        else if (outcome == LineOutcome.Skipped)
                        {
                            batch.Skipped++;
                        }
                    }
                    consumed = lines.Position;
                    if (events.Count >= _options.BatchSize || batch.Quarantine.Count >= _options.BatchSize)
                    {
                        batch.Cursor = cursor.Advance(ResumePoint(parser, consumed), lineNumber, probe, complete: false);
                        Enqueue(queue, batch, token);
                        batch = new Batch(fileResult, null!, index, probe.Length);
                        events = batch.Events;
                    }
                }
                }
                catch (GzipLimitException ex)
                {
                    // A gzip bomb: keep what was read before the cap and do not read it again on every run.
                    capped = true;
                    problem = string.Format(Messages.Culture, Messages.IssueGzipTooLarge, consumed, ex.Message);
                    Report("GzipTooLarge", path, lineNumber, problem);
                }
                catch (InvalidDataException ex) when (probe.IsGzip)
                {
                    corrupt = true;
                    problem = string.Format(Messages.Culture, Messages.IssueGzipCorrupt, consumed, ex.Message);
                    Report("GzipCorrupt", path, lineNumber, problem);
                }
                if (parser is IEndOfFileParser ending) ending.EndOfFile(events);
                var truncated = probe.IsGzip && !corrupt && !capped && probe.GzipTruncatedAt(lines.Position);
                if (truncated)
                {
                    problem = string.Format(Messages.Culture, Messages.IssueGzipTruncated, lines.Position);
                    Report("GzipTruncated", path, 0, problem);
                }
                // Complete: read to its end as it is now (a .gz whole, or a line file up to its last full line), so the next
                // run skips it while its size and time stay the same, even where the parser holds back lines still
                // waiting for others (a tool call without its result), which it would only hold back again.
                var resumeAt = ResumePoint(parser, consumed);
                batch.Cursor = cursor.Advance(resumeAt, lineNumber, probe, complete: !truncated && !corrupt,
                    numbering: resumeAt == consumed ? replay?.SavedState() : null);
                batch.Last = true;
                batch.PendingBytes = pendingBytes;
                batch.Problem = problem;
                Enqueue(queue, batch, token);
            }
            finally
            {
                lineReader?.Dispose();
                stream.Dispose();
            }
        }

        /// <summary>
        /// The longest line a format's parser is given (docs/input-limits.md): 1 MB for event logs; transcripts embed pasted
        /// images and file contents as base64, so theirs is 32 MB. Longer lines are quarantined by their head and hash.
        /// </summary>
        public static int MaxLineBytes(ILogFormat format) =>
            format.Name.StartsWith("ClaudeCode", StringComparison.Ordinal) ? 32 << 20 : LineReader.DefaultMaxLineBytes;

        // Shows a resumed file's earlier lines to a parser whose keys depend on them, exactly as the reading loop passes
        // lines to Parse (BOM removed; blank, oversize and invalid UTF-8 lines never reach it).
        private static void ReplayEarlierLines(string path, bool gzip, long start, int maxLineBytes, IReplaysEarlierLines replay, CancellationToken token)
        {
            using var raw = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
            using var stream = gzip ? new GZipStream(raw, CompressionMode.Decompress) : (Stream)raw;
            using var lines = new LineReader(stream, 0, maxLineBytes: maxLineBytes);
            try
            {
                while (lines.TryReadLine(out var seg, out _, out var terminated, out var tooLong))
                {
                    token.ThrowIfCancellationRequested();
                    if (!terminated || lines.Position > start) break;
                    var span = WithoutBom(new ReadOnlySpan<byte>(seg.Array, seg.Offset, seg.Count));
                    if (!tooLong && !IsBlank(span) && Utf8Validation.FirstInvalid(span) < 0) replay.Replay(span);
                    if (lines.Position == start) break;
                }
            }
            catch (InvalidDataException) { } // corrupt gzip: the read that follows reports it
        }

        private static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> span) =>
            span.Length >= 3 && span[0] == 0xEF && span[1] == 0xBB && span[2] == 0xBF ? span.Slice(3) : span;

        private static long ResumePoint(ILineParser parser, long consumed)
        {
            var pending = parser.EarliestPendingOffset;
            return pending.HasValue && pending.Value < consumed ? pending.Value : consumed;
        }

        private void Quarantine(Batch batch, string path, long lineNumber, long offset, string reason, ReadOnlySpan<byte> line)
        {
            batch.Quarantine.Add(new QuarantineRow(path, lineNumber, offset, reason, SafeText.Redact(Encoding.UTF8.GetString(line.ToArray()))!));
            Report("LineQuarantined", path, lineNumber, reason);
        }

        private static bool IsBlank(ReadOnlySpan<byte> span)
        {
            foreach (var b in span) if (b != (byte)' ' && b != (byte)'\t' && b != (byte)'\r') return false;
            return true;
        }

        private static void SkipBytes(Stream stream, long count)
        {
            var buffer = new byte[1 << 16];
            while (count > 0)
            {
                var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
                if (read <= 0) break;
                count -= read;
            }
        }

        private sealed class Batch
        {
            public Batch(FileImportResult file, FileCursor cursor, int fileIndex, long fileLength)
            {
                File = file; Cursor = cursor; FileIndex = fileIndex; FileLength = fileLength;
            }

            public FileImportResult File { get; }
            public FileCursor Cursor { get; set; }
            public int FileIndex { get; }
            public long FileLength { get; }
            public List<EventRow> Events { get; } = new List<EventRow>();
            /// <summary>What the stages prepared for <see cref="Events"/> on the preparing thread, for the writer.</summary>
            public PreparedStages? Prepared { get; set; }
            public List<QuarantineRow> Quarantine { get; } = new List<QuarantineRow>();
            public long LinesRead { get; set; }
            public long Skipped { get; set; }
            public long Blank { get; set; }
            public long PendingBytes { get; set; }
            public bool Last { get; set; }
            public bool ForgetQuarantine { get; set; }
            public string? Problem { get; set; }
        }
    }

    internal sealed class QuarantineRow
    {
        public QuarantineRow(string file, long line, long offset, string reason, string raw)
        {
            File = file; Line = line; Offset = offset; Reason = reason; Raw = raw;
        }

        public string File { get; }
        public long Line { get; }
        public long Offset { get; }
        public string Reason { get; }
        public string Raw { get; }

        /// <summary>Drops a file's quarantined lines (it is being read again as another format).</summary>
        public static void Forget(SqliteConnection c, SqliteTransaction tx, string file) => QuarantineStore.Forget(c, tx, file);

        public void Save(SqliteConnection c, SqliteTransaction tx) => QuarantineStore.Add(c, tx, File, Line, Offset, Reason, Raw);
    }
}

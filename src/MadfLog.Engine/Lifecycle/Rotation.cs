using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using MadfLog.Engine.Config;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Lifecycle
{
    public sealed class RotationOptions
    {
        public string? DatabasePath { get; set; }
        /// <summary>Live log folders; default from the configuration.</summary>
        public string[]? LogPaths { get; set; }
        public string? ArchivePath { get; set; }
        public int? RetentionDays { get; set; }
        public int? MaxActiveMB { get; set; }
        /// <summary>"Today" for deciding what is closed (tests set it).</summary>
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;
        /// <summary>Called at each step boundary with the step's name; tests throw here to simulate a crash.</summary>
        public Action<string>? Checkpoint { get; set; }
        /// <summary>Asked before each state-changing step (for -WhatIf/-Confirm): (target, action) → go ahead?</summary>
        public Func<string, string, bool> ShouldProcess { get; set; } = (_, _) => true;
    }

    public sealed class RotationResult
    {
        public int FilesClosed { get; set; }
        public int FilesNotImported { get; set; }
        public int ArchivesWritten { get; set; }
        public long ArchiveBytesBefore { get; set; }
        public long ArchiveBytesAfter { get; set; }
        public double CompressionRatio => ArchiveBytesAfter > 0 ? Math.Round((double)ArchiveBytesBefore / ArchiveBytesAfter, 1) : 0;
        public long EventsMoved { get; set; }
        public int RetentionDays { get; set; }
        /// <summary>Set when the storage budget forced a shorter window than configured.</summary>
        public int? WindowShrunkToDays { get; set; }
        public long DatabaseBytesBefore { get; set; }
        public long DatabaseBytesAfter { get; set; }
        public List<string> Notes { get; } = new List<string>();
    }

    /// <summary>
    /// Keeps storage small without losing an event: closes yesterday's fully imported logs, gzips closed logs
    /// per ISO week, moves old events into per-month archive databases, and keeps the active database under its
    /// budget. Every step is idempotent and journaled, so an interrupted run is finished by the next one.
    /// </summary>
    public sealed class Rotation
    {
        private static readonly Regex DailyLog = new Regex(@"^madf-(\d{4}-\d{2}-\d{2})\.jsonl$", RegexOptions.CultureInvariant);
        private readonly RotationOptions _o;
        private readonly MadfConfig _config;

        public Rotation(RotationOptions options)
        {
            _o = options;
            _config = MadfConfig.Load(options.DatabasePath);
        }

        private string ArchiveFolder => _o.ArchivePath ?? _config.ResolvedArchivePath;
        private string ClosedFolder => Path.Combine(ArchiveFolder, "closed");

        public RotationResult Run()
        {
            var result = new RotationResult();
            using var c = MadfDatabase.Open(_config.DatabasePath);
            result.DatabaseBytesBefore = DatabaseBytes(_config.DatabasePath);
            CloseDailyLogs(c, result);
            CompressClosedWeeks(c, result);
            MoveOldEvents(c, result);
            result.DatabaseBytesAfter = DatabaseBytes(_config.DatabasePath);
            return result;
        }

        public static long DatabaseBytes(string db) =>
            new[] { db, db + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);

        // Daily: a madf-YYYY-MM-DD.jsonl of an earlier day that was imported to its last byte moves to archive/closed.
        private void CloseDailyLogs(SqliteConnection c, RotationResult result)
        {
            var today = _o.Now.UtcDateTime.Date;
            foreach (var folder in _o.LogPaths ?? _config.ResolvedLogPaths)
            {
                if (!Directory.Exists(folder)) continue;
                foreach (var file in Directory.GetFiles(folder, "madf-*.jsonl").OrderBy(f => f, StringComparer.Ordinal))
                {
                    var m = DailyLog.Match(Path.GetFileName(file));
                    if (!m.Success || DateTime.ParseExact(m.Groups[1].Value, "yyyy-MM-dd", CultureInfo.InvariantCulture) >= today) continue;
                    var length = new FileInfo(file).Length;
                    var imported = FileCursor.ImportedTo(c, file);
                    if (imported != length)
                    {
                        result.FilesNotImported++;
                        result.Notes.Add(string.Format(Messages.Culture, Messages.RotationNotFullyImported, Path.GetFileName(file), imported ?? 0, length));
                        continue;
                    }
                    var target = Path.Combine(ClosedFolder, Path.GetFileName(file));
                    if (!_o.ShouldProcess(file, string.Format(Messages.Culture, Messages.RotationCloseAction, ClosedFolder))) continue;
                    Directory.CreateDirectory(ClosedFolder);
                    if (File.Exists(target)) target = Path.Combine(ClosedFolder, Path.GetFileNameWithoutExtension(file) + "-" + Guid.NewGuid().ToString("N").Substring(0, 6) + ".jsonl");
                    File.Move(file, target);
                    _o.Checkpoint?.Invoke("closed");
                    // The importer would also find the moved file by its first bytes; recording the move keeps it obvious.
                    FileCursor.Moved(c, file, target);
                    result.FilesClosed++;
                }
            }
        }

        // Weekly: closed logs of ISO weeks before the current one become one gzip per week (zcat-able, re-importable).
        private void CompressClosedWeeks(SqliteConnection c, RotationResult result)
        {
            FinishInterruptedArchives(c, result);
            if (!Directory.Exists(ClosedFolder)) return;
            var thisWeek = Domain.IsoWeeks.Name(_o.Now.UtcDateTime);
            var byWeek = Directory.GetFiles(ClosedFolder, "madf-*.jsonl")
                .Select(f => (file: f, m: Regex.Match(Path.GetFileName(f), @"^madf-(\d{4}-\d{2}-\d{2})")))
                .Where(x => x.m.Success)
                .GroupBy(x => Domain.IsoWeeks.Name(DateTime.ParseExact(x.m.Groups[1].Value, "yyyy-MM-dd", CultureInfo.InvariantCulture)))
                .Where(g => string.CompareOrdinal(g.Key, thisWeek) < 0)
                .OrderBy(g => g.Key, StringComparer.Ordinal);
            foreach (var week in byWeek)
            {
                var sources = week.Select(x => x.file).OrderBy(f => f, StringComparer.Ordinal).ToList();
                var archive = NextArchiveName(week.Key);
                if (!_o.ShouldProcess(archive, string.Format(Messages.Culture, Messages.RotationCompressAction, sources.Count, week.Key))) continue;
                var before = sources.Sum(f => new FileInfo(f).Length);
                var id = c.ExecuteScalar<long>(
                    "INSERT INTO log_archives(archive_path, period, sources, bytes_before, state, created) VALUES (@archive, @period, @sources, @before, 'writing', @now); SELECT last_insert_rowid();",
                    new { archive, period = week.Key, sources = JsonSerializer.Serialize(sources), before, now = _o.Now.ToUnixTimeMilliseconds() });
                var temp = archive + ".tmp";
                using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write))
                {
                    using (var gz = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
                        foreach (var s in sources) using (var input = File.OpenRead(s)) input.CopyTo(gz);
                    output.Flush(true);
                }
                _o.Checkpoint?.Invoke("archive-written");
                File.Move(temp, archive);
                var after = new FileInfo(archive).Length;
                c.Execute("UPDATE log_archives SET state = 'written', bytes_after = @after WHERE id = @id", new { after, id });
                _o.Checkpoint?.Invoke("archive-recorded");
                RemoveSources(c, id, sources);
                result.ArchivesWritten++;
                result.ArchiveBytesBefore += before;
                result.ArchiveBytesAfter += after;
            }
        }

        private void FinishInterruptedArchives(SqliteConnection c, RotationResult result)
        {
            foreach (var a in c.Query<LogArchiveRow>("SELECT id, archive_path AS ArchivePath, sources, state FROM log_archives WHERE state <> 'done'").ToList())
            {
                var sources = JsonSerializer.Deserialize<List<string>>(a.Sources) ?? new List<string>();
                if (a.State == "writing")
                {
                    // Crashed while compressing: the sources are intact; throw the partial archive away and redo it.
                    if (File.Exists(a.ArchivePath + ".tmp")) File.Delete(a.ArchivePath + ".tmp");
                    if (File.Exists(a.ArchivePath)) File.Delete(a.ArchivePath);
                    c.Execute("DELETE FROM log_archives WHERE id = @id", new { id = a.Id });
                    result.Notes.Add(string.Format(Messages.Culture, Messages.RotationRedoingArchive, Path.GetFileName(a.ArchivePath)));
                }
                else
                {
                    RemoveSources(c, a.Id, sources);
                    result.Notes.Add(string.Format(Messages.Culture, Messages.RotationFinishedArchive, Path.GetFileName(a.ArchivePath)));
                }
            }
        }

        /// <summary>A log_archives row (mapped by column name): a week's archive, the closed logs it holds (JSON), and how far writing it got.</summary>
        private sealed class LogArchiveRow
        {
            public long Id { get; set; }
            public string ArchivePath { get; set; } = "";
            public string Sources { get; set; } = "";
            public string State { get; set; } = "";
        }

        private void RemoveSources(SqliteConnection c, long archiveId, List<string> sources)
        {
            foreach (var s in sources)
            {
                if (File.Exists(s)) File.Delete(s);
                _o.Checkpoint?.Invoke("source-removed");
            }
            c.Execute("UPDATE log_archives SET state = 'done' WHERE id = @archiveId", new { archiveId });
        }

        private string NextArchiveName(string week)
        {
            Directory.CreateDirectory(ArchiveFolder);
            var name = Path.Combine(ArchiveFolder, $"madf-{week}.jsonl.gz");
            for (var part = 2; File.Exists(name); part++) name = Path.Combine(ArchiveFolder, $"madf-{week}-part{part}.jsonl.gz");
            return name;
        }

        // Retention: whole months older than the window move to archive/madflog-YYYY-MM.db, in two idempotent steps
        // (copy, then delete what the archive holds), so a crash in between leaves both and the next run finishes.
        private void MoveOldEvents(SqliteConnection c, RotationResult result)
        {
            var days = _o.RetentionDays ?? _config.RetentionDays;
            var budget = (long)(_o.MaxActiveMB ?? _config.MaxActiveMB) * 1024 * 1024;
            result.RetentionDays = days;
            var cutoff = _o.Now.AddDays(-days).ToUnixTimeMilliseconds();

            // The budget shrinks the window: keep the newest events that fit in 90% of it.
            var count = EventStorage.Count(c);
            var size = DatabaseBytes(_config.DatabasePath);
            if (count > 0 && size > budget)
            {
                var bytesPerEvent = (double)size / count;
                var keep = (long)(budget * 0.9 / bytesPerEvent);
                var budgetCutoff = EventStorage.NewestTimestampBeyond(c, keep);
                if (budgetCutoff.HasValue && budgetCutoff.Value + 1 > cutoff)
                {
                    cutoff = budgetCutoff.Value + 1;
                    result.WindowShrunkToDays = Math.Max(0, (int)((_o.Now.ToUnixTimeMilliseconds() - cutoff) / 86_400_000));
                    result.Notes.Add(string.Format(Messages.Culture, Messages.RotationOverBudget, size / 1048576.0, budget / 1048576, days, result.WindowShrunkToDays));
                }
            }

            var months = EventStorage.MonthsBefore(c, cutoff)
                .Where(month => _o.ShouldProcess(Path.Combine(ArchiveFolder, $"madflog-{month}.db"), string.Format(Messages.Culture, Messages.RotationMoveMonthAction, month, result.WindowShrunkToDays ?? days)))
                .ToList();
            // -IncludeArchive's store (active plus archived events) is the same after the move: carried across it.
            var carried = months.Count > 0 ? CombinedStore.Carry(c, _config.DatabasePath, ArchiveFolder) : null;
            try
            {
                foreach (var month in months) result.EventsMoved += MoveMonth(c, month, Path.Combine(ArchiveFolder, $"madflog-{month}.db"), cutoff);
                MoveDone(c, result);
                if (carried != null && result.EventsMoved > 0) CombinedStore.Keep(carried, c, _config.DatabasePath);
            }
            finally
            {
                carried?.Discard(); // kept: it has moved to its name
            }
        }

        // After the months are moved (or when an interrupted run left summaries counting moved events): the summaries
        // rebuilt, the dictionaries and blocks refreshed, the file compacted.
        private void MoveDone(SqliteConnection c, RotationResult result)
        {
            // Questions cover the active window: once the months are moved the summaries are rebuilt from the remaining
            // events, once per run; a run interrupted before that leaves summaries that count more events than the
            // store holds, which the next run sees and rebuilds.
            var stale = result.EventsMoved == 0 && SummaryTables.CountsMoreThanTheEvents(c)
                && _o.ShouldProcess(_config.DatabasePath, Messages.RotationRebuildAction);
            if (stale) result.Notes.Add(Messages.RotationSummariesRebuilt);
            // A store whose upgrade could not VACUUM (another process held it, a full disk) takes the mode here, moved or not.
            var owed = result.EventsMoved == 0 && !stale && MadfDatabase.OwesVacuum(c) && _o.ShouldProcess(_config.DatabasePath, Messages.RotationVacuumAction);
            if (result.EventsMoved > 0 || stale)
            {
                using (var tx = c.BeginTransaction())
                {
                    SummaryTables.Rebuild(c, tx);
                    EventStorage.PruneNames(c, tx);
                    EventStorage.RefreshBlocks(c, tx);
                    tx.Commit();
                }
                // -IncludeArchive's caches of the archives before (one up to date is carried: CombinedStore.Carry).
                CombinedStore.Remove(ArchiveFolder);
            }
            if (result.EventsMoved > 0 || stale || owed)
            {
                _o.Checkpoint?.Invoke("before-vacuum");
                c.Execute("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;"); // a store from before incremental auto-vacuum takes it here (MadfDatabase.ReleaseFreePages)
                c.Execute("PRAGMA optimize;");
                c.Execute("PRAGMA wal_checkpoint(TRUNCATE);"); // in WAL mode VACUUM's pages sit in the -wal until checkpointed
            }
        }

        private long MoveMonth(SqliteConnection c, string month, string archive, long cutoff)
        {
            Directory.CreateDirectory(ArchiveFolder);
            using (MadfDatabase.Open(archive)) { } // create/migrate the archive with the same schema
            var start = DateTimeOffset.ParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds();
            var end = DateTimeOffset.ParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).AddMonths(1).ToUnixTimeMilliseconds();
            var upper = Math.Min(end, cutoff);
            c.Execute("ATTACH DATABASE @archive AS arch", new { archive });
            try
            {
                using (var tx = c.BeginTransaction())
                {
                    EventStorage.CopyToArchive(c, tx, start, upper);
                    tx.Commit();
                }
                _o.Checkpoint?.Invoke("events-copied");
                long moved;
                using (var tx = c.BeginTransaction())
                {
                    moved = EventStorage.DeleteArchived(c, tx, start, upper);
                    var stats = EventStorage.ArchiveSpan(c, tx);
                    c.Execute(@"INSERT INTO event_archives(period, archive_path, events, first_timestamp, last_timestamp, moved) VALUES (@month, @archive, @n, @first, @last, @now)
                                ON CONFLICT(period) DO UPDATE SET events = excluded.events, first_timestamp = excluded.first_timestamp, last_timestamp = excluded.last_timestamp, moved = excluded.moved",
                        new { month, archive, n = stats.Events, first = stats.First, last = stats.Last, now = _o.Now.ToUnixTimeMilliseconds() }, tx);
                    tx.Commit();
                }
                _o.Checkpoint?.Invoke("events-moved");
                return moved;
            }
            finally
            {
                c.Execute("DETACH DATABASE arch");
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Lifecycle
{
    /// <summary>
    /// What -IncludeArchive answers from: one store holding the active events and every archived month's (event_archives),
    /// with the summaries rebuilt over all of them by the import's definitions (SummaryTables.Rebuild), so the same
    /// question code answers over active + archived events exactly as a scan of them would. It is a cache: a snapshot of
    /// the active store (SQLite's backup) with each archive's rows copied in (EventStorage.CopyRows: ids kept, names
    /// translated), written to the archive folder's combined/ as combined-PPPPPPPP-SSSSSSSSSSSSSSSS.db, P naming the active
    /// store and S its sources: the active store's file and change marker, each archive's file identity, and this build.
    /// Archives are written once per month by retention, so the cache is rebuilt only when the active store or an archive
    /// changed; retention removes it when it moves events; Get-MadfStorage counts it.
    /// </summary>
    public static class CombinedStore
    {
        /// <summary>The archive folder's subfolder that holds the caches.</summary>
        public const string FolderName = "combined";

        /// <summary>One archived month as event_archives lists it.</summary>
        public sealed class ArchiveFile
        {
            public string Period { get; set; } = "";
            public string ArchivePath { get; set; } = "";
            public long Events { get; set; }
            public long? FirstTimestamp { get; set; }
            public long? LastTimestamp { get; set; }
        }

        /// <summary>The archived months of the active store, oldest first.</summary>
        public static List<ArchiveFile> Archives(SqliteConnection active) => active.Query<ArchiveFile>(
            "SELECT period, archive_path AS ArchivePath, events, first_timestamp AS FirstTimestamp, last_timestamp AS LastTimestamp FROM event_archives ORDER BY period").ToList();

        /// <summary>The folder of the caches of a store whose archives are in <paramref name="archiveFolder"/>.</summary>
        public static string Folder(string archiveFolder) => Path.Combine(archiveFolder, FolderName);

        /// <summary>
        /// The path of a combined store that is up to date with the active store (open as <paramref name="active"/>) and
        /// its archives, built when there is none. A listed archive that is missing is ArchiveNotFound; one SQLite cannot
        /// read is ArchiveUnreadable (both name the file).
        /// </summary>
        public static string Prepare(SqliteConnection active, string activePath, List<ArchiveFile> archives, Action<string>? step = null)
        {
            activePath = Path.GetFullPath(activePath);
            foreach (var a in archives)
                if (!File.Exists(a.ArchivePath))
                    throw new MadfException("ArchiveNotFound", MadfErrorKind.NotFound,
                        string.Format(Messages.Culture, Messages.ArchiveNotFound, a.ArchivePath, a.Period, a.Events, activePath), a.ArchivePath);
            var folder = Folder(Path.GetDirectoryName(Path.GetFullPath(archives[archives.Count - 1].ArchivePath)) ?? ".");
            var prefix = "combined-" + ((ulong)StableHash.Hash(activePath.ToUpperInvariant())).ToString("x16", CultureInfo.InvariantCulture).Substring(0, 8) + "-";
            var path = Path.Combine(folder, prefix + ((ulong)Stamp(active, activePath, archives)).ToString("x16", CultureInfo.InvariantCulture) + ".db");
            if (File.Exists(path)) return path;

            Directory.CreateDirectory(folder);
            var temp = path + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
            try
            {
                Build(active, temp, archives, step ?? (_ => { }));
                try { File.Move(temp, path); }
                catch (IOException) when (File.Exists(path)) { } // another process built the same sources meanwhile
            }
            finally
            {
                foreach (var f in new[] { temp, temp + "-wal", temp + "-shm", temp + "-journal" })
                    if (File.Exists(f)) TryDelete(f);
            }
            // Caches of earlier sources are stale: removed (one still open by another process stays until the next time).
            foreach (var old in Directory.GetFiles(folder, prefix + "*.db"))
                if (!string.Equals(old, path, StringComparison.OrdinalIgnoreCase)) TryDelete(old);
            return path;
        }

        /// <summary>Removes the caches in an archive folder (retention calls it when it moved events: they no longer match).</summary>
        public static void Remove(string archiveFolder)
        {
            var folder = Folder(archiveFolder);
            if (!Directory.Exists(folder)) return;
            foreach (var f in Directory.GetFiles(folder, "combined-*")) TryDelete(f);
        }

        /// <summary>The bytes the caches take in an archive folder.</summary>
        public static long Bytes(string archiveFolder)
        {
            var folder = Folder(archiveFolder);
            return Directory.Exists(folder) ? Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length) : 0;
        }

        // What the cache was built from: the active store's file (a write changes its size or time, or its WAL's) and
        // change marker (newest event, events counted by the summaries, patterns), each archive's file identity, and the
        // build (its summaries' definitions). Any change gives another name, so a cache is never read for other sources.
        private static long Stamp(SqliteConnection active, string activePath, List<ArchiveFile> archives)
        {
            var parts = new List<string?>
            {
                typeof(CombinedStore).Assembly.ManifestModule.ModuleVersionId.ToString(), Schema.CurrentVersion.ToString(CultureInfo.InvariantCulture),
                activePath, FileIdentity(activePath), FileIdentity(activePath + "-wal"),
                active.ExecuteScalar<string>(@"SELECT coalesce((SELECT max(id) FROM event_rows), 0) || ':' || coalesce((SELECT sum(events) FROM week_rollup), 0)
                    || ':' || (SELECT count(*) FROM patterns) || ':' || coalesce((SELECT sum(event_count) FROM patterns), 0) || ':' || (SELECT count(*) FROM patterns WHERE merged_into IS NOT NULL)"),
            };
            foreach (var a in archives)
            {
                parts.Add(a.Period + "=" + Path.GetFullPath(a.ArchivePath) + ":" + a.Events);
                parts.Add(FileIdentity(a.ArchivePath));
                parts.Add(FileIdentity(a.ArchivePath + "-wal"));
            }
            return StableHash.Hash(parts.ToArray());
        }

        // Size and last write time; "" for a file that is missing or empty (an idle WAL).
        private static string FileIdentity(string file)
        {
            var info = new FileInfo(file);
            return info.Exists && info.Length > 0 ? info.Length.ToString(CultureInfo.InvariantCulture) + "@" + info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture) : "";
        }

        // step: called after each part with its name (snapshot, copied-YYYY-MM, summaries, blocks; the archive bench times them).
        private static void Build(SqliteConnection active, string temp, List<ArchiveFile> archives, Action<string> step)
        {
            // A consistent snapshot of the active store (a concurrent import commits before or after it), pages copied as they are.
            using (var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = temp, Pooling = false }.ToString()))
            {
                target.Open();
                active.BackupDatabase(target);
            }
            step("snapshot");
            using var c = MadfDatabase.Open(temp);
            // A file nobody reads until it is complete (a failed build is deleted): no journal, no syncs while building.
            c.Execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;");
            foreach (var a in archives)
            {
                try
                {
                    // Opened on its own first: an archive written by an earlier build is migrated to this schema.
                    using (MadfDatabase.Open(a.ArchivePath, forWrite: false)) { }
                    c.Execute("ATTACH DATABASE @path AS src", new { path = a.ArchivePath });
                    try
                    {
                        using var tx = c.BeginTransaction();
                        EventStorage.CopyRows(c, tx, "src", "main", where: null);
                        tx.Commit();
                        step("copied-" + a.Period);
                    }
                    finally
                    {
                        c.Execute("DETACH DATABASE src");
                    }
                }
                catch (Exception ex) when (ex is SqliteException || (ex is MadfException m && m.ErrorId != "ArchiveNotFound"))
                {
                    var reason = ex is SqliteException s ? s.Message : ex.Message;
                    throw new MadfException("ArchiveUnreadable", MadfErrorKind.InvalidData,
                        string.Format(Messages.Culture, Messages.ArchiveUnreadable, a.ArchivePath, a.Period, reason.TrimEnd('.')), a.ArchivePath, ex);
                }
            }
            using (var tx = c.BeginTransaction())
            {
                // Nothing is archived from this store's point of view: its questions cover every event it holds.
                c.Execute("DELETE FROM event_archives", transaction: tx);
                SummaryTables.Rebuild(c, tx);
                step("summaries");
                EventStorage.RefreshBlocks(c, tx);
                tx.Commit();
            }
            step("blocks");
        }

        private static void TryDelete(string file)
        {
            try { File.Delete(file); }
            catch (IOException) { } // open elsewhere (Windows): removed next time
            catch (UnauthorizedAccessException) { }
        }
    }
}

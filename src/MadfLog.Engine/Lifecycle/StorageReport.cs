using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Config;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Store;

namespace MadfLog.Engine.Lifecycle
{
    /// <summary>Events of one month, where they are kept.</summary>
    public sealed class StoragePeriod
    {
        public string Period { get; set; } = "";
        public long ActiveEvents { get; set; }
        public long ArchivedEvents { get; set; }
        public string? ArchivePath { get; set; }
    }

    /// <summary>How much room MadfLog takes and where.</summary>
    public sealed class StorageReport
    {
        public string Database { get; set; } = "";
        public long ActiveBytes { get; set; }
        public long ActiveEvents { get; set; }
        public double BytesPerEvent => ActiveEvents > 0 ? Math.Round((double)ActiveBytes / ActiveEvents, 1) : 0;
        public int MaxActiveMB { get; set; }
        public bool OverBudget => ActiveBytes > (long)MaxActiveMB * 1024 * 1024;
        public string ArchivePath { get; set; } = "";
        public long ArchiveDatabaseBytes { get; set; }
        public long ArchivedEvents { get; set; }
        public long ArchiveLogBytes { get; set; }
        /// <summary>The store of active and archived events that -IncludeArchive answers from (CombinedStore), cached in the archive folder's combined/.</summary>
        public long CombinedCacheBytes { get; set; }
        public long LogFolderBytes { get; set; }
        public List<StoragePeriod> Periods { get; } = new List<StoragePeriod>();

        public static StorageReport Get(string? databasePath)
        {
            var config = MadfConfig.Load(databasePath);
            using var c = MadfDatabase.Open(config.DatabasePath, forWrite: false);
            var report = new StorageReport
            {
                Database = config.DatabasePath,
                ActiveBytes = Rotation.DatabaseBytes(config.DatabasePath),
                // From the summaries, which count the active events (retention rebuilds them), not a scan of every event.
                ActiveEvents = c.ExecuteScalar<long?>("SELECT sum(events) FROM week_rollup") ?? 0,
                MaxActiveMB = config.MaxActiveMB,
                ArchivePath = config.ResolvedArchivePath,
                LogFolderBytes = config.ResolvedLogPaths.Sum(FolderBytes),
            };
            if (Directory.Exists(report.ArchivePath))
            {
                report.ArchiveDatabaseBytes = Directory.GetFiles(report.ArchivePath, "madflog-*.db").Sum(f => new FileInfo(f).Length);
                report.CombinedCacheBytes = CombinedStore.Bytes(report.ArchivePath);
                report.ArchiveLogBytes = FolderBytes(report.ArchivePath) - report.ArchiveDatabaseBytes - report.CombinedCacheBytes;
            }
            var periods = new SortedDictionary<string, StoragePeriod>(StringComparer.Ordinal);
            // Events per month from the day summaries (a month is whole days).
            foreach (var m in c.Query<StoragePeriod>($"SELECT strftime('%Y-%m', day * {IsoWeeks.DayMs / 1000}, 'unixepoch') AS Period, sum(events) AS ActiveEvents FROM day_rollup GROUP BY 1"))
                periods[m.Period] = m;
            foreach (var a in c.Query<StoragePeriod>("SELECT period, archive_path AS ArchivePath, events AS ArchivedEvents FROM event_archives"))
            {
                if (!periods.TryGetValue(a.Period, out var p)) periods[a.Period] = p = new StoragePeriod { Period = a.Period };
                p.ArchivedEvents = a.ArchivedEvents; p.ArchivePath = a.ArchivePath;
                report.ArchivedEvents += a.ArchivedEvents;
            }
            report.Periods.AddRange(periods.Values);
            return report;
        }

        private static long FolderBytes(string folder) =>
            Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
    }
}

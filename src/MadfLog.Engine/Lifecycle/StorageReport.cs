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
                report.ArchiveLogBytes = FolderBytes(report.ArchivePath) - report.ArchiveDatabaseBytes;
            }
            var periods = new SortedDictionary<string, StoragePeriod>(StringComparer.Ordinal);
            // Events per month from the day summaries (a month is whole days).
            foreach (var (period, n) in c.Query<(string, long)>($"SELECT strftime('%Y-%m', day * {IsoWeeks.DayMs / 1000}, 'unixepoch'), sum(events) FROM day_rollup GROUP BY 1"))
                periods[period] = new StoragePeriod { Period = period, ActiveEvents = n };
            foreach (var (period, path, n) in c.Query<(string, string, long)>("SELECT period, archive_path, events FROM event_archives"))
            {
                if (!periods.TryGetValue(period, out var p)) periods[period] = p = new StoragePeriod { Period = period };
                p.ArchivedEvents = n; p.ArchivePath = path;
                report.ArchivedEvents += n;
            }
            report.Periods.AddRange(periods.Values);
            return report;
        }

        private static long FolderBytes(string folder) =>
            Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Config;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Insights
{
    public enum HealthStatus { OK, Warning, Critical }

    /// <summary>One health rule's outcome.</summary>
    public sealed class HealthCheck
    {
        public string Name { get; set; } = "";
        public HealthStatus Status { get; set; }
        public string Message { get; set; } = "";
        public double? Value { get; set; }
        public double? Threshold { get; set; }
    }

    /// <summary>Is the loop healthy? The worst of its checks.</summary>
    public sealed class HealthReport
    {
        public HealthStatus Status => Checks.Count == 0 ? HealthStatus.OK : Checks.Max(c => c.Status);
        public DateTime CheckedAt { get; set; }
        public List<HealthCheck> Checks { get; } = new List<HealthCheck>();
        public IEnumerable<HealthCheck> Problems => Checks.Where(c => c.Status != HealthStatus.OK);
    }

    /// <summary>
    /// Health rules, with thresholds from the configuration (Set-MadfConfig): error rate up more than
    /// ErrorRateIncreasePercent week over week; a pattern newly at or above the rule threshold; more than
    /// MaxQuarantinePercent of last week's imported lines quarantined; the active database over its budget;
    /// no import for MaxImportAgeDays (the logger stopped). Warning at the threshold, Critical at twice it.
    /// </summary>
    public static class Health
    {
        private const long Day = 86_400_000;

        public static HealthReport Check(string? databasePath, DateTimeOffset now)
        {
            var config = MadfConfig.Load(databasePath);
            using var c = MadfDatabase.Open(config.DatabasePath, forWrite: false);
            var report = new HealthReport { CheckedAt = now.UtcDateTime };
            var t = now.ToUnixTimeMilliseconds();

            var (thisEvents, thisErrors) = Rates(c, t - 7 * Day, t);
            var (lastEvents, lastErrors) = Rates(c, t - 14 * Day, t - 7 * Day);
            var thisRate = thisEvents > 0 ? (double)thisErrors / thisEvents : 0;
            var lastRate = lastEvents > 0 ? (double)lastErrors / lastEvents : 0;
            var rise = lastRate > 0 ? (thisRate - lastRate) / lastRate * 100 : 0;
            report.Checks.Add(Grade("ErrorRateTrend", lastRate > 0 ? rise : (double?)null, config.ErrorRateIncreasePercent,
                lastRate > 0 ? string.Format(Messages.Culture, Messages.HealthErrorRateTrend, thisRate, lastRate, rise) : Messages.HealthNoErrorRateLastWeek));

            var threshold = config.RuleThreshold;
            var nowShares = PatternShares.Of(c, t - 7 * Day, t, thisErrors).Where(p => p.IsFrequent(threshold)).ToList();
            var before = new HashSet<long>(PatternShares.Of(c, t - 14 * Day, t - 7 * Day, lastErrors).Where(p => p.IsFrequent(threshold)).Select(p => p.PatternId));
            var fresh = nowShares.Where(p => !before.Contains(p.PatternId)).ToList();
            report.Checks.Add(new HealthCheck
            {
                Name = "NewFrequentPattern", Value = fresh.Count, Threshold = 0,
                Status = fresh.Count > 0 ? HealthStatus.Warning : HealthStatus.OK,
                Message = fresh.Count > 0
                    ? string.Format(Messages.Culture, Messages.HealthNewFrequentPatterns, fresh.Count, threshold,
                        string.Join("; ", fresh.Take(3).Select(p => string.Format(Messages.Culture, Messages.HealthNewFrequentPattern, p.PatternId, p.Share, p.ErrorClass))))
                    : string.Format(Messages.Culture, Messages.HealthNoNewFrequentPattern, threshold),
            });

            var runs = c.QuerySingle<ImportedLines>("SELECT coalesce(sum(lines_read), 0) AS Lines, coalesce(sum(quarantined), 0) AS Quarantined FROM import_runs WHERE finished >= @from",
                new { from = t - 7 * Day });
            var (lines, quarantined) = (runs.Lines, runs.Quarantined);
            var qPercent = lines > 0 ? 100.0 * quarantined / lines : 0;
            report.Checks.Add(Grade("QuarantineRate", qPercent, config.MaxQuarantinePercent,
                string.Format(Messages.Culture, Messages.HealthQuarantineRate, quarantined, lines, qPercent)));

            var bytes = Rotation.DatabaseBytes(config.DatabasePath);
            var mb = bytes / 1048576.0;
            report.Checks.Add(Grade("ActiveStorage", mb, config.MaxActiveMB,
                string.Format(Messages.Culture, Messages.HealthStorageOverBudget, mb, config.MaxActiveMB)));

            var lastImport = c.ExecuteScalar<long?>("SELECT max(finished) FROM import_runs");
            var ageDays = lastImport.HasValue ? (t - lastImport.Value) / (double)Day : (double?)null;
            report.Checks.Add(ageDays.HasValue
                ? Grade("LastImport", ageDays.Value, config.MaxImportAgeDays, string.Format(Messages.Culture, Messages.HealthLastImport, ageDays.Value))
                : new HealthCheck { Name = "LastImport", Status = HealthStatus.Warning, Message = Messages.HealthNothingImported, Threshold = config.MaxImportAgeDays });

            // Only the failing checks carry the advice; an OK check says what was measured.
            foreach (var check in report.Checks.Where(x => x.Status == HealthStatus.OK && x.Name == "ActiveStorage"))
                check.Message = string.Format(Messages.Culture, Messages.HealthStorage, mb, config.MaxActiveMB);
            return report;
        }

        private static (long events, long errors) Rates(SqliteConnection c, long from, long to)
        {
            var r = c.QuerySingle<EventsAndErrors>(
                "SELECT count(*) AS Events, coalesce(sum(CASE WHEN " + Domain.Errors.InEvents + " THEN 1 ELSE 0 END), 0) AS Errors FROM events e WHERE " + EventStorage.Window("e", "@from", "@to"),
                new { from, to });
            return (r.Events, r.Errors);
        }

        // Rows mapped by column name.
        private sealed class EventsAndErrors
        {
            public long Events { get; set; }
            public long Errors { get; set; }
        }

        private sealed class ImportedLines
        {
            public long Lines { get; set; }
            public long Quarantined { get; set; }
        }

        private static HealthCheck Grade(string name, double? value, double threshold, string message) => new HealthCheck
        {
            Name = name, Value = value.HasValue ? Math.Round(value.Value, 2) : (double?)null, Threshold = threshold, Message = message,
            Status = !value.HasValue || value.Value <= threshold ? HealthStatus.OK : value.Value > 2 * threshold ? HealthStatus.Critical : HealthStatus.Warning,
        };
    }
}

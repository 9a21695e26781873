using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>What the question files share: times, name lists, histograms and percentiles, repeated errors.</summary>
    internal static class Shared
    {
        internal static DateTime Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
        internal static string[] List(string? csv) => string.IsNullOrEmpty(csv) ? Array.Empty<string>() : csv!.Split(',').OrderBy(s => s, StringComparer.Ordinal).ToArray();

        /// <summary>Nearest-rank percentile from a duration histogram (each bucket reported by its upper bound).</summary>
        internal static double Percentile(List<(int bucket, long n)> histogram, double q) =>
            Quantile(histogram.Select(h => (DurationBuckets.Value(h.bucket), h.n)).ToList(), q);

        /// <summary>Duration histograms per key of a scope, from the source's summaries (whole store or day grain).</summary>
        internal static Dictionary<string, List<(int, long)>> Histograms(SqliteConnection c, string scope, QueryFilter f, Source source)
        {
            var p = new DynamicParameters();
            p.Add("scope", scope);
            var (table, where) = Sources.SummaryTable(source, f, p, agents: false);
            if (table == "event_rollup")
                return c.Query<(string key, int bucket, long n)>("SELECT key, bucket, n FROM duration_hist WHERE scope = @scope", p)
                    .GroupBy(h => h.key).ToDictionary(g => g.Key, g => g.Select(h => (h.bucket, h.n)).ToList());
            return c.Query<(string key, byte[] buckets)>($"SELECT r.key, r.buckets FROM day_hist r WHERE r.scope = @scope{where}", p)
                .GroupBy(h => h.key).ToDictionary(g => g.Key, g => g.SelectMany(h => DayHistogram.Decode(h.buckets)).GroupBy(x => x.bucket).Select(x => (x.Key, x.Sum(y => y.n))).ToList());
        }

        // A pattern's first occurrence is not a repeat only where it is still an active event (retention may have archived it).
        internal const string FirstIsActive = " AND EXISTS (SELECT 1 FROM event_rows r WHERE r.pattern_id = patterns.id AND r.timestamp = patterns.first_seen)";

        /// <summary>
        /// Repeated errors per group: occurrences after a pattern's first one, which may have been archived (the pattern
        /// keeps its first_seen), so a question over the active window counts the same repeats as the summaries.
        /// </summary>
        internal static Dictionary<string, long> RepeatedByGroup(SqliteConnection c, string groupExpr, string where, DynamicParameters p) =>
            c.Query<(string? g, long n)>(
                $@"SELECT g, count(*) FROM (
                       SELECT {groupExpr} AS g, e.timestamp AS ts, e.id AS id, e.pattern_id AS pid,
                              row_number() OVER (PARTITION BY e.pattern_id ORDER BY e.timestamp, e.id) AS occurrence
                       FROM events e WHERE e.pattern_id IS NOT NULL AND {Errors.InEvents}) r
                   JOIN events e ON e.id = r.id
                   WHERE (r.occurrence > 1 OR r.ts > (SELECT pt.first_seen FROM patterns pt WHERE pt.id = r.pid)){where} GROUP BY g", p)
             .ToDictionary(x => x.g ?? "", x => x.n);

        internal static Dictionary<string, List<long>> Durations(SqliteConnection c, string sql, DynamicParameters p)
        {
            var map = new Dictionary<string, List<long>>(StringComparer.Ordinal);
            foreach (var (key, ms) in c.Query<(string? key, long ms)>(sql, p, buffered: false))
            {
                var k = key ?? "";
                if (!map.TryGetValue(k, out var list)) map[k] = list = new List<long>();
                list.Add(ms);
            }
            return map;
        }

        /// <summary>Nearest-rank quantile of a weighted distribution.</summary>
        internal static double Quantile(List<(double value, long n)> dist, double q)
        {
            var total = dist.Sum(x => x.n);
            if (total == 0) return 0;
            var rank = (long)Math.Ceiling(q * total);
            long seen = 0;
            foreach (var (value, n) in dist.OrderBy(x => x.value))
            {
                seen += n;
                if (seen >= rank) return value;
            }
            return 0;
        }

        /// <summary>Nearest-rank percentile.</summary>
        internal static double Percentile(List<long>? values, double q)
        {
            if (values == null || values.Count == 0) return 0;
            values.Sort();
            var rank = (int)Math.Ceiling(q * values.Count) - 1;
            return values[Math.Max(0, Math.Min(values.Count - 1, rank))];
        }
    }
}

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
            // Whole days from day_hist; the parts of days a window cuts from their events, bucketed as the import does.
            var (wholeFrom, wholeTo, _) = Sources.Days(f);
            var days = (wholeFrom.HasValue ? " AND r.day >= @wholeFrom" : "") + (wholeTo.HasValue ? " AND r.day < @wholeTo" : "");
            p.Add("wholeFrom", wholeFrom); p.Add("wholeTo", wholeTo);
            var buckets = c.Query<(string key, byte[] buckets)>($"SELECT r.key, r.buckets FROM day_hist r WHERE r.scope = @scope{where}{days}", p)
                .SelectMany(h => DayHistogram.Decode(h.buckets).Select(b => (h.key, b.bucket, b.n))).ToList();
            var parts = Sources.PartEvents(f, p);
            if (parts != null)
                buckets.AddRange(c.Query<(string key, int bucket, long n)>($"SELECT r.key, r.bucket, r.n FROM ({SummaryTables.DayBuckets(parts)}) r WHERE r.scope = @scope{where}", p));
            return buckets.GroupBy(h => h.key).ToDictionary(g => g.Key, g => g.GroupBy(x => x.bucket).Select(x => (x.Key, x.Sum(y => y.n))).ToList());
        }

        // A pattern's first occurrence is not a repeat only where it is still an active event (retention may have archived it).
        private const string FirstIsActive = " AND EXISTS (SELECT 1 FROM event_rows r WHERE r.pattern_id = patterns.id AND r.timestamp = patterns.first_seen)";

        /// <summary>
        /// The error patterns (human interactions are mined too, for their topics) whose first occurrence is still an
        /// active event, as "SELECT <paramref name="columns"/> FROM patterns WHERE …" plus <paramref name="conditions"/>:
        /// every other occurrence of them is a repeat. The summaries' repeated-error counts subtract these firsts.
        /// </summary>
        internal static string ActiveFirsts(string columns, string conditions = "") =>
            $"SELECT {columns} FROM patterns WHERE merged_into IS NULL AND first_seen IS NOT NULL AND id IN (SELECT pattern_id FROM event_rollup WHERE {Errors.InRollup()}){FirstIsActive}{conditions}";

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

        /// <summary>
        /// The first (or, <paramref name="newest"/>, the last) <paramref name="limit"/> events under a filter in time order,
        /// without sorting every event the filter covers. The time blocks (event_blocks) in order of their earliest (latest)
        /// time: every event before the (k+1)-th block's earliest time (after its latest) lies in the first k blocks, so
        /// <paramref name="query"/> (which orders and limits; given extra conditions on events alias e) reads those blocks'
        /// events before that time, with k doubled until they hold the page; the rows are those the whole filter gives.
        /// </summary>
        internal static List<T> InTimeOrder<T>(SqliteConnection c, QueryFilter f, Func<string, List<T>> query, int limit, bool newest)
        {
            const int MostBlocks = 256; // beyond that one scan of the filter is as cheap as naming its blocks
            // A story's events are a few of each block's: reading its span in one pass is cheaper than block by block.
            if (limit <= 0 || f.Stories is { Length: > 0 }) return query("");
            long since = f.Since?.ToUnixTimeMilliseconds() ?? long.MinValue, until = f.Until?.ToUnixTimeMilliseconds() ?? long.MaxValue;
            var blocks = c.Query<(long block, long min, long max)>(
                $"SELECT block, min_ts, max_ts FROM event_blocks WHERE max_ts >= @since AND min_ts < @until ORDER BY {(newest ? "max_ts DESC" : "min_ts")}, block",
                new { since, until }).ToList();
            for (var k = limit / EventStorage.BlockSize + 2; k < blocks.Count && k <= MostBlocks; k *= 2)
            {
                // An edge before the window's start (after its end) leaves none of its events: take more blocks.
                if (newest ? blocks[k].max >= until : blocks[k].min <= since) continue;
                var edge = newest ? $" AND e.timestamp > {blocks[k].max}" : $" AND e.timestamp < {blocks[k].min}";
                var ranges = string.Join(" OR ", blocks.Take(k).Select(b => $"(e.id >= {b.block * EventStorage.BlockSize} AND e.id < {(b.block + 1) * EventStorage.BlockSize})"));
                var rows = query($" AND ({ranges}){edge}");
                // A full page, or an edge past the window's end (start): no event of it is in a block not read.
                if (rows.Count >= limit || (newest ? blocks[k].max < since : blocks[k].min >= until)) return rows;
            }
            return query("");
        }

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

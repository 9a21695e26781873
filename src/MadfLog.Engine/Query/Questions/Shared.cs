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
            if (source != Source.DaySummaries)
                return c.Query<(string key, int bucket, long n)>("SELECT key, bucket, n FROM duration_hist WHERE scope = @scope", p)
                    .GroupBy(h => h.key).ToDictionary(g => g.Key, g => g.Select(h => (h.bucket, h.n)).ToList());
            // Whole days from day_hist, the whole hours of the days a window cuts from hour_hist; the parts of hours at its
            // ends from their events, bucketed as the import does.
            var (wholeFrom, wholeTo, _) = Sources.Days(f);
            var days = (wholeFrom.HasValue ? " AND r.day >= @wholeFrom" : "") + (wholeTo.HasValue ? " AND r.day < @wholeTo" : "");
            p.Add("wholeFrom", wholeFrom); p.Add("wholeTo", wholeTo);
            var hours = Sources.HourWhere(f, p, "r");
            // The stories' conditions only: the parts of hours come below as bucket rows, not as day_rollup's rows.
            var where = Sources.DayStoryWhere(f, p);
            var blobs = $"SELECT r.key, r.buckets FROM {SummaryTables.Grain.Day.HistRows} r WHERE r.scope = @scope{where}{days}"
                        + (hours == null ? "" : $" UNION ALL SELECT r.key, r.buckets FROM {SummaryTables.Grain.Hour.HistRows} r WHERE r.scope = @scope AND {hours}{Sources.StoryWhere(f, p)}");
            // Summed per key and bucket as they are read (a week's blobs hold some hundred thousand buckets).
            var sums = new Dictionary<string, Dictionary<int, long>>(StringComparer.Ordinal);
            void Add(string key, int bucket, long n)
            {
                if (!sums.TryGetValue(key, out var h)) sums[key] = h = new Dictionary<int, long>();
                h[bucket] = h.TryGetValue(bucket, out var m) ? m + n : n;
            }
            foreach (var (key, blob) in c.Query<(string key, byte[] buckets)>(blobs, p))
                foreach (var (bucket, n) in DayHistogram.Decode(blob)) Add(key, bucket, n);
            // The parts' buckets are read under the filter's stories already.
            foreach (var (key, bucket, n) in Sources.PartBuckets(c, f, scope)) Add(key, bucket, n);
            return sums.ToDictionary(x => x.Key, x => x.Value.Select(b => (b.Key, b.Value)).ToList(), StringComparer.Ordinal);
        }

        // A pattern's first occurrence is not a repeat only where it is still an active event (retention may have archived it).
        private static readonly string FirstIsActive = $" AND EXISTS (SELECT 1 FROM event_rows r WHERE r.pattern_id = patterns.id AND {EventStorage.PatternTime("r")} = patterns.first_seen)";

        /// <summary>
        /// The error patterns (human interactions are mined too, for their topics) whose first occurrence is still an
        /// active event, as "SELECT <paramref name="columns"/> FROM patterns WHERE …" plus <paramref name="conditions"/>:
        /// every other occurrence of them is a repeat. The summaries' repeated-error counts subtract these firsts.
        /// </summary>
        internal static string ActiveFirsts(string columns, string conditions = "") =>
            $"SELECT {columns} FROM patterns WHERE merged_into IS NULL AND first_seen IS NOT NULL AND id IN (SELECT pattern_id FROM event_rollup WHERE {Errors.InRollup()}){FirstIsActive}{conditions}";

        /// <summary>
        /// Conditions on <see cref="ActiveFirsts"/> that keep the patterns whose first occurrence lies within the filter's
        /// stories (first_story) and window (first_seen): under a filter, a first counts where and when it happened.
        /// </summary>
        internal static string FirstsWithin(QueryFilter f, DynamicParameters p)
        {
            var firstIn = "";
            if (f.Stories is { Length: > 0 }) { firstIn += " AND first_story IN @firstStories"; p.Add("firstStories", f.Stories); }
            if (f.Since.HasValue) { firstIn += " AND first_seen >= @firstSince"; p.Add("firstSince", f.Since.Value.ToUnixTimeMilliseconds()); }
            if (f.Until.HasValue) { firstIn += " AND first_seen < @firstUntil"; p.Add("firstUntil", f.Until.Value.ToUnixTimeMilliseconds()); }
            return firstIn;
        }

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
        /// without sorting every event the filter covers. The spans of each block per day and story (event_block_days)
        /// that meet the filter's window and stories, in order of their earliest (latest) time: every such event before
        /// the (k+1)-th span's earliest time (after its latest) lies in the blocks of the first k spans, so
        /// <paramref name="query"/> (which orders and limits; given extra conditions on events alias e) reads those blocks'
        /// events before that time, with k doubled until they hold the page; the rows are those the whole filter gives.
        /// <paramref name="time"/>: the SQL of alias e's time (e.timestamp of the events view, or EventStorage.TimeOf of event_rows);
        /// <paramref name="block"/>: e is event_rows read block by block (EventStorage.BlockRows) with this alias for its blocks.
        /// </summary>
        internal static List<T> InTimeOrder<T>(SqliteConnection c, QueryFilter f, Func<string, List<T>> query, int limit, bool newest, string time = "e.timestamp", string? block = null)
        {
            const int MostSpans = 512; // beyond that one read of the filter's blocks is as cheap as naming them
            if (limit <= 0 || f.ScanEvents) return query("");
            long since = f.Since?.ToUnixTimeMilliseconds() ?? long.MinValue, until = f.Until?.ToUnixTimeMilliseconds() ?? long.MaxValue;
            var p = new DynamicParameters(new { since, until });
            var days = "";
            if (f.Since.HasValue) { days += " AND day >= @sinceDay"; p.Add("sinceDay", IsoWeeks.DayOf(since)); }
            if (f.Until.HasValue) { days += " AND day <= @untilDay"; p.Add("untilDay", IsoWeeks.DayOf(until)); }
            var stories = "";
            if (f.Stories is { Length: > 0 }) { stories = " AND story IN (SELECT id FROM names WHERE text IN @stories)"; p.Add("stories", f.Stories); }
            // A span lies within its day, so ordering by the day first orders by time alike, and SQLite reads the table's
            // days in key order and stops at the limit instead of sorting every span (37k at 10M events). Only as many
            // spans are read as the next try needs (reading MostSpans at once was a tenth of a first page's time).
            var spans = new List<(long block, long min, long max)>();
            var asked = 0;
            void Read(int most)
            {
                if (spans.Count >= most || spans.Count < asked) return; // enough, or all there are
                p.Add("most", asked = most);
                spans = c.Query<(long block, long min, long max)>(
                    $@"SELECT block, min_ts, max_ts FROM event_block_days WHERE max_ts >= @since AND min_ts < @until{days}{stories}
                       ORDER BY {(newest ? "day DESC, max_ts DESC" : "day, min_ts")}, block LIMIT @most", p).ToList();
            }
            // A span holds a day's or a story's share of a block: start with a few blocks' worth of them.
            var k = 4 * (limit / EventStorage.BlockSize + 2);
            for (Read(Math.Min(k + 1, MostSpans + 1)); k < spans.Count; k *= 2, Read(Math.Min(k + 1, MostSpans + 1)))
            {
                // An edge before the window's start (after its end) leaves none of its events: take more spans.
                if (newest ? spans[k].max >= until : spans[k].min <= since) continue;
                var edge = newest ? $" AND {time} > {spans[k].max}" : $" AND {time} < {spans[k].min}";
                var ranges = EventStorage.Ranges(spans.Take(k).Select(x => x.block).Distinct().OrderBy(x => x));
                var rows = query(" AND " + (block == null ? EventStorage.InRanges("e.id", ranges) : EventStorage.InBlockRanges(block, ranges)) + edge);
                // A full page, or an edge past the window's end (start): no event of it is in a block not read.
                if (rows.Count >= limit || (newest ? spans[k].max < since : spans[k].min >= until)) return rows;
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

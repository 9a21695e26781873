using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Where a question's answer is read from.</summary>
    public enum Source
    {
        /// <summary>The whole-store summaries written at import (event_rollup, story_rollup, week_rollup, ...).</summary>
        Summaries,
        /// <summary>The day-grain summaries (day_rollup, day_hist, session_day), for a story or whole days.</summary>
        DaySummaries,
        /// <summary>The events view, bounded to the time blocks the filter meets.</summary>
        Events,
    }

    /// <summary>What a question's summary tables can answer; each question declares it and <see cref="Sources.For"/> decides.</summary>
    [Flags]
    public enum Summarised
    {
        /// <summary>Only the events answer (no summary keeps what the question needs).</summary>
        None = 0,
        /// <summary>The whole store, no filter: whole-store summaries.</summary>
        WholeStore = 1,
        /// <summary>The whole-store summaries are keyed by agent, so an -Agent filter still reads them.</summary>
        ByAgent = 2,
        /// <summary>The whole-store summaries are keyed by story, so a -Story filter still reads them.</summary>
        ByStory = 4,
        /// <summary>Day-grain summaries answer a story or a window of whole days.</summary>
        Days = 8,
        /// <summary>
        /// With Days: also a window that cuts a day, its whole days from the day summaries and the parts of days at its
        /// ends from their events (decoded once per question into a temporary table, Sources.PartEvents; a question opts
        /// in where that measured faster than one scan of the window).
        /// </summary>
        DayParts = 16,
        /// <summary>With Days: the day summaries are keyed by agent, so an -Agent filter still reads them.</summary>
        DaysByAgent = 32,
    }

    /// <summary>
    /// The one dispatcher: which source answers a question under a filter. Whole-store questions (no time window, no
    /// story) read the import-time summaries; a story, or a window of whole days (-Since/-Until at midnight UTC), reads
    /// the day-grain summaries (a week reads seven days of rows); a window that cuts a day reads its whole days there and
    /// the parts of days at its ends from their events (bounded by their time blocks); anything else (a filter the
    /// question's summaries are not keyed by) reads the events, bounded to the id range of the time blocks it meets
    /// (docs/storage.md).
    /// </summary>
    public static class Sources
    {
        public static Source For(QueryFilter f, Summarised summarised)
        {
            if (f.ScanEvents) return Source.Events;
            var window = f.Since.HasValue || f.Until.HasValue;
            var stories = f.Stories is { Length: > 0 };
            var agents = f.Agents is { Length: > 0 };
            if ((summarised & Summarised.WholeStore) != 0 && !window
                && (!stories || (summarised & Summarised.ByStory) != 0) && (!agents || (summarised & Summarised.ByAgent) != 0))
                return Source.Summaries;
            if ((summarised & Summarised.Days) != 0 && (window || stories) && (!agents || (summarised & Summarised.DaysByAgent) != 0)
                && ((summarised & Summarised.DayParts) != 0 || (Midnight(f.Since) && Midnight(f.Until))))
                return Source.DaySummaries;
            return Source.Events;
        }

        private static bool Midnight(DateTimeOffset? t) => !t.HasValue || t.Value.ToUnixTimeMilliseconds() % IsoWeeks.DayMs == 0;

        /// <summary>
        /// A window that cuts a day: its whole days [wholeFrom, wholeTo) (days since 1970-01-01; null for an open end) and
        /// the parts of days at its ends, each [from, to) in ms. A window at midnights has no parts.
        /// </summary>
        internal static (long? wholeFrom, long? wholeTo, List<(long from, long to)> parts) Days(QueryFilter f)
        {
            long? since = f.Since?.ToUnixTimeMilliseconds(), until = f.Until?.ToUnixTimeMilliseconds();
            long? wholeFrom = since.HasValue ? IsoWeeks.DayOf(since.Value - 1) + 1 : (long?)null; // the first midnight at or after since
            long? wholeTo = until.HasValue ? IsoWeeks.DayOf(until.Value) : (long?)null;             // the last midnight at or before until
            var parts = new List<(long, long)>();
            if (wholeFrom.HasValue && wholeTo.HasValue && wholeFrom >= wholeTo)
            {
                // No whole day: the window lies within one day or two days' parts.
                if (since < until) parts.Add((since!.Value, until!.Value));
                return (wholeFrom, wholeFrom, parts);
            }
            if (!Midnight(f.Since)) parts.Add((since!.Value, wholeFrom!.Value * IsoWeeks.DayMs));
            if (!Midnight(f.Until)) parts.Add((wholeTo!.Value * IsoWeeks.DayMs, until!.Value));
            return (wholeFrom, wholeTo, parts);
        }

        /// <summary>
        /// The parts of days a window cuts (see <see cref="Days"/>) split at hours: their whole hours, each [from, to) in
        /// hours since 1970-01-01, which the hour tables answer, and the parts of hours at their ends, each [from, to) in
        /// ms, which are read from their events (a window from 13:00 has none; from 13:27, an hour's part at each end).
        /// </summary>
        internal static (List<(long from, long to)> hours, List<(long from, long to)> edges) Hours(List<(long from, long to)> parts)
        {
            var hours = new List<(long, long)>();
            var edges = new List<(long, long)>();
            foreach (var (from, to) in parts)
            {
                long first = IsoWeeks.HourOf(from - 1) + 1, last = IsoWeeks.HourOf(to); // the first and last hour starts within the part
                if (first >= last) { edges.Add((from, to)); continue; }
                hours.Add((first, last));
                if (from < first * IsoWeeks.HourMs) edges.Add((from, first * IsoWeeks.HourMs));
                if (last * IsoWeeks.HourMs < to) edges.Add((last * IsoWeeks.HourMs, to));
            }
            return (hours, edges);
        }

        /// <summary>
        /// The conditions on an hour table's rows (alias <paramref name="alias"/>) that keep the whole hours of the parts of
        /// days a window cuts (<see cref="Hours"/>); null when they hold no whole hour.
        /// </summary>
        internal static string? HourWhere(QueryFilter f, DynamicParameters p, string alias)
        {
            var hours = Hours(Days(f).parts).hours;
            if (hours.Count == 0) return null;
            return "(" + string.Join(" OR ", hours.Select((h, i) =>
            {
                p.Add("hourFrom" + i, h.from); p.Add("hourTo" + i, h.to);
                return $"{alias}.hour >= @hourFrom{i} AND {alias}.hour < @hourTo{i}";
            })) + ")";
        }

        /// <summary>
        /// The events of the parts of hours at the ends of a window's parts of days (see <see cref="Hours"/>) under the
        /// filter's stories and agents, one read per part bounded by its time blocks, kept on the connection while the
        /// store and the parts are unchanged (the rows made from them too, <see cref="PartRows"/>) and shared by the
        /// process's connections while the store's events are (<see cref="SharedParts"/>); null when there are
        /// none (a window at whole hours: its parts of days are whole hours, read from the hour tables). The step keys
        /// are read only for a caller that asks for <paramref name="steps"/> (kept parts without them are read again).
        /// </summary>
        private static DayParts.Decoded? PartEvents(SqliteConnection c, QueryFilter f, bool steps)
        {
            var edges = Hours(Days(f).parts).edges;
            if (edges.Count == 0) return null;
            // Each read within one day (a part with no whole hour may cross a midnight), so its events' day is known.
            var parts = new List<(long from, long to)>();
            foreach (var (from, to) in edges)
                for (var start = from; start < to;)
                {
                    var end = Math.Min(to, (IsoWeeks.DayOf(start) + 1) * IsoWeeks.DayMs);
                    parts.Add((start, end));
                    start = end;
                }
            var reads = parts.Select((part, i) =>
            {
                var p = new DynamicParameters();
                var w = new QueryFilter { Stories = f.Stories, Agents = f.Agents, Since = DateTimeOffset.FromUnixTimeMilliseconds(part.from), Until = DateTimeOffset.FromUnixTimeMilliseconds(part.to) };
                // The part's blocks bound its events (as Where would read them) and their rows in event_extras: read once.
                var blocks = EventStorage.BlockRanges(c, part.from, part.to, w.Stories is { Length: > 0 } ? w.Stories : null);
                return (where: w.Where(c, p, "e", "part" + i + "_", ids: " AND " + EventStorage.InBlockRanges("eb", blocks), block: "eb"), p, day: IsoWeeks.DayOf(part.from),
                    extras: EventStorage.InRanges("x.id", blocks));
            }).ToList();
            var key = string.Join("\n", reads.Select(r => r.where + "\n" + string.Join(",", r.p.ParameterNames.OrderBy(n => n, StringComparer.Ordinal).Select(n => n + "=" + Value(r.p.Get<object>(n))))));
            var version = c.ExecuteScalar<long>("PRAGMA data_version");
            var kept = Kept.GetOrCreateValue(c);
            if (kept.Key == key && kept.Version == version && kept.Changes == TotalChanges(c) && kept.Parts != null && (kept.Parts.Steps || !steps)) return kept.Parts;
            // Another connection of this process may have decoded them from the store as it is (a cmdlet call opens a
            // new connection: decoding the parts was most of a cut window's first question on it).
            var stamp = SharedParts.Stamp(c);
            var decoded = stamp == null ? null : SharedParts.Find(c.DataSource, key, stamp, steps);
            if (decoded == null)
            {
                decoded = DayParts.Read(c, reads, steps);
                if (stamp != null) SharedParts.Keep(c, key, stamp, decoded);
            }
            if (kept.Made.Count > 0) c.Execute(string.Concat(kept.Made.Select(t => $"DROP TABLE IF EXISTS temp.{t}; ")));
            kept.Made.Clear();
            kept.Parts = decoded;
            kept.Key = key; kept.Version = version; kept.Changes = TotalChanges(c);
            return kept.Parts;
        }

        /// <summary>
        /// The parts of hours a window cuts as rows of a day table (<paramref name="dayTable"/>: day_rollup, session_day,
        /// day_hist's buckets one per row, or story_spans: each story's first and last time), made once from
        /// <see cref="PartEvents"/> into a temporary table the question's queries share; null when the window has none.
        /// The step of tool calls and steps is NULL (their details are not read): the questions that group by step
        /// (bottlenecks, tool failures) sum <see cref="PartRollupRows"/> themselves.
        /// </summary>
        internal static string? PartRows(SqliteConnection c, QueryFilter f, string dayTable)
        {
            var parts = PartEvents(c, f, steps: false);
            if (parts == null) return null;
            var name = $"madf_day_parts_{dayTable}";
            var kept = Kept.GetOrCreateValue(c);
            if (kept.Made.Add(name)) DayParts.Make(c, parts, dayTable, name);
            kept.Changes = TotalChanges(c);
            return "temp." + name;
        }

        /// <summary>
        /// The parts of hours a window cuts as day_rollup's rows (<see cref="DayParts.DayRollupColumns"/>) with each tool
        /// call's and step's step, under the filter's stories and agents already, for a question that groups by step and
        /// sums them itself beside the union of day and hour rows (<see cref="SummaryTable"/> without parts): inserting
        /// them into a temporary table and reading them back cost more than summing them here. Empty when the window has
        /// none.
        /// </summary>
        internal static IEnumerable<object?[]> PartRollupRows(SqliteConnection c, QueryFilter f)
        {
            var parts = PartEvents(c, f, steps: true);
            return parts == null ? Enumerable.Empty<object?[]>() : DayParts.Rows(c, parts, "day_rollup", steps: true);
        }

        /// <summary>
        /// The parts' duration buckets of one scope of day_hist (agent, workflow or step) summed per key, without a
        /// temporary table, for the duration histograms (inserting their buckets' rows cost more than reading them); kept
        /// with the parts, so a connection's next question sums them once.
        /// </summary>
        internal static List<(string key, int bucket, long n)> PartBuckets(SqliteConnection c, QueryFilter f, string scope)
        {
            var parts = PartEvents(c, f, steps: scope == "step");
            return parts == null ? new List<(string, int, long)>() : DayParts.ScopeBuckets(c, parts, scope);
        }

        // The parts decoded last on each connection: their reads and parameters, the store's data_version (other
        // connections' commits) and the connection's own changes when they were decoded, and the temporary tables made
        // from them on the connection.
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SqliteConnection, KeptParts> Kept =
            new System.Runtime.CompilerServices.ConditionalWeakTable<SqliteConnection, KeptParts>();

        private sealed class KeptParts
        {
            public string? Key { get; set; }
            public long Version { get; set; }
            public long Changes { get; set; }
            public DayParts.Decoded? Parts { get; set; }
            public HashSet<string> Made { get; } = new HashSet<string>(StringComparer.Ordinal);
        }

        private static long TotalChanges(SqliteConnection c) => c.ExecuteScalar<long>("SELECT total_changes()");

        private static string Value(object? v) => v is System.Collections.IEnumerable list && v is not string
            ? "[" + string.Join(",", list.Cast<object?>().Select(Value)) + "]" : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "null";

        /// <summary>An -Agent filter on summary rows (alias r).</summary>
        internal static string AgentWhere(QueryFilter f, DynamicParameters p)
        {
            if (f.Agents is not { Length: > 0 }) return "";
            p.Add("agents", f.Agents);
            return " AND r.agent_name IN @agents";
        }

        /// <summary>A -Story filter on whole-store summary rows keyed by story (alias r; names resolved, no wildcards).</summary>
        internal static string StoryWhere(QueryFilter f, DynamicParameters p)
        {
            if (f.Stories is not { Length: > 0 }) return "";
            p.Add("stories", f.Stories);
            return " AND r.story_id IN @stories";
        }

        /// <summary>
        /// The summary table that answers a source (whole store: event_rollup; day grain: <paramref name="dayTable"/>,
        /// day_rollup or session_day) and its WHERE conditions on alias r. A window that cuts a day reads its whole days
        /// from the day table, the whole hours of its cut days from the day table's hour twin (hour_rollup, session_hour:
        /// the same rows per hour, each given its day), and the parts of hours at its ends from their events, grouped as
        /// the day table is (the import's definitions in SQL), so the answer equals a scan's. Without
        /// <paramref name="withParts"/> the parts of hours are left out, for a caller that adds <see cref="PartRollupRows"/>.
        /// </summary>
        internal static (string table, string where) SummaryTable(SqliteConnection c, Source source, QueryFilter f, DynamicParameters p, bool agents = true, string dayTable = "day_rollup",
                                                                   bool withParts = true)
        {
            if (source != Source.DaySummaries) return ("event_rollup", agents ? AgentWhere(f, p) : "");
            var where = agents ? AgentWhere(f, p) : "";
            var table = dayTable;
            var (wholeFrom, wholeTo, _) = Days(f);
            var parts = withParts ? PartRows(c, f, dayTable) : null;
            var hours = HourWhere(f, p, "h");
            var days = "";
            if (wholeFrom.HasValue) { days += " AND day >= @sinceDay"; p.Add("sinceDay", wholeFrom.Value); }
            if (wholeTo.HasValue) { days += " AND day < @untilDay"; p.Add("untilDay", wholeTo.Value); }
            if (parts == null && hours == null) where += days.Replace(" day ", " r.day ");
            else
            {
                var union = $"SELECT * FROM {dayTable} WHERE 1=1{days}";
                if (hours != null)
                {
                    var (hourTable, columns) = dayTable == "session_day" ? ("session_hour", SummaryTables.SessionDayColumns) : ("hour_rollup", DayParts.DayRollupColumns);
                    union += $" UNION ALL SELECT {IsoWeeks.DayOfHourSql("h.hour")}, {string.Join(", ", columns.Skip(1).Select(x => "h." + x))} FROM {hourTable} h WHERE {hours}";
                }
                if (parts != null) union += $" UNION ALL SELECT * FROM {parts}";
                table = $"({union})";
            }
            return (table, where + DayStoryWhere(f, p));
        }

        /// <summary>A -Story filter on day-grain rows (alias r, keyed by day first; no story index): the days of the stories' span, then the stories.</summary>
        internal static string DayStoryWhere(QueryFilter f, DynamicParameters p)
        {
            if (f.Stories is not { Length: > 0 }) return "";
            return $@" AND r.day BETWEEN {IsoWeeks.DaySql("(SELECT min(first_ts) FROM story_rollup WHERE story_id IN @stories)")}
                             AND {IsoWeeks.DaySql("(SELECT max(last_ts) FROM story_rollup WHERE story_id IN @stories)")}{StoryWhere(f, p)}";
        }
    }
}

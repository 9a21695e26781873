using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Dapper;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>The filters every analysis question takes; turned into one WHERE clause.</summary>
    public sealed class QueryFilter
    {
        public string[]? Stories { get; set; }
        public string[]? Agents { get; set; }
        public DateTimeOffset? Since { get; set; }
        public DateTimeOffset? Until { get; set; }

        /// <summary>
        /// Answer from a scan of the events even where summaries could: the reference every summary path is tested
        /// against (no cmdlet sets it).
        /// </summary>
        public bool ScanEvents { get; set; }

        /// <summary>
        /// WHERE conditions (with a leading AND for each) on the events alias, and their parameters (named with
        /// <paramref name="prefix"/> first, so one statement can hold the conditions of several filters). Without a
        /// connection, a story and a window are bounded in SQL to one id range each; with one, see the overload.
        /// </summary>
        public string Where(DynamicParameters p, string alias = "e", string prefix = "") => Where(null, p, alias, prefix);

        /// <summary>
        /// The same conditions; with a connection, a story or a window is bounded to the id ranges of the blocks that hold
        /// its events (Store.EventStorage.BlockRanges: each block's span per day and story), read before the statement.
        /// A scan (<see cref="ScanEvents"/>), the reference, does not rely on those spans. <paramref name="ids"/>, when
        /// given, replaces the id bounds: conditions (with a leading AND) that already bound the filter's events to some
        /// blocks, or "" where an index bounds them. <paramref name="fewRows"/>: the statement reads few rows (an index
        /// bounds it, and it stops at its first rows), so a story or agent is tested by looking up each row's context: the
        /// list of a story's contexts (thousands, one per session) that the set test builds first cost more than the read.
        /// <paramref name="time"/>: the SQL of the event's time where the alias is event_rows, not the events view
        /// (Store.EventStorage.PatternTime for a pattern's rows). <paramref name="block"/>: the alias is event_rows read
        /// block by block (Store.EventStorage.BlockRows) with this alias for its blocks; the window and the id bounds are
        /// then tested on the blocks (<paramref name="ids"/>, when given, must be too: Store.EventStorage.InBlockRanges).
        /// </summary>
        public string Where(SqliteConnection? c, DynamicParameters p, string alias = "e", string prefix = "", string? ids = null, bool fewRows = false, string? time = null, string? block = null)
        {
            time ??= alias + ".timestamp";
            if (ScanEvents) c = null;
            var sb = new StringBuilder();
            var stories = Stories is { Length: > 0 };
            if (stories)
            {
                sb.Append(InContexts(alias, "story_id", "@" + prefix + "stories", fewRows));
                p.Add(prefix + "stories", Stories);
            }
            if (stories && c == null && ids == null)
            {
                // A story's events lie within its summary's time span: that bounds the ids to read (no story index needed),
                // one range per story so two stories months apart do not read everything between them. Without a summary
                // row (an archive database) the bounds are open.
                string Span(string list) => Store.EventStorage.IdRange(alias + ".id",
                    $"coalesce((SELECT min(first_ts) FROM story_rollup WHERE story_id IN {list}), -9223372036854775807)",
                    $"coalesce((SELECT max(last_ts) FROM story_rollup WHERE story_id IN {list}) + 1, 9223372036854775807)");
                if (Stories!.Length > 8) sb.Append(" AND " + Span("@" + prefix + "stories"));
                else
                {
                    for (var i = 0; i < Stories.Length; i++) p.Add(prefix + "story" + i, Stories[i]);
                    sb.Append(" AND (" + string.Join(" OR ", Stories.Select((_, i) => "(" + Span("(@" + prefix + "story" + i + ")") + ")")) + ")");
                }
            }
            if (Agents is { Length: > 0 })
            {
                sb.Append(InContexts(alias, "agent_name", "@" + prefix + "agents", fewRows));
                p.Add(prefix + "agents", Agents);
            }
            if (Since.HasValue) p.Add(prefix + "since", Since.Value.ToUnixTimeMilliseconds());
            if (Until.HasValue) p.Add(prefix + "until", Until.Value.ToUnixTimeMilliseconds());
            string? since = Since.HasValue ? "@" + prefix + "since" : null, until = Until.HasValue ? "@" + prefix + "until" : null;
            if (block != null)
            {
                if (since != null || until != null) sb.Append(" AND " + Store.EventStorage.Within(alias, block, since, until));
                if (ids != null) sb.Append(ids);
                else if (c == null) sb.Append(Store.EventStorage.BlockBounds(block, since, until));
                else if (stories || since != null || until != null)
                    sb.Append(" AND " + Store.EventStorage.InBlockRanges(block,
                        Store.EventStorage.BlockRanges(c, Since?.ToUnixTimeMilliseconds(), Until?.ToUnixTimeMilliseconds(), stories ? Stories : null)));
                return sb.ToString();
            }
            if (since != null) sb.Append($" AND {time} >= {since}");
            if (until != null) sb.Append($" AND {time} < {until}");
            if (ids != null) sb.Append(ids);
            else if (c == null) sb.Append(Store.EventStorage.IdBounds(alias + ".id", Since.HasValue ? "@" + prefix + "since" : null, Until.HasValue ? "@" + prefix + "until" : null));
            else if (stories || Since.HasValue || Until.HasValue)
                sb.Append(" AND " + Store.EventStorage.InRanges(alias + ".id",
                    Store.EventStorage.BlockRanges(c, Since?.ToUnixTimeMilliseconds(), Until?.ToUnixTimeMilliseconds(), stories ? Stories : null)));
            return sb.ToString();
        }

        // Events whose context has one of the names in a list parameter: a set test per event, not a decoded text; for
        // few rows, each row's context looked up instead.
        private static string InContexts(string alias, string column, string names, bool fewRows) => fewRows
            ? $" AND (SELECT x.{column} FROM contexts x WHERE x.id = {alias}.context) IN (SELECT id FROM names WHERE text IN {names})"
            : $" AND {alias}.context IN (SELECT x.id FROM contexts x WHERE x.{column} IN (SELECT id FROM names WHERE text IN {names}))";

        /// <summary>What the filter covers, for brief headlines.</summary>
        public string Describe()
        {
            var parts = new List<string>();
            if (Stories is { Length: > 0 }) parts.Add("story " + string.Join(",", Stories));
            if (Agents is { Length: > 0 }) parts.Add("agent " + string.Join(",", Agents));
            if (Since.HasValue) parts.Add("since " + Since.Value.UtcDateTime.ToString("yyyy-MM-dd"));
            if (Until.HasValue) parts.Add("until " + Until.Value.UtcDateTime.ToString("yyyy-MM-dd"));
            return parts.Count == 0 ? "all events" : string.Join(", ", parts);
        }
    }

    /// <summary>Stories sort as versions: 1.2 before 1.10.</summary>
    public sealed class StoryOrder : IComparer<string?>
    {
        public static readonly StoryOrder Instance = new StoryOrder();

        public int Compare(string? x, string? y)
        {
            if (x == y) return 0;
            if (x == null) return -1;
            if (y == null) return 1;
            var a = x.Split('.', '-', '_'); var b = y.Split('.', '-', '_');
            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                var na = int.TryParse(a[i], out var ia); var nb = int.TryParse(b[i], out var ib);
                var c = na && nb ? ia.CompareTo(ib) : string.CompareOrdinal(a[i], b[i]);
                if (c != 0) return c;
            }
            return a.Length.CompareTo(b.Length);
        }
    }
}

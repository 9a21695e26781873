using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Store;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Patterns;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Errors grouped by pattern, with their share of all errors.</summary>
    internal static class ErrorSummaryQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent;

        internal static List<ErrorSummaryItem> ErrorSummary(SqliteConnection c, QueryFilter f, int top = 20)
        {
            var source = Sources.For(f, Answers);
            if (source == Source.Summaries) return ErrorSummaryFromSummaries(c, top);
            if (source == Source.DaySummaries) return ErrorSummaryFromDays(c, f, top);
            var p = new DynamicParameters();
            var where = f.Where(c, p);
            p.Add("top", top);
            var total = c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {Errors.InEvents}{where}", p);
            return c.Query<PatternErrorsRow>(
                    $@"SELECT e.pattern_id AS PatternId, coalesce(p.display, p.template) AS Template, p.error_class AS ErrorClass, count(*) AS Occurrences,
                              group_concat(DISTINCT e.agent_name) AS Agents, group_concat(DISTINCT e.story_id) AS Stories, min(e.timestamp) AS FirstTs, max(e.timestamp) AS LastTs,
                              p.example AS Example
                       FROM events e LEFT JOIN patterns p ON p.id = e.pattern_id
                       WHERE {Errors.InEvents}{where} GROUP BY e.pattern_id ORDER BY count(*) DESC, e.pattern_id LIMIT @top", p)
                .Select(r => Item(r, total)).ToList();
        }

        // A story or whole days: counts, agents and stories per pattern from day_rollup; the day summaries keep the days
        // a pattern was seen, so its first and last time in the filter are read from the events of those two days only.
        private static List<ErrorSummaryItem> ErrorSummaryFromDays(SqliteConnection c, QueryFilter f, int top) => FromDays(c, f, top).items;

        /// <summary>
        /// The error summary from the day rows (a story or a window's days), and the errors per pattern, story and agent it
        /// was summed from (error patterns' breakdowns): one read of the rows, grouped by pattern, story and agent, gives the
        /// total, each pattern's count, agents, stories and days (a window's rows are a union of day, hour and part rows,
        /// each read of which cost about as much as the rest of the question).
        /// </summary>
        internal static (List<ErrorSummaryItem> items, List<(long pattern, string? story, string? agent, long n)> cells) FromDays(SqliteConnection c, QueryFilter f, int top)
        {
            var p = new DynamicParameters();
            var (table, where) = Sources.SummaryTable(c, Source.DaySummaries, f, p);
            var cells = new List<(long pattern, string? story, string? agent, long n)>();
            var patterns = new Dictionary<long, (long n, long firstDay, long lastDay, HashSet<string> agents, HashSet<string> stories)>();
            long total = 0;
            foreach (var (pattern, story, agent, n, firstDay, lastDay) in c.Query<(long, string?, string?, long, long, long)>(
                         $@"SELECT r.pattern_id, nullif(r.story_id, ''), nullif(r.agent_name, ''), sum(r.events), min(r.day), max(r.day)
                            FROM {table} r WHERE {Errors.InRollup("r")}{where} GROUP BY 1, 2, 3", p))
            {
                cells.Add((pattern, story, agent, n));
                total += n;
                if (!patterns.TryGetValue(pattern, out var x)) x = (0, firstDay, lastDay, new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal));
                if (agent != null) x.agents.Add(agent);
                if (story != null) x.stories.Add(story);
                patterns[pattern] = (x.n + n, Math.Min(x.firstDay, firstDay), Math.Max(x.lastDay, lastDay), x.agents, x.stories);
            }
            var chosen = patterns.OrderByDescending(x => x.Value.n).ThenBy(x => x.Key).Take(top).ToList();
            var named = chosen.Count == 0 ? new Dictionary<long, (string? template, string? errorClass, string? example)>()
                : c.Query<(long id, string? template, string? errorClass, string? example)>(
                        "SELECT id, coalesce(display, template), error_class, example FROM patterns WHERE id IN @ids", new { ids = chosen.Select(x => x.Key).ToList() })
                    .ToDictionary(x => x.id, x => (x.template, x.errorClass, x.example));
            // As group_concat(DISTINCT ...) lists them (Shared.List splits and sorts the text).
            static string? Concat(HashSet<string> names) => names.Count == 0 ? null : string.Join(",", names);
            var rows = chosen.Select(x =>
            {
                named.TryGetValue(x.Key, out var pt);
                return new PatternErrorsRow
                {
                    PatternId = x.Key == 0 ? (long?)null : x.Key, Template = pt.template, ErrorClass = pt.errorClass, Occurrences = x.Value.n,
                    Agents = Concat(x.Value.agents), Stories = Concat(x.Value.stories), FirstDay = x.Value.firstDay, LastDay = x.Value.lastDay, Example = pt.example,
                };
            }).ToList();
            var spans = PatternSpans(c, f, rows.Select(r => (r.PatternId ?? 0, r.FirstDay, r.LastDay)).ToList());
            for (var i = 0; i < rows.Count; i++) (rows[i].FirstTs, rows[i].LastTs) = spans[i];
            return (rows.Select(r => Item(r, total)).ToList(), cells);
        }

        /// <summary>
        /// The first and last time of each pattern's errors (0: no pattern) under a filter, given the first and last day it
        /// has errors there: only those two days' events are read, from either end to the first error under the filter.
        /// A pattern's through its index (pattern_id, ts: a pattern's rows hold their time whole), all in one statement; errors without a pattern through
        /// the day's time blocks in time order (Shared.InTimeOrder), not every block of the day.
        /// </summary>
        // An error without a pattern holds its time as an offset from its block's base.
        private static readonly string UnpatternedTime = "(e.ts + eb.base_ts)";

        internal static List<(long first, long last)> PatternSpans(SqliteConnection c, QueryFilter f, List<(long pattern, long firstDay, long lastDay)> patterns)
        {
            QueryFilter Day(long day) => new QueryFilter
            {
                Stories = f.Stories, Agents = f.Agents, ScanEvents = f.ScanEvents,
                Since = Max(f.Since, DateTimeOffset.FromUnixTimeMilliseconds(day * IsoWeeks.DayMs)),
                Until = Min(f.Until, DateTimeOffset.FromUnixTimeMilliseconds((day + 1) * IsoWeeks.DayMs)),
            };
            var p = new DynamicParameters();
            // The stories and agents once for every edge: one list parameter each (Dapper builds a regex per list
            // parameter's name, and dozens of them outgrew Regex's cache: each was parsed again on every call).
            var names = new QueryFilter { Stories = f.Stories, Agents = f.Agents, ScanEvents = f.ScanEvents }.Where(c, p, prefix: "spans", ids: "", fewRows: true);
            string Edge(int i, long pattern, long day, bool last)
            {
                var prefix = $"s{i}{(last ? "l" : "f")}";
                p.Add(prefix + "pattern", pattern);
                var window = Day(day);
                window.Stories = window.Agents = null;
                var time = EventStorage.PatternTime("e");
                return $@"(SELECT {time} FROM event_rows e WHERE e.pattern_id = @{prefix}pattern AND {Errors.InEvents}{names}{window.Where(c, p, prefix: prefix, ids: "", time: time)}
                           ORDER BY {time}{(last ? " DESC" : "")} LIMIT 1)";
            }
            long Unpatterned(long day, bool last)
            {
                var d = Day(day);
                var found = InTimeOrder(c, d, blocks =>
                {
                    var q = new DynamicParameters();
                    var where = d.Where(c, q, ids: blocks.Length == 0 ? null : blocks, block: "eb");
                    return c.Query<long>($"SELECT {UnpatternedTime} FROM {EventStorage.BlockRows("e", "eb")} WHERE e.pattern_id IS NULL AND {Errors.InEvents}{where} ORDER BY 1{(last ? " DESC" : "")} LIMIT 1", q).ToList();
                }, 1, newest: last, time: UnpatternedTime, block: "eb");
                return found.Count > 0 ? found[0] : 0;
            }
            var spans = patterns.Select(x => x.pattern == 0 ? (Unpatterned(x.firstDay, false), Unpatterned(x.lastDay, true)) : (0L, 0L)).ToList();
            var indexed = Enumerable.Range(0, patterns.Count).Where(i => patterns[i].pattern != 0).ToList();
            if (indexed.Count == 0) return spans;
            using var r = c.ExecuteReader("SELECT " + string.Join(", ", indexed.SelectMany(i =>
                new[] { Edge(i, patterns[i].pattern, patterns[i].firstDay, false), Edge(i, patterns[i].pattern, patterns[i].lastDay, true) })), p);
            r.Read();
            for (var j = 0; j < indexed.Count; j++) spans[indexed[j]] = (r.IsDBNull(2 * j) ? 0 : r.GetInt64(2 * j), r.IsDBNull(2 * j + 1) ? 0 : r.GetInt64(2 * j + 1));
            return spans;
        }

        private static DateTimeOffset Max(DateTimeOffset? a, DateTimeOffset b) => a.HasValue && a.Value > b ? a.Value : b;
        private static DateTimeOffset Min(DateTimeOffset? a, DateTimeOffset b) => a.HasValue && a.Value < b ? a.Value : b;

        // Whole store: counts per pattern, first and last seen from the summaries (the active window); the example is kept on the pattern.
        private static List<ErrorSummaryItem> ErrorSummaryFromSummaries(SqliteConnection c, int top)
        {
            var total = c.ExecuteScalar<long?>($"SELECT sum(events) FROM event_rollup WHERE {Errors.InRollup()}") ?? 0;
            return c.Query<PatternErrorsRow>(
                    $@"SELECT nullif(r.pattern_id, 0) AS PatternId, coalesce(p.display, p.template) AS Template, p.error_class AS ErrorClass, sum(r.events) AS Occurrences,
                             group_concat(DISTINCT nullif(r.agent_name, '')) AS Agents,
                             (SELECT group_concat(s.story_id) FROM pattern_stories s WHERE s.pattern_id = r.pattern_id) AS Stories, min(r.first_ts) AS FirstTs, max(r.last_ts) AS LastTs,
                             p.example AS Example
                      FROM event_rollup r LEFT JOIN patterns p ON p.id = r.pattern_id
                      WHERE {Errors.InRollup("r")} GROUP BY r.pattern_id ORDER BY sum(r.events) DESC, r.pattern_id LIMIT @top", new { top })
                .Select(r => Item(r, total)).ToList();
        }

        private static ErrorSummaryItem Item(PatternErrorsRow r, long total) => new ErrorSummaryItem
        {
            PatternId = r.PatternId, Template = r.Template ?? "(no message)", ErrorClass = r.ErrorClass ?? ErrorClasses.Other, Count = r.Occurrences,
            Share = total > 0 ? (double)r.Occurrences / total : 0, Agents = List(r.Agents), Stories = List(r.Stories),
            FirstSeen = Time(r.FirstTs ?? 0), LastSeen = Time(r.LastTs ?? 0), Example = r.Example,
        };

        /// <summary>A pattern's errors from the events or the summaries (mapped by column name; no pattern: null). The day
        /// summaries give the first and last day instead of times.</summary>
        private sealed class PatternErrorsRow
        {
            public long? PatternId { get; set; }
            public string? Template { get; set; }
            public string? ErrorClass { get; set; }
            public long Occurrences { get; set; }
            public string? Agents { get; set; }
            public string? Stories { get; set; }
            public long? FirstTs { get; set; }
            public long? LastTs { get; set; }
            public string? Example { get; set; }
            public long FirstDay { get; set; }
            public long LastDay { get; set; }
        }
    }
}

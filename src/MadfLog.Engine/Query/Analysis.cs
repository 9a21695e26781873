using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using MadfLog.Engine.Patterns;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>
    /// The analysis questions, each answered from the store as typed objects. An error is Domain.Errors (success false,
    /// not a cascade); a repeated error is an occurrence of a pattern that already occurred earlier (in an earlier
    /// story or earlier in the same one).
    /// </summary>
    public static class Analysis
    {
        private static DateTime Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
        private static string[] List(string? csv) => string.IsNullOrEmpty(csv) ? Array.Empty<string>() : csv!.Split(',').OrderBy(s => s, StringComparer.Ordinal).ToArray();

        /// <summary>
        /// Whole-store questions (no time window, no story) are answered from the import-time summaries; a story or a
        /// window narrows the question to the id range of the time blocks it meets, so the events answer it quickly (docs/storage.md).
        /// </summary>
        public static bool FromSummaries(QueryFilter f) => !f.Since.HasValue && !f.Until.HasValue && f.Stories is not { Length: > 0 };

        private static string SummaryWhere(QueryFilter f, DynamicParameters p)
        {
            if (f.Agents is not { Length: > 0 }) return "";
            p.Add("agents", f.Agents);
            return " AND r.agent_name IN @agents";
        }

        /// <summary>
        /// A story, or a window of whole days (-Since/-Until at midnight UTC), is answered from the day-grain summaries
        /// (day_rollup, day_hist): a week reads seven days of rows. A window that cuts a day reads the events.
        /// </summary>
        public static bool FromDaySummaries(QueryFilter f) => !FromSummaries(f) && Midnight(f.Since) && Midnight(f.Until);

        private static bool Midnight(DateTimeOffset? t) => !t.HasValue || t.Value.ToUnixTimeMilliseconds() % IsoWeeks.DayMs == 0;

        /// <summary>The summary table that answers a filter (whole store or day grain) and its WHERE conditions on alias r.</summary>
        private static (string table, string where) SummarySource(QueryFilter f, DynamicParameters p, bool agents = true)
        {
            if (!FromDaySummaries(f)) return ("event_rollup", agents ? SummaryWhere(f, p) : "");
            var where = agents ? SummaryWhere(f, p) : "";
            if (f.Since.HasValue) { where += " AND r.day >= @sinceDay"; p.Add("sinceDay", IsoWeeks.DayOf(f.Since.Value.ToUnixTimeMilliseconds())); }
            if (f.Until.HasValue) { where += " AND r.day < @untilDay"; p.Add("untilDay", IsoWeeks.DayOf(f.Until.Value.ToUnixTimeMilliseconds())); }
            if (f.Stories is { Length: > 0 })
            {
                // The days of the stories' span (the tables are keyed by day first; no story index), then the stories.
                where += $@" AND r.day BETWEEN {IsoWeeks.DaySql("(SELECT min(first_ts) FROM story_rollup WHERE story_id IN @stories)")}
                             AND {IsoWeeks.DaySql("(SELECT max(last_ts) FROM story_rollup WHERE story_id IN @stories)")} AND r.story_id IN @stories";
                p.Add("stories", f.Stories);
            }
            return ("day_rollup", where);
        }

        /// <summary>Nearest-rank percentile from a duration histogram (each bucket reported by its upper bound).</summary>
        private static double Percentile(List<(int bucket, long n)> histogram, double q) =>
            Quantile(histogram.Select(h => (RollupStage.BucketValue(h.bucket), h.n)).ToList(), q);

        private static Dictionary<string, List<(int, long)>> Histograms(SqliteConnection c, string scope, QueryFilter f)
        {
            var p = new DynamicParameters();
            p.Add("scope", scope);
            var (table, where) = SummarySource(f, p, agents: false);
            if (table == "event_rollup")
                return c.Query<(string key, int bucket, long n)>("SELECT key, bucket, n FROM duration_hist WHERE scope = @scope", p)
                    .GroupBy(h => h.key).ToDictionary(g => g.Key, g => g.Select(h => (h.bucket, h.n)).ToList());
            return c.Query<(string key, byte[] buckets)>($"SELECT r.key, r.buckets FROM day_hist r WHERE r.scope = @scope{where}", p)
                .GroupBy(h => h.key).ToDictionary(g => g.Key, g => g.SelectMany(h => DayHistogram.Decode(h.buckets)).GroupBy(x => x.bucket).Select(x => (x.Key, x.Sum(y => y.n))).ToList());
        }

        public static List<ErrorSummaryItem> ErrorSummary(SqliteConnection c, QueryFilter f, int top = 20)
        {
            if (FromSummaries(f) && f.Agents is not { Length: > 0 }) return ErrorSummaryFromSummaries(c, top);
            var p = new DynamicParameters();
            var where = f.Where(p);
            p.Add("top", top);
            var total = c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {Errors.InEvents}{where}", p);
            return c.Query<(long? id, string? template, string? cls, long n, string? agents, string? stories, long first, long last, string? example)>(
                    $@"SELECT e.pattern_id, coalesce(p.display, p.template), p.error_class, count(*), group_concat(DISTINCT e.agent_name), group_concat(DISTINCT e.story_id),
                              min(e.timestamp), max(e.timestamp), p.example
                       FROM events e LEFT JOIN patterns p ON p.id = e.pattern_id
                       WHERE {Errors.InEvents}{where} GROUP BY e.pattern_id ORDER BY count(*) DESC, e.pattern_id LIMIT @top", p)
                .Select(r => new ErrorSummaryItem
                {
                    PatternId = r.id, Template = r.template ?? "(no message)", ErrorClass = r.cls ?? ErrorClasses.Other, Count = r.n,
                    Share = total > 0 ? (double)r.n / total : 0, Agents = List(r.agents), Stories = List(r.stories),
                    FirstSeen = Time(r.first), LastSeen = Time(r.last), Example = r.example,
                }).ToList();
        }

        // Whole store: counts per pattern, first and last seen from the summaries (the active window); the example is kept on the pattern.
        private static List<ErrorSummaryItem> ErrorSummaryFromSummaries(SqliteConnection c, int top)
        {
            var total = c.ExecuteScalar<long?>($"SELECT sum(events) FROM event_rollup WHERE {Errors.InRollup()}") ?? 0;
            return c.Query<(long id, string? template, string? cls, long n, string? agents, string? stories, long? first, long? last, string? example)>(
                    $@"SELECT r.pattern_id, coalesce(p.display, p.template), p.error_class, sum(r.events), group_concat(DISTINCT nullif(r.agent_name, '')),
                             (SELECT group_concat(s.story_id) FROM pattern_stories s WHERE s.pattern_id = r.pattern_id), min(r.first_ts), max(r.last_ts), p.example
                      FROM event_rollup r LEFT JOIN patterns p ON p.id = r.pattern_id
                      WHERE {Errors.InRollup("r")} GROUP BY r.pattern_id ORDER BY sum(r.events) DESC, r.pattern_id LIMIT @top", new { top })
                .Select(r => new ErrorSummaryItem
                {
                    PatternId = r.id == 0 ? (long?)null : r.id, Template = r.template ?? "(no message)", ErrorClass = r.cls ?? ErrorClasses.Other, Count = r.n,
                    Share = total > 0 ? (double)r.n / total : 0, Agents = List(r.agents), Stories = List(r.stories),
                    FirstSeen = Time(r.first ?? 0), LastSeen = Time(r.last ?? 0), Example = r.example,
                }).ToList();
        }

        public static long CountErrors(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            return c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {Errors.InEvents}{f.Where(p)}", p);
        }

        public static long CountEvents(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            return c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE 1=1{f.Where(p)}", p);
        }

        public static List<AgentPerformance> AgentPerformance(SqliteConnection c, QueryFilter f)
        {
            if (FromSummaries(f) || FromDaySummaries(f)) return AgentPerformanceFromSummaries(c, f);
            var p = new DynamicParameters();
            var where = f.Where(p);
            var rows = c.Query<(string? agent, long n, long ok, long known, long errors, long? tokens, long hot, long ctx, long? failedMs, long? waste)>(
                $@"SELECT e.agent_name, count(*), sum(e.success = 1), sum(e.success IS NOT NULL), sum({Errors.InEvents}), sum(e.tokens_used),
                          sum({HighContext.Sql("e.context_percent")}), sum(e.context_percent IS NOT NULL),
                          sum(CASE WHEN e.success = 0 THEN e.duration_ms END), sum(CASE WHEN e.time_saved_or_wasted_ms < 0 THEN -e.time_saved_or_wasted_ms END)
                   FROM events e WHERE 1=1{where} GROUP BY e.agent_name", p).ToList();
            var durations = Durations(c, $"SELECT e.agent_name, e.duration_ms FROM events e WHERE e.duration_ms IS NOT NULL{where} ORDER BY e.agent_name", p);
            return rows.Select(r =>
            {
                durations.TryGetValue(r.agent ?? "", out var d);
                return new AgentPerformance
                {
                    Agent = r.agent ?? "", Events = r.n, Errors = r.errors, SuccessRate = r.known > 0 ? Math.Round((double)r.ok / r.known, 4) : 0,
                    MedianDurationMs = Percentile(d, 0.5), P95DurationMs = Percentile(d, 0.95), Tokens = r.tokens ?? 0,
                    ContextPressure = r.ctx > 0 ? Math.Round((double)r.hot / r.ctx, 4) : 0, TimeWastedMs = (r.failedMs ?? 0) + (r.waste ?? 0),
                };
            }).OrderByDescending(a => a.Events).ToList();
        }

        private static List<AgentPerformance> AgentPerformanceFromSummaries(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var (table, where) = SummarySource(f, p);
            var rows = c.Query<(string agent, long n, long? ok, long? known, long? errors, long tokens, long hot, long ctx, long wasted)>(
                $@"SELECT r.agent_name, sum(r.events), sum(CASE WHEN r.outcome = 1 THEN r.events END), sum(CASE WHEN r.outcome >= 0 THEN r.events END),
                          sum(CASE WHEN {Errors.InRollup("r")} THEN r.events END), sum(r.tokens), sum(r.ctx_hot), sum(r.ctx_known), sum(r.wasted_ms)
                   FROM {table} r WHERE 1=1{where} GROUP BY r.agent_name", p).ToList();
            // Medians and p95s from the per-agent duration histograms.
            var hist = Histograms(c, "agent", f);
            return rows.Select(r =>
            {
                hist.TryGetValue(r.agent, out var h);
                var median = h == null ? 0 : Percentile(h, 0.5);
                var p95 = h == null ? 0 : Percentile(h, 0.95);
                var known = r.known ?? 0;
                return new AgentPerformance
                {
                    Agent = r.agent, Events = r.n, Errors = r.errors ?? 0, SuccessRate = known > 0 ? Math.Round((double)(r.ok ?? 0) / known, 4) : 0,
                    MedianDurationMs = median, P95DurationMs = p95, Tokens = r.tokens, ContextPressure = r.ctx > 0 ? Math.Round((double)r.hot / r.ctx, 4) : 0, TimeWastedMs = r.wasted,
                };
            }).OrderByDescending(a => a.Events).ToList();
        }

        public static List<Bottleneck> Bottlenecks(SqliteConnection c, QueryFilter f, int top = 10)
        {
            var p = new DynamicParameters();
            List<(string kind, string name, long n, long total, long wasted)> rows;
            List<(string? name, long n, long total, long wasted)> workflows;
            Dictionary<string, List<(int, long)>>? hist = null;
            Dictionary<string, List<long>>? durations = null;
            if (FromSummaries(f) || FromDaySummaries(f))
            {
                var (table, where) = SummarySource(f, p);
                rows = c.Query<(string, string, long, long, long)>(
                    $@"SELECT CASE r.event_type WHEN 'tool_call' THEN 'tool' WHEN 'step' THEN 'step' ELSE 'event' END, r.step, sum(r.timed), sum(r.duration_ms), sum(r.wasted_ms)
                       FROM {table} r WHERE 1=1{where} GROUP BY 1, 2 HAVING sum(r.timed) > 0", p).ToList();
                workflows = c.Query<(string?, long, long, long)>(
                    $@"SELECT r.workflow_id, sum(r.timed), sum(r.duration_ms), sum(r.wasted_ms) FROM {table} r WHERE r.workflow_id <> ''{where} GROUP BY 1 HAVING sum(r.timed) > 0", p).ToList();
                if (f.Agents is not { Length: > 0 }) hist = Histograms(c, "step", f);
            }
            else
            {
                var where = f.Where(p);
                rows = c.Query<(string, string, long, long, long)>(
                    $@"SELECT {Steps.KindSql}, {Steps.NameSql}, count(e.duration_ms), coalesce(sum(e.duration_ms), 0),
                              coalesce(sum(CASE WHEN e.success = 0 THEN e.duration_ms ELSE 0 END), 0) + coalesce(sum(CASE WHEN e.time_saved_or_wasted_ms < 0 THEN -e.time_saved_or_wasted_ms ELSE 0 END), 0)
                       FROM events e WHERE 1=1{where} GROUP BY 1, 2 HAVING count(e.duration_ms) > 0", p).ToList();
                workflows = c.Query<(string?, long, long, long)>(
                    $@"SELECT e.workflow_id, count(e.duration_ms), coalesce(sum(e.duration_ms), 0),
                              coalesce(sum(CASE WHEN e.success = 0 THEN e.duration_ms ELSE 0 END), 0) + coalesce(sum(CASE WHEN e.time_saved_or_wasted_ms < 0 THEN -e.time_saved_or_wasted_ms ELSE 0 END), 0)
                       FROM events e WHERE e.workflow_id IS NOT NULL{where} GROUP BY 1 HAVING count(e.duration_ms) > 0", p).ToList();
            }
            Dictionary<string, List<(int, long)>>? workflowHist = hist != null ? Histograms(c, "workflow", f) : null;
            Dictionary<string, List<long>>? workflowDurations = null;
            if (hist == null)
            {
                var dp = new DynamicParameters();
                durations = Durations(c, $"SELECT {Steps.KindSql} || ':' || {Steps.NameSql}, e.duration_ms FROM events e WHERE e.duration_ms IS NOT NULL{f.Where(dp)} ORDER BY 1", dp);
                var wp = new DynamicParameters();
                workflowDurations = Durations(c, $"SELECT e.workflow_id, e.duration_ms FROM events e WHERE e.duration_ms IS NOT NULL AND e.workflow_id IS NOT NULL{f.Where(wp)}", wp);
            }
            var grand = rows.Sum(r => r.total);
            // A step's durations as (value, count) pairs: exact from the events, or bucketed from the histogram.
            static List<(double value, long n)> Distribution(Dictionary<string, List<(int, long)>>? histograms, Dictionary<string, List<long>>? exact, string key) => histograms != null
                ? (histograms.TryGetValue(key, out var h) ? h.Select(x => (RollupStage.BucketValue(x.Item1), x.Item2)).ToList() : new List<(double, long)>())
                : (exact!.TryGetValue(key, out var d) ? d.Select(ms => ((double)ms, 1L)).ToList() : new List<(double, long)>());
            Bottleneck Row(string kind, string name, long n, long total, long wasted, List<(double value, long n)> dist)
            {
                var median = Quantile(dist, 0.5);
                return new Bottleneck
                {
                    Kind = kind, Name = name, Count = n, TotalMs = total, ShareOfTime = grand > 0 ? Math.Round((double)total / grand, 4) : 0,
                    P95Ms = Quantile(dist, 0.95), MedianMs = median, TimeWastedMs = wasted,
                    Outliers = median > 0 ? dist.Where(x => x.value > 3 * median).Sum(x => x.n) : 0,
                };
            }
            var items = rows.Select(r => Row(r.kind, r.name, r.n, r.total, r.wasted, Distribution(hist, durations, r.kind + ":" + r.name))).ToList();
            if (workflows.Count > 1)
                items.AddRange(workflows.Select(w => Row("workflow", w.name ?? "", w.n, w.total, w.wasted, Distribution(workflowHist, workflowDurations, w.name ?? ""))));
            return items.OrderByDescending(b => b.TotalMs).ThenBy(b => b.Kind + b.Name, StringComparer.Ordinal).Take(top).ToList();
        }

        /// <summary>Per-story figures, stories in version order.</summary>
        public static List<StoryMetrics> Stories(SqliteConnection c, QueryFilter f)
        {
            if (!f.Since.HasValue && !f.Until.HasValue && f.Agents is not { Length: > 0 }) return StoriesFromSummaries(c, f);
            var p = new DynamicParameters();
            var where = f.Where(p);
            var repeated = RepeatedByGroup(c, "e.story_id", where, p);
            var rows = c.Query<(string? story, long n, long errors, long? tokens, long human, string? agents, long start, long end)>(
                $@"SELECT e.story_id, count(*), sum({Errors.InEvents}), sum(e.tokens_used), sum(e.event_type = 'human_interaction'), group_concat(DISTINCT e.agent_name), min(e.timestamp), max(e.timestamp)
                   FROM events e WHERE e.story_id IS NOT NULL{where} GROUP BY e.story_id", p);
            return rows.Select(r => Metrics(r.story ?? "", r.n, r.errors, repeated.TryGetValue(r.story ?? "", out var rep) ? rep : 0, r.tokens ?? 0, r.human, List(r.agents), r.start, r.end))
                .OrderBy(m => m.Story, StoryOrder.Instance).ToList();
        }

        private static List<StoryMetrics> StoriesFromSummaries(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var where = "";
            if (f.Stories is { Length: > 0 }) { where = " WHERE s.story_id IN @stories"; p.Add("stories", f.Stories); }
            var rows = c.Query<(string story, long n, long errors, long patterned, long tokens, long human, string? agents, long start, long end)>(
                $@"SELECT s.story_id, s.events, s.errors, s.patterned, s.tokens, s.human,
                          (SELECT group_concat(a.agent_name) FROM story_agents a WHERE a.story_id = s.story_id), s.first_ts, s.last_ts
                   FROM story_rollup s{where}", p).ToList();
            // Every occurrence of a pattern but its first is a repeat; the first is in patterns.first_story.
            // (Error patterns only: human interactions are mined too, for their topics.)
            var firsts = c.Query<(string story, long n)>(
                    $"SELECT first_story, count(*) FROM patterns WHERE merged_into IS NULL AND first_story IS NOT NULL AND id IN (SELECT pattern_id FROM event_rollup WHERE {Errors.InRollup()}){FirstIsActive} GROUP BY 1")
                .ToDictionary(x => x.story, x => x.n);
            return rows.Select(r => Metrics(r.story, r.n, r.errors, Math.Max(0, r.patterned - (firsts.TryGetValue(r.story, out var first) ? first : 0)),
                    r.tokens, r.human, List(r.agents), r.start, r.end))
                .OrderBy(m => m.Story, StoryOrder.Instance).ToList();
        }

        // A pattern's first occurrence is not a repeat only where it is still an active event (retention may have archived it).
        private const string FirstIsActive = " AND EXISTS (SELECT 1 FROM event_rows r WHERE r.pattern_id = patterns.id AND r.timestamp = patterns.first_seen)";

        private static StoryMetrics Metrics(string label, long n, long errors, long repeated, long tokens, long human, string[] agents, long? start, long? end) => new StoryMetrics
        {
            Story = label, Events = n, Errors = errors, ErrorRate = n > 0 ? Math.Round((double)errors / n, 4) : 0,
            RepeatedErrors = repeated, RepeatedErrorRate = n > 0 ? Math.Round((double)repeated / n, 4) : 0,
            Tokens = tokens, TokensPerEvent = n > 0 ? Math.Round((double)tokens / n, 1) : 0, HumanInteractions = human, Agents = agents,
            Start = start.HasValue ? Time(start.Value) : (DateTime?)null, End = end.HasValue ? Time(end.Value) : (DateTime?)null,
        };

        /// <summary>
        /// Repeated errors per group: occurrences after a pattern's first one, which may have been archived (the pattern
        /// keeps its first_seen), so a question over the active window counts the same repeats as the summaries.
        /// </summary>
        private static Dictionary<string, long> RepeatedByGroup(SqliteConnection c, string groupExpr, string where, DynamicParameters p) =>
            c.Query<(string? g, long n)>(
                $@"SELECT g, count(*) FROM (
                       SELECT {groupExpr} AS g, e.timestamp AS ts, e.id AS id, e.pattern_id AS pid,
                              row_number() OVER (PARTITION BY e.pattern_id ORDER BY e.timestamp, e.id) AS occurrence
                       FROM events e WHERE e.pattern_id IS NOT NULL AND {Errors.InEvents}) r
                   JOIN events e ON e.id = r.id
                   WHERE (r.occurrence > 1 OR r.ts > (SELECT pt.first_seen FROM patterns pt WHERE pt.id = r.pid)){where} GROUP BY g", p)
             .ToDictionary(x => x.g ?? "", x => x.n);

        public static StoryComparison CompareStories(SqliteConnection c, string reference, string difference, QueryFilter f, int top = 5)
        {
            var both = new QueryFilter { Stories = new[] { reference, difference }, Agents = f.Agents, Since = f.Since, Until = f.Until };
            var stories = Stories(c, both);
            var r = stories.FirstOrDefault(s => s.Story == reference) ?? new StoryMetrics { Story = reference };
            var d = stories.FirstOrDefault(s => s.Story == difference) ?? new StoryMetrics { Story = difference };
            var p = new DynamicParameters();
            p.Add("r", reference); p.Add("d", difference);
            // Errors per pattern in each story: from the import-time counts, or (with a time window or agents) from the
            // two stories' span of events.
            var counts = !f.Since.HasValue && !f.Until.HasValue && f.Agents is not { Length: > 0 }
                ? c.Query<(long id, string template, long rc, long dc)>(
                    @"SELECT s.pattern_id, coalesce(p.display, p.template), sum(CASE WHEN s.story_id = @r THEN s.errors ELSE 0 END), sum(CASE WHEN s.story_id = @d THEN s.errors ELSE 0 END)
                      FROM pattern_stories s JOIN patterns p ON p.id = s.pattern_id
                      WHERE s.story_id IN (@r, @d) AND s.errors > 0 GROUP BY s.pattern_id", p).ToList()
                : c.Query<(long id, string template, long rc, long dc)>(
                    $@"SELECT e.pattern_id, coalesce(p.display, p.template), sum(e.story_id = @r), sum(e.story_id = @d)
                       FROM events e JOIN patterns p ON p.id = e.pattern_id
                       WHERE {Errors.InEvents}{both.Where(p)} GROUP BY e.pattern_id", p).ToList();
            PatternDelta Delta((long id, string template, long rc, long dc) x) => new PatternDelta { PatternId = x.id, Template = x.template, ReferenceCount = x.rc, DifferenceCount = x.dc };
            var result = new StoryComparison
            {
                Reference = r, Difference = d,
                RepeatedErrorsChangePercent = Change(r.RepeatedErrorRate, d.RepeatedErrorRate),
                ErrorRateChangePercent = Change(r.ErrorRate, d.ErrorRate),
                PatternsGained = counts.Where(x => x.rc == 0 && x.dc > 0).OrderByDescending(x => x.dc).Take(top).Select(Delta).ToArray(),
                PatternsLost = counts.Where(x => x.rc > 0 && x.dc == 0).OrderByDescending(x => x.rc).Take(top).Select(Delta).ToArray(),
                AgentsAdded = d.Agents.Except(r.Agents).ToArray(),
                AgentsRemoved = r.Agents.Except(d.Agents).ToArray(),
            };
            result.Headline = result.RepeatedErrorsChangePercent.HasValue
                ? $"Repeated errors changed by {result.RepeatedErrorsChangePercent.Value:+0.#;-0.#;0}% from story {reference} to {difference} ({r.RepeatedErrorRate:P1} → {d.RepeatedErrorRate:P1} of events)."
                : $"Story {reference} has no repeated errors to compare with.";
            return result;
        }

        private static double? Change(double before, double after) => before > 0 ? Math.Round((after - before) / before * 100, 1) : (double?)null;

        public static List<TrendPoint> Trend(SqliteConnection c, QueryFilter f)
        {
            var stories = Stories(c, f);
            var points = stories.Select(s => new TrendPoint
            {
                Kind = "Story", Period = s.Story, Events = s.Events, ErrorRate = s.ErrorRate, RepeatedErrorRate = s.RepeatedErrorRate,
                TokensPerEvent = s.TokensPerEvent, HumanInteractions = s.HumanInteractions,
            }).ToList();
            foreach (var w in Weeks(c, f))
                points.Add(w);
            var forecast = StoryForecast.Next(stories.Select(s => (s.Events, s.Errors)).ToList());
            if (forecast != null) points.Add(forecast);
            return points;
        }

        private static List<TrendPoint> Weeks(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            List<(long day, long n, long errors, long patterned, long tokens, long human)> days;
            Func<string, long, long> repeatedIn; // (week, errors with a pattern) → repeated errors
            if (FromSummaries(f) && f.Agents is not { Length: > 0 })
            {
                days = c.Query<(long, long, long, long, long, long)>("SELECT week, events, errors, patterned, tokens, human FROM week_rollup").ToList();
                // Every occurrence but a pattern's first is a repeat.
                var firsts = c.Query<long>($"SELECT first_seen FROM patterns WHERE merged_into IS NULL AND first_seen IS NOT NULL AND id IN (SELECT pattern_id FROM event_rollup WHERE {Errors.InRollup()}){FirstIsActive}")
                    .GroupBy(ts => IsoWeeks.Name(ts)).ToDictionary(g => g.Key, g => (long)g.Count());
                repeatedIn = (week, patterned) => Math.Max(0, patterned - (firsts.TryGetValue(week, out var n) ? n : 0));
            }
            else
            {
                var where = f.Where(p);
                days = c.Query<(long, long, long, long, long, long)>(
                    $@"SELECT {IsoWeeks.DaySql("e.timestamp")}, count(*), coalesce(sum({Errors.InEvents}), 0), coalesce(sum({Errors.InEvents} AND e.pattern_id IS NOT NULL), 0),
                              coalesce(sum(e.tokens_used), 0), coalesce(sum(e.event_type = 'human_interaction'), 0)
                       FROM events e WHERE 1=1{where} GROUP BY 1", p).ToList();
                var repeated = RepeatedByGroup(c, IsoWeeks.DaySql("e.timestamp"), where, p)
                    .GroupBy(kv => IsoWeeks.Name(long.Parse(kv.Key, CultureInfo.InvariantCulture) * IsoWeeks.DayMs))
                    .ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
                repeatedIn = (week, _) => repeated.TryGetValue(week, out var n) ? n : 0;
            }
            return days.GroupBy(d => IsoWeeks.Name(d.day * IsoWeeks.DayMs)).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
            {
                var n = g.Sum(d => d.n);
                var repeated = repeatedIn(g.Key, g.Sum(d => d.patterned));
                return new TrendPoint
                {
                    Kind = "Week", Period = g.Key, Events = n, ErrorRate = n > 0 ? Math.Round((double)g.Sum(d => d.errors) / n, 4) : 0,
                    RepeatedErrorRate = n > 0 ? Math.Round((double)repeated / n, 4) : 0, TokensPerEvent = n > 0 ? Math.Round((double)g.Sum(d => d.tokens) / n, 1) : 0,
                    HumanInteractions = g.Sum(d => d.human),
                };
            }).ToList();
        }

        public static List<HumanInteractionSummary> HumanInteractions(SqliteConnection c, QueryFilter f, int top = int.MaxValue)
        {
            if (FromSummaries(f))
            {
                // The largest groups first (an index on their totals keeps this flat), then their three most common topics.
                var sp = new DynamicParameters();
                sp.Add("top", top == int.MaxValue ? -1 : top);
                var groups = c.Query<(string cat, string agent, string story, long n)>(
                    $"SELECT r.category, r.agent_name, r.story_id, r.n FROM human_groups r WHERE 1=1{SummaryWhere(f, sp)} ORDER BY r.n DESC LIMIT @top", sp).ToList();
                return groups.Select(g => new HumanInteractionSummary
                {
                    Category = g.cat, Agent = g.agent, Story = g.story, Count = g.n,
                    Topics = c.Query<(string topic, long n)>(
                            @"SELECT coalesce(p.display, p.template), r.n FROM human_rollup r JOIN patterns p ON p.id = r.pattern_id
                              WHERE r.category = @cat AND r.agent_name = @agent AND r.story_id = @story ORDER BY r.n DESC, 1 LIMIT 3", new { g.cat, g.agent, g.story })
                        .Select(x => x.topic + (x.n > 1 ? $" ({x.n}×)" : "")).ToArray(),
                }).ToList();
            }
            var p = new DynamicParameters();
            var where = f.Where(p);
            var rows = c.Query<(string cat, string? agent, string? story, string? details)>(
                $"SELECT e.category, e.agent_name, e.story_id, e.details FROM events e WHERE e.event_type = 'human_interaction'{where}", p).ToList();
            // What they were about: messages grouped by the same template miner as errors.
            var miner = new TemplateMiner();
            var topics = rows.Select(r => EventDetails.Message(r.details)).Select(m => m == null ? null : miner.Add(m)).ToList();
            return rows.Select((r, i) => (r, topic: topics[i]))
                .GroupBy(x => (x.r.cat, agent: x.r.agent ?? "", story: x.r.story ?? ""))
                .Select(g => new HumanInteractionSummary
                {
                    Category = g.Key.cat, Agent = g.Key.agent, Story = g.Key.story, Count = g.Count(),
                    Topics = g.Where(x => x.topic != null).GroupBy(x => miner.Resolve(x.topic!).Id)
                        .OrderByDescending(t => t.Count()).Take(3)
                        .Select(t => TemplateMiner.Display(EventDetails.Message(t.First().r.details), miner.Resolve(t.First().topic!).Tokens) + (t.Count() > 1 ? $" ({t.Count()}×)" : ""))
                        .ToArray(),
                })
                .OrderByDescending(s => s.Count).Take(top).ToList();
        }

        public static List<ToolFailure> ToolFailures(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            if (FromSummaries(f) || FromDaySummaries(f))
            {
                var (table, sw) = SummarySource(f, p);
                var srows = c.Query<(string tool, string agent, long calls, long? failures)>(
                    $@"SELECT r.step, r.agent_name, sum(r.events), sum(CASE WHEN {Errors.InRollup("r")} THEN r.events END)
                       FROM {table} r WHERE r.event_type = 'tool_call'{sw} GROUP BY 1, 2", p).ToList();
                var stop = c.Query<(string tool, string agent, string template, long n)>(
                    $@"SELECT r.step, r.agent_name, coalesce(pt.display, pt.template), sum(r.events)
                       FROM {table} r JOIN patterns pt ON pt.id = r.pattern_id
                       WHERE r.event_type = 'tool_call' AND {Errors.InRollup("r")}{sw} GROUP BY 1, 2, r.pattern_id", p)
                    .GroupBy(x => (x.tool, x.agent)).ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.n).ThenBy(x => x.template, StringComparer.Ordinal).First().template);
                return srows.Select(r => new ToolFailure
                {
                    Tool = r.tool, Agent = r.agent, Calls = r.calls, Failures = r.failures ?? 0,
                    FailureRate = r.calls > 0 ? Math.Round((double)(r.failures ?? 0) / r.calls, 4) : 0,
                    TopError = stop.TryGetValue((r.tool, r.agent), out var t) ? t : null,
                }).OrderByDescending(t => t.Failures).ThenByDescending(t => t.Calls).ThenBy(t => t.Tool + "/" + t.Agent, StringComparer.Ordinal).ToList();
            }
            var where = f.Where(p);
            var rows = c.Query<(string tool, string? agent, long calls, long failures)>(
                $@"SELECT {Steps.NameSql}, e.agent_name, count(*), sum({Errors.InEvents})
                   FROM events e WHERE e.event_type = 'tool_call'{where} GROUP BY 1, 2", p).ToList();
            var top = c.Query<(string tool, string? agent, string template, long n)>(
                $@"SELECT {Steps.NameSql}, e.agent_name, coalesce(p.display, p.template), count(*)
                   FROM events e JOIN patterns p ON p.id = e.pattern_id
                   WHERE e.event_type = 'tool_call' AND {Errors.InEvents}{where} GROUP BY 1, 2, e.pattern_id", p)
                .GroupBy(x => (x.tool, x.agent ?? "")).ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.n).ThenBy(x => x.template, StringComparer.Ordinal).First().template);
            return rows.Select(r => new ToolFailure
            {
                Tool = r.tool, Agent = r.agent ?? "", Calls = r.calls, Failures = r.failures,
                FailureRate = r.calls > 0 ? Math.Round((double)r.failures / r.calls, 4) : 0,
                TopError = top.TryGetValue((r.tool, r.agent ?? ""), out var t) ? t : null,
            }).OrderByDescending(t => t.Failures).ThenByDescending(t => t.Calls).ThenBy(t => t.Tool + "/" + t.Agent, StringComparer.Ordinal).ToList();
        }

        /// <summary>Per-session summaries; <paramref name="sessionPattern"/> is a session id with optional * and ? wildcards.</summary>
        public static List<SessionSummary> Sessions(SqliteConnection c, QueryFilter f, string? sessionPattern = null)
        {
            var p = new DynamicParameters();
            var day = FromDaySummaries(f);
            var where = day ? SummarySource(f, p).where : f.Where(p);
            var alias = day ? "r" : "e";
            if (sessionPattern != null)
            {
                var like = sessionPattern.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_").Replace('*', '%').Replace('?', '_');
                where += $" AND {alias}.session_id LIKE @session ESCAPE '\\'";
                p.Add("session", like);
            }
            // A story or whole days: each session's rows per day, story and agent (session_day) instead of its events.
            var sql = day
                ? $@"SELECT r.session_id, nullif(max(r.story_id), ''), group_concat(DISTINCT nullif(r.agent_name, '')), min(r.first_ts), max(r.last_ts), sum(r.events), sum(r.errors),
                            sum(r.tokens), max(r.max_context), sum(r.human)
                     FROM session_day r WHERE 1=1{where} GROUP BY r.session_id ORDER BY min(r.first_ts), r.session_id"
                : $@"SELECT e.session_id, max(e.story_id), group_concat(DISTINCT e.agent_name), min(e.timestamp), max(e.timestamp), count(*), sum({Errors.InEvents}),
                              sum(e.tokens_used), max(e.context_percent), sum(e.event_type = 'human_interaction')
                       FROM events e WHERE e.session_id IS NOT NULL{where} GROUP BY e.session_id ORDER BY min(e.timestamp), e.session_id";
            return c.Query<(string id, string? story, string? agents, long start, long end, long n, long errors, long? tokens, double? ctx, long human)>(sql, p)
                .Select(r => new SessionSummary
                {
                    SessionId = r.id, Story = r.story, Agents = List(r.agents), Start = Time(r.start), End = Time(r.end), DurationMs = r.end - r.start,
                    Events = r.n, Errors = r.errors, Tokens = r.tokens ?? 0, MaxContextPercent = r.ctx, HumanInteractions = r.human,
                }).ToList();
        }

        public static List<ContextPressure> ContextPressure(SqliteConnection c, QueryFilter f, double threshold = HighContext.Percent, int top = int.MaxValue)
        {
            // The summary keeps the split at HighContext.Percent only; other thresholds and any filter read the events.
            if (threshold == HighContext.Percent && FromSummaries(f) && f.Agents is not { Length: > 0 })
                return c.Query<(string session, string agent, string? story, double max, long n, long hot, long hotErrors, long cool, long coolErrors)>(
                        $@"SELECT session_id, agent_name, nullif(story_id, ''), max_context, events, ctx_hot, ctx_hot_errors, ctx_cool, ctx_cool_errors
                          FROM session_rollup WHERE {HighContext.Sql("max_context")} ORDER BY max_context DESC LIMIT @top", new { top = top == int.MaxValue ? -1 : top })
                    .Select(r => new ContextPressure
                    {
                        SessionId = r.session, Agent = r.agent, Story = r.story, MaxContextPercent = r.max, Events = r.n, EventsAbove80 = r.hot,
                        ErrorRateAbove80 = r.hot > 0 ? Math.Round((double)r.hotErrors / r.hot, 4) : 0,
                        ErrorRateBelow80 = r.cool > 0 ? Math.Round((double)r.coolErrors / r.cool, 4) : 0,
                    }).ToList();
            var p = new DynamicParameters();
            p.Add("top", top == int.MaxValue ? -1 : top);
            if (threshold == HighContext.Percent && FromDaySummaries(f))
            {
                // A story or whole days: the sessions' rows per day (session_day keeps the 80% split), events with a context figure only.
                var dw = SummarySource(f, p).where;
                return c.Query<(string session, string agent, string? story, double max, long n, long hot, long hotErrors, long cool, long coolErrors)>(
                        $@"SELECT r.session_id, r.agent_name, nullif(max(r.story_id), ''), max(r.max_context), sum(r.ctx_events), sum(r.ctx_hot), sum(r.ctx_hot_errors), sum(r.ctx_cool), sum(r.ctx_cool_errors)
                           FROM session_day r WHERE r.ctx_events > 0{dw}
                           GROUP BY r.session_id, r.agent_name HAVING {HighContext.Sql("max(r.max_context)")} ORDER BY max(r.max_context) DESC, r.session_id, r.agent_name LIMIT @top", p)
                    .Select(r => new ContextPressure
                    {
                        SessionId = r.session, Agent = r.agent, Story = r.story, MaxContextPercent = r.max, Events = r.n, EventsAbove80 = r.hot,
                        ErrorRateAbove80 = r.hot > 0 ? Math.Round((double)r.hotErrors / r.hot, 4) : 0,
                        ErrorRateBelow80 = r.cool > 0 ? Math.Round((double)r.coolErrors / r.cool, 4) : 0,
                    }).ToList();
            }
            var where = f.Where(p);
            p.Add("t", threshold);
            return c.Query<(string session, string? agent, string? story, double max, long n, long hot, long hotErrors, long cool, long coolErrors)>(
                    $@"SELECT e.session_id, e.agent_name, max(e.story_id), max(e.context_percent), count(*), sum(e.context_percent > @t),
                              sum(e.context_percent > @t AND {Errors.InEvents}), sum(e.context_percent <= @t), sum(e.context_percent <= @t AND {Errors.InEvents})
                       FROM events e WHERE e.session_id IS NOT NULL AND e.context_percent IS NOT NULL{where}
                       GROUP BY e.session_id, e.agent_name HAVING max(e.context_percent) > @t ORDER BY max(e.context_percent) DESC, e.session_id, e.agent_name LIMIT @top", p)
                .Select(r => new ContextPressure
                {
                    SessionId = r.session, Agent = r.agent ?? "", Story = r.story, MaxContextPercent = r.max, Events = r.n, EventsAbove80 = r.hot,
                    ErrorRateAbove80 = r.hot > 0 ? Math.Round((double)r.hotErrors / r.hot, 4) : 0,
                    ErrorRateBelow80 = r.cool > 0 ? Math.Round((double)r.coolErrors / r.cool, 4) : 0,
                }).ToList();
        }

        /// <summary>Overall error rate above and below the context threshold (what follows high context).</summary>
        public static (double above, double below, long aboveEvents) ContextEffect(SqliteConnection c, QueryFilter f, double threshold = HighContext.Percent)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            p.Add("t", threshold);
            var r = c.QuerySingle<(long hot, long hotErrors, long cool, long coolErrors)>(
                $@"SELECT coalesce(sum(e.context_percent > @t), 0), coalesce(sum(e.context_percent > @t AND {Errors.InEvents}), 0),
                          coalesce(sum(e.context_percent <= @t), 0), coalesce(sum(e.context_percent <= @t AND {Errors.InEvents}), 0)
                   FROM events e WHERE e.context_percent IS NOT NULL{where}", p);
            return (r.hot > 0 ? (double)r.hotErrors / r.hot : 0, r.cool > 0 ? (double)r.coolErrors / r.cool : 0, r.hot);
        }

        public sealed class EventFilter
        {
            public string[]? EventTypes { get; set; }
            public string[]? Categories { get; set; }
            public bool? Success { get; set; }
            public long? PatternId { get; set; }
            public string? SessionId { get; set; }
            public int? First { get; set; }
        }

        /// <summary>The raw events, oldest first, streamed.</summary>
        public static IEnumerable<EventRecord> Events(SqliteConnection c, QueryFilter f, EventFilter ef)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            if (ef.EventTypes is { Length: > 0 }) { where += " AND e.event_type IN @types"; p.Add("types", ef.EventTypes); }
            if (ef.Categories is { Length: > 0 }) { where += " AND e.category IN @cats"; p.Add("cats", ef.Categories); }
            if (ef.Success.HasValue) { where += " AND e.success = @success"; p.Add("success", ef.Success.Value ? 1 : 0); }
            if (ef.PatternId.HasValue) { where += " AND e.pattern_id = @pattern"; p.Add("pattern", ef.PatternId.Value); }
            if (ef.SessionId != null) { where += " AND e.session_id = @session"; p.Add("session", ef.SessionId); }
            p.Add("limit", ef.First ?? -1);
            var rows = c.Query<(long id, long ts, string type, string cat, string? session, string? story, string? workflow, string? agent, long? duration, long? tokens, double? ctx, long? success, long? pattern, long? rule, long review, string? details)>(
                $@"SELECT e.id, e.timestamp, e.event_type, e.category, e.session_id, e.story_id, e.workflow_id, e.agent_name, e.duration_ms, e.tokens_used,
                          e.context_percent, e.success, e.pattern_id, e.created_rule, e.needs_review, e.details
                   FROM events e WHERE 1=1{where} ORDER BY e.timestamp, e.id LIMIT @limit", p, buffered: false);
            foreach (var r in rows)
                yield return new EventRecord
                {
                    Id = r.id, Timestamp = Time(r.ts), EventType = r.type, Category = r.cat, SessionId = r.session, StoryId = r.story, WorkflowId = r.workflow,
                    AgentName = r.agent, DurationMs = r.duration, TokensUsed = r.tokens, ContextPercent = r.ctx, Success = r.success.HasValue ? r.success != 0 : (bool?)null,
                    PatternId = r.pattern, CreatedRule = r.rule, NeedsReview = r.review != 0, Message = EventDetails.Message(r.details), Details = r.details,
                };
        }

        /// <summary>Distinct values for argument completion (stories in version order).</summary>
        public static List<string> DistinctValues(SqliteConnection c, string column, string prefix, int max = 200)
        {
            if (column != "story_id" && column != "agent_name" && column != "session_id") throw new ArgumentException("not a completable column", nameof(column));
            var values = c.Query<string>($"SELECT DISTINCT {column} FROM events WHERE {column} LIKE @prefix ESCAPE '\\' ORDER BY 1 LIMIT @max",
                new { prefix = prefix.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%", max }).ToList();
            if (column == "story_id") values.Sort(StoryOrder.Instance);
            return values;
        }

        private static Dictionary<string, List<long>> Durations(SqliteConnection c, string sql, DynamicParameters p)
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
        private static double Quantile(List<(double value, long n)> dist, double q)
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
        public static double Percentile(List<long>? values, double q)
        {
            if (values == null || values.Count == 0) return 0;
            values.Sort();
            var rank = (int)Math.Ceiling(q * values.Count) - 1;
            return values[Math.Max(0, Math.Min(values.Count - 1, rank))];
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Patterns;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>
    /// The analysis questions, each answered from the store as typed objects. An error is an event with success = 0
    /// that is not a cascade; a repeated error is an occurrence of a pattern that already occurred earlier (in an earlier
    /// story or earlier in the same one).
    /// </summary>
    public static class Analysis
    {
        public const string IsError = "e.success = 0 AND e.category <> 'cascade'";

        private static DateTime Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
        private static string[] List(string? csv) => string.IsNullOrEmpty(csv) ? Array.Empty<string>() : csv!.Split(',').OrderBy(s => s, StringComparer.Ordinal).ToArray();

        public static List<ErrorSummaryItem> ErrorSummary(SqliteConnection c, QueryFilter f, int top = 20)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            p.Add("top", top);
            var total = c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {IsError}{where}", p);
            return c.Query<(long? id, string? template, string? cls, long n, string? agents, string? stories, long first, long last, string? example)>(
                    $@"SELECT e.pattern_id, coalesce(p.display, p.template), p.error_class, count(*), group_concat(DISTINCT e.agent_name), group_concat(DISTINCT e.story_id),
                              min(e.timestamp), max(e.timestamp), p.example
                       FROM events e LEFT JOIN patterns p ON p.id = e.pattern_id
                       WHERE {IsError}{where} GROUP BY e.pattern_id ORDER BY count(*) DESC, e.pattern_id LIMIT @top", p)
                .Select(r => new ErrorSummaryItem
                {
                    PatternId = r.id, Template = r.template ?? "(no message)", ErrorClass = r.cls ?? ErrorClassifier.Other, Count = r.n,
                    Share = total > 0 ? (double)r.n / total : 0, Agents = List(r.agents), Stories = List(r.stories),
                    FirstSeen = Time(r.first), LastSeen = Time(r.last), Example = r.example,
                }).ToList();
        }

        public static long CountErrors(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            return c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {IsError}{f.Where(p)}", p);
        }

        public static long CountEvents(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            return c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE 1=1{f.Where(p)}", p);
        }

        public static List<AgentPerformance> AgentPerformance(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            var rows = c.Query<(string? agent, long n, long ok, long known, long errors, long? tokens, long hot, long ctx, long? failedMs, long? waste)>(
                $@"SELECT e.agent_name, count(*), sum(e.success = 1), sum(e.success IS NOT NULL), sum({IsError}), sum(e.tokens_used),
                          sum(e.context_percent > 80), sum(e.context_percent IS NOT NULL),
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

        private const string StepKey = @"CASE WHEN e.event_type = 'tool_call' THEN 'tool' WHEN e.event_type = 'step' THEN 'step' ELSE 'event' END";
        private const string StepName = @"CASE WHEN e.event_type = 'tool_call' THEN coalesce(json_extract(e.details, '$.tool'), 'unknown')
                                               WHEN e.event_type = 'step' THEN coalesce(json_extract(e.details, '$.step'), 'step')
                                               ELSE e.event_type END";

        public static List<Bottleneck> Bottlenecks(SqliteConnection c, QueryFilter f, int top = 10)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            var rows = c.Query<(string kind, string name, long n, long total, long? wasted)>(
                $@"SELECT {StepKey}, {StepName}, count(*), sum(e.duration_ms),
                          sum(CASE WHEN e.success = 0 THEN e.duration_ms ELSE 0 END) + sum(CASE WHEN e.time_saved_or_wasted_ms < 0 THEN -e.time_saved_or_wasted_ms ELSE 0 END)
                   FROM events e WHERE e.duration_ms IS NOT NULL{where} GROUP BY 1, 2", p).ToList();
            var workflows = c.Query<(string? name, long n, long total, long? wasted)>(
                $@"SELECT e.workflow_id, count(*), sum(e.duration_ms), sum(CASE WHEN e.success = 0 THEN e.duration_ms ELSE 0 END)
                   FROM events e WHERE e.duration_ms IS NOT NULL AND e.workflow_id IS NOT NULL{where} GROUP BY 1", p).ToList();
            var grand = rows.Sum(r => r.total);
            var durations = Durations(c, $"SELECT {StepKey} || ':' || {StepName}, e.duration_ms FROM events e WHERE e.duration_ms IS NOT NULL{where} ORDER BY 1", p);
            var items = rows.Select(r => new Bottleneck
            {
                Kind = r.kind, Name = r.name, Count = r.n, TotalMs = r.total, ShareOfTime = grand > 0 ? Math.Round((double)r.total / grand, 4) : 0,
                P95Ms = Percentile(durations.TryGetValue(r.kind + ":" + r.name, out var d) ? d : null, 0.95), TimeWastedMs = r.wasted ?? 0,
            }).ToList();
            if (workflows.Count > 1)
                items.AddRange(workflows.Select(w => new Bottleneck { Kind = "workflow", Name = w.name ?? "", Count = w.n, TotalMs = w.total, ShareOfTime = grand > 0 ? Math.Round((double)w.total / grand, 4) : 0, TimeWastedMs = w.wasted ?? 0 }));
            return items.OrderByDescending(b => b.TotalMs).Take(top).ToList();
        }

        /// <summary>Per-story figures, stories in version order.</summary>
        public static List<StoryMetrics> Stories(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            var repeated = RepeatedByGroup(c, "e.story_id", where, p);
            var rows = c.Query<(string? story, long n, long errors, long? tokens, long human, string? agents, long start, long end)>(
                $@"SELECT e.story_id, count(*), sum({IsError}), sum(e.tokens_used), sum(e.event_type = 'human_interaction'), group_concat(DISTINCT e.agent_name), min(e.timestamp), max(e.timestamp)
                   FROM events e WHERE e.story_id IS NOT NULL{where} GROUP BY e.story_id", p);
            return rows.Select(r => Metrics(r.story ?? "", r.n, r.errors, repeated.TryGetValue(r.story ?? "", out var rep) ? rep : 0, r.tokens ?? 0, r.human, List(r.agents), r.start, r.end))
                .OrderBy(m => m.Story, StoryOrder.Instance).ToList();
        }

        private static StoryMetrics Metrics(string label, long n, long errors, long repeated, long tokens, long human, string[] agents, long? start, long? end) => new StoryMetrics
        {
            Story = label, Events = n, Errors = errors, ErrorRate = n > 0 ? Math.Round((double)errors / n, 4) : 0,
            RepeatedErrors = repeated, RepeatedErrorRate = n > 0 ? Math.Round((double)repeated / n, 4) : 0,
            Tokens = tokens, TokensPerEvent = n > 0 ? Math.Round((double)tokens / n, 1) : 0, HumanInteractions = human, Agents = agents,
            Start = start.HasValue ? Time(start.Value) : (DateTime?)null, End = end.HasValue ? Time(end.Value) : (DateTime?)null,
        };

        /// <summary>Repeated errors per group: occurrences after a pattern's first one anywhere in the store.</summary>
        private static Dictionary<string, long> RepeatedByGroup(SqliteConnection c, string groupExpr, string where, DynamicParameters p) =>
            c.Query<(string? g, long n)>(
                $@"SELECT g, count(*) FROM (
                       SELECT {groupExpr} AS g, e.timestamp AS ts, e.id AS id, e.pattern_id AS pid,
                              row_number() OVER (PARTITION BY e.pattern_id ORDER BY e.timestamp, e.id) AS occurrence
                       FROM events e WHERE e.pattern_id IS NOT NULL AND {IsError}) r
                   JOIN events e ON e.id = r.id
                   WHERE r.occurrence > 1{where} GROUP BY g", p)
             .ToDictionary(x => x.g ?? "", x => x.n);

        public static StoryComparison CompareStories(SqliteConnection c, string reference, string difference, QueryFilter f, int top = 5)
        {
            var stories = Stories(c, new QueryFilter { Stories = new[] { reference, difference }, Agents = f.Agents, Since = f.Since, Until = f.Until });
            var r = stories.FirstOrDefault(s => s.Story == reference) ?? new StoryMetrics { Story = reference };
            var d = stories.FirstOrDefault(s => s.Story == difference) ?? new StoryMetrics { Story = difference };
            var p = new DynamicParameters();
            var where = f.Where(p);
            p.Add("r", reference); p.Add("d", difference);
            var counts = c.Query<(long id, string template, long rc, long dc)>(
                $@"SELECT e.pattern_id, coalesce(p.display, p.template), sum(e.story_id = @r), sum(e.story_id = @d)
                   FROM events e JOIN patterns p ON p.id = e.pattern_id
                   WHERE {IsError} AND e.story_id IN (@r, @d){where} GROUP BY e.pattern_id", p).ToList();
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
            var points = Stories(c, f).Select(s => new TrendPoint
            {
                Kind = "Story", Period = s.Story, Events = s.Events, ErrorRate = s.ErrorRate, RepeatedErrorRate = s.RepeatedErrorRate,
                TokensPerEvent = s.TokensPerEvent, HumanInteractions = s.HumanInteractions,
            }).ToList();
            var p = new DynamicParameters();
            var where = f.Where(p);
            const string week = "strftime('%Y-%W', e.timestamp / 1000, 'unixepoch')";
            var repeated = RepeatedByGroup(c, week, where, p);
            var weeks = c.Query<(string w, long n, long errors, long? tokens, long human, long first)>(
                $@"SELECT {week}, count(*), sum({IsError}), sum(e.tokens_used), sum(e.event_type = 'human_interaction'), min(e.timestamp)
                   FROM events e WHERE 1=1{where} GROUP BY 1 ORDER BY 1", p).ToList();
            foreach (var w in weeks)
            {
                var n = w.n;
                points.Add(new TrendPoint
                {
                    Kind = "Week", Period = Rotation.IsoWeek(Time(w.first)), Events = n, ErrorRate = n > 0 ? Math.Round((double)w.errors / n, 4) : 0,
                    RepeatedErrorRate = n > 0 ? Math.Round((double)(repeated.TryGetValue(w.w, out var r) ? r : 0) / n, 4) : 0,
                    TokensPerEvent = n > 0 ? Math.Round((double)(w.tokens ?? 0) / n, 1) : 0, HumanInteractions = w.human,
                });
            }
            var forecast = Forecast(points.Where(x => x.Kind == "Story").Select(x => x.ErrorRate).ToList());
            if (forecast != null) points.Add(forecast);
            return points;
        }

        /// <summary>
        /// Next story's error rate by a least-squares line over the stories so far, with a 95% prediction interval
        /// (t ≈ 2 for the few points there are); with two stories, the last change repeated, ± that change.
        /// </summary>
        public static TrendPoint? Forecast(IReadOnlyList<double> rates)
        {
            var n = rates.Count;
            if (n < 2) return null;
            double next, half;
            if (n == 2)
            {
                var step = rates[1] - rates[0];
                next = rates[1] + step;
                half = Math.Abs(step);
            }
            else
            {
                var xs = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
                double mx = xs.Average(), my = rates.Average();
                var sxx = xs.Sum(x => (x - mx) * (x - mx));
                var slope = xs.Zip(rates, (x, y) => (x - mx) * (y - my)).Sum() / sxx;
                var intercept = my - slope * mx;
                next = intercept + slope * n;
                var residual = Math.Sqrt(xs.Zip(rates, (x, y) => Math.Pow(y - (intercept + slope * x), 2)).Sum() / Math.Max(1, n - 2));
                half = 2 * residual * Math.Sqrt(1 + 1.0 / n + Math.Pow(n - mx, 2) / sxx);
            }
            return new TrendPoint
            {
                Kind = "Forecast", Period = "next story", ErrorRate = Math.Round(Clamp(next), 4),
                ErrorRateLow = Math.Round(Clamp(next - half), 4), ErrorRateHigh = Math.Round(Clamp(next + half), 4),
            };
        }

        private static double Clamp(double v) => Math.Max(0, Math.Min(1, v));

        public static List<HumanInteractionSummary> HumanInteractions(SqliteConnection c, QueryFilter f)
        {
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
                .OrderByDescending(s => s.Count).ToList();
        }

        public static List<ToolFailure> ToolFailures(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            var rows = c.Query<(string tool, string? agent, long calls, long failures)>(
                $@"SELECT coalesce(json_extract(e.details, '$.tool'), 'unknown'), e.agent_name, count(*), sum({IsError})
                   FROM events e WHERE e.event_type = 'tool_call'{where} GROUP BY 1, 2", p).ToList();
            var top = c.Query<(string tool, string? agent, string template, long n)>(
                $@"SELECT coalesce(json_extract(e.details, '$.tool'), 'unknown'), e.agent_name, coalesce(p.display, p.template), count(*)
                   FROM events e JOIN patterns p ON p.id = e.pattern_id
                   WHERE e.event_type = 'tool_call' AND {IsError}{where} GROUP BY 1, 2, e.pattern_id", p)
                .GroupBy(x => (x.tool, x.agent ?? "")).ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.n).First().template);
            return rows.Select(r => new ToolFailure
            {
                Tool = r.tool, Agent = r.agent ?? "", Calls = r.calls, Failures = r.failures,
                FailureRate = r.calls > 0 ? Math.Round((double)r.failures / r.calls, 4) : 0,
                TopError = top.TryGetValue((r.tool, r.agent ?? ""), out var t) ? t : null,
            }).OrderByDescending(t => t.Failures).ThenByDescending(t => t.Calls).ToList();
        }

        public static List<SessionSummary> Sessions(SqliteConnection c, QueryFilter f, string? sessionLike = null)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            if (sessionLike != null) { where += " AND e.session_id LIKE @session ESCAPE '\\'"; p.Add("session", sessionLike); }
            return c.Query<(string id, string? story, string? agents, long start, long end, long n, long errors, long? tokens, double? ctx, long human)>(
                    $@"SELECT e.session_id, max(e.story_id), group_concat(DISTINCT e.agent_name), min(e.timestamp), max(e.timestamp), count(*), sum({IsError}),
                              sum(e.tokens_used), max(e.context_percent), sum(e.event_type = 'human_interaction')
                       FROM events e WHERE e.session_id IS NOT NULL{where} GROUP BY e.session_id ORDER BY min(e.timestamp)", p)
                .Select(r => new SessionSummary
                {
                    SessionId = r.id, Story = r.story, Agents = List(r.agents), Start = Time(r.start), End = Time(r.end), DurationMs = r.end - r.start,
                    Events = r.n, Errors = r.errors, Tokens = r.tokens ?? 0, MaxContextPercent = r.ctx, HumanInteractions = r.human,
                }).ToList();
        }

        public static List<ContextPressure> ContextPressure(SqliteConnection c, QueryFilter f, double threshold = 80)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            p.Add("t", threshold);
            return c.Query<(string session, string? agent, string? story, double max, long n, long hot, long hotErrors, long cool, long coolErrors)>(
                    $@"SELECT e.session_id, e.agent_name, max(e.story_id), max(e.context_percent), count(*), sum(e.context_percent > @t),
                              sum(e.context_percent > @t AND {IsError}), sum(e.context_percent <= @t), sum(e.context_percent <= @t AND {IsError})
                       FROM events e WHERE e.session_id IS NOT NULL AND e.context_percent IS NOT NULL{where}
                       GROUP BY e.session_id, e.agent_name HAVING max(e.context_percent) > @t ORDER BY max(e.context_percent) DESC", p)
                .Select(r => new ContextPressure
                {
                    SessionId = r.session, Agent = r.agent ?? "", Story = r.story, MaxContextPercent = r.max, Events = r.n, EventsAbove80 = r.hot,
                    ErrorRateAbove80 = r.hot > 0 ? Math.Round((double)r.hotErrors / r.hot, 4) : 0,
                    ErrorRateBelow80 = r.cool > 0 ? Math.Round((double)r.coolErrors / r.cool, 4) : 0,
                }).ToList();
        }

        /// <summary>Overall error rate above and below the context threshold (what follows high context).</summary>
        public static (double above, double below, long aboveEvents) ContextEffect(SqliteConnection c, QueryFilter f, double threshold = 80)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            p.Add("t", threshold);
            var r = c.QuerySingle<(long hot, long hotErrors, long cool, long coolErrors)>(
                $@"SELECT coalesce(sum(e.context_percent > @t), 0), coalesce(sum(e.context_percent > @t AND {IsError}), 0),
                          coalesce(sum(e.context_percent <= @t), 0), coalesce(sum(e.context_percent <= @t AND {IsError}), 0)
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

using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>
    /// The events of the parts of days a window cuts (Sources.Days), read once per connection from event_rows as integers
    /// (kind and context ids, no names or details decoded per event) and grouped here into rows of the day tables
    /// (day_rollup, session_day, day_hist's buckets) with the definitions of SummaryTables' SQL, so the answer equals a
    /// scan's. A tool call's or step's step needs its details: read only for the questions that group by step. Reading
    /// the parts through the events view and grouping them in SQL cost most of a cut window's first question
    /// (bench queries: 0.4-0.8 s per connection at 1M events).
    /// </summary>
    internal static class DayParts
    {
        /// <summary>One event of a part, as event_rows holds it.</summary>
        internal struct Row
        {
            public long Id, Ts, Kind, Context;
            public long? Duration, Tokens, Pattern, Saved;
            public double? Ctx;
        }

        internal sealed class KindInfo
        {
            public string Type = "", Category = "";
            public long Outcome; // 1, 0 or -1 (unknown), as day_rollup's outcome
            public bool Error, Human, Named; // Named: a tool call or step, whose step its details name
        }

        internal sealed class ContextInfo
        {
            public string? Session, Story, Workflow, Agent;
        }

        /// <summary>A part's events and what their ids name, kept per connection with the derived tables made from them.</summary>
        internal sealed class Decoded
        {
            internal readonly List<Row> Rows = new List<Row>();
            internal readonly Dictionary<long, KindInfo> Kinds = new Dictionary<long, KindInfo>();
            internal readonly Dictionary<long, ContextInfo> Contexts = new Dictionary<long, ContextInfo>();
            internal Dictionary<long, string>? Steps;
            internal readonly HashSet<string> Made = new HashSet<string>(StringComparer.Ordinal);
        }

        /// <summary>Reads the parts' events (one statement per part; <paramref name="parts"/> are their filters) and the kinds and contexts they use.</summary>
        internal static Decoded Read(SqliteConnection c, IReadOnlyList<(string where, DynamicParameters p)> parts)
        {
            var d = new Decoded();
            foreach (var (where, p) in parts)
            {
                using var r = c.ExecuteReader(
                    "SELECT e.id, e.timestamp, e.kind, e.context, e.duration_ms, e.tokens_used, e.context_percent, e.pattern_id, e.time_saved_or_wasted_ms FROM event_rows e WHERE 1=1" + where, p);
                while (r.Read())
                {
                    d.Rows.Add(new Row
                    {
                        Id = r.GetInt64(0), Ts = r.GetInt64(1), Kind = r.GetInt64(2), Context = r.IsDBNull(3) ? 0 : r.GetInt64(3),
                        Duration = r.IsDBNull(4) ? (long?)null : r.GetInt64(4), Tokens = r.IsDBNull(5) ? (long?)null : r.GetInt64(5),
                        // As the events view: exact hundredths as an integer, else the real.
                        Ctx = r.GetValue(6) switch { long l => l / 100.0, double x => x, _ => (double?)null },
                        Pattern = r.IsDBNull(7) ? (long?)null : r.GetInt64(7), Saved = r.IsDBNull(8) ? (long?)null : r.GetInt64(8),
                    });
                }
            }
            foreach (var k in c.Query<(long id, string? type, string? category, long? success, long error)>(
                         $"SELECT k.id, t.text, cat.text, k.success, k.id IN {Errors.Kinds} FROM kinds k LEFT JOIN names t ON t.id = k.event_type LEFT JOIN names cat ON cat.id = k.category"))
                d.Kinds[k.id] = new KindInfo
                {
                    Type = k.type ?? "", Category = k.category ?? "", Outcome = k.success ?? -1, Error = k.error != 0,
                    Human = k.type == Mining.HumanInteraction, Named = k.type == "tool_call" || k.type == "step",
                };
            var contexts = d.Rows.Select(x => x.Context).Distinct().ToList();
            foreach (var x in c.Query<(long id, string? session, string? story, string? workflow, string? agent)>(
                         @"SELECT x.id, s.text, st.text, w.text, a.text FROM contexts x LEFT JOIN names s ON s.id = x.session_id LEFT JOIN names st ON st.id = x.story_id
                           LEFT JOIN names w ON w.id = x.workflow_id LEFT JOIN names a ON a.id = x.agent_name WHERE x.id IN (SELECT value FROM json_each(@ids))",
                         new { ids = "[" + string.Join(",", contexts) + "]" }))
                d.Contexts[x.id] = new ContextInfo { Session = x.session, Story = x.story, Workflow = x.workflow, Agent = x.agent };
            return d;
        }

        /// <summary>
        /// Makes the temporary table <paramref name="name"/> of <paramref name="dayTable"/>'s rows from the parts' events
        /// (once per decode). Without <paramref name="steps"/>, a tool call's or step's step is NULL (its details unread):
        /// for questions that do not read step.
        /// </summary>
        internal static void Make(SqliteConnection c, Decoded d, string dayTable, bool steps, string name)
        {
            if (!d.Made.Add(name)) return;
            if (steps && d.Steps == null) d.Steps = ReadSteps(c, d);
            var rows = dayTable switch
            {
                "session_day" => SessionDays(d),
                "day_hist" => DayBuckets(d, steps),
                "story_spans" => StorySpans(d),
                _ => DayRollup(d, steps),
            };
            var columns = dayTable switch
            {
                "session_day" => SessionDayColumns,
                "day_hist" => new[] { "day", "story_id", "scope", "key", "bucket", "n" },
                "story_spans" => new[] { "story", "first_ts", "last_ts" },
                _ => DayRollupColumns,
            };
            c.Execute($"DROP TABLE IF EXISTS temp.{name}; CREATE TEMP TABLE {name} ({string.Join(", ", columns)})");
            // Not in a transaction: the caller may hold one; inserts into a temporary table sync nothing.
            using var insert = c.CreateCommand();
            insert.CommandText = $"INSERT INTO temp.{name} VALUES ({string.Join(", ", columns.Select((_, i) => "$" + i))})";
            var ps = columns.Select((_, i) => insert.Parameters.Add(new SqliteParameter("$" + i, null))).ToArray();
            insert.Prepare();
            foreach (var row in rows)
            {
                for (var i = 0; i < ps.Length; i++) ps[i].Value = row[i] ?? DBNull.Value;
                insert.ExecuteNonQuery();
            }
        }

        private static readonly string[] DayRollupColumns =
            { "day", "story_id", "agent_name", "workflow_id", "event_type", "category", "step", "pattern_id", "outcome", "events", "timed", "duration_ms", "tokens", "ctx_known", "ctx_hot", "wasted_ms" };

        private static readonly string[] SessionDayColumns =
            { "day", "story_id", "session_id", "agent_name", "events", "errors", "tokens", "human", "first_ts", "last_ts", "ctx_events", "max_context", "ctx_hot", "ctx_hot_errors", "ctx_cool", "ctx_cool_errors" };

        // The step of each tool call and step event of the parts, through the events view (the details' tool or step).
        private static Dictionary<long, string> ReadSteps(SqliteConnection c, Decoded d)
        {
            var ids = d.Rows.Where(x => d.Kinds[x.Kind].Named).Select(x => x.Id).ToList();
            var steps = new Dictionary<long, string>();
            for (var i = 0; i < ids.Count; i += 20000)
            {
                using var r = c.ExecuteReader($"SELECT e.id, {Domain.Steps.NameSql} FROM events e WHERE e.id IN (SELECT value FROM json_each(@ids))",
                    new { ids = "[" + string.Join(",", ids.Skip(i).Take(20000)) + "]" });
                while (r.Read()) steps[r.GetInt64(0)] = r.GetString(1); // as text, as the day table's step column holds it
            }
            return steps;
        }

        private static string? Step(Decoded d, Row x, KindInfo k, bool steps) =>
            !k.Named ? k.Type : steps ? d.Steps![x.Id] : null;

        // day_rollup's definition (SummaryTables.DayRollupRows) over the parts' events.
        private static IEnumerable<object?[]> DayRollup(Decoded d, bool steps)
        {
            var groups = new Dictionary<(long day, string story, string agent, string workflow, long kind, string? step, long pattern), long[]>();
            foreach (var x in d.Rows)
            {
                var k = d.Kinds[x.Kind];
                var ctx = Context(d, x);
                var key = (IsoWeeks.DayOf(x.Ts), ctx.Story ?? "", ctx.Agent ?? "", ctx.Workflow ?? "", x.Kind, Step(d, x, k, steps), x.Pattern ?? 0);
                if (!groups.TryGetValue(key, out var g)) groups[key] = g = new long[7];
                g[0]++;
                if (x.Duration.HasValue) { g[1]++; g[2] += x.Duration.Value; }
                g[3] += x.Tokens ?? 0;
                if (x.Ctx.HasValue) { g[4]++; if (HighContext.IsHigh(x.Ctx)) g[5]++; }
                g[6] += (k.Outcome == 0 ? x.Duration ?? 0 : 0) + (x.Saved < 0 ? -x.Saved.Value : 0);
            }
            // Kinds that differ only in flags the day tables do not keep (needs_review, pattern_detected) share a row.
            return groups.GroupBy(g => (g.Key.day, g.Key.story, g.Key.agent, g.Key.workflow, d.Kinds[g.Key.kind].Type, d.Kinds[g.Key.kind].Category, g.Key.step, g.Key.pattern, d.Kinds[g.Key.kind].Outcome))
                .Select(g =>
                {
                    var s = new long[7];
                    foreach (var x in g) for (var i = 0; i < 7; i++) s[i] += x.Value[i];
                    return new object?[] { g.Key.Item1, g.Key.story, g.Key.agent, g.Key.workflow, g.Key.Type, g.Key.Category, g.Key.step, g.Key.pattern, g.Key.Outcome, s[0], s[1], s[2], s[3], s[4], s[5], s[6] };
                });
        }

        // session_day's definition (SummaryTables.SessionDayRows): events with a session.
        private static IEnumerable<object?[]> SessionDays(Decoded d)
        {
            var groups = new Dictionary<(long day, string story, string session, string agent), (long[] n, double? max)>();
            foreach (var x in d.Rows)
            {
                var ctx = Context(d, x);
                if (ctx.Session == null) continue;
                var k = d.Kinds[x.Kind];
                var key = (IsoWeeks.DayOf(x.Ts), ctx.Story ?? "", ctx.Session, ctx.Agent ?? "");
                if (!groups.TryGetValue(key, out var g)) g = (new long[] { 0, 0, 0, 0, long.MaxValue, long.MinValue, 0, 0, 0, 0, 0 }, null);
                var n = g.n;
                n[0]++;
                if (k.Error) n[1]++;
                n[2] += x.Tokens ?? 0;
                if (k.Human) n[3]++;
                n[4] = Math.Min(n[4], x.Ts); n[5] = Math.Max(n[5], x.Ts);
                var max = g.max;
                if (x.Ctx.HasValue)
                {
                    n[6]++;
                    if (max == null || x.Ctx > max) max = x.Ctx;
                    var hot = HighContext.IsHigh(x.Ctx);
                    n[hot ? 7 : 9]++;
                    if (k.Error) n[hot ? 8 : 10]++;
                }
                groups[key] = (n, max);
            }
            return groups.Select(g => new object?[]
            {
                g.Key.day, g.Key.story, g.Key.session, g.Key.agent, g.Value.n[0], g.Value.n[1], g.Value.n[2], g.Value.n[3], g.Value.n[4], g.Value.n[5],
                g.Value.n[6], g.Value.max, g.Value.n[7], g.Value.n[8], g.Value.n[9], g.Value.n[10],
            });
        }

        // day_hist's buckets (SummaryTables.DayBuckets), one row per bucket; the step scope only with steps.
        private static IEnumerable<object?[]> DayBuckets(Decoded d, bool steps)
        {
            var n = new Dictionary<(long day, string story, string scope, string key, int bucket), long>();
            void Add((long, string, string, string, int) key) => n[key] = n.TryGetValue(key, out var v) ? v + 1 : 1;
            foreach (var x in d.Rows)
            {
                if (!x.Duration.HasValue) continue;
                var k = d.Kinds[x.Kind];
                var ctx = Context(d, x);
                var day = IsoWeeks.DayOf(x.Ts);
                var story = ctx.Story ?? "";
                var bucket = DurationBuckets.Of(x.Duration.Value);
                Add((day, story, "agent", ctx.Agent ?? "", bucket));
                if (steps) Add((day, story, "step", Domain.Steps.Kind(k.Type) + ":" + Step(d, x, k, steps), bucket));
                if (ctx.Workflow != null) Add((day, story, "workflow", ctx.Workflow, bucket));
            }
            return n.Select(x => new object?[] { x.Key.day, x.Key.story, x.Key.scope, x.Key.key, x.Key.bucket, x.Value });
        }

        // Each story's first and last time in the parts.
        private static IEnumerable<object?[]> StorySpans(Decoded d)
        {
            var spans = new Dictionary<string, (long first, long last)>(StringComparer.Ordinal);
            foreach (var x in d.Rows)
            {
                var story = Context(d, x).Story;
                if (story == null) continue;
                spans[story] = spans.TryGetValue(story, out var s) ? (Math.Min(s.first, x.Ts), Math.Max(s.last, x.Ts)) : (x.Ts, x.Ts);
            }
            return spans.Select(s => new object?[] { s.Key, s.Value.first, s.Value.last });
        }

        private static readonly ContextInfo None = new ContextInfo();

        private static ContextInfo Context(Decoded d, Row x) => d.Contexts.TryGetValue(x.Context, out var ctx) ? ctx : None;
    }
}

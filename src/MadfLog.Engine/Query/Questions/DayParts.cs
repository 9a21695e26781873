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
    /// The events of the parts of hours at the ends of a window (Sources.Hours: the whole hours of the days it cuts are read
    /// from the hour tables), grouped in SQL by integers only (day, kind id, context id, pattern) straight from event_rows, then named here (a few hundred kinds and contexts) and summed into rows of the
    /// day tables (day_rollup, session_day, day_hist's buckets) with the definitions of SummaryTables' SQL, so the answer
    /// equals a scan's. A tool call's or step's step needs its details, read through the events view only for the
    /// questions that group by step. Decoding the parts' events through the view and grouping them by their texts cost
    /// most of a cut window's first question on a connection (bench queries: 0.4-0.8 s at 1M events).
    /// </summary>
    internal static class DayParts
    {
        /// <summary>The parts' events of one day, kind, context and pattern (for steps, also step and duration bucket).</summary>
        internal sealed class Group
        {
            public long Day, Kind, Context, Pattern;
            public long Events, Timed, DurationMs, Tokens, CtxKnown, CtxHot, FirstTs, LastTs, SavedMs;
            public double? MaxCtx;
            public string? Step;
            public int? Bucket;
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

        /// <summary>The parts' groups and what their ids name, kept per connection with the temporary tables made from them.</summary>
        internal sealed class Decoded
        {
            internal Decoded(List<(string where, DynamicParameters p)> reads) { Reads = reads; }
            internal List<(string where, DynamicParameters p)> Reads { get; }
            internal List<Group> Groups { get; } = new List<Group>();
            internal List<Group>? StepGroups { get; set; }
            internal List<(long day, long kind, long context, long bucket, long n)>? Buckets { get; set; }
            internal Dictionary<long, KindInfo> Kinds { get; } = new Dictionary<long, KindInfo>();
            internal Dictionary<long, ContextInfo> Contexts { get; } = new Dictionary<long, ContextInfo>();
            internal HashSet<string> Made { get; } = new HashSet<string>(StringComparer.Ordinal);
        }

        // The context figure as the events view gives it, over event_rows e.
        private static readonly string Ctx = Store.EventWriter.ContextPercentSql("e");

        // A group's sums (ctx: the context figure).
        private static string Sums(string ctx) => $@"count(*), count(e.duration_ms), coalesce(sum(e.duration_ms), 0), coalesce(sum(e.tokens_used), 0),
                count({ctx}), coalesce(sum({HighContext.Sql(ctx)}), 0), max({ctx}), min(e.timestamp), max(e.timestamp),
                coalesce(sum({TimeWasted.ReportedSql("e.time_saved_or_wasted_ms")}), 0)";

        private static Group ReadGroup(System.Data.IDataReader r, bool step)
        {
            var g = new Group { Day = r.GetInt64(0), Kind = r.GetInt64(1), Context = r.IsDBNull(2) ? 0 : r.GetInt64(2), Pattern = r.GetInt64(3) };
            var i = 4;
            if (step) { g.Step = r.GetString(4); g.Bucket = r.IsDBNull(5) ? (int?)null : r.GetInt32(5); i = 6; }
            g.Events = r.GetInt64(i); g.Timed = r.GetInt64(i + 1); g.DurationMs = r.GetInt64(i + 2); g.Tokens = r.GetInt64(i + 3);
            g.CtxKnown = r.GetInt64(i + 4); g.CtxHot = r.GetInt64(i + 5); g.MaxCtx = r.IsDBNull(i + 6) ? (double?)null : r.GetDouble(i + 6);
            g.FirstTs = r.GetInt64(i + 7); g.LastTs = r.GetInt64(i + 8); g.SavedMs = r.GetInt64(i + 9);
            return g;
        }

        /// <summary>Reads the parts' groups (one statement per part; <paramref name="reads"/> are their conditions on event_rows e) and the kinds and contexts they use.</summary>
        internal static Decoded Read(SqliteConnection c, List<(string where, DynamicParameters p)> reads)
        {
            var d = new Decoded(reads);
            foreach (var (where, p) in reads)
            {
                using var r = c.ExecuteReader(
                    $"SELECT {IsoWeeks.DaySql("e.timestamp")}, e.kind, e.context, coalesce(e.pattern_id, 0), {Sums(Ctx)} FROM event_rows e WHERE 1=1{where} GROUP BY 1, 2, 3, 4", p);
                while (r.Read()) d.Groups.Add(ReadGroup(r, step: false));
            }
            foreach (var k in c.Query<(long id, string? type, string? category, long? success, long error)>(
                         $"SELECT k.id, t.text, cat.text, k.success, k.id IN {Errors.Kinds} FROM kinds k LEFT JOIN names t ON t.id = k.event_type LEFT JOIN names cat ON cat.id = k.category"))
                d.Kinds[k.id] = new KindInfo
                {
                    Type = k.type ?? "", Category = k.category ?? "", Outcome = k.success ?? -1, Error = k.error != 0,
                    Human = k.type == Mining.HumanInteraction, Named = Domain.Steps.Kind(k.type ?? "") != "event",
                };
            var contexts = d.Groups.Select(x => x.Context).Distinct().ToList();
            foreach (var x in c.Query<(long id, string? session, string? story, string? workflow, string? agent)>(
                         @"SELECT x.id, s.text, st.text, w.text, a.text FROM contexts x LEFT JOIN names s ON s.id = x.session_id LEFT JOIN names st ON st.id = x.story_id
                           LEFT JOIN names w ON w.id = x.workflow_id LEFT JOIN names a ON a.id = x.agent_name WHERE x.id IN (SELECT value FROM json_each(@ids))",
                         new { ids = "[" + string.Join(",", contexts) + "]" }))
                d.Contexts[x.id] = new ContextInfo { Session = x.session, Story = x.story, Workflow = x.workflow, Agent = x.agent };
            return d;
        }

        // The tool calls and steps of the parts by step and duration bucket, their step read through the events view.
        private static List<Group> ReadSteps(SqliteConnection c, Decoded d)
        {
            var named = d.Kinds.Where(k => k.Value.Named).Select(k => k.Key).ToList();
            var groups = new List<Group>();
            foreach (var (where, p) in d.Reads)
            {
                var q = new DynamicParameters(p);
                q.Add("namedKinds", named);
                using var r = c.ExecuteReader(
                    $@"SELECT {IsoWeeks.DaySql("e.timestamp")}, e.kind, e.context, coalesce(e.pattern_id, 0), {Domain.Steps.NameSql},
                              CASE WHEN e.duration_ms IS NOT NULL THEN madf_duration_bucket(e.duration_ms) END, {Sums("e.context_percent")}
                       FROM events e WHERE e.kind IN @namedKinds{where} GROUP BY 1, 2, 3, 4, 5, 6", q);
                while (r.Read()) groups.Add(ReadGroup(r, step: true));
            }
            return groups;
        }

        // The timed events' duration buckets by day, kind and context (day_hist's scopes).
        private static List<(long, long, long, long, long)> ReadBuckets(SqliteConnection c, Decoded d)
        {
            var buckets = new List<(long, long, long, long, long)>();
            foreach (var (where, p) in d.Reads)
                buckets.AddRange(c.Query<(long, long, long, long, long)>(
                    $@"SELECT {IsoWeeks.DaySql("e.timestamp")}, e.kind, coalesce(e.context, 0), madf_duration_bucket(e.duration_ms), count(*)
                       FROM event_rows e WHERE e.duration_ms IS NOT NULL{where} GROUP BY 1, 2, 3, 4", p));
            return buckets;
        }

        /// <summary>
        /// Makes the temporary table <paramref name="name"/> of <paramref name="dayTable"/>'s rows from the parts' events
        /// (once per decode). Without <paramref name="steps"/>, a tool call's or step's step is NULL and day_hist has no
        /// step scope (their details unread): for questions that do not read them.
        /// </summary>
        internal static void Make(SqliteConnection c, Decoded d, string dayTable, bool steps, string name)
        {
            if (!d.Made.Add(name)) return;
            var rows = Rows(c, d, dayTable, steps);
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

        /// <summary><paramref name="dayTable"/>'s rows of the parts (see <see cref="Make"/>), for a question that sums them itself.</summary>
        internal static IEnumerable<object?[]> Rows(SqliteConnection c, Decoded d, string dayTable, bool steps)
        {
            if (steps && d.StepGroups == null) d.StepGroups = ReadSteps(c, d);
            if (dayTable == "day_hist" && d.Buckets == null) d.Buckets = ReadBuckets(c, d);
            return dayTable switch
            {
                "session_day" => SessionDays(d),
                "day_hist" => DayBuckets(d, steps),
                "story_spans" => StorySpans(d),
                _ => DayRollup(d, steps),
            };
        }

        internal static readonly string[] DayRollupColumns =
            { "day", "story_id", "agent_name", "workflow_id", "event_type", "category", "step", "pattern_id", "outcome", "events", "timed", "duration_ms", "tokens", "ctx_known", "ctx_hot", "wasted_ms" };

        internal static readonly string[] SessionDayColumns =
            { "day", "story_id", "session_id", "agent_name", "events", "errors", "tokens", "human", "first_ts", "last_ts", "ctx_events", "max_context", "ctx_hot", "ctx_hot_errors", "ctx_cool", "ctx_cool_errors" };

        // day_rollup's definition (SummaryTables.DayRollupRows), in its named rows; with steps, tool calls and steps from
        // their step groups; without, their step is NULL (unread).
        private static IEnumerable<object?[]> DayRollup(Decoded d, bool steps)
        {
            var sums = new Dictionary<(long day, string story, RollupKey key), RollupCounts>();
            var source = steps ? d.Groups.Where(g => !d.Kinds[g.Kind].Named).Concat(d.StepGroups!) : d.Groups;
            foreach (var g in source)
            {
                var k = d.Kinds[g.Kind];
                var x = Context(d, g.Context);
                var key = (g.Day, x.Story ?? "", new RollupKey(x.Agent ?? "", x.Workflow ?? "", k.Type, k.Category, k.Named ? g.Step ?? "" : k.Type, g.Pattern, (int)k.Outcome));
                if (!sums.TryGetValue(key, out var s)) sums[key] = s = new RollupCounts();
                s.Add(new RollupCounts
                {
                    Events = g.Events, Timed = g.Timed, DurationMs = g.DurationMs, Tokens = g.Tokens, CtxKnown = g.CtxKnown, CtxHot = g.CtxHot,
                    WastedMs = TimeWasted.FailedMs(k.Outcome < 0 ? (bool?)null : k.Outcome == 1, g.DurationMs) + g.SavedMs, // one outcome per group
                });
            }
            return sums.Select(x =>
            {
                var (day, story, key) = x.Key;
                var c = x.Value;
                var step = !steps && Domain.Steps.Kind(key.EventType) != "event" ? null : key.Step;
                return new object?[]
                {
                    day, story, key.Agent, key.Workflow, key.EventType, key.Category, step, key.Pattern, (long)key.Outcome,
                    c.Events, c.Timed, c.DurationMs, c.Tokens, c.CtxKnown, c.CtxHot, c.WastedMs,
                };
            });
        }

        // session_day's definition (SummaryTables.SessionDayRows), in its named rows: events with a session.
        private static IEnumerable<object?[]> SessionDays(Decoded d)
        {
            var sums = new Dictionary<(long day, string story, string session, string agent), SessionDayCounts>();
            foreach (var g in d.Groups)
            {
                var x = Context(d, g.Context);
                if (x.Session == null) continue;
                var k = d.Kinds[g.Kind];
                var key = (g.Day, x.Story ?? "", x.Session, x.Agent ?? "");
                if (!sums.TryGetValue(key, out var s)) sums[key] = s = new SessionDayCounts();
                s.Add(new SessionDayCounts
                {
                    Events = g.Events, Errors = k.Error ? g.Events : 0, Tokens = g.Tokens, Human = k.Human ? g.Events : 0,
                    First = g.FirstTs, Last = g.LastTs, MaxContext = g.MaxCtx,
                    CtxEvents = g.CtxKnown, Hot = g.CtxHot, Cool = g.CtxKnown - g.CtxHot,
                    HotErrors = k.Error ? g.CtxHot : 0, CoolErrors = k.Error ? g.CtxKnown - g.CtxHot : 0,
                });
            }
            return sums.Select(x => new object?[]
            {
                x.Key.day, x.Key.story, x.Key.session, x.Key.agent, x.Value.Events, x.Value.Errors, x.Value.Tokens, x.Value.Human, x.Value.First, x.Value.Last,
                x.Value.CtxEvents, x.Value.MaxContext, x.Value.Hot, x.Value.HotErrors, x.Value.Cool, x.Value.CoolErrors,
            });
        }

        // day_hist's buckets (SummaryTables.DayBuckets), one row per bucket; the step scope only with steps.
        private static IEnumerable<object?[]> DayBuckets(Decoded d, bool steps)
        {
            var n = new Dictionary<(long day, string story, string scope, string key, int bucket), long>();
            void Add((long, string, string, string, int) key, long count) => n[key] = n.TryGetValue(key, out var v) ? v + count : count;
            foreach (var (day, kind, context, b, count) in d.Buckets!)
            {
                var bucket = (int)b;
                var x = Context(d, context);
                Add((day, x.Story ?? "", "agent", x.Agent ?? "", bucket), count);
                if (x.Workflow != null) Add((day, x.Story ?? "", "workflow", x.Workflow, bucket), count);
                var k = d.Kinds[kind];
                if (steps && !k.Named) Add((day, x.Story ?? "", "step", Domain.Steps.Kind(k.Type) + ":" + k.Type, bucket), count);
            }
            if (steps)
                foreach (var g in d.StepGroups!.Where(g => g.Bucket.HasValue))
                    Add((g.Day, Context(d, g.Context).Story ?? "", "step", Domain.Steps.Kind(d.Kinds[g.Kind].Type) + ":" + g.Step, g.Bucket!.Value), g.Events);
            return n.Select(x => new object?[] { x.Key.day, x.Key.story, x.Key.scope, x.Key.key, x.Key.bucket, x.Value });
        }

        // Each story's first and last time in the parts.
        private static IEnumerable<object?[]> StorySpans(Decoded d)
        {
            var spans = new Dictionary<string, (long first, long last)>(StringComparer.Ordinal);
            foreach (var g in d.Groups)
            {
                var story = Context(d, g.Context).Story;
                if (story == null) continue;
                spans[story] = spans.TryGetValue(story, out var s) ? (Math.Min(s.first, g.FirstTs), Math.Max(s.last, g.LastTs)) : (g.FirstTs, g.LastTs);
            }
            return spans.Select(s => new object?[] { s.Key, s.Value.first, s.Value.last });
        }

        private static readonly ContextInfo None = new ContextInfo();

        private static ContextInfo Context(Decoded d, long context) => d.Contexts.TryGetValue(context, out var x) ? x : None;
    }
}

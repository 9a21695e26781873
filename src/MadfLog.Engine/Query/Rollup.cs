using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>
    /// Maintains the summaries (event_rollup, duration_hist, patterns.first_story) in the import transaction, from the
    /// rows actually written, so whole-store questions read a few thousand summary rows instead of every event.
    /// </summary>
    public sealed class RollupStage : IImportStage
    {
        public const long DayMs = 86_400_000;

        /// <summary>The Monday of a timestamp's ISO week, in days since 1970-01-01 (a Thursday).</summary>
        public static long WeekOf(long timestampMs)
        {
            var day = timestampMs >= 0 ? timestampMs / DayMs : (timestampMs - DayMs + 1) / DayMs;
            return day - ((day + 3) % 7 + 7) % 7;
        }

        public void Prepare(List<EventRow> batch)
        {
            // Formats that already know the step (QuickLogger's parser) set it; others are read from details here.
            foreach (var e in batch)
                if (e.Step == null && e.Details != null && (e.EventType == "tool_call" || e.EventType == "step"))
                    e.Step = StepOf(e.Details, e.EventType == "tool_call" ? "tool" : "step");
        }

        public void BeforeWrite(List<EventRow> batch, SqliteConnection connection, SqliteTransaction transaction) { }

        public void AfterWrite(List<EventRow> batch, SqliteConnection c, SqliteTransaction tx)
        {
            var groups = new Dictionary<(string, string, string, string, string, long, int), long[]>();
            var stories = new Dictionary<string, long[]>();
            var storyAgents = new HashSet<(string, string)>();
            var patternStories = new HashSet<(long, string)>();
            var weeks = new Dictionary<long, long[]>();
            var sessions = new Dictionary<(string, string), (string? story, double max, long[] n)>();
            var human = new Dictionary<(string, string, string, long), long>();
            var agentHist = new Dictionary<(string, int), long>();
            var stepHist = new Dictionary<(string, string, int), long>();
            var firsts = new Dictionary<long, (long ts, string story)>();
            foreach (var e in batch)
            {
                if (e.Id == 0 && e.TokensGrowth > 0)
                {
                    // A response seen again with its final usage: only its tokens grow (its first line may be in this batch).
                    var gk = (e.AgentName ?? "", e.WorkflowId ?? "", e.EventType, e.Category, StepName(e), e.PatternId ?? 0, e.Success.HasValue ? (e.Success.Value ? 1 : 0) : -1);
                    if (!groups.TryGetValue(gk, out var gg)) groups[gk] = gg = new long[] { 0, 0, 0, 0, 0, 0, 0, long.MaxValue, long.MinValue };
                    gg[2] += e.TokensGrowth;
                    if (e.StoryId != null)
                    {
                        if (!stories.TryGetValue(e.StoryId, out var sg)) stories[e.StoryId] = sg = new long[] { 0, 0, 0, 0, 0, long.MaxValue, long.MinValue };
                        sg[3] += e.TokensGrowth;
                    }
                    var wg = WeekOf(e.Timestamp);
                    if (!weeks.TryGetValue(wg, out var wkg)) weeks[wg] = wkg = new long[5];
                    wkg[3] += e.TokensGrowth;
                    continue;
                }
                if (e.Id == 0) continue; // a duplicate: not written, not counted
                var step = StepName(e);
                var week = WeekOf(e.Timestamp);
                if (!weeks.TryGetValue(week, out var wk)) weeks[week] = wk = new long[5];
                var isError = e.Success == false && e.Category != "cascade";
                wk[0]++;
                if (isError) { wk[1]++; if (e.PatternId.HasValue) wk[2]++; }
                wk[3] += e.TokensUsed ?? 0;
                if (e.EventType == "human_interaction") wk[4]++;
                if (e.EventType == "human_interaction") Add(human, (e.Category, e.AgentName ?? "", e.StoryId ?? "", e.PatternId ?? 0));
                if (e.SessionId != null && e.ContextPercent.HasValue)
                {
                    var sk = (e.SessionId, e.AgentName ?? "");
                    if (!sessions.TryGetValue(sk, out var sv)) sv = (e.StoryId, 0, new long[5]);
                    var hot = e.ContextPercent.Value > 80;
                    sv.n[0]++;
                    sv.n[hot ? 1 : 3]++;
                    if (isError) sv.n[hot ? 2 : 4]++;
                    sessions[sk] = (string.CompareOrdinal(e.StoryId, sv.story) > 0 ? e.StoryId : sv.story, Math.Max(sv.max, e.ContextPercent.Value), sv.n);
                }
                if (e.StoryId != null)
                {
                    if (!stories.TryGetValue(e.StoryId, out var st)) stories[e.StoryId] = st = new long[] { 0, 0, 0, 0, 0, long.MaxValue, long.MinValue };
                    st[0]++;
                    if (isError) { st[1]++; if (e.PatternId.HasValue) st[2]++; }
                    st[3] += e.TokensUsed ?? 0;
                    if (e.EventType == "human_interaction") st[4]++;
                    st[5] = Math.Min(st[5], e.Timestamp);
                    st[6] = Math.Max(st[6], e.Timestamp);
                    if (e.AgentName != null) storyAgents.Add((e.StoryId, e.AgentName));
                    if (isError && e.PatternId.HasValue) patternStories.Add((e.PatternId.Value, e.StoryId));
                }
                var key = (e.AgentName ?? "", e.WorkflowId ?? "", e.EventType, e.Category, step, e.PatternId ?? 0, e.Success.HasValue ? (e.Success.Value ? 1 : 0) : -1);
                if (!groups.TryGetValue(key, out var g)) groups[key] = g = new long[] { 0, 0, 0, 0, 0, 0, 0, long.MaxValue, long.MinValue };
                g[7] = Math.Min(g[7], e.Timestamp);
                g[8] = Math.Max(g[8], e.Timestamp);
                g[0]++;
                if (e.DurationMs.HasValue) g[6]++;
                g[1] += e.DurationMs ?? 0;
                g[2] += e.TokensUsed ?? 0;
                if (e.ContextPercent.HasValue) { g[3]++; if (e.ContextPercent.Value > 80) g[4]++; }
                g[5] += (e.Success == false ? e.DurationMs ?? 0 : 0) + (e.TimeSavedOrWastedMs < 0 ? -e.TimeSavedOrWastedMs.Value : 0);
                if (e.DurationMs.HasValue)
                {
                    var b = Bucket(e.DurationMs.Value);
                    Add(agentHist, (e.AgentName ?? "", b));
                    Add(stepHist, (Kind(e.EventType), step, b));
                }
                if (e.PatternId.HasValue && (!firsts.TryGetValue(e.PatternId.Value, out var f) || e.Timestamp < f.ts))
                    firsts[e.PatternId.Value] = (e.Timestamp, e.StoryId ?? "");
            }
            // One prepared statement per table, reused for every group (a batch has thousands of groups).
            using (var upsert = c.CreateCommand())
            {
                upsert.Transaction = tx;
                upsert.CommandText = @"INSERT INTO event_rollup VALUES ($agent, $workflow, $type, $cat, $step, $pattern, $outcome, $n, $timed, $dur, $tok, $ck, $ch, $w, $first, $last)
                    ON CONFLICT DO UPDATE SET events = events + excluded.events, timed = timed + excluded.timed, duration_ms = duration_ms + excluded.duration_ms,
                        tokens = tokens + excluded.tokens, ctx_known = ctx_known + excluded.ctx_known, ctx_hot = ctx_hot + excluded.ctx_hot, wasted_ms = wasted_ms + excluded.wasted_ms,
                        first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)";
                var names = new[] { "$agent", "$workflow", "$type", "$cat", "$step", "$pattern", "$outcome", "$n", "$timed", "$dur", "$tok", "$ck", "$ch", "$w", "$first", "$last" };
                var ps = names.Select(n => upsert.Parameters.Add(new SqliteParameter(n, null))).ToArray();
                upsert.Prepare();
                foreach (var kv in groups)
                {
                    var (agent, workflow, type, cat, step, pattern, outcome) = kv.Key;
                    var g = kv.Value;
                    ps[0].Value = agent; ps[1].Value = workflow; ps[2].Value = type; ps[3].Value = cat; ps[4].Value = step;
                    ps[5].Value = pattern; ps[6].Value = outcome; ps[7].Value = g[0]; ps[8].Value = g[6]; ps[9].Value = g[1]; ps[10].Value = g[2];
                    ps[11].Value = g[3]; ps[12].Value = g[4]; ps[13].Value = g[5]; ps[14].Value = g[7]; ps[15].Value = g[8];
                    upsert.ExecuteNonQuery();
                }
            }
            using (var upsert = c.CreateCommand())
            {
                upsert.Transaction = tx;
                upsert.CommandText = "INSERT INTO duration_hist VALUES ($s, $k, $b, $n) ON CONFLICT DO UPDATE SET n = n + excluded.n";
                var ps = new[] { "$s", "$k", "$b", "$n" }.Select(n => upsert.Parameters.Add(new SqliteParameter(n, null))).ToArray();
                upsert.Prepare();
                // Keys are built here, once per histogram cell, not once per event.
                foreach (var (scope, key, bucket, n) in agentHist.Select(kv => ("agent", kv.Key.Item1, kv.Key.Item2, kv.Value))
                             .Concat(stepHist.Select(kv => ("step", kv.Key.Item1 + ":" + kv.Key.Item2, kv.Key.Item3, kv.Value))))
                {
                    ps[0].Value = scope; ps[1].Value = key; ps[2].Value = bucket; ps[3].Value = n;
                    upsert.ExecuteNonQuery();
                }
            }
            foreach (var kv in stories)
                c.Execute(@"INSERT INTO story_rollup VALUES (@story, @n, @errors, @patterned, @tokens, @human, @first, @last)
                            ON CONFLICT DO UPDATE SET events = events + excluded.events, errors = errors + excluded.errors, patterned = patterned + excluded.patterned,
                                tokens = tokens + excluded.tokens, human = human + excluded.human, first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
                    new { story = kv.Key, n = kv.Value[0], errors = kv.Value[1], patterned = kv.Value[2], tokens = kv.Value[3], human = kv.Value[4], first = kv.Value[5], last = kv.Value[6] }, tx);
            foreach (var (story, agent) in storyAgents)
                c.Execute("INSERT OR IGNORE INTO story_agents VALUES (@story, @agent)", new { story, agent }, tx);
            foreach (var (pattern, story) in patternStories)
                c.Execute("INSERT OR IGNORE INTO pattern_stories VALUES (@pattern, @story)", new { pattern, story }, tx);
            foreach (var kv in sessions)
                c.Execute(@"INSERT INTO session_rollup VALUES (@session, @agent, @story, @n, @max, @hot, @hotErrors, @cool, @coolErrors)
                            ON CONFLICT DO UPDATE SET story_id = max(coalesce(story_id, ''), coalesce(excluded.story_id, '')), events = events + excluded.events,
                                max_context = max(max_context, excluded.max_context), ctx_hot = ctx_hot + excluded.ctx_hot, ctx_hot_errors = ctx_hot_errors + excluded.ctx_hot_errors,
                                ctx_cool = ctx_cool + excluded.ctx_cool, ctx_cool_errors = ctx_cool_errors + excluded.ctx_cool_errors",
                    new { session = kv.Key.Item1, agent = kv.Key.Item2, kv.Value.story, n = kv.Value.n[0], max = kv.Value.max, hot = kv.Value.n[1], hotErrors = kv.Value.n[2], cool = kv.Value.n[3], coolErrors = kv.Value.n[4] }, tx);
            foreach (var kv in human)
            {
                c.Execute("INSERT INTO human_rollup VALUES (@cat, @agent, @story, @pattern, @n) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                    new { cat = kv.Key.Item1, agent = kv.Key.Item2, story = kv.Key.Item3, pattern = kv.Key.Item4, n = kv.Value }, tx);
                c.Execute("INSERT INTO human_groups VALUES (@cat, @agent, @story, @n) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                    new { cat = kv.Key.Item1, agent = kv.Key.Item2, story = kv.Key.Item3, n = kv.Value }, tx);
            }
            foreach (var kv in weeks)
                c.Execute(@"INSERT INTO week_rollup VALUES (@week, @n, @errors, @patterned, @tokens, @human)
                            ON CONFLICT DO UPDATE SET events = events + excluded.events, errors = errors + excluded.errors, patterned = patterned + excluded.patterned,
                                tokens = tokens + excluded.tokens, human = human + excluded.human",
                    new { week = kv.Key, n = kv.Value[0], errors = kv.Value[1], patterned = kv.Value[2], tokens = kv.Value[3], human = kv.Value[4] }, tx);
            foreach (var kv in firsts)
                c.Execute("UPDATE patterns SET first_story = @story WHERE id = @id AND first_seen = @ts", new { id = kv.Key, kv.Value.story, kv.Value.ts }, tx);
        }

        /// <summary>When a pattern merges into another, its summary rows follow it.</summary>
        public static void MovePattern(SqliteConnection c, SqliteTransaction tx, long from, long into)
        {
            c.Execute("INSERT OR IGNORE INTO pattern_stories SELECT @into, story_id FROM pattern_stories WHERE pattern_id = @from", new { from, into }, tx);
            c.Execute(@"INSERT INTO human_rollup SELECT category, agent_name, story_id, @into, n FROM human_rollup WHERE pattern_id = @from
                        ON CONFLICT DO UPDATE SET n = n + excluded.n", new { from, into }, tx);
            c.Execute("DELETE FROM human_rollup WHERE pattern_id = @from", new { from }, tx);
            c.Execute("DELETE FROM pattern_stories WHERE pattern_id = @from", new { from }, tx);
            c.Execute(@"INSERT INTO event_rollup SELECT agent_name, workflow_id, event_type, category, step, @into, outcome, events, timed, duration_ms, tokens, ctx_known, ctx_hot, wasted_ms, first_ts, last_ts
                        FROM event_rollup WHERE pattern_id = @from
                        ON CONFLICT DO UPDATE SET events = events + excluded.events, timed = timed + excluded.timed, duration_ms = duration_ms + excluded.duration_ms, tokens = tokens + excluded.tokens,
                            ctx_known = ctx_known + excluded.ctx_known, ctx_hot = ctx_hot + excluded.ctx_hot, wasted_ms = wasted_ms + excluded.wasted_ms,
                            first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
                new { from, into }, tx);
            c.Execute("DELETE FROM event_rollup WHERE pattern_id = @from", new { from }, tx);
        }

        private static void Add<T>(Dictionary<T, long> d, T key) where T : notnull => d[key] = d.TryGetValue(key, out var n) ? n + 1 : 1;

        internal static string Kind(string eventType) => eventType == "tool_call" ? "tool" : eventType == "step" ? "step" : "event";

        /// <summary>The name a step is reported under: the tool, the workflow step, or the event type.</summary>
        internal static string StepName(EventRow e) =>
            e.EventType == "tool_call" ? e.Step ?? "unknown" : e.EventType == "step" ? e.Step ?? "step" : e.EventType;

        private static string? StepOf(string details, string property)
        {
            try
            {
                var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(details));
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var match = reader.ValueTextEquals(property);
                    reader.Read();
                    if (match) return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    reader.Skip();
                }
            }
            catch (JsonException) { }
            return null;
        }

        // 8 buckets per doubling: a bucket's upper bound is within 9% of any value in it.
        internal static int Bucket(long ms) => ms <= 1 ? 0 : (int)Math.Ceiling(Math.Log(ms, 2) * 8);
        internal static double BucketValue(int bucket) => bucket == 0 ? 1 : Math.Round(Math.Pow(2, bucket / 8.0));
    }
}

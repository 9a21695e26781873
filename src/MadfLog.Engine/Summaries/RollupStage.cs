using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Summaries
{
    /// <summary>
    /// Maintains the summaries (event_rollup, duration_hist, patterns.first_story) in the import transaction, from the
    /// rows actually written, so whole-store questions read a few thousand summary rows instead of every event.
    /// </summary>
    public sealed class RollupStage : IImportStage
    {
        [MethodImpl(Hot.Path)]
        public void Prepare(List<EventRow> batch)
        {
            // Formats that already know the step (QuickLogger's parser) set it; others take it from the details' split.
            foreach (var e in batch)
                if (e.Step == null && e.StoredDetails != null)
                    e.Step = Steps.NameFromDetails(e.EventType, e.StoredDetails.Tool, e.StoredDetails.Step);
            // Most events will get no pattern id and are not growing responses: summarise them here, off the writer
            // thread. The writer adds the rest and takes back the ones that turn out to be duplicates (their original
            // was counted with the same values, so only counts and sums need undoing).
            var partial = new Summaries();
            foreach (var e in batch)
                if (Presummarised(e)) partial.Add(e, 1);
            _prepared[batch] = partial;
        }

        private static bool Presummarised(EventRow e) => e.MessageTokens == null && !e.KeepLargestTokens && !e.PatternId.HasValue;

        public void BeforeWrite(List<EventRow> batch, SqliteConnection connection, SqliteTransaction transaction) { }

        // Batches prepared on the preparing thread, waiting for the writer.
        private readonly ConcurrentDictionary<List<EventRow>, Summaries> _prepared = new ConcurrentDictionary<List<EventRow>, Summaries>();

        // Summaries of the rows written since the last flush: kept in memory across the batches of one transaction and
        // written once before it commits (BeforeCommit), so a transaction of many batches upserts each summary row once.
        private readonly Summaries _pending = new Summaries();

        [MethodImpl(Hot.Path)]
        public void AfterWrite(List<EventRow> batch, SqliteConnection c, SqliteTransaction tx)
        {
            _prepared.TryRemove(batch, out var partial);
            if (partial != null) _pending.Merge(partial);
            foreach (var e in batch)
            {
                if (partial != null && Presummarised(e))
                {
                    if (e.Id == 0) _pending.Add(e, -1); // a duplicate: counted in Prepare, not written
                    continue;
                }
                if (e.Id == 0 && e.TokensGrowth > 0) _pending.AddGrowth(e);
                else if (e.Id != 0) _pending.Add(e, 1); // (a duplicate: not written, not counted)
            }
        }

        /// <summary>A session_day row: events, errors, tokens, human, then (events with a context figure) known, hot, hot errors, cool, cool errors.</summary>
        private sealed class SessionDay
        {
            public readonly long[] n = new long[9];
            public long First = long.MaxValue, Last = long.MinValue;
            public double? MaxContext;

            public void Merge(SessionDay o)
            {
                for (var i = 0; i < n.Length; i++) n[i] += o.n[i];
                First = Math.Min(First, o.First);
                Last = Math.Max(Last, o.Last);
                if (o.MaxContext.HasValue) MaxContext = Math.Max(MaxContext ?? double.MinValue, o.MaxContext.Value);
            }
        }

        /// <summary>Summary rows in memory, keyed as the tables are.</summary>
        private sealed class Summaries
        {
            public readonly Dictionary<(string, string, string, string, string, long, int), long[]> groups = new Dictionary<(string, string, string, string, string, long, int), long[]>();
            public readonly Dictionary<string, long[]> stories = new Dictionary<string, long[]>();
            public readonly HashSet<(string, string)> storyAgents = new HashSet<(string, string)>();
            public readonly Dictionary<(long, string), long> patternStories = new Dictionary<(long, string), long>();
            public readonly Dictionary<long, long[]> weeks = new Dictionary<long, long[]>();
            public readonly Dictionary<(string, string), (string? story, double max, long[] n)> sessions = new Dictionary<(string, string), (string? story, double max, long[] n)>();
            public readonly Dictionary<(string, string, string, long), long> human = new Dictionary<(string, string, string, long), long>();
            public readonly Dictionary<(string, int), long> agentHist = new Dictionary<(string, int), long>();
            public readonly Dictionary<(string, string, int), long> stepHist = new Dictionary<(string, string, int), long>();
            public readonly Dictionary<(string, int), long> workflowHist = new Dictionary<(string, int), long>();
            public readonly Dictionary<long, (long ts, string story)> firsts = new Dictionary<long, (long ts, string story)>();
            // Day-grain summaries per story (day_rollup, day_hist), for questions with a story or whole days (DaySummaries).
            public readonly Dictionary<(long day, string story, (string, string, string, string, string, long, int) group), long[]> days =
                new Dictionary<(long, string, (string, string, string, string, string, long, int)), long[]>();
            // Counts by bucket in an array per day, story, scope and key: one dictionary entry per histogram, not per bucket.
            public readonly Dictionary<(long day, string story, string scope, string key), long[]> dayHist = new Dictionary<(long, string, string, string), long[]>();
            public readonly Dictionary<(long day, string story, string session, string agent), SessionDay> sessionDays = new Dictionary<(long, string, string, string), SessionDay>();

            // An event_rollup row's key: agent, workflow, type, category, step, pattern (0: none), outcome (-1: unknown).
            private static (string, string, string, string, string, long, int) GroupOf(EventRow e, string step) =>
                (e.AgentName ?? "", e.WorkflowId ?? "", e.EventType, e.Category, step, e.PatternId ?? 0, e.Success.HasValue ? (e.Success.Value ? 1 : 0) : -1);

            private static long[] NewGroup() => new long[] { 0, 0, 0, 0, 0, 0, 0, long.MaxValue, long.MinValue };
            private static long[] NewStory() => new long[] { 0, 0, 0, 0, 0, long.MaxValue, long.MinValue };

            /// <summary>A response seen again with its final usage: only its tokens grow (its first line may be in this batch).</summary>
            public void AddGrowth(EventRow e)
            {
                var gk = GroupOf(e, Steps.Name(e));
                if (!groups.TryGetValue(gk, out var gg)) groups[gk] = gg = NewGroup();
                gg[2] += e.TokensGrowth;
                if (e.StoryId != null)
                {
                    if (!stories.TryGetValue(e.StoryId, out var sg)) stories[e.StoryId] = sg = NewStory();
                    sg[3] += e.TokensGrowth;
                }
                var wg = IsoWeeks.MondayDay(e.Timestamp);
                if (!weeks.TryGetValue(wg, out var wkg)) weeks[wg] = wkg = new long[5];
                wkg[3] += e.TokensGrowth;
                var dk = (IsoWeeks.DayOf(e.Timestamp), e.StoryId ?? "", gk);
                if (!days.TryGetValue(dk, out var dg)) days[dk] = dg = new long[7];
                dg[3] += e.TokensGrowth;
                if (e.SessionId != null) SessionDayOf(e).n[2] += e.TokensGrowth;
            }

            /// <summary>
            /// Counts an event in (sign 1) or takes a duplicate back out (sign -1: counts and sums only; its first/last
            /// times, maximum context and membership are those of the original, already counted).
            /// </summary>
            [MethodImpl(Hot.Path)]
            public void Add(EventRow e, int sign)
            {
                var add = sign > 0;
                var step = Steps.Name(e);
                var week = IsoWeeks.MondayDay(e.Timestamp);
                if (!weeks.TryGetValue(week, out var wk)) weeks[week] = wk = new long[5];
                var isError = Errors.IsError(e);
                wk[0] += sign;
                if (isError) { wk[1] += sign; if (e.PatternId.HasValue) wk[2] += sign; }
                wk[3] += sign * (e.TokensUsed ?? 0);
                if (e.EventType == "human_interaction")
                {
                    wk[4] += sign;
                    Add(human, (e.Category, e.AgentName ?? "", e.StoryId ?? "", e.PatternId ?? 0), sign);
                }
                if (e.SessionId != null && e.ContextPercent.HasValue)
                {
                    var sk = (e.SessionId, e.AgentName ?? "");
                    if (!sessions.TryGetValue(sk, out var sv)) sv = (e.StoryId, 0, new long[5]);
                    var hot = HighContext.IsHigh(e.ContextPercent);
                    sv.n[0] += sign;
                    sv.n[hot ? 1 : 3] += sign;
                    if (isError) sv.n[hot ? 2 : 4] += sign;
                    sessions[sk] = add ? (string.CompareOrdinal(e.StoryId, sv.story) > 0 ? e.StoryId : sv.story, Math.Max(sv.max, e.ContextPercent.Value), sv.n) : sv;
                }
                if (e.StoryId != null)
                {
                    if (!stories.TryGetValue(e.StoryId, out var st)) stories[e.StoryId] = st = NewStory();
                    st[0] += sign;
                    if (isError) { st[1] += sign; if (e.PatternId.HasValue) st[2] += sign; }
                    st[3] += sign * (e.TokensUsed ?? 0);
                    if (e.EventType == "human_interaction") st[4] += sign;
                    if (add)
                    {
                        st[5] = Math.Min(st[5], e.Timestamp);
                        st[6] = Math.Max(st[6], e.Timestamp);
                        if (e.AgentName != null) storyAgents.Add((e.StoryId, e.AgentName));
                    }
                    if (isError && e.PatternId.HasValue) Add(patternStories, (e.PatternId.Value, e.StoryId), sign);
                }
                var key = GroupOf(e, step);
                if (!groups.TryGetValue(key, out var g)) groups[key] = g = NewGroup();
                if (add)
                {
                    g[7] = Math.Min(g[7], e.Timestamp);
                    g[8] = Math.Max(g[8], e.Timestamp);
                }
                g[0] += sign;
                if (e.DurationMs.HasValue) g[6] += sign;
                g[1] += sign * (e.DurationMs ?? 0);
                g[2] += sign * (e.TokensUsed ?? 0);
                if (e.ContextPercent.HasValue) { g[3] += sign; if (HighContext.IsHigh(e.ContextPercent)) g[4] += sign; }
                g[5] += sign * ((e.Success == false ? e.DurationMs ?? 0 : 0) + (e.TimeSavedOrWastedMs < 0 ? -e.TimeSavedOrWastedMs.Value : 0));
                var day = IsoWeeks.DayOf(e.Timestamp);
                var story = e.StoryId ?? "";
                if (e.SessionId != null)
                {
                    var sd = SessionDayOf(e);
                    sd.n[0] += sign;
                    if (isError) sd.n[1] += sign;
                    sd.n[2] += sign * (e.TokensUsed ?? 0);
                    if (e.EventType == "human_interaction") sd.n[3] += sign;
                    if (add) { sd.First = Math.Min(sd.First, e.Timestamp); sd.Last = Math.Max(sd.Last, e.Timestamp); }
                    if (e.ContextPercent.HasValue)
                    {
                        var hot = HighContext.IsHigh(e.ContextPercent);
                        sd.n[4] += sign;
                        sd.n[hot ? 5 : 7] += sign;
                        if (isError) sd.n[hot ? 6 : 8] += sign;
                        if (add) sd.MaxContext = Math.Max(sd.MaxContext ?? double.MinValue, e.ContextPercent.Value);
                    }
                }
                var dkey = (day, story, key);
                if (!days.TryGetValue(dkey, out var d)) days[dkey] = d = new long[7];
                d[0] += sign;
                if (e.DurationMs.HasValue) d[1] += sign;
                d[2] += sign * (e.DurationMs ?? 0);
                d[3] += sign * (e.TokensUsed ?? 0);
                if (e.ContextPercent.HasValue) { d[4] += sign; if (HighContext.IsHigh(e.ContextPercent)) d[5] += sign; }
                d[6] += sign * ((e.Success == false ? e.DurationMs ?? 0 : 0) + (e.TimeSavedOrWastedMs < 0 ? -e.TimeSavedOrWastedMs.Value : 0));
                if (e.DurationMs.HasValue)
                {
                    var b = Bucket(e.DurationMs.Value);
                    Add(agentHist, (e.AgentName ?? "", b), sign);
                    Add(stepHist, (Steps.Kind(e.EventType), step, b), sign);
                    if (e.WorkflowId != null) Add(workflowHist, (e.WorkflowId, b), sign);
                    AddBucket((day, story, "agent", e.AgentName ?? ""), b, sign);
                    AddBucket((day, story, "step", Steps.Kind(e.EventType) + ":" + step), b, sign);
                    if (e.WorkflowId != null) AddBucket((day, story, "workflow", e.WorkflowId), b, sign);
                }
                if (add && e.PatternId.HasValue && (!firsts.TryGetValue(e.PatternId.Value, out var f) || e.Timestamp < f.ts))
                    firsts[e.PatternId.Value] = (e.Timestamp, e.StoryId ?? "");
            }

            /// <summary>Adds another set of summaries (a batch summarised in Prepare) into this one.</summary>
            [MethodImpl(Hot.Path)]
            public void Merge(Summaries o)
            {
                foreach (var kv in o.groups)
                {
                    if (!groups.TryGetValue(kv.Key, out var g)) { groups[kv.Key] = kv.Value; continue; }
                    for (var i = 0; i < 7; i++) g[i] += kv.Value[i];
                    g[7] = Math.Min(g[7], kv.Value[7]);
                    g[8] = Math.Max(g[8], kv.Value[8]);
                }
                foreach (var kv in o.stories)
                {
                    if (!stories.TryGetValue(kv.Key, out var st)) { stories[kv.Key] = kv.Value; continue; }
                    for (var i = 0; i < 5; i++) st[i] += kv.Value[i];
                    st[5] = Math.Min(st[5], kv.Value[5]);
                    st[6] = Math.Max(st[6], kv.Value[6]);
                }
                storyAgents.UnionWith(o.storyAgents);
                foreach (var kv in o.patternStories) Add(patternStories, kv.Key, kv.Value);
                foreach (var kv in o.weeks)
                {
                    if (!weeks.TryGetValue(kv.Key, out var wk)) { weeks[kv.Key] = kv.Value; continue; }
                    for (var i = 0; i < 5; i++) wk[i] += kv.Value[i];
                }
                foreach (var kv in o.sessions)
                {
                    if (!sessions.TryGetValue(kv.Key, out var sv)) { sessions[kv.Key] = kv.Value; continue; }
                    for (var i = 0; i < 5; i++) sv.n[i] += kv.Value.n[i];
                    sessions[kv.Key] = (string.CompareOrdinal(kv.Value.story, sv.story) > 0 ? kv.Value.story : sv.story, Math.Max(sv.max, kv.Value.max), sv.n);
                }
                foreach (var kv in o.human) Add(human, kv.Key, kv.Value);
                foreach (var kv in o.agentHist) Add(agentHist, kv.Key, kv.Value);
                foreach (var kv in o.stepHist) Add(stepHist, kv.Key, kv.Value);
                foreach (var kv in o.workflowHist) Add(workflowHist, kv.Key, kv.Value);
                foreach (var kv in o.firsts)
                    if (!firsts.TryGetValue(kv.Key, out var f) || kv.Value.ts < f.ts) firsts[kv.Key] = kv.Value;
                foreach (var kv in o.days)
                {
                    if (!days.TryGetValue(kv.Key, out var d)) { days[kv.Key] = kv.Value; continue; }
                    for (var i = 0; i < 7; i++) d[i] += kv.Value[i];
                }
                foreach (var kv in o.dayHist)
                {
                    if (!dayHist.TryGetValue(kv.Key, out var h)) { dayHist[kv.Key] = kv.Value; continue; }
                    if (h.Length < kv.Value.Length) { Array.Resize(ref h, kv.Value.Length); dayHist[kv.Key] = h; }
                    for (var i = 0; i < kv.Value.Length; i++) h[i] += kv.Value[i];
                }
                foreach (var kv in o.sessionDays)
                {
                    if (!sessionDays.TryGetValue(kv.Key, out var sd)) { sessionDays[kv.Key] = kv.Value; continue; }
                    sd.Merge(kv.Value);
                }
            }

            private SessionDay SessionDayOf(EventRow e)
            {
                var key = (IsoWeeks.DayOf(e.Timestamp), e.StoryId ?? "", e.SessionId!, e.AgentName ?? "");
                if (!sessionDays.TryGetValue(key, out var sd)) sessionDays[key] = sd = new SessionDay();
                return sd;
            }

            public void Clear()
            {
                groups.Clear(); stories.Clear(); storyAgents.Clear(); patternStories.Clear(); weeks.Clear(); sessions.Clear();
                human.Clear(); agentHist.Clear(); stepHist.Clear(); workflowHist.Clear(); firsts.Clear(); days.Clear(); dayHist.Clear(); sessionDays.Clear();
            }

            private static void Add<T>(Dictionary<T, long> d, T key, long n) where T : notnull => d[key] = d.TryGetValue(key, out var m) ? m + n : n;

            private void AddBucket((long, string, string, string) key, int bucket, long n)
            {
                if (!dayHist.TryGetValue(key, out var h)) dayHist[key] = h = new long[bucket + 16];
                else if (h.Length <= bucket) { Array.Resize(ref h, bucket + 16); dayHist[key] = h; }
                h[bucket] += n;
            }

        }

        public void BeforeCommit(SqliteConnection c, SqliteTransaction tx)
        {
            var p = _pending;
            ResolveMergedPatterns(c, tx);
            PreparedBatch.Run(c, tx, @"INSERT INTO event_rollup VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                    ON CONFLICT DO UPDATE SET events = events + excluded.events, timed = timed + excluded.timed, duration_ms = duration_ms + excluded.duration_ms,
                        tokens = tokens + excluded.tokens, ctx_known = ctx_known + excluded.ctx_known, ctx_hot = ctx_hot + excluded.ctx_hot, wasted_ms = wasted_ms + excluded.wasted_ms,
                        first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
                p.groups.Select(kv => new object?[] { kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Key.Item4, kv.Key.Item5, kv.Key.Item6, kv.Key.Item7,
                    kv.Value[0], kv.Value[6], kv.Value[1], kv.Value[2], kv.Value[3], kv.Value[4], kv.Value[5], kv.Value[7], kv.Value[8] }));
            // Keys are built here, once per histogram cell, not once per event.
            PreparedBatch.Run(c, tx, "INSERT INTO duration_hist VALUES ($1, $2, $3, $4) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                p.agentHist.Select(kv => new object?[] { "agent", kv.Key.Item1, kv.Key.Item2, kv.Value })
                    .Concat(p.stepHist.Select(kv => new object?[] { "step", kv.Key.Item1 + ":" + kv.Key.Item2, kv.Key.Item3, kv.Value }))
                    .Concat(p.workflowHist.Select(kv => new object?[] { "workflow", kv.Key.Item1, kv.Key.Item2, kv.Value })));
            PreparedBatch.Run(c, tx, @"INSERT INTO story_rollup VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                            ON CONFLICT DO UPDATE SET events = events + excluded.events, errors = errors + excluded.errors, patterned = patterned + excluded.patterned,
                                tokens = tokens + excluded.tokens, human = human + excluded.human, first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
                p.stories.Select(kv => new object?[] { kv.Key, kv.Value[0], kv.Value[1], kv.Value[2], kv.Value[3], kv.Value[4], kv.Value[5], kv.Value[6] }));
            PreparedBatch.Run(c, tx, "INSERT OR IGNORE INTO story_agents VALUES ($1, $2)", p.storyAgents.Select(k => new object?[] { k.Item1, k.Item2 }));
            PreparedBatch.Run(c, tx, "INSERT INTO pattern_stories VALUES ($1, $2, $3) ON CONFLICT DO UPDATE SET errors = errors + excluded.errors",
                p.patternStories.Select(kv => new object?[] { kv.Key.Item1, kv.Key.Item2, kv.Value }));
            PreparedBatch.Run(c, tx, @"INSERT INTO session_rollup VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                            ON CONFLICT DO UPDATE SET story_id = max(coalesce(story_id, ''), coalesce(excluded.story_id, '')), events = events + excluded.events,
                                max_context = max(max_context, excluded.max_context), ctx_hot = ctx_hot + excluded.ctx_hot, ctx_hot_errors = ctx_hot_errors + excluded.ctx_hot_errors,
                                ctx_cool = ctx_cool + excluded.ctx_cool, ctx_cool_errors = ctx_cool_errors + excluded.ctx_cool_errors",
                p.sessions.Select(kv => new object?[] { kv.Key.Item1, kv.Key.Item2, kv.Value.story, kv.Value.n[0], kv.Value.max, kv.Value.n[1], kv.Value.n[2], kv.Value.n[3], kv.Value.n[4] }));
            PreparedBatch.Run(c, tx, "INSERT INTO human_rollup VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                p.human.Select(kv => new object?[] { kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Key.Item4, kv.Value }));
            PreparedBatch.Run(c, tx, "INSERT INTO human_groups VALUES ($1, $2, $3, $4) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                p.human.GroupBy(kv => (kv.Key.Item1, kv.Key.Item2, kv.Key.Item3)).Select(g => new object?[] { g.Key.Item1, g.Key.Item2, g.Key.Item3, g.Sum(kv => kv.Value) }));
            PreparedBatch.Run(c, tx, @"INSERT INTO week_rollup VALUES ($1, $2, $3, $4, $5, $6)
                            ON CONFLICT DO UPDATE SET events = events + excluded.events, errors = errors + excluded.errors, patterned = patterned + excluded.patterned,
                                tokens = tokens + excluded.tokens, human = human + excluded.human",
                p.weeks.Select(kv => new object?[] { kv.Key, kv.Value[0], kv.Value[1], kv.Value[2], kv.Value[3], kv.Value[4] }));
            PreparedBatch.Run(c, tx, @"INSERT INTO day_rollup VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                    ON CONFLICT DO UPDATE SET events = events + excluded.events, timed = timed + excluded.timed, duration_ms = duration_ms + excluded.duration_ms,
                        tokens = tokens + excluded.tokens, ctx_known = ctx_known + excluded.ctx_known, ctx_hot = ctx_hot + excluded.ctx_hot, wasted_ms = wasted_ms + excluded.wasted_ms",
                p.days.Select(kv => new object?[] { kv.Key.day, kv.Key.story, kv.Key.group.Item1, kv.Key.group.Item2, kv.Key.group.Item3, kv.Key.group.Item4, kv.Key.group.Item5,
                    kv.Key.group.Item6, kv.Key.group.Item7, kv.Value[0], kv.Value[1], kv.Value[2], kv.Value[3], kv.Value[4], kv.Value[5], kv.Value[6] }));
            PreparedBatch.Run(c, tx, "INSERT INTO day_hist VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO UPDATE SET buckets = madf_hist_add(buckets, excluded.buckets)",
                p.dayHist.Select(kv => new object?[] { kv.Key.day, kv.Key.story, kv.Key.scope, kv.Key.key,
                    DayHistogram.Encode(kv.Value.Select((n, bucket) => new KeyValuePair<int, long>(bucket, n))) }));
            PreparedBatch.Run(c, tx, @"INSERT INTO session_day VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                    ON CONFLICT DO UPDATE SET events = events + excluded.events, errors = errors + excluded.errors, tokens = tokens + excluded.tokens, human = human + excluded.human,
                        first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts), ctx_events = ctx_events + excluded.ctx_events,
                        max_context = CASE WHEN max_context IS NULL THEN excluded.max_context WHEN excluded.max_context IS NULL THEN max_context ELSE max(max_context, excluded.max_context) END,
                        ctx_hot = ctx_hot + excluded.ctx_hot, ctx_hot_errors = ctx_hot_errors + excluded.ctx_hot_errors, ctx_cool = ctx_cool + excluded.ctx_cool, ctx_cool_errors = ctx_cool_errors + excluded.ctx_cool_errors",
                p.sessionDays.Select(kv => new object?[] { kv.Key.day, kv.Key.story, kv.Key.session, kv.Key.agent, kv.Value.n[0], kv.Value.n[1], kv.Value.n[2], kv.Value.n[3],
                    kv.Value.First, kv.Value.Last, kv.Value.n[4], kv.Value.MaxContext, kv.Value.n[5], kv.Value.n[6], kv.Value.n[7], kv.Value.n[8] }));
            PreparedBatch.Run(c, tx, "UPDATE patterns SET first_story = $2 WHERE id = $1 AND first_seen = $3",
                p.firsts.Select(kv => new object?[] { kv.Key, kv.Value.story, kv.Value.ts }));
            p.Clear();
        }

        /// <summary>
        /// Patterns can merge between the batch that counted an event and the flush (MovePattern has already moved the
        /// stored summaries): count pending events under the surviving pattern too.
        /// </summary>
        private void ResolveMergedPatterns(SqliteConnection c, SqliteTransaction tx)
        {
            var p = _pending;
            var ids = new HashSet<long>(p.groups.Keys.Select(k => k.Item6).Concat(p.days.Keys.Select(k => k.group.Item6)).Concat(p.human.Keys.Select(k => k.Item4)).Concat(p.patternStories.Keys.Select(k => k.Item1)).Concat(p.firsts.Keys));
            ids.Remove(0);
            if (ids.Count == 0) return;
            var mergedInto = c.Query<(long id, long into)>("SELECT id, merged_into FROM patterns WHERE merged_into IS NOT NULL", transaction: tx).ToDictionary(r => r.id, r => r.into);
            if (!ids.Any(mergedInto.ContainsKey)) return;
            long Survivor(long id) { while (mergedInto.TryGetValue(id, out var next) && next != id) id = next; return id; }
            foreach (var kv in p.groups.Where(kv => mergedInto.ContainsKey(kv.Key.Item6)).ToList())
            {
                p.groups.Remove(kv.Key);
                var key = (kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Key.Item4, kv.Key.Item5, Survivor(kv.Key.Item6), kv.Key.Item7);
                if (!p.groups.TryGetValue(key, out var g)) { p.groups[key] = kv.Value; continue; }
                for (var i = 0; i < 7; i++) g[i] += kv.Value[i];
                g[7] = Math.Min(g[7], kv.Value[7]);
                g[8] = Math.Max(g[8], kv.Value[8]);
            }
            foreach (var kv in p.days.Where(kv => mergedInto.ContainsKey(kv.Key.group.Item6)).ToList())
            {
                p.days.Remove(kv.Key);
                var g0 = kv.Key.group;
                var key = (kv.Key.day, kv.Key.story, (g0.Item1, g0.Item2, g0.Item3, g0.Item4, g0.Item5, Survivor(g0.Item6), g0.Item7));
                if (!p.days.TryGetValue(key, out var d)) { p.days[key] = kv.Value; continue; }
                for (var i = 0; i < 7; i++) d[i] += kv.Value[i];
            }
            foreach (var kv in p.human.Where(kv => mergedInto.ContainsKey(kv.Key.Item4)).ToList())
            {
                p.human.Remove(kv.Key);
                var key = (kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, Survivor(kv.Key.Item4));
                p.human[key] = (p.human.TryGetValue(key, out var n) ? n : 0) + kv.Value;
            }
            foreach (var kv in p.patternStories.Where(kv => mergedInto.ContainsKey(kv.Key.Item1)).ToList())
            {
                p.patternStories.Remove(kv.Key);
                var key = (Survivor(kv.Key.Item1), kv.Key.Item2);
                p.patternStories[key] = (p.patternStories.TryGetValue(key, out var n) ? n : 0) + kv.Value;
            }
            foreach (var kv in p.firsts.Where(kv => mergedInto.ContainsKey(kv.Key)).ToList())
            {
                p.firsts.Remove(kv.Key);
                var into = Survivor(kv.Key);
                if (!p.firsts.TryGetValue(into, out var f) || kv.Value.ts < f.ts) p.firsts[into] = kv.Value;
            }
        }

        /// <summary>The summary tables that describe the active events (patterns keep their own history).</summary>
        internal static readonly string[] SummaryTables =
            { "event_rollup", "duration_hist", "story_rollup", "story_agents", "pattern_stories", "session_rollup", "human_rollup", "human_groups", "week_rollup", "day_rollup", "day_hist", "session_day" };

        /// <summary>
        /// Recomputes every summary from the events the active store holds, with the same definitions as the import
        /// (<see cref="Summaries.Add"/>). Retention calls it once it has moved events to archives, so the
        /// summaries and a scan always describe the same events: the active window.
        /// </summary>
        public static void Rebuild(SqliteConnection c, SqliteTransaction tx)
        {
            DayHistogram.Register(c);
            foreach (var t in SummaryTables) c.Execute($"DELETE FROM {t}", transaction: tx);
            // One pass over the events into a temporary table with the columns every summary needs.
            c.Execute(@"DROP TABLE IF EXISTS temp.rebuild_events;
                CREATE TEMP TABLE rebuild_events AS " + SummaryColumns, transaction: tx);
            c.Execute($@"INSERT INTO event_rollup
                SELECT coalesce(agent, ''), coalesce(workflow, ''), type, category, step, coalesce(pattern, 0), coalesce(success, -1),
                       count(*), count(duration), coalesce(sum(duration), 0), coalesce(sum(tokens), 0), count(ctx), coalesce(sum({HighContext.Sql("ctx")}), 0),
                       coalesce(sum(CASE WHEN success = 0 THEN coalesce(duration, 0) ELSE 0 END + CASE WHEN saved < 0 THEN -saved ELSE 0 END), 0), min(ts), max(ts)
                FROM temp.rebuild_events GROUP BY 1, 2, 3, 4, 5, 6, 7", transaction: tx);
            c.Execute(@"INSERT INTO duration_hist
                SELECT 'agent', coalesce(agent, ''), madf_duration_bucket(duration), count(*) FROM temp.rebuild_events WHERE duration IS NOT NULL GROUP BY 2, 3
                UNION ALL SELECT 'step', kind || ':' || step, madf_duration_bucket(duration), count(*) FROM temp.rebuild_events WHERE duration IS NOT NULL GROUP BY 2, 3
                UNION ALL SELECT 'workflow', workflow, madf_duration_bucket(duration), count(*) FROM temp.rebuild_events WHERE duration IS NOT NULL AND workflow IS NOT NULL GROUP BY 2, 3",
                transaction: tx);
            c.Execute(@"INSERT INTO story_rollup
                SELECT story, count(*), sum(is_error), sum(is_error AND pattern IS NOT NULL), coalesce(sum(tokens), 0), sum(type = 'human_interaction'), min(ts), max(ts)
                FROM temp.rebuild_events WHERE story IS NOT NULL GROUP BY 1", transaction: tx);
            c.Execute("INSERT INTO story_agents SELECT DISTINCT story, agent FROM temp.rebuild_events WHERE story IS NOT NULL AND agent IS NOT NULL", transaction: tx);
            c.Execute(@"INSERT INTO pattern_stories SELECT pattern, story, count(*) FROM temp.rebuild_events
                WHERE is_error AND pattern IS NOT NULL AND story IS NOT NULL GROUP BY 1, 2", transaction: tx);
            c.Execute($@"INSERT INTO session_rollup
                SELECT session, coalesce(agent, ''), coalesce(max(story), ''), count(*), max(ctx), sum({HighContext.Sql("ctx")}), sum({HighContext.Sql("ctx")} AND is_error), sum(NOT {HighContext.Sql("ctx")}), sum(NOT {HighContext.Sql("ctx")} AND is_error)
                FROM temp.rebuild_events WHERE session IS NOT NULL AND ctx IS NOT NULL GROUP BY 1, 2", transaction: tx);
            c.Execute(@"INSERT INTO human_rollup SELECT category, coalesce(agent, ''), coalesce(story, ''), coalesce(pattern, 0), count(*)
                FROM temp.rebuild_events WHERE type = 'human_interaction' GROUP BY 1, 2, 3, 4", transaction: tx);
            c.Execute(@"INSERT INTO human_groups SELECT category, coalesce(agent, ''), coalesce(story, ''), count(*)
                FROM temp.rebuild_events WHERE type = 'human_interaction' GROUP BY 1, 2, 3", transaction: tx);
            // The week is IsoWeeks.MondayDay: the Monday of the event's day (days since 1970-01-01, a Thursday).
            c.Execute($@"INSERT INTO week_rollup
                SELECT day - ((day + 3) % 7 + 7) % 7, count(*), sum(is_error), sum(is_error AND pattern IS NOT NULL), coalesce(sum(tokens), 0), sum(type = 'human_interaction')
                FROM (SELECT {IsoWeeks.DaySql("ts")} AS day, * FROM temp.rebuild_events) GROUP BY 1", transaction: tx);
            c.Execute(DayFill("temp.rebuild_events"), transaction: tx);
            c.Execute("DROP TABLE temp.rebuild_events", transaction: tx);
        }

        /// <summary>Whether the summaries count events the store no longer holds (retention moved them and was interrupted before the rebuild).</summary>
        public static bool CountsMoreThanTheEvents(SqliteConnection c) =>
            (c.ExecuteScalar<long?>("SELECT sum(events) FROM event_rollup") ?? 0) > c.ExecuteScalar<long>("SELECT count(*) FROM event_rows");

        /// <summary>The events as the summaries read them (one row per event), from the events view.</summary>
        internal const string SummaryColumns = @"SELECT e.timestamp AS ts, e.event_type AS type, e.category AS category, e.session_id AS session, e.story_id AS story,
                       e.workflow_id AS workflow, e.agent_name AS agent, e.duration_ms AS duration, e.tokens_used AS tokens, e.context_percent AS ctx,
                       e.success AS success, e.pattern_id AS pattern, e.time_saved_or_wasted_ms AS saved, " + Errors.InEvents + @" AS is_error,
                       " + Steps.KindSql + " AS kind, " + Steps.NameSql + @" AS step
                FROM events e";

        /// <summary>Fills day_rollup and day_hist from a source with <see cref="SummaryColumns"/> (the import's definitions, in SQL).</summary>
        internal static string DayFill(string source) => $@"
            INSERT INTO day_rollup
                SELECT {IsoWeeks.DaySql("ts")}, coalesce(story, ''), coalesce(agent, ''), coalesce(workflow, ''), type, category, step, coalesce(pattern, 0), coalesce(success, -1),
                       count(*), count(duration), coalesce(sum(duration), 0), coalesce(sum(tokens), 0), count(ctx), coalesce(sum({HighContext.Sql("ctx")}), 0),
                       coalesce(sum(CASE WHEN success = 0 THEN coalesce(duration, 0) ELSE 0 END + CASE WHEN saved < 0 THEN -saved ELSE 0 END), 0)
                FROM {source} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
            INSERT INTO day_hist
                SELECT day, story, scope, key, madf_hist_of(group_concat(bucket || ':' || n)) FROM (
                    SELECT {IsoWeeks.DaySql("ts")} AS day, coalesce(story, '') AS story, 'agent' AS scope, coalesce(agent, '') AS key, madf_duration_bucket(duration) AS bucket, count(*) AS n
                    FROM {source} WHERE duration IS NOT NULL GROUP BY 1, 2, 4, 5
                    UNION ALL SELECT {IsoWeeks.DaySql("ts")}, coalesce(story, ''), 'step', kind || ':' || step, madf_duration_bucket(duration), count(*) FROM {source} WHERE duration IS NOT NULL GROUP BY 1, 2, 4, 5
                    UNION ALL SELECT {IsoWeeks.DaySql("ts")}, coalesce(story, ''), 'workflow', workflow, madf_duration_bucket(duration), count(*) FROM {source} WHERE duration IS NOT NULL AND workflow IS NOT NULL GROUP BY 1, 2, 4, 5)
                GROUP BY 1, 2, 3, 4;
            INSERT INTO session_day
                SELECT {IsoWeeks.DaySql("ts")}, coalesce(story, ''), session, coalesce(agent, ''), count(*), sum(is_error), coalesce(sum(tokens), 0), sum(type = 'human_interaction'), min(ts), max(ts),
                       count(ctx), max(ctx), coalesce(sum({HighContext.Sql("ctx")}), 0), coalesce(sum({HighContext.Sql("ctx")} AND is_error), 0), coalesce(sum(NOT {HighContext.Sql("ctx")}), 0), coalesce(sum(NOT {HighContext.Sql("ctx")} AND is_error), 0)
                FROM {source} WHERE session IS NOT NULL GROUP BY 1, 2, 3, 4;";

        /// <summary>When a pattern merges into another, its summary rows follow it.</summary>
        public static void MovePattern(SqliteConnection c, SqliteTransaction tx, long from, long into)
        {
            c.Execute(@"INSERT INTO pattern_stories SELECT @into, story_id, errors FROM pattern_stories WHERE pattern_id = @from
                        ON CONFLICT DO UPDATE SET errors = errors + excluded.errors", new { from, into }, tx);
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
            c.Execute(@"INSERT INTO day_rollup SELECT day, story_id, agent_name, workflow_id, event_type, category, step, @into, outcome, events, timed, duration_ms, tokens, ctx_known, ctx_hot, wasted_ms
                        FROM day_rollup WHERE pattern_id = @from
                        ON CONFLICT DO UPDATE SET events = events + excluded.events, timed = timed + excluded.timed, duration_ms = duration_ms + excluded.duration_ms, tokens = tokens + excluded.tokens,
                            ctx_known = ctx_known + excluded.ctx_known, ctx_hot = ctx_hot + excluded.ctx_hot, wasted_ms = wasted_ms + excluded.wasted_ms",
                new { from, into }, tx);
            c.Execute("DELETE FROM day_rollup WHERE pattern_id = @from", new { from }, tx);
        }

        // 8 buckets per doubling: a bucket's upper bound is within 9% of any value in it.
        internal static int Bucket(long ms) => ms <= 1 ? 0 : (int)Math.Ceiling(Math.Log(ms, 2) * 8);
        internal static double BucketValue(int bucket) => bucket == 0 ? 1 : Math.Round(Math.Pow(2, bucket / 8.0));
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Summaries
{
    /// <summary>
    /// Maintains the summaries (event_rollup, duration_hist, patterns.first_story) in the import transaction, from the
    /// rows actually written, so whole-store questions read a few thousand summary rows instead of every event.
    /// </summary>
    public sealed class RollupStage : ImportStage<RollupStage.Presummary>
    {
        /// <summary>
        /// What the preparing thread summarised of a batch: the events that will get no pattern id and are not growing
        /// responses (<see cref="Counted"/>, by index in the batch), counted off the writer thread.
        /// </summary>
        public sealed class Presummary
        {
            internal Presummary(int events) { Counted = new bool[events]; }
            internal Summaries Rows { get; } = new Summaries();
            internal bool[] Counted { get; }
        }

        [MethodImpl(Hot.Path)]
        public override Presummary? Prepare(List<EventRow> batch)
        {
            // Formats that already know the step (QuickLogger's parser) set it; others take it from the details' split.
            foreach (var e in batch)
                if (e.Step == null && e.StoredDetails != null)
                    e.Step = Steps.NameFromDetails(e.EventType, e.StoredDetails.Tool, e.StoredDetails.Step);
            // Most events will get no pattern id and are not growing responses: summarise them here, off the writer
            // thread. The writer adds the rest and takes back the ones that turn out to be duplicates (their original
            // was counted with the same values, so only counts and sums need undoing).
            var partial = new Presummary(batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                var e = batch[i];
                if (Mining.WillMine(e) || e.KeepLargestTokens || e.PatternId.HasValue) continue;
                partial.Counted[i] = true;
                partial.Rows.Add(e, 1);
            }
            return partial;
        }

        // Summaries of the rows written since the last flush: kept in memory across the batches of one transaction and
        // written once before it commits (BeforeCommit), so a transaction of many batches upserts each summary row once.
        private readonly Summaries _pending = new Summaries();

        [MethodImpl(Hot.Path)]
        public override void AfterWrite(List<EventRow> batch, Presummary? prepared, SqliteConnection c, SqliteTransaction tx)
        {
            if (prepared != null) _pending.Merge(prepared.Rows);
            for (var i = 0; i < batch.Count; i++)
            {
                var e = batch[i];
                if (prepared != null && prepared.Counted[i])
                {
                    if (e.Id == 0) _pending.Add(e, -1); // a duplicate: counted in Prepare, not written
                    continue;
                }
                if (e.Id == 0 && e.TokensGrowth > 0) _pending.AddGrowth(e);
                else if (e.Id != 0) _pending.Add(e, 1); // (a duplicate: not written, not counted)
            }
        }

        /// <summary>A session_day row: events, errors, tokens, human, then (events with a context figure) known, hot, hot errors, cool, cool errors.</summary>
        internal sealed class SessionDay
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

        /// <summary>
        /// A summary cell: the events of one day, story and event_rollup key (agent and workflow kept as logged, null
        /// included, so what is derived from them can tell "none" from a name): counts, sums, first/last time and the
        /// duration histogram.
        /// </summary>
        internal sealed class Cell
        {
            public long Events, Timed, Duration, Tokens, CtxKnown, CtxHot, Wasted;
            public long First = long.MaxValue, Last = long.MinValue;
            public Histogram? Hist;

            public void Merge(Cell o)
            {
                Events += o.Events; Timed += o.Timed; Duration += o.Duration; Tokens += o.Tokens;
                CtxKnown += o.CtxKnown; CtxHot += o.CtxHot; Wasted += o.Wasted;
                First = Math.Min(First, o.First);
                Last = Math.Max(Last, o.Last);
                if (o.Hist != null) (Hist ??= new Histogram()).Add(o.Hist);
            }
        }

        /// <summary>
        /// Counts by duration bucket over the range of buckets seen (a cell's durations cluster: a few buckets, not the
        /// 150 from 1 ms to 10 minutes), so a batch's cells stay small.
        /// </summary>
        internal sealed class Histogram
        {
            public int Min;
            public long[] Counts = Array.Empty<long>();

            public void Add(int bucket, long n)
            {
                if (Counts.Length == 0) { Min = bucket; Counts = new long[4]; }
                else if (bucket < Min || bucket >= Min + Counts.Length)
                {
                    var min = Math.Min(Min, bucket);
                    var grown = new long[Math.Max(Math.Max(Min + Counts.Length, bucket + 1) - min, Counts.Length * 2)];
                    Array.Copy(Counts, 0, grown, Min - min, Counts.Length);
                    Min = min;
                    Counts = grown;
                }
                Counts[bucket - Min] += n;
            }

            public void Add(Histogram o)
            {
                for (var i = 0; i < o.Counts.Length; i++) if (o.Counts[i] != 0) Add(o.Min + i, o.Counts[i]);
            }
        }

        /// <summary>A cell's key: day, story (null: none), agent, workflow, type, category, step, pattern (0: none), outcome (-1: unknown).</summary>
        internal readonly struct CellKey : IEquatable<CellKey>
        {
            public readonly long Day, Pattern;
            public readonly string? Story, Agent, Workflow;
            public readonly string Type, Category, Step;
            public readonly int Outcome;

            public CellKey(long day, string? story, string? agent, string? workflow, string type, string category, string step, long pattern, int outcome)
            {
                Day = day; Story = story; Agent = agent; Workflow = workflow; Type = type; Category = category; Step = step; Pattern = pattern; Outcome = outcome;
            }

            public CellKey WithPattern(long pattern) => new CellKey(Day, Story, Agent, Workflow, Type, Category, Step, pattern, Outcome);

            /// <summary>event_rollup's key.</summary>
            public (string, string, string, string, string, long, int) Group => (Agent ?? "", Workflow ?? "", Type, Category, Step, Pattern, Outcome);

            public bool IsError => Errors.IsError(Outcome == -1 ? (bool?)null : Outcome == 1, Category);

            public bool Equals(CellKey o) => Day == o.Day && Pattern == o.Pattern && Outcome == o.Outcome && Same(Story, o.Story) && Same(Agent, o.Agent)
                && Same(Workflow, o.Workflow) && Same(Type, o.Type) && Same(Category, o.Category) && Same(Step, o.Step);

            private static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.Ordinal);

            public override bool Equals(object? obj) => obj is CellKey o && Equals(o);

            // Names repeat (the same few string instances), so their default hash codes are cheap to combine.
            public override int GetHashCode()
            {
                unchecked
                {
                    var h = (int)Day * 31 + (int)Pattern;
                    h = h * 31 + Outcome;
                    h = h * 31 + (Story?.GetHashCode() ?? 0);
                    h = h * 31 + (Agent?.GetHashCode() ?? 0);
                    h = h * 31 + (Workflow?.GetHashCode() ?? 0);
                    h = h * 31 + Type.GetHashCode();
                    h = h * 31 + Category.GetHashCode();
                    return h * 31 + Step.GetHashCode();
                }
            }
        }

        /// <summary>
        /// Summary rows in memory. Each event updates two things: its cell (day, story and event_rollup's key) and its
        /// session-day; every summary table is derived from those at flush (<see cref="Derive"/>), with the same
        /// definitions as counting each event into each table, at a fraction of the dictionary work per event.
        /// </summary>
        internal sealed class Summaries
        {
            public readonly Dictionary<CellKey, Cell> cells = new Dictionary<CellKey, Cell>();
            public readonly Dictionary<(long day, string? story, string session, string agent), SessionDay> sessionDays = new Dictionary<(long, string?, string, string), SessionDay>();

            // Derived at flush, keyed as the tables are.
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
            public readonly Dictionary<(long day, string story, (string, string, string, string, string, long, int) group), long[]> days =
                new Dictionary<(long, string, (string, string, string, string, string, long, int)), long[]>();
            // Counts by bucket in an array per day, story, scope and key: one dictionary entry per histogram, not per bucket.
            public readonly Dictionary<(long day, string story, string scope, string key), long[]> dayHist = new Dictionary<(long, string, string, string), long[]>();

            private static CellKey KeyOf(EventRow e) =>
                new CellKey(IsoWeeks.DayOf(e.Timestamp), e.StoryId, e.AgentName, e.WorkflowId, e.EventType, e.Category, Steps.Name(e), e.PatternId ?? 0,
                    e.Success.HasValue ? (e.Success.Value ? 1 : 0) : -1);

            private Cell CellOf(EventRow e)
            {
                var key = KeyOf(e);
                if (!cells.TryGetValue(key, out var cell)) cells[key] = cell = new Cell();
                return cell;
            }

            /// <summary>A response seen again with its final usage: only its tokens grow (its first line may be in this batch).</summary>
            public void AddGrowth(EventRow e)
            {
                CellOf(e).Tokens += e.TokensGrowth;
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
                var isError = Errors.IsError(e);
                var c = CellOf(e);
                c.Events += sign;
                if (add)
                {
                    c.First = Math.Min(c.First, e.Timestamp);
                    c.Last = Math.Max(c.Last, e.Timestamp);
                }
                if (e.DurationMs.HasValue)
                {
                    c.Timed += sign;
                    c.Duration += sign * e.DurationMs.Value;
                    var b = DurationBuckets.Of(e.DurationMs.Value);
                    (c.Hist ??= new Histogram()).Add(b, sign);
                }
                c.Tokens += sign * (e.TokensUsed ?? 0);
                if (e.ContextPercent.HasValue) { c.CtxKnown += sign; if (HighContext.IsHigh(e.ContextPercent)) c.CtxHot += sign; }
                c.Wasted += sign * ((e.Success == false ? e.DurationMs ?? 0 : 0) + (e.TimeSavedOrWastedMs < 0 ? -e.TimeSavedOrWastedMs.Value : 0));
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
            }

            /// <summary>Adds another set of summaries (a batch summarised in Prepare) into this one.</summary>
            [MethodImpl(Hot.Path)]
            public void Merge(Summaries o)
            {
                foreach (var kv in o.cells)
                {
                    if (!cells.TryGetValue(kv.Key, out var c)) { cells[kv.Key] = kv.Value; continue; }
                    c.Merge(kv.Value);
                }
                foreach (var kv in o.sessionDays)
                {
                    if (!sessionDays.TryGetValue(kv.Key, out var sd)) { sessionDays[kv.Key] = kv.Value; continue; }
                    sd.Merge(kv.Value);
                }
            }

            /// <summary>Moves the cells of merged patterns to their survivor (see ResolveMergedPatterns).</summary>
            public void Repattern(Func<long, long?> survivor)
            {
                foreach (var kv in cells.Where(kv => kv.Key.Pattern != 0 && survivor(kv.Key.Pattern).HasValue).ToList())
                {
                    cells.Remove(kv.Key);
                    var key = kv.Key.WithPattern(survivor(kv.Key.Pattern)!.Value);
                    if (!cells.TryGetValue(key, out var c)) cells[key] = kv.Value;
                    else c.Merge(kv.Value);
                }
            }

            /// <summary>Fills the tables' rows from the cells and session-days (the definitions of each table, per event, summed).</summary>
            public void Derive()
            {
                foreach (var kv in cells)
                {
                    var k = kv.Key;
                    var c = kv.Value;
                    var group = k.Group;
                    var story = k.Story ?? "";
                    var counted = c.Events != 0;
                    var isError = k.IsError;
                    var human = k.Type == "human_interaction";

                    if (!groups.TryGetValue(group, out var g)) groups[group] = g = new long[] { 0, 0, 0, 0, 0, 0, 0, long.MaxValue, long.MinValue };
                    g[0] += c.Events; g[1] += c.Duration; g[2] += c.Tokens; g[3] += c.CtxKnown; g[4] += c.CtxHot; g[5] += c.Wasted; g[6] += c.Timed;
                    g[7] = Math.Min(g[7], c.First); g[8] = Math.Max(g[8], c.Last);

                    var dkey = (k.Day, story, group);
                    if (!days.TryGetValue(dkey, out var d)) days[dkey] = d = new long[7];
                    d[0] += c.Events; d[1] += c.Timed; d[2] += c.Duration; d[3] += c.Tokens; d[4] += c.CtxKnown; d[5] += c.CtxHot; d[6] += c.Wasted;

                    var week = IsoWeeks.MondayOfDay(k.Day);
                    if (!weeks.TryGetValue(week, out var wk)) weeks[week] = wk = new long[5];
                    wk[0] += c.Events;
                    if (isError) { wk[1] += c.Events; if (k.Pattern != 0) wk[2] += c.Events; }
                    wk[3] += c.Tokens;
                    if (human) wk[4] += c.Events;

                    if (human && counted) Add(this.human, (k.Category, k.Agent ?? "", story, k.Pattern), c.Events);
                    if (k.Story != null)
                    {
                        if (!stories.TryGetValue(k.Story, out var st)) stories[k.Story] = st = new long[] { 0, 0, 0, 0, 0, long.MaxValue, long.MinValue };
                        st[0] += c.Events;
                        if (isError) { st[1] += c.Events; if (k.Pattern != 0) st[2] += c.Events; }
                        st[3] += c.Tokens;
                        if (human) st[4] += c.Events;
                        st[5] = Math.Min(st[5], c.First); st[6] = Math.Max(st[6], c.Last);
                        if (k.Agent != null && c.First != long.MaxValue) storyAgents.Add((k.Story, k.Agent));
                        if (isError && k.Pattern != 0 && counted) Add(patternStories, (k.Pattern, k.Story), c.Events);
                    }
                    if (k.Pattern != 0 && c.First != long.MaxValue && (!firsts.TryGetValue(k.Pattern, out var f) || c.First < f.ts))
                        firsts[k.Pattern] = (c.First, story);

                    if (c.Hist == null) continue;
                    var kind = Steps.Kind(k.Type);
                    AddHistTo(dayHist, (k.Day, story, "agent", k.Agent ?? ""), c.Hist);
                    AddHistTo(dayHist, (k.Day, story, "step", kind + ":" + k.Step), c.Hist);
                    if (k.Workflow != null) AddHistTo(dayHist, (k.Day, story, "workflow", k.Workflow), c.Hist);
                    for (var i = 0; i < c.Hist.Counts.Length; i++)
                    {
                        var b = c.Hist.Min + i;
                        var n = c.Hist.Counts[i];
                        if (n == 0) continue;
                        Add(agentHist, (k.Agent ?? "", b), n);
                        Add(stepHist, (kind, k.Step, b), n);
                        if (k.Workflow != null) Add(workflowHist, (k.Workflow, b), n);
                    }
                }
                // session_rollup: the events with a context figure, per session and agent, from their session-days.
                foreach (var kv in sessionDays)
                {
                    var sd = kv.Value;
                    if (sd.n[4] == 0 && !sd.MaxContext.HasValue) continue;
                    var sk = (kv.Key.session, kv.Key.agent);
                    if (!sessions.TryGetValue(sk, out var sv)) sv = (kv.Key.story, 0, new long[5]);
                    sv.n[0] += sd.n[4]; sv.n[1] += sd.n[5]; sv.n[2] += sd.n[6]; sv.n[3] += sd.n[7]; sv.n[4] += sd.n[8];
                    var story = string.CompareOrdinal(kv.Key.story, sv.story) > 0 ? kv.Key.story : sv.story;
                    sessions[sk] = (story, sd.MaxContext.HasValue ? Math.Max(sv.max, sd.MaxContext.Value) : sv.max, sv.n);
                }
            }

            private SessionDay SessionDayOf(EventRow e)
            {
                var key = (IsoWeeks.DayOf(e.Timestamp), e.StoryId, e.SessionId!, e.AgentName ?? "");
                if (!sessionDays.TryGetValue(key, out var sd)) sessionDays[key] = sd = new SessionDay();
                return sd;
            }

            public void Clear()
            {
                cells.Clear(); sessionDays.Clear();
                groups.Clear(); stories.Clear(); storyAgents.Clear(); patternStories.Clear(); weeks.Clear(); sessions.Clear();
                human.Clear(); agentHist.Clear(); stepHist.Clear(); workflowHist.Clear(); firsts.Clear(); days.Clear(); dayHist.Clear();
            }

            private static void Add<T>(Dictionary<T, long> d, T key, long n) where T : notnull => d[key] = d.TryGetValue(key, out var m) ? m + n : n;

            private static void AddHistTo<T>(Dictionary<T, long[]> d, T key, Histogram hist) where T : notnull
            {
                if (!d.TryGetValue(key, out var h) || h.Length < hist.Min + hist.Counts.Length)
                {
                    var grown = new long[hist.Min + hist.Counts.Length];
                    if (h != null) Array.Copy(h, grown, h.Length);
                    d[key] = h = grown;
                }
                for (var i = 0; i < hist.Counts.Length; i++) h[hist.Min + i] += hist.Counts[i];
            }
        }

        public override void BeforeCommit(SqliteConnection c, SqliteTransaction tx)
        {
            var p = _pending;
            ResolveMergedPatterns(c, tx);
            p.Derive();
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
                p.sessionDays.Select(kv => new object?[] { kv.Key.day, kv.Key.story ?? "", kv.Key.session, kv.Key.agent, kv.Value.n[0], kv.Value.n[1], kv.Value.n[2], kv.Value.n[3],
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
            if (!p.cells.Keys.Any(k => k.Pattern != 0)) return;
            var mergedInto = c.Query<(long id, long into)>("SELECT id, merged_into FROM patterns WHERE merged_into IS NOT NULL", transaction: tx).ToDictionary(r => r.id, r => r.into);
            if (mergedInto.Count == 0) return;
            long? Survivor(long id)
            {
                if (!mergedInto.ContainsKey(id)) return null;
                while (mergedInto.TryGetValue(id, out var next) && next != id) id = next;
                return id;
            }
            p.Repattern(Survivor);
        }
    }
}

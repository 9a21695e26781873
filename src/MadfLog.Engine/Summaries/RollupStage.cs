using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Summaries
{
    /// <summary>
    /// Maintains the summaries (event_rollup, duration_hist, ..., written by Store.SummaryTables; and patterns.first_story,
    /// written by Patterns.PatternStore) in the import transaction, from the rows actually written, so whole-store
    /// questions read a few thousand summary rows instead of every event.
    /// </summary>
    public sealed class RollupStage : ImportStage<RollupStage.Presummary>, IStartsCommitEarly
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

        /// <summary>
        /// A summary cell: the events of one hour, story and event_rollup key (agent and workflow kept as logged, null
        /// included, so what is derived from them can tell "none" from a name): counts, sums, first/last time and the
        /// duration histogram.
        /// </summary>
        internal sealed class Cell : RollupCounts
        {
            public BucketCounts? Hist { get; set; }

            public void Merge(Cell o)
            {
                Add(o);
                if (o.Hist != null) (Hist ??= new BucketCounts()).Add(o.Hist);
            }
        }

        /// <summary>A cell's key: hour (IsoWeeks.HourOf; its day is the day tables' key), story (null: none), agent, workflow, type, category, step, pattern (0: none), outcome (-1: unknown).</summary>
        internal readonly struct CellKey : IEquatable<CellKey>
        {
            public readonly long Hour, Pattern;
            public readonly string? Story, Agent, Workflow;
            public readonly string Type, Category, Step;
            public readonly int Outcome;

            public CellKey(long hour, string? story, string? agent, string? workflow, string type, string category, string step, long pattern, int outcome)
            {
                Hour = hour; Story = story; Agent = agent; Workflow = workflow; Type = type; Category = category; Step = step; Pattern = pattern; Outcome = outcome;
            }

            public CellKey WithPattern(long pattern) => new CellKey(Hour, Story, Agent, Workflow, Type, Category, Step, pattern, Outcome);

            /// <summary>event_rollup's key.</summary>
            public RollupKey Group => new RollupKey(Agent ?? "", Workflow ?? "", Type, Category, Step, Pattern, Outcome);

            public bool IsError => Errors.IsError(Outcome == -1 ? (bool?)null : Outcome == 1, Category);

            [MethodImpl(Hot.Small)]
            public bool Equals(CellKey o) => Hour == o.Hour && Pattern == o.Pattern && Outcome == o.Outcome && Same(Story, o.Story) && Same(Agent, o.Agent)
                && Same(Workflow, o.Workflow) && Same(Type, o.Type) && Same(Category, o.Category) && Same(Step, o.Step);

            private static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.Ordinal);

            /// <summary>Equal by the same instances of its texts (a cheap check before <see cref="Equals(CellKey)"/>: false
            /// says nothing).</summary>
            [MethodImpl(Hot.Small)]
            public bool IsSameAs(CellKey o) => Hour == o.Hour && Pattern == o.Pattern && Outcome == o.Outcome && ReferenceEquals(Story, o.Story)
                && ReferenceEquals(Agent, o.Agent) && ReferenceEquals(Workflow, o.Workflow) && ReferenceEquals(Type, o.Type)
                && ReferenceEquals(Category, o.Category) && ReferenceEquals(Step, o.Step);

            public override bool Equals(object? obj) => obj is CellKey o && Equals(o);

            // Names repeat (the same few string instances), so their default hash codes are cheap to combine.
            [MethodImpl(Hot.Small)]
            public override int GetHashCode()
            {
                unchecked
                {
                    var h = (int)Hour * 31 + (int)Pattern;
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
            public Dictionary<CellKey, Cell> Cells { get; } = new Dictionary<CellKey, Cell>();
            /// <summary>The tables' rows: session_day's are counted per event, the others derived from the cells at flush.</summary>
            public SummaryRows Rows { get; } = new SummaryRows();

            private static CellKey KeyOf(EventRow e) =>
                new CellKey(IsoWeeks.HourOf(e.Timestamp), e.StoryId, e.AgentName, e.WorkflowId, e.EventType, e.Category, Steps.Name(e), e.PatternId ?? 0,
                    e.Success.HasValue ? (e.Success.Value ? 1 : 0) : -1);

            // The last cell and session-hour met: consecutive events mostly share them, as the very same strings, so their
            // keys are compared by reference before one is hashed (six strings a cell). Forgotten when cells move or go.
            private CellKey _lastKey;
            private Cell? _lastCell;
            private (long Hour, string? Story, string Session, string Agent) _lastHourKey;
            private SessionDayCounts? _lastHour;

            private void ForgetLast() { _lastCell = null; _lastHour = null; }

            [MethodImpl(Hot.Path)]
            private Cell CellOf(EventRow e)
            {
                var key = KeyOf(e);
                if (_lastCell != null && key.IsSameAs(_lastKey)) return _lastCell;
                if (!Cells.TryGetValue(key, out var cell)) Cells[key] = cell = new Cell();
                _lastKey = key;
                return _lastCell = cell;
            }

            /// <summary>A response seen again with its final usage: only its tokens grow (its first line may be in this batch).</summary>
            public void AddGrowth(EventRow e)
            {
                CellOf(e).Tokens += e.TokensGrowth;
                if (e.SessionId != null) SessionHourOf(e).Tokens += e.TokensGrowth;
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
                    c.DurationMs += sign * e.DurationMs.Value;
                    var b = DurationBuckets.Of(e.DurationMs.Value);
                    (c.Hist ??= new BucketCounts()).Add(b, sign);
                }
                c.Tokens += sign * (e.TokensUsed ?? 0);
                if (e.ContextPercent.HasValue) { c.CtxKnown += sign; if (HighContext.IsHigh(e.ContextPercent)) c.CtxHot += sign; }
                c.WastedMs += sign * TimeWasted.Ms(e.Success, e.DurationMs, e.TimeSavedOrWastedMs);
                if (e.SessionId != null)
                {
                    var sd = SessionHourOf(e);
                    sd.Events += sign;
                    if (isError) sd.Errors += sign;
                    sd.Tokens += sign * (e.TokensUsed ?? 0);
                    if (e.EventType == "human_interaction") sd.Human += sign;
                    if (add) { sd.First = Math.Min(sd.First, e.Timestamp); sd.Last = Math.Max(sd.Last, e.Timestamp); }
                    if (e.ContextPercent.HasValue)
                    {
                        sd.CtxEvents += sign;
                        if (HighContext.IsHigh(e.ContextPercent))
                        {
                            sd.Hot += sign;
                            if (isError) sd.HotErrors += sign;
                        }
                        else
                        {
                            sd.Cool += sign;
                            if (isError) sd.CoolErrors += sign;
                        }
                        if (add) sd.MaxContext = Math.Max(sd.MaxContext ?? double.MinValue, e.ContextPercent.Value);
                    }
                }
            }

            /// <summary>Adds another set of summaries (a batch summarised in Prepare) into this one.</summary>
            [MethodImpl(Hot.Path)]
            public void Merge(Summaries o)
            {
                foreach (var kv in o.Cells)
                {
                    if (!Cells.TryGetValue(kv.Key, out var c)) { Cells[kv.Key] = kv.Value; continue; }
                    c.Merge(kv.Value);
                }
                var sessionHours = Rows.SessionHours;
                foreach (var kv in o.Rows.SessionHours)
                {
                    if (!sessionHours.TryGetValue(kv.Key, out var sd)) { sessionHours[kv.Key] = kv.Value; continue; }
                    sd.Add(kv.Value);
                }
            }

            /// <summary>Moves the cells of merged patterns to their survivor (see ResolveMergedPatterns).</summary>
            public void Repattern(Func<long, long?> survivor)
            {
                ForgetLast();
                // Listed by a loop, not LINQ's Where over the cells' pairs (an iterator of its own for this value type).
                var moved = new List<KeyValuePair<CellKey, Cell>>();
                foreach (var kv in Cells)
                    if (kv.Key.Pattern != 0 && survivor(kv.Key.Pattern).HasValue) moved.Add(kv);
                foreach (var kv in moved)
                {
                    Cells.Remove(kv.Key);
                    var key = kv.Key.WithPattern(survivor(kv.Key.Pattern)!.Value);
                    if (!Cells.TryGetValue(key, out var c)) Cells[key] = kv.Value;
                    else c.Merge(kv.Value);
                }
            }

            /// <summary>
            /// Fills the tables' rows from the cells and session-hours (the definitions of each table, per event, summed): the
            /// day grain and its hour twins from the same cells, so an hour's rows sum to its day's.
            /// </summary>
            [MethodImpl(Hot.Path)]
            public void Derive()
            {
                var r = Rows;
                foreach (var kv in Cells)
                {
                    var k = kv.Key;
                    var c = kv.Value;
                    var group = k.Group;
                    var story = k.Story ?? "";
                    var counted = c.Events != 0;
                    var isError = k.IsError;
                    var patterned = k.Pattern != 0;
                    var human = k.Type == "human_interaction";

                    if (!r.Rollup.TryGetValue(group, out var g)) r.Rollup[group] = g = new RollupCounts();
                    g.Add(c);

                    var day = IsoWeeks.DayOfHour(k.Hour);
                    var dkey = (day, story, group);
                    if (!r.Days.TryGetValue(dkey, out var d)) r.Days[dkey] = d = new RollupCounts();
                    d.Add(c);
                    var hkey = (k.Hour, story, group);
                    if (!r.Hours.TryGetValue(hkey, out var h)) r.Hours[hkey] = h = new RollupCounts();
                    h.Add(c);

                    var week = IsoWeeks.MondayOfDay(day);
                    if (!r.Weeks.TryGetValue(week, out var wk)) r.Weeks[week] = wk = new WeekCounts();
                    wk.Add(c, isError, patterned, human);

                    if (human && counted) Add(r.Human, (k.Category, k.Agent ?? "", story, k.Pattern), c.Events);
                    if (k.Story != null)
                    {
                        if (!r.Stories.TryGetValue(k.Story, out var st)) r.Stories[k.Story] = st = new StoryCounts();
                        st.Add(c, isError, patterned, human);
                        st.First = Math.Min(st.First, c.First); st.Last = Math.Max(st.Last, c.Last);
                        if (k.Agent != null && c.First != long.MaxValue) r.StoryAgents.Add((k.Story, k.Agent));
                        if (isError && patterned && counted) Add(r.PatternStories, (k.Pattern, k.Story), c.Events);
                        if (c.First != long.MaxValue)
                            r.HourStories[(k.Hour, k.Story)] = r.HourStories.TryGetValue((k.Hour, k.Story), out var span)
                                ? (Math.Min(span.First, c.First), Math.Max(span.Last, c.Last)) : (c.First, c.Last);
                    }
                    if (patterned && c.First != long.MaxValue && (!r.Firsts.TryGetValue(k.Pattern, out var f) || c.First < f.Ts))
                        r.Firsts[k.Pattern] = (c.First, story);

                    if (c.Hist == null) continue;
                    var kind = Steps.Kind(k.Type);
                    var step = kind + ":" + k.Step;
                    AddHistTo(r.DayHist, (day, story, "agent", k.Agent ?? ""), c.Hist);
                    AddHistTo(r.DayHist, (day, story, "step", step), c.Hist);
                    if (k.Workflow != null) AddHistTo(r.DayHist, (day, story, "workflow", k.Workflow), c.Hist);
                    AddHistTo(r.HourHist, (k.Hour, story, "agent", k.Agent ?? ""), c.Hist);
                    AddHistTo(r.HourHist, (k.Hour, story, "step", step), c.Hist);
                    if (k.Workflow != null) AddHistTo(r.HourHist, (k.Hour, story, "workflow", k.Workflow), c.Hist);
                    for (var i = 0; i < c.Hist.Length; i++)
                    {
                        var b = c.Hist.BucketAt(i);
                        var n = c.Hist.CountAt(i);
                        if (n == 0) continue;
                        Add(r.AgentHist, (k.Agent ?? "", b), n);
                        Add(r.StepHist, (kind, k.Step, b), n);
                        if (k.Workflow != null) Add(r.WorkflowHist, (k.Workflow, b), n);
                    }
                }
                // session_day: the session-hours of each day, summed.
                foreach (var kv in r.SessionHours)
                {
                    var key = (IsoWeeks.DayOfHour(kv.Key.Hour), kv.Key.Story, kv.Key.Session, kv.Key.Agent);
                    if (!r.SessionDays.TryGetValue(key, out var sd)) r.SessionDays[key] = sd = new SessionDayCounts();
                    sd.Add(kv.Value);
                }
                // session_rollup: the events with a context figure, per session and agent, from their session-days.
                foreach (var kv in r.SessionDays)
                {
                    var sd = kv.Value;
                    if (sd.CtxEvents == 0 && !sd.MaxContext.HasValue) continue;
                    var sk = (kv.Key.Session, kv.Key.Agent);
                    if (!r.Sessions.TryGetValue(sk, out var sv)) r.Sessions[sk] = sv = new SessionCounts { Story = kv.Key.Story };
                    sv.Add(kv.Key.Story, sd);
                }
            }

            [MethodImpl(Hot.Path)]
            private SessionDayCounts SessionHourOf(EventRow e)
            {
                (long Hour, string? Story, string Session, string Agent) key = (IsoWeeks.HourOf(e.Timestamp), e.StoryId, e.SessionId!, e.AgentName ?? "");
                var last = _lastHourKey;
                if (_lastHour != null && key.Hour == last.Hour && ReferenceEquals(key.Story, last.Story) && ReferenceEquals(key.Session, last.Session)
                    && ReferenceEquals(key.Agent, last.Agent))
                    return _lastHour;
                if (!Rows.SessionHours.TryGetValue(key, out var sd)) Rows.SessionHours[key] = sd = new SessionDayCounts();
                _lastHourKey = key;
                return _lastHour = sd;
            }

            public void Clear()
            {
                ForgetLast();
                Cells.Clear();
                Rows.Clear();
            }

            private static void Add<T>(Dictionary<T, long> d, T key, long n) where T : notnull => d[key] = d.TryGetValue(key, out var m) ? m + n : n;

            // Per day or hour, story, scope and key: the cells' buckets summed over the range they cover (not from bucket 0).
            private static void AddHistTo<T>(Dictionary<T, BucketCounts> d, T key, BucketCounts hist) where T : notnull
            {
                if (!d.TryGetValue(key, out var h)) d[key] = h = new BucketCounts();
                h.Add(hist);
            }
        }

        // The derivation started by StartCommit, running while the stages after this one flush.
        private Task? _deriving;

        /// <summary>
        /// Resolves merged patterns (the database's part), then derives the tables' rows from the cells on the thread
        /// pool: CPU only, about a third of this stage's flush, done while the writer's thread flushes the sequences.
        /// </summary>
        public void StartCommit(SqliteConnection c, SqliteTransaction tx)
        {
            ResolveMergedPatterns(c, tx);
            _deriving = Task.Run(_pending.Derive);
        }

        public void AbandonCommit()
        {
            var deriving = _deriving;
            _deriving = null;
            try { deriving?.Wait(); }
            catch (AggregateException) { } // the failure that abandoned the commit is the one told
            _pending.Clear();
        }

        /// <summary>Counts held for the next commit, or a derivation still running (tests: none after an abandoned commit).</summary>
        internal bool HoldsPending => _deriving != null || _pending.Cells.Count > 0 || _pending.Rows.Rollup.Count > 0;

        public override void BeforeCommit(SqliteConnection c, SqliteTransaction tx)
        {
            var p = _pending;
            if (_deriving == null)
            {
                ResolveMergedPatterns(c, tx);
                p.Derive();
            }
            else
            {
                var deriving = _deriving;
                _deriving = null;
                deriving.GetAwaiter().GetResult();
            }
            SummaryTables.Write(c, tx, p.Rows);
            PatternStore.SetFirstStories(c, tx, p.Rows.Firsts);
            p.Clear();
        }

        /// <summary>
        /// Patterns can merge between the batch that counted an event and the flush (MovePattern has already moved the
        /// stored summaries): count pending events under the surviving pattern too.
        /// </summary>
        private void ResolveMergedPatterns(SqliteConnection c, SqliteTransaction tx)
        {
            var p = _pending;
            if (!p.Cells.Keys.Any(k => k.Pattern != 0)) return;
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

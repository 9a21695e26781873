using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>
    /// The events of the parts of hours at the ends of a window (Sources.Hours: the whole hours of the days it cuts are read
    /// from the hour tables), read once per part in one pass of integers straight from event_rows (no view, no SQL
    /// grouping: SQLite's GROUP BY of a part cost more than the pass) and summed here by kind, context, pattern and step,
    /// with each such group's duration buckets counted apart; then named (a few hundred kinds and contexts) and summed into rows of the day tables (day_rollup,
    /// session_day; day_hist's buckets per scope) with the definitions of SummaryTables' SQL, so the answer equals a
    /// scan's. A tool call's or step's step is its details' tool or step: for the questions that group by step, the pass keeps the
    /// details' shape and the values its step depends on (<see cref="StepSlots"/>, <see cref="StepKey"/>), and one event
    /// of each such key is decoded through the events view. Decoding every part event through the view cost most of a
    /// cut window's first question on a connection (bench queries: 0.3-1.1 s at 10M events).
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

            internal void Add(Group g)
            {
                Events += g.Events; Timed += g.Timed; DurationMs += g.DurationMs; Tokens += g.Tokens; CtxKnown += g.CtxKnown; CtxHot += g.CtxHot; SavedMs += g.SavedMs;
                FirstTs = Math.Min(FirstTs, g.FirstTs); LastTs = Math.Max(LastTs, g.LastTs);
                if (g.MaxCtx.HasValue && (!MaxCtx.HasValue || g.MaxCtx > MaxCtx)) MaxCtx = g.MaxCtx;
            }
        }

        internal sealed class KindInfo
        {
            public string Type = "", Category = "";
            public long Outcome; // 1, 0 or -1 (unknown), as day_rollup's outcome
            public bool Error, Human, Named; // Named: a tool call or step, whose step its details name
            public long Shape; // its details' shape (a names id; -1: stored whole in d1, or none)
            public long Base; // the kind with the same type, category and flags and the lowest id: what the groups are keyed by
        }

        internal sealed class ContextInfo
        {
            public string? Session, Story, Workflow, Agent;
        }

        /// <summary>
        /// The events of one part, summed by kind, context, pattern and step key (0 for events that are not tool calls or
        /// steps; else an index into <see cref="Decoded.StepKeys"/>); their duration buckets are counted per such group
        /// apart (<see cref="Decoded.FineBuckets"/>): a key with the bucket in it made nearly a group per event.
        /// </summary>
        internal readonly struct FineKey : IEquatable<FineKey>
        {
            public readonly long Day, Kind, Context, Pattern;
            public readonly int Step;
            public FineKey(long day, long kind, long context, long pattern, int step) { Day = day; Kind = kind; Context = context; Pattern = pattern; Step = step; }
            public bool Equals(FineKey o) => Day == o.Day && Kind == o.Kind && Context == o.Context && Pattern == o.Pattern && Step == o.Step;
            public override bool Equals(object? o) => o is FineKey k && Equals(k);
            public override int GetHashCode() => unchecked((int)((((Day * 31 + Kind) * 1_000_003 + Context) * 31 + Pattern) * 1_000_003 + Step) ^ (int)(Context >> 32));
        }

        /// <summary>
        /// What a tool call's or step's name depends on: whose name it is (a tool's or a step's: the same details name
        /// each differently), the details' shape and the values of the slots the name depends on (<see cref="StepSlots"/>):
        /// up to two integers or NULLs held as such (names ids, the usual case: no text per event), else all of them as
        /// text (<see cref="Rest"/>).
        /// </summary>
        internal readonly struct StepKey : IEquatable<StepKey>
        {
            public readonly long Shape, A, B;
            public readonly int Kind, Types; // Kind: 1 tool, 2 step; Types: the values' storage classes (raw.SQLITE_*), 4 bits each
            public readonly string? Rest;
            public StepKey(int kind, long shape, int types, long a, long b, string? rest) { Kind = kind; Shape = shape; Types = types; A = a; B = b; Rest = rest; }
            public bool Equals(StepKey o) => Kind == o.Kind && Shape == o.Shape && Types == o.Types && A == o.A && B == o.B && string.Equals(Rest, o.Rest, StringComparison.Ordinal);
            public override bool Equals(object? o) => o is StepKey k && Equals(k);
            public override int GetHashCode() => unchecked((((int)Shape * 31 + Kind) * 1_000_003 + Types) * 31 + A.GetHashCode() * 131 + B.GetHashCode() ^ (Rest == null ? 0 : StringComparer.Ordinal.GetHashCode(Rest)));

            /// <summary>The key of the row <paramref name="s"/>, whose details value k is column <paramref name="valueBase"/> + k.</summary>
            public static StepKey Of(string eventType, long shape, int[] depends, StatementRow s, int valueBase, System.Text.StringBuilder text)
            {
                var kind = eventType == "step" ? 2 : 1;
                int types = 0;
                long a = 0, b = 0;
                var plain = depends.Length <= 2;
                for (var i = 0; i < depends.Length && plain; i++)
                {
                    var type = s.Type(valueBase + depends[i]);
                    if (type != raw.SQLITE_INTEGER && type != raw.SQLITE_NULL) plain = false;
                    else
                    {
                        types |= type << (4 * i);
                        var v = type == raw.SQLITE_INTEGER ? s.Int64(valueBase + depends[i]) : 0;
                        if (i == 0) a = v; else b = v;
                    }
                }
                if (plain) return new StepKey(kind, shape, types, a, b, null);
                text.Clear();
                foreach (var k in depends) AppendValue(text.Append('\u0001'), s, valueBase + k);
                return new StepKey(kind, shape, -1, 0, 0, text.ToString());
            }
        }

        /// <summary>
        /// The parts' groups and what their ids name, kept per connection and shared by the connections of a process
        /// (SharedParts): what is worked out from them later (the steps' names, each scope's buckets) is worked out under
        /// its lock.
        /// </summary>
        internal sealed class Decoded
        {
            internal Dictionary<FineKey, int> Fine { get; } = new Dictionary<FineKey, int>();
            /// <summary>The groups of <see cref="Fine"/> by index, with their keys.</summary>
            internal List<(FineKey key, Group group)> FineGroups { get; } = new List<(FineKey, Group)>();
            /// <summary>The timed events of each fine group (its index, shifted by <see cref="BucketBits"/>) per duration bucket.</summary>
            internal Dictionary<long, long> FineBuckets { get; } = new Dictionary<long, long>();
            /// <summary>Whether the pass read the step keys (without, every event's step key is 0).</summary>
            internal bool Steps { get; set; }
            // A step key (details_shape, then the values of the slots the step depends on) and one event that has it.
            internal Dictionary<StepKey, int> StepKeys { get; } = new Dictionary<StepKey, int>();
            internal List<long> StepEvent { get; } = new List<long> { 0 };
            internal List<Group> Groups { get; } = new List<Group>();
            internal List<Group>? StepGroups { get; set; }
            // The timed tool calls and steps by step scope key (kind and step name) and bucket (with StepGroups).
            internal List<(string key, int bucket, long n)>? StepBuckets { get; set; }
            internal List<(long day, long kind, long context, long bucket, long n)> Buckets { get; } = new List<(long, long, long, long, long)>();
            internal Dictionary<long, KindInfo> Kinds { get; } = new Dictionary<long, KindInfo>();
            internal Dictionary<long, ContextInfo> Contexts { get; } = new Dictionary<long, ContextInfo>();
            // Each scope's buckets summed per key (ScopeBuckets), once per decode: a question asks for two scopes, and a
            // connection asks again for each question.
            internal Dictionary<string, List<(string key, int bucket, long n)>> ScopeBuckets { get; } = new Dictionary<string, List<(string, int, long)>>(StringComparer.Ordinal);
        }

        // A fine group's bucket counts are keyed by its index shifted by this many bits and the bucket (a duration within
        // EventRanges' 30 days falls in bucket 251 at most).
        private const int BucketBits = 10;
        private const long BucketMask = (1L << BucketBits) - 1;

        private const int Slots = Events.DetailsShape.Slots;

        // The pass's columns: the event's time, kind, context and pattern, its figures (no duration: -1; the context figure
        // as stored: hundredths as an integer, else a real, EventWriter.ContextPercentSql), its id (for a new step key, and
        // for the time it reports wasted, read apart: below), and, when the steps are read, its details' values (used for
        // tool calls and steps; the shape is the kind's). Each column read is a native call that takes the connection's
        // lock (the parts' rows are tens of thousands at 10M events), so a duration that may be NULL comes with a stand-in
        // it never takes: one read instead of two.
        private const int IdColumn = 7;
        private const int ValueBase = 7; // details value k is column ValueBase + k

        private static string PassSql(bool steps, string where) =>
            $@"SELECT {Time}, e.kind, e.context, e.pattern_id, coalesce(e.duration_ms, -1), e.tokens_used,
                      e.context_percent, e.id{(steps ? ", " + string.Join(", ", Enumerable.Range(1, Slots).Select(k => "e.d" + k)) : "")}
               FROM {EventStorage.BlockRows("e", "eb")} WHERE 1=1{where}";

        /// <summary>The time of the pass's rows: event_rows e read block by block, eb (the parts' conditions are on both).</summary>
        private static readonly string Time = EventStorage.TimeOf("e", "eb");

        // The time wasted that the events of a part's blocks report (event_extras since schema 56; the view's and the
        // summaries' definition, TimeWasted), by event id, read before its pass: a lookup in event_extras per event of the
        // pass took about 1 us (a 10M store's cut hour of 12,753 events: 6 -> 18 ms of CPU), this reads its few rows once.
        private static Dictionary<long, long> WastedOf(SqliteConnection c, string ids)
        {
            var wasted = new Dictionary<long, long>();
            using var reader = c.ExecuteReader($"SELECT x.id, {TimeWasted.ReportedSql("x." + EventStorage.Wasted)} FROM event_extras x WHERE x.{EventStorage.Wasted} < 0 AND {ids}");
            while (reader.Read()) wasted[reader.GetInt64(0)] = reader.GetInt64(1);
            return wasted;
        }

        /// <summary>
        /// Reads the parts' events (one pass per part; <paramref name="reads"/> are their conditions on event_rows e and its block eb, the
        /// day each part lies in, and a condition on event_extras x that holds for the ids of every event the part may hold) and the kinds and contexts they use; with <paramref name="steps"/> also the step keys of
        /// tool calls and steps (their details' shape and values, most of a pass's work: 6 of 10 events are tool calls).
        /// </summary>
        internal static Decoded Read(SqliteConnection c, List<(string where, DynamicParameters p, long day, string extras)> reads, bool steps)
        {
            var d = new Decoded { Steps = steps };
            // Each kind's base: the lowest id among the kinds of its type, category and flags (kinds in id order).
            var bases = new Dictionary<(long, long, long, long, long), long>();
            foreach (var k in c.Query<(long id, string? type, string? category, long? success, long error, long shape, long typeId, long categoryId, long detected, long review)>(
                         $@"SELECT k.id, t.text, cat.text, k.success, k.id IN {Errors.Kinds}, k.details_shape, k.event_type, k.category, k.pattern_detected, k.needs_review
                            FROM kinds k LEFT JOIN names t ON t.id = k.event_type LEFT JOIN names cat ON cat.id = k.category ORDER BY k.id"))
            {
                var flags = (k.typeId, k.categoryId, k.success ?? -1, k.detected, k.review);
                if (!bases.TryGetValue(flags, out var based)) bases[flags] = based = k.id;
                d.Kinds[k.id] = new KindInfo
                {
                    Type = k.type ?? "", Category = k.category ?? "", Outcome = k.success ?? -1, Error = k.error != 0,
                    Human = k.type == Mining.HumanInteraction, Named = Domain.Steps.Kind(k.type ?? "") != "event",
                    Shape = k.shape == 0 ? -1 : k.shape, Base = based,
                };
            }
            // A tool call's or step's slots per details shape, keyed by the shape and whether it is a step's; and where its
            // step depends on no slot, its step key.
            var slots = new Dictionary<long, int[]>();
            var shapeSteps = new Dictionary<long, int>();
            var key = new System.Text.StringBuilder();
            foreach (var (where, p, day, extras) in reads)
            {
                var wasted = WastedOf(c, extras);
                using var reader = c.ExecuteReader(PassSql(steps, where), p);
                // The last row's kind, and its group: neighbouring rows (one log's, one session's) mostly share both. Groups
                // are keyed by the kind without its shape (Base): the shape only matters through the step.
                long lastKind = long.MinValue, lastBase = long.MinValue, lastContext = 0, lastPattern = 0;
                var lastStep = -1;
                KindInfo? info = null;
                Group? g = null;
                var index = 0;
                while (reader.Read())
                {
                    var s = StatementRow.Of(reader);
                    var kind = s.Int64(1);
                    if (kind != lastKind) { info = d.Kinds[kind]; lastKind = kind; }
                    var step = 0;
                    if (steps && info!.Named)
                    {
                        var shape = info.Shape;
                        var slotKey = shape * 2 + (info.Type == "step" ? 1 : 0);
                        if (!shapeSteps.TryGetValue(slotKey, out step))
                        {
                            if (!slots.TryGetValue(slotKey, out var depends)) slots[slotKey] = depends = StepSlots(c, info.Type, shape);
                            var stepKey = StepKey.Of(info.Type, shape, depends, s, ValueBase, key);
                            if (!d.StepKeys.TryGetValue(stepKey, out step))
                            {
                                d.StepKeys[stepKey] = step = d.StepEvent.Count;
                                d.StepEvent.Add(s.Int64(IdColumn));
                            }
                            if (depends.Length == 0) shapeSteps[slotKey] = step;
                        }
                    }
                    long context = s.Int64(2), pattern = s.Int64(3), ts = s.Int64(0);
                    var based = info!.Base;
                    if (g == null || based != lastBase || context != lastContext || pattern != lastPattern || step != lastStep)
                    {
                        var fine = new FineKey(day, based, context, pattern, step);
                        if (d.Fine.TryGetValue(fine, out index)) g = d.FineGroups[index].group;
                        else
                        {
                            d.Fine[fine] = index = d.FineGroups.Count;
                            d.FineGroups.Add((fine, g = new Group { FirstTs = ts, LastTs = ts }));
                        }
                        lastBase = based; lastContext = context; lastPattern = pattern; lastStep = step;
                    }
                    g.Events++;
                    var duration = s.Int64(4);
                    if (duration >= 0)
                    {
                        g.Timed++;
                        g.DurationMs += duration;
                        var bucket = ((long)index << BucketBits) | (long)DurationBuckets.Of(duration);
                        d.FineBuckets[bucket] = d.FineBuckets.TryGetValue(bucket, out var n) ? n + 1 : 1;
                    }
                    g.Tokens += s.Int64(5);
                    var ctxType = s.Type(6);
                    if (ctxType != raw.SQLITE_NULL)
                    {
                        g.CtxKnown++;
                        var ctx = ctxType == raw.SQLITE_INTEGER ? s.Int64(6) / 100.0 : s.Double(6);
                        if (!g.MaxCtx.HasValue || ctx > g.MaxCtx) g.MaxCtx = ctx;
                        if (HighContext.IsHigh(ctx)) g.CtxHot++;
                    }
                    if (wasted.Count > 0 && wasted.TryGetValue(s.Int64(IdColumn), out var saved)) g.SavedMs += saved;
                    if (ts < g.FirstTs) g.FirstTs = ts;
                    if (ts > g.LastTs) g.LastTs = ts;
                }
            }
            // The groups by day, kind, context and pattern, and the timed events' buckets by day, kind and context.
            var groups = new Dictionary<(long, long, long, long), Group>();
            foreach (var (k, fg) in d.FineGroups)
            {
                if (!groups.TryGetValue((k.Day, k.Kind, k.Context, k.Pattern), out var g))
                    groups[(k.Day, k.Kind, k.Context, k.Pattern)] = g = new Group { Day = k.Day, Kind = k.Kind, Context = k.Context, Pattern = k.Pattern, FirstTs = fg.FirstTs, LastTs = fg.LastTs };
                g.Add(fg);
            }
            // Each fine group's day, kind and context numbered once, so its buckets are summed by integer keys (the
            // buckets are several per fine group).
            var scopes = new Dictionary<(long, long, long), int>();
            var scopeKeys = new List<(long day, long kind, long context)>();
            var scopeOf = new int[d.FineGroups.Count];
            for (var i = 0; i < d.FineGroups.Count; i++)
            {
                var k = d.FineGroups[i].key;
                if (!scopes.TryGetValue((k.Day, k.Kind, k.Context), out scopeOf[i]))
                {
                    scopes[(k.Day, k.Kind, k.Context)] = scopeOf[i] = scopeKeys.Count;
                    scopeKeys.Add((k.Day, k.Kind, k.Context));
                }
            }
            var buckets = new Dictionary<long, long>();
            foreach (var b in d.FineBuckets)
            {
                var bk = ((long)scopeOf[(int)(b.Key >> BucketBits)] << BucketBits) | (b.Key & BucketMask);
                buckets[bk] = buckets.TryGetValue(bk, out var n) ? n + b.Value : b.Value;
            }
            d.Groups.AddRange(groups.Values);
            foreach (var b in buckets)
            {
                var (day, kind, context) = scopeKeys[(int)(b.Key >> BucketBits)];
                d.Buckets.Add((day, kind, context, b.Key & BucketMask, b.Value));
            }
            var contexts = d.Groups.Select(x => x.Context).Distinct().ToList();
            foreach (var x in c.Query<(long id, string? session, string? story, string? workflow, string? agent)>(
                         @"SELECT x.id, s.text, st.text, w.text, a.text FROM contexts x LEFT JOIN names s ON s.id = x.session_id LEFT JOIN names st ON st.id = x.story_id
                           LEFT JOIN names w ON w.id = x.workflow_id LEFT JOIN names a ON a.id = x.agent_name WHERE x.id IN (SELECT value FROM json_each(@ids))",
                         new { ids = "[" + string.Join(",", contexts) + "]" }))
                d.Contexts[x.id] = new ContextInfo { Session = x.session, Story = x.story, Workflow = x.workflow, Agent = x.agent };
            return d;
        }

        // A value of the row as part of a step key: its type and its value (a text or blob as its bytes' hex would be
        // longer; texts are short names or literals).
        private static void AppendValue(System.Text.StringBuilder key, StatementRow s, int column)
        {
            switch (s.Type(column))
            {
                case raw.SQLITE_NULL: key.Append('n'); break;
                case raw.SQLITE_INTEGER: key.Append('i').Append(s.Int64(column)); break;
                case raw.SQLITE_FLOAT: key.Append('f').Append(s.Double(column).ToString("R", System.Globalization.CultureInfo.InvariantCulture)); break;
                case raw.SQLITE_TEXT: key.Append('t').Append(s.Text(column)); break;
                default: key.Append('b').Append(Convert.ToBase64String(s.Bytes(column).ToArray())); break;
            }
        }

        /// <summary>
        /// The slots (1-based) of a details shape that a tool call's tool or a step's step (json_extract of the details, as
        /// Steps.NameSql reads it) depends on: the shape's JSON with each placeholder replaced by a marker naming its slot
        /// (a string marker for a value, text inside a string, a member for the members of the last slot), asked for the
        /// key in SQLite itself, so the answer is exactly json_extract's; every slot whose marker the value holds, and any
        /// slot of members (the key may be among them). A shape that does not parse depends on every slot, and details
        /// stored whole (shape -1) on d1.
        /// </summary>
        internal static int[] StepSlots(SqliteConnection c, string eventType, long shape, SqliteTransaction? tx = null)
        {
            if (shape < 0) return new[] { 1 };
            var text = c.ExecuteScalar<string?>("SELECT text FROM names WHERE id = @shape", new { shape }, tx);
            if (Domain.Steps.DetailsKey(eventType) == null || text == null) return Enumerable.Range(1, Slots).ToArray();
            // The slots depend on the shape's text alone: worked out once per process (a cut window's parts at 10M events
            // meet about 140 shapes, whose analysis was a tenth of the first question's time on each new connection).
            if (SlotsByShape.TryGetValue((eventType, text), out var known)) return known;
            var slots = AnalyseSlots(c, eventType, text, tx);
            if (SlotsByShape.Count >= MostShapes) SlotsByShape.Clear();
            SlotsByShape[(eventType, text)] = slots;
            return slots;
        }

        // StepSlots' answers by event type and shape text; a store holds some hundreds of shapes.
        private const int MostShapes = 20_000;
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string type, string shape), int[]> SlotsByShape =
            new System.Collections.Concurrent.ConcurrentDictionary<(string, string), int[]>();

        private static int[] AnalyseSlots(SqliteConnection c, string eventType, string text, SqliteTransaction? tx)
        {
            var all = Enumerable.Range(1, Slots).ToArray();
            var key = Domain.Steps.DetailsKey(eventType);
            var marked = new System.Text.StringBuilder();
            var members = new List<int>();
            var inString = false;
            var containers = new Stack<char>();
            var last = ' '; // the last significant character outside strings
            for (var i = 0; i < text.Length; i++)
            {
                var ch = text[i];
                var slot = SlotOf(ch);
                if (slot > 0)
                {
                    if (inString) marked.Append(Marker(slot));
                    else if (containers.Count > 0 && containers.Peek() == '{' && (last == '{' || last == ','))
                    {
                        marked.Append('"').Append(Marker(slot)).Append("\":0");
                        members.Add(slot);
                        last = '0';
                    }
                    else { marked.Append('"').Append(Marker(slot)).Append('"'); last = '"'; }
                    continue;
                }
                marked.Append(ch);
                if (inString)
                {
                    if (ch == '\\' && i + 1 < text.Length) marked.Append(text[++i]);
                    else if (ch == '"') inString = false;
                    continue;
                }
                if (ch == '"') { inString = true; last = '"'; }
                else if (ch == '{' || ch == '[') { containers.Push(ch); last = ch; }
                else if (ch == '}' || ch == ']') { if (containers.Count > 0) containers.Pop(); last = ch; }
                else if (!char.IsWhiteSpace(ch)) last = ch;
            }
            var (valid, value) = c.QuerySingle<(long, string?)>("SELECT json_valid(@doc), CAST(json_extract(@doc, @path) AS TEXT) WHERE json_valid(@doc) UNION ALL SELECT 0, NULL LIMIT 1",
                new { doc = marked.ToString(), path = "$." + key }, tx);
            if (valid == 0) return all;
            return all.Where(k => members.Contains(k) || (value != null && value.Contains(Marker(k)))).ToArray();
        }

        // A marker for a slot, in plain ASCII so json_extract gives it back unchanged in a string or in JSON text; a shape
        // that happens to hold it only makes a slot count that does not (more keys, the same names).
        private static string Marker(int slot) => "~madf-slot-" + slot + "~";

        private static int SlotOf(char ch)
        {
            var k = Events.DetailsShape.SlotOf(ch, out _, out _);
            return k <= Slots ? k : 0;
        }

        /// <summary>The step names of events <paramref name="ids"/> (one per step key), decoded through the events view as the scan reads them (Steps.NameSql).</summary>
        internal static Dictionary<long, string> StepNames(SqliteConnection c, IEnumerable<long> ids, SqliteTransaction? tx = null) =>
            c.Query<(long id, string name)>($"SELECT e.id, CAST({Domain.Steps.NameSql} AS TEXT) FROM events e WHERE e.id IN (SELECT value FROM json_each(@ids))",
                new { ids = "[" + string.Join(",", ids) + "]" }, tx).ToDictionary(x => x.id, x => x.name);

        // The tool calls and steps of the parts by step, and their timed events by step and bucket: each step key named by
        // one of its events, decoded through the events view (Steps.NameSql, as the scan reads it).
        private static void ReadSteps(SqliteConnection c, Decoded d)
        {
            var names = StepNames(c, d.StepEvent.Skip(1));
            var groups = new Dictionary<(long, long, long, long, string), Group>();
            foreach (var (k, fg) in d.FineGroups)
            {
                if (k.Step == 0) continue;
                var step = names[d.StepEvent[k.Step]];
                var gk = (k.Day, k.Kind, k.Context, k.Pattern, step);
                if (!groups.TryGetValue(gk, out var g))
                    groups[gk] = g = new Group { Day = k.Day, Kind = k.Kind, Context = k.Context, Pattern = k.Pattern, Step = step, FirstTs = fg.FirstTs, LastTs = fg.LastTs };
                g.Add(fg);
            }
            // Each step key's histogram key (its kind's and its name) made once, not once per group and bucket (a week's
            // parts at 10M events hold some ten thousand of those).
            var scopeKeys = new Dictionary<(int step, long kind), string>();
            var buckets = new Dictionary<(string, int), long>();
            foreach (var b in d.FineBuckets)
            {
                var k = d.FineGroups[(int)(b.Key >> BucketBits)].key;
                if (k.Step == 0) continue;
                if (!scopeKeys.TryGetValue((k.Step, k.Kind), out var scopeKey))
                    scopeKeys[(k.Step, k.Kind)] = scopeKey = Domain.Steps.Kind(d.Kinds[k.Kind].Type) + ":" + names[d.StepEvent[k.Step]];
                var bk = (scopeKey, (int)(b.Key & BucketMask));
                buckets[bk] = buckets.TryGetValue(bk, out var n) ? n + b.Value : b.Value;
            }
            d.StepGroups = groups.Values.ToList();
            d.StepBuckets = buckets.Select(b => (b.Key.Item1, b.Key.Item2, b.Value)).ToList();
        }

        /// <summary>
        /// Makes the temporary table <paramref name="name"/> of <paramref name="dayTable"/>'s rows from the parts' events
        /// (once per decode and connection). A tool call's or step's step is NULL (their details unread): for questions
        /// that do not read them.
        /// </summary>
        internal static void Make(SqliteConnection c, Decoded d, string dayTable, string name)
        {
            var rows = Rows(c, d, dayTable, steps: false);
            var columns = dayTable switch
            {
                "session_day" => SummaryTables.SessionDayColumns,
                "story_spans" => new[] { "story", "first_ts", "last_ts" },
                _ => DayRollupColumns,
            };
            c.Execute($"DROP TABLE IF EXISTS temp.{name}; CREATE TEMP TABLE {name} ({string.Join(", ", columns)})");
            // Not in a transaction: the caller may hold one; inserts into a temporary table sync nothing. Bound through
            // SQLite's own API (ADO.NET's per-parameter work cost more than the inserts).
            PreparedBatch.Run(c, null, $"INSERT INTO temp.{name} VALUES ({string.Join(", ", columns.Select((_, i) => "$" + (i + 1)))})", rows);
        }

        /// <summary><paramref name="dayTable"/>'s rows of the parts (see <see cref="Make"/>).</summary>
        internal static IEnumerable<object?[]> Rows(SqliteConnection c, Decoded d, string dayTable, bool steps)
        {
            if (steps && !d.Steps) throw new InvalidOperationException("the parts were read without their steps");
            if (steps) lock (d) if (d.StepGroups == null) ReadSteps(c, d);
            return dayTable switch
            {
                "session_day" => SessionDays(d),
                "story_spans" => StorySpans(d),
                _ => DayRollup(d, steps),
            };
        }

        internal static readonly string[] DayRollupColumns =
            { "day", "story_id", "agent_name", "workflow_id", "event_type", "category", "step", "pattern_id", "outcome", "events", "timed", "duration_ms", "tokens", "ctx_known", "ctx_hot", "wasted_ms" };

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

        /// <summary>
        /// The parts' duration buckets of one scope of day_hist (agent, workflow or step) summed per key over their days and
        /// stories (the stories' filter applied when they were read), as SummaryTables.Buckets defines them, for a question
        /// that sums one scope's histograms. Summed by integers (each context's or kind's key numbered once), so a key's
        /// text is hashed once per context, not once per context and bucket.
        /// </summary>
        internal static List<(string key, int bucket, long n)> ScopeBuckets(SqliteConnection c, Decoded d, string scope)
        {
            lock (d) return SumScopeBuckets(c, d, scope);
        }

        private static List<(string key, int bucket, long n)> SumScopeBuckets(SqliteConnection c, Decoded d, string scope)
        {
            if (d.ScopeBuckets.TryGetValue(scope, out var kept)) return kept;
            var steps = scope == "step";
            if (steps && !d.Steps) throw new InvalidOperationException("the parts were read without their steps");
            if (steps && d.StepGroups == null) ReadSteps(c, d);
            var keys = new List<string>();
            var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
            int Number(string key)
            {
                if (!numbers.TryGetValue(key, out var i)) { numbers[key] = i = keys.Count; keys.Add(key); }
                return i;
            }
            // A context's (agent, workflow) or a kind's (step) key number; -1: none in this scope.
            var of = new Dictionary<long, int>();
            var sums = new Dictionary<(int key, int bucket), long>();
            void Add(int key, int bucket, long n) => sums[(key, bucket)] = sums.TryGetValue((key, bucket), out var v) ? v + n : n;
            foreach (var (_, kind, context, b, count) in d.Buckets)
            {
                var id = steps ? kind : context;
                if (!of.TryGetValue(id, out var key))
                {
                    if (steps)
                    {
                        var k = d.Kinds[kind];
                        key = k.Named ? -1 : Number(Domain.Steps.Kind(k.Type) + ":" + k.Type);
                    }
                    else
                    {
                        var x = Context(d, context);
                        key = scope == "agent" ? Number(x.Agent ?? "") : scope == "workflow" && x.Workflow != null ? Number(x.Workflow) : -1;
                    }
                    of[id] = key;
                }
                if (key >= 0) Add(key, (int)b, count);
            }
            if (steps)
                foreach (var (key, bucket, n) in d.StepBuckets!)
                    Add(Number(key), bucket, n);
            return d.ScopeBuckets[scope] = sums.Select(x => (keys[x.Key.key], x.Key.bucket, x.Value)).ToList();
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

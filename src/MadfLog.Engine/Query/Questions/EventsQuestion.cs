using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>The raw events, and distinct names for argument completion.</summary>
    internal static class EventsQuestion
    {
        /// <summary>Only the events answer.</summary>
        internal const Summarised Answers = Summarised.None;

        /// <summary>
        /// The raw events, oldest first, streamed. A first page is found from the time blocks that hold it (ids and times
        /// only, not by sorting every event), and its rows are read in the same statement.
        /// </summary>
        internal static IEnumerable<EventRecord> Events(SqliteConnection c, QueryFilter f, Analysis.EventFilter ef)
        {
            if (!ef.First.HasValue) return Decode(c, Read(c, Conditions(c, f, ef, ""), Order.Time));
            var rows = InTimeOrder(c, f, blocks => Read(c, Conditions(c, f, ef, blocks), Order.Page).ToList(), ef.First.Value, newest: false, time: Time, block: "eb");
            // The page's ids in time order are SQLite's (ordering reads only times and ids); its rows come joined by id in
            // no particular order (SQLite would sort the whole rows), so they are put in time order here.
            rows.Sort((a, b) => a.Timestamp != b.Timestamp ? a.Timestamp.CompareTo(b.Timestamp) : a.Id.CompareTo(b.Id));
            return Decode(c, rows).ToList();
        }

        /// <summary>The events with these ids, in no particular order.</summary>
        internal static IEnumerable<EventRecord> ById(SqliteConnection c, IReadOnlyCollection<long> ids) =>
            ids.Count == 0 ? Enumerable.Empty<EventRecord>() : Decode(c, Read(c, ($" AND e.id IN ({string.Join(",", ids)})", new DynamicParameters()), Order.ById));

        // The filter's and the event filter's conditions on event_rows e read block by block, eb, with their parameters (@limit: the page):
        // names become sets of kinds and contexts, tested per row without decoding it.
        // Blocks: InTimeOrder's bounds, which replace the filter's own ("" for those).
        private static (string where, DynamicParameters p) Conditions(SqliteConnection c, QueryFilter f, Analysis.EventFilter ef, string blocks)
        {
            var p = new DynamicParameters();
            var where = f.Where(c, p, ids: blocks.Length == 0 ? null : blocks, block: "eb");
            if (ef.EventTypes is { Length: > 0 }) { where += " AND e.kind IN (SELECT k.id FROM kinds k WHERE k.event_type IN (SELECT id FROM names WHERE text IN @types))"; p.Add("types", ef.EventTypes); }
            if (ef.Categories is { Length: > 0 }) { where += " AND e.kind IN (SELECT k.id FROM kinds k WHERE k.category IN (SELECT id FROM names WHERE text IN @cats))"; p.Add("cats", ef.Categories); }
            if (ef.Success.HasValue) { where += " AND e.kind IN (SELECT k.id FROM kinds k WHERE k.success = @success)"; p.Add("success", ef.Success.Value ? 1 : 0); }
            if (ef.PatternId.HasValue) { where += " AND e.pattern_id = @pattern"; p.Add("pattern", ef.PatternId.Value); }
            if (ef.SessionId != null) { where += " AND e.context IN (SELECT x.id FROM contexts x WHERE x.session_id IN (SELECT id FROM names WHERE text = @session))"; p.Add("session", ef.SessionId); }
            p.Add("limit", ef.First ?? -1);
            return (where, p);
        }

        private enum Order
        {
            ById, // as SQLite finds them, each row looked up by its id (the conditions name ids: the rows are the outer loop)
            Time, // oldest first
            Page, // the oldest @limit, in no particular order
        }

        // The rows as stored (ids of their kind and context, the details values as text; a row's details shape is its
        // kind's, known once the chunk's kinds are read). A page's ids are ordered by SQLite reading only times and ids,
        // each row then read by its id in the same statement, with the time the ordering computed (not its block again).
        private static readonly string Time = EventStorage.TimeOf("e", "eb"), Blocks = EventStorage.BlockRows("e", "eb"), RowsById = "event_rows e " + EventStorage.BlockJoin("e", "eb");

        private static IEnumerable<Stored> Read(SqliteConnection c, (string where, DynamicParameters p) conditions, Order order)
        {
            var (where, p) = conditions;
            var columns = $@"e.id, {(order == Order.Page ? "page.page_ts" : Time)}, e.kind, e.context, e.duration_ms, e.tokens_used,
                             {Store.EventWriter.ContextPercentSql("e")},
                             e.pattern_id, (SELECT x.created_rule FROM event_extras x WHERE x.id = e.id), {string.Join(", ", Store.EventStorage.ValueColumns.Select(v => "e." + v))}";
            using var r = c.ExecuteReader(order == Order.Page
                ? $@"SELECT {columns} FROM (SELECT e.id AS page_id, {Time} AS page_ts FROM {Blocks} WHERE 1=1{where} ORDER BY page_ts, e.id LIMIT @limit) page
                     CROSS JOIN event_rows e ON e.id = page.page_id"
                : $"SELECT {columns} FROM {(order == Order.ById ? RowsById : Blocks)} WHERE 1=1{where}{(order == Order.Time ? $" ORDER BY {Time}, e.id LIMIT @limit" : "")}", p);
            while (r.Read())
            {
                var v = StatementRow.Of(r);
                var row = new Stored
                {
                    Id = v.Int64(0), Timestamp = v.Int64(1), Kind = v.Int64(2), Context = v.Int64(3), DurationMs = v.NullableInt64(4), TokensUsed = v.NullableInt64(5),
                    ContextPercent = v.NullableDouble(6), PatternId = v.NullableInt64(7), CreatedRule = v.NullableInt64(8),
                };
                // Kept whatever the values: the row's shape (its kind's) is known once the chunk's kinds are read.
                row.Values = new string?[DetailsShape.Slots];
                for (var k = 0; k < DetailsShape.Slots; k++) row.Values[k] = v.DetailsValue(9 + k);
                yield return row;
            }
        }

        // The events' columns as the events view gives them, from their stored rows: each kind, context and name read
        // once per call in one statement per chunk of rows; the details are put back by DetailsShape.Join (the view's own
        // rule): the view's replace() of each placeholder and its lookups per column cost most of a row's read in SQL.
        private static IEnumerable<EventRecord> Decode(SqliteConnection c, IEnumerable<Stored> rows)
        {
            const int Chunk = 1024;
            var d = new Dictionaries();
            var chunk = new List<Stored>(Chunk);
            using var e = rows.GetEnumerator();
            while (true)
            {
                var more = e.MoveNext();
                if (more)
                {
                    chunk.Add(e.Current);
                    if (chunk.Count < Chunk) continue;
                }
                d.Read(c, chunk);
                foreach (var row in chunk)
                {
                    d.Kinds.TryGetValue(row.Kind, out var kind);
                    d.Contexts.TryGetValue(row.Context, out var x);
                    var details = d.Details(row, kind);
                    yield return new EventRecord
                    {
                        Id = row.Id, Timestamp = Time(row.Timestamp), EventType = kind?.Type ?? "", Category = kind?.Category ?? "",
                        SessionId = x.session, StoryId = x.story, WorkflowId = x.workflow, AgentName = x.agent,
                        DurationMs = row.DurationMs, TokensUsed = row.TokensUsed, ContextPercent = row.ContextPercent,
                        Success = kind?.Success, PatternId = row.PatternId, CreatedRule = row.CreatedRule,
                        NeedsReview = kind?.NeedsReview ?? false, Message = EventDetails.Message(details), Details = details,
                    };
                }
                chunk.Clear();
                if (!more) yield break;
            }
        }

        // An event_rows row as stored (Values: d1..d5 as text, a packed id unpacked).
        private sealed class Stored
        {
            public long Id, Timestamp, Kind, Context;
            public long? DurationMs, TokensUsed, PatternId, CreatedRule;
            public double? ContextPercent;
            public string?[] Values = null!;
        }

        // The kinds (with their details shapes' text), contexts and names the rows read so far refer to, read once each:
        // a chunk's new kinds in one statement, its new contexts in another, the names among its values in a third.
        private sealed class Dictionaries
        {
            public readonly Dictionary<long, Kind> Kinds = new Dictionary<long, Kind>();
            public readonly Dictionary<long, (string? session, string? story, string? workflow, string? agent)> Contexts = new Dictionary<long, (string?, string?, string?, string?)>();
            private readonly Dictionary<long, string?> _names = new Dictionary<long, string?>();
            private readonly Func<long, string?> _name;

            public Dictionaries() { _name = Name; }

            public string? Name(long id) => _names.TryGetValue(id, out var text) ? text : null;

            // The details as the view gives them (the kind's shape with the row's values, names put back; without a shape, d1).
            public string? Details(Stored row, Kind? kind) => DetailsShape.Join(kind?.Shape, row.Values, _name);

            public void Read(SqliteConnection c, List<Stored> rows)
            {
                var kinds = new HashSet<long>();
                var contexts = new HashSet<long>();
                foreach (var r in rows)
                {
                    if (!Kinds.ContainsKey(r.Kind)) kinds.Add(r.Kind);
                    if (!Contexts.ContainsKey(r.Context)) contexts.Add(r.Context);
                }
                if (kinds.Count > 0)
                {
                    foreach (var k in c.Query<(long id, string? type, string? category, long success, long review, string? shape)>(
                                 $@"SELECT k.id, t.text, cat.text, k.success, k.needs_review, sh.text FROM kinds k LEFT JOIN names t ON t.id = k.event_type
                                    LEFT JOIN names cat ON cat.id = k.category LEFT JOIN names sh ON sh.id = k.details_shape AND k.details_shape <> 0 WHERE k.id IN ({string.Join(",", kinds)})"))
                        Kinds[k.id] = new Kind(k.type, k.category, k.success, k.review, k.shape);
                    foreach (var id in kinds) if (!Kinds.ContainsKey(id)) Kinds[id] = new Kind(null, null, -1, 0, null);
                }
                if (contexts.Count > 0)
                    foreach (var x in c.Query<(long id, string? session, string? story, string? workflow, string? agent)>(
                                 $@"SELECT x.id, s.text, st.text, w.text, a.text FROM contexts x LEFT JOIN names s ON s.id = x.session_id LEFT JOIN names st ON st.id = x.story_id
                                    LEFT JOIN names w ON w.id = x.workflow_id LEFT JOIN names a ON a.id = x.agent_name WHERE x.id IN ({string.Join(",", contexts)})"))
                        Contexts[x.id] = (x.session, x.story, x.workflow, x.agent);
                // The names among the values (a value is a name where its kind's shape says so).
                var wanted = new HashSet<long>();
                foreach (var r in rows)
                {
                    var nameSlots = Kinds[r.Kind].NameSlots;
                    if (nameSlots == 0) continue;
                    for (var k = 1; k <= DetailsShape.Slots; k++)
                        if ((nameSlots & 1 << k) != 0 && r.Values[k - 1] is string v
                            && long.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var id)
                            && !_names.ContainsKey(id))
                            wanted.Add(id);
                }
                if (wanted.Count == 0) return;
                foreach (var id in wanted) _names[id] = null;
                foreach (var (id, text) in c.Query<(long, string)>($"SELECT id, text FROM names WHERE id IN ({string.Join(",", wanted)})")) _names[id] = text;
            }
        }

        // A kind as the events view gives it; Shape: its details shape's text (null when it has none, or its name is missing);
        // NameSlots: bit k set where the shape says value k is a names id (found once per kind, not per row).
        private sealed class Kind
        {
            public Kind(string? type, string? category, long success, long review, string? shape)
            {
                Type = type ?? ""; Category = category ?? ""; Success = success < 0 ? (bool?)null : success == 1; NeedsReview = review != 0; Shape = shape;
                if (shape != null)
                    for (var k = 1; k <= DetailsShape.Slots; k++)
                        if (shape.IndexOf(DetailsShape.Placeholder(k, name: true)) >= 0) NameSlots |= 1 << k;
            }
            public readonly string Type, Category;
            public readonly bool? Success;
            public readonly bool NeedsReview;
            public readonly string? Shape;
            public readonly int NameSlots;
        }

        /// <summary>Distinct values for argument completion (stories in version order).</summary>
        internal static List<string> DistinctValues(SqliteConnection c, string column, string prefix, int max = 200)
        {
            if (column != "story_id" && column != "agent_name" && column != "session_id") throw new ArgumentException("not a completable column", nameof(column));
            var values = c.Query<string>($"SELECT DISTINCT {column} FROM events WHERE {column} LIKE @prefix ESCAPE '\\' ORDER BY 1 LIMIT @max",
                new { prefix = prefix.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%", max }).ToList();
            if (column == "story_id") values.Sort(StoryOrder.Instance);
            return values;
        }
    }
}

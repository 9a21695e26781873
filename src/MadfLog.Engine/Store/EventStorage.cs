using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Store
{
    /// <summary>How event_rows stores events (docs/storage.md); the events view turns them back into the design's columns.</summary>
    public static class EventStorage
    {
        /// <summary>
        /// A table of the distinct combinations of some event columns, which event_rows refers to by one id: what an
        /// event is (kinds: type, category, flags and details shape) and who and where (contexts: session, story, workflow, agent).
        /// </summary>
        public sealed class Combinations
        {
            public Combinations(string table, string rowColumn, string[] columns, string[] nameColumns)
            {
                Table = table; RowColumn = rowColumn; Columns = columns; NameColumns = nameColumns;
            }

            public string Table { get; }
            /// <summary>The event_rows column holding its id.</summary>
            public string RowColumn { get; }
            /// <summary>Its columns, in the order of its unique key.</summary>
            public string[] Columns { get; }
            /// <summary>Those of its columns that hold names ids (0 for none).</summary>
            public string[] NameColumns { get; }

            /// <summary>
            /// The id a new combination takes, given the table's greatest and least ids (0 when it has none on that side):
            /// the free id of the fewest bytes in SQLite's integer format (-128..127 take one, -32768..32767 two, and so
            /// on), positive ones first. Every event row holds one; ids in first-seen order alone gave two thirds of the
            /// realistic logs' rows a kind of two bytes (ids 128-255), while 1..127 and -1..-128 hold the first 255 kinds.
            /// Never 0, and only ever the next id past either end, so the ids stay one run with no gaps.
            /// </summary>
            public static long NextId(long greatest, long least)
            {
                greatest = Math.Max(greatest, 0);
                least = Math.Min(least, 0);
                foreach (var bytes in new[] { 1, 2, 3, 4, 6 })
                {
                    var most = (1L << (8 * bytes - 1)) - 1;
                    if (greatest < most) return greatest + 1;
                    if (least > -most - 1) return least - 1;
                }
                return greatest + 1;
            }
        }

        /// <summary>What an event is: type, category, flags, and since schema 49 its details' shape (a names id, 0 for details stored whole or none).</summary>
        public static readonly Combinations Kinds = new Combinations("kinds", "kind",
            new[] { "event_type", "category", "success", "pattern_detected", "needs_review", "details_shape" }, new[] { "event_type", "category", "details_shape" });

        public static readonly Combinations Contexts = new Combinations("contexts", "context",
            new[] { "session_id", "story_id", "workflow_id", "agent_name" }, new[] { "session_id", "story_id", "workflow_id", "agent_name" });

        public static readonly Combinations[] AllCombinations = { Kinds, Contexts };

        /// <summary>The details value columns d1..d5 (index k - 1 is value k).</summary>
        public static readonly string[] ValueColumns = Enumerable.Range(1, DetailsShape.Slots).Select(k => "d" + k).ToArray();

        /// <summary>SQL: whether value k (1-4) of a row is a names id, given its shape's names row alias.</summary>
        public static string ValueIsName(int k, string shape) => $"instr({shape}.text, char({(int)DetailsShape.Placeholder(k, name: true)}))";

        /// <summary>
        /// SELECTs (joined by UNION) of every names id that rows of <paramref name="schema"/> matching <paramref name="where"/>
        /// (on alias r; "1" for all) refer to: through their kind (its shape too) or context, or as a details value (value k
        /// is a name only where the shape has placeholder k + 4).
        /// </summary>
        public static string NameIdsUsed(string schema, string where) => string.Join(" UNION ",
            AllCombinations.SelectMany(t => t.NameColumns.Select(col =>
                    $"SELECT x.{col} FROM {schema}.{t.Table} x WHERE x.id IN (SELECT r.{t.RowColumn} FROM {schema}.event_rows r WHERE {where})"))
                .Concat(Enumerable.Range(1, DetailsShape.Slots).Select(k =>
                    $"SELECT r.d{k} FROM {schema}.event_rows r {ShapeJoin(schema)} WHERE {ValueIsName(k, "sh")} AND {where}")));

        /// <summary>SQL: joins a row r of <paramref name="schema"/>'s event_rows to its details shape's names row, sh (through its kind, kd).</summary>
        public static string ShapeJoin(string schema, bool left = false) =>
            $"{(left ? "LEFT " : "")}JOIN {schema}.kinds kd ON kd.id = r.kind {(left ? "LEFT " : "")}JOIN {schema}.names sh ON sh.id = kd.details_shape";

        /// <summary>
        /// Sets needs_review on the rows matching <paramref name="where"/> (on event_rows, unaliased): the flag is part of
        /// the row's kind, so each row moves to the kind that differs only in it (created when missing).
        /// </summary>
        public static void SetNeedsReview(SqliteConnection c, SqliteTransaction tx, string where, bool review, object parameters) =>
            MoveKind(c, tx, where, "needs_review", review ? 1 : 0, parameters);

        /// <summary>
        /// Moves the rows matching <paramref name="where"/> (on event_rows, unaliased) to the kind that differs from
        /// theirs only in <paramref name="column"/>, set to <paramref name="value"/> (created when missing). Returns the rows moved.
        /// </summary>
        private static int MoveKind(SqliteConnection c, SqliteTransaction tx, string where, string column, int value, object? parameters)
        {
            // The kinds table's own columns: a migration before 49 runs this on kinds without a shape.
            var others = c.Query<string>("SELECT name FROM pragma_table_info('kinds') WHERE name <> 'id'", transaction: tx).Where(col => col != column).ToList();
            c.Execute($@"INSERT OR IGNORE INTO kinds({string.Join(", ", others)}, {column})
                         SELECT {string.Join(", ", others)}, {value} FROM kinds WHERE id IN (SELECT kind FROM event_rows WHERE {where})", parameters, tx);
            return c.Execute($@"UPDATE event_rows SET kind = (SELECT k2.id FROM kinds k JOIN kinds k2 ON {string.Join(" AND ", others.Select(col => $"k2.{col} = k.{col}"))}
                             AND k2.{column} = {value} WHERE k.id = event_rows.kind)
                         WHERE {where}", parameters, tx);
        }

        /// <summary>
        /// Migration 33: transcripts imported before it stored a rejected call twice as an error, the failed tool call and
        /// the human_interaction rejection written from the same tool_result (the row right after it: same context and
        /// time, its message the import's "Rejected ..."); a rejection logged on its own is left as logged. The rejection becomes a success, as the import now writes it. Returns the rows changed.
        /// </summary>
        internal static int CountRejectionsOnce(SqliteConnection c, SqliteTransaction tx)
        {
            const string kindOf = "SELECT k.id FROM kinds k WHERE k.success = 0 AND k.event_type = (SELECT id FROM names WHERE text = '{0}')";
            // The summaries follow the moved rows alone (their outcome is all that changes), not a rebuild from every event.
            return SummaryTables.Recount(c, tx, $@"SELECT h.id FROM event_rows h JOIN event_rows t ON t.id = h.id - 1
                WHERE h.kind IN ({string.Format(kindOf, Domain.Mining.HumanInteraction)} AND k.category = (SELECT id FROM names WHERE text = 'rejection'))
                  AND t.kind IN ({string.Format(kindOf, "tool_call")}) AND t.context = h.context AND {TimeOfRow(c, tx, "t")} = {TimeOfRow(c, tx, "h")}
                  AND json_extract((SELECT e.details FROM events e WHERE e.id = t.id), '$.message') LIKE '%doesn''t want to proceed%'
                  AND json_extract((SELECT e.details FROM events e WHERE e.id = h.id), '$.message') LIKE 'Rejected %'",
                moved => MoveKind(c, tx, moved, "success", 1, null));
        }

        /// <summary>
        /// Migration 39: transcripts imported before it left a tool call, and what a human did about it, without a context
        /// figure (only the responses had one), so context pressure could not split their errors. Each gets the figure of
        /// the response before it in its context (session, story, project, agent): the response that made the call, as
        /// the import now records it (TranscriptParser, PendingToolUse.ContextPercent). Only contexts whose responses are
        /// a transcript's (their details hold a message_id) are touched: a figure our own format left out stays out.
        /// Returns the rows changed.
        /// </summary>
        internal static int CarryContextToCalls(SqliteConnection c, SqliteTransaction tx)
        {
            var kinds = c.Query<(long id, string type)>(
                "SELECT k.id, n.text FROM kinds k JOIN names n ON n.id = k.event_type WHERE n.text IN ('llm_call', 'tool_call', @human)",
                new { human = Domain.Mining.HumanInteraction }, tx).ToDictionary(k => k.id, k => k.type);
            if (kinds.Count == 0) return 0;
            var transcriptShapes = new HashSet<long>(c.Query<long>("SELECT id FROM names WHERE text LIKE '%\"message_id\"%'", transaction: tx));
            var last = new Dictionary<long, object>();
            var carried = new List<(long id, object value)>();
            using (var read = c.CreateCommand())
            {
                read.Transaction = tx;
                read.CommandText = $"SELECT id, kind, context, context_percent, {ShapeOfRow(c, tx)} FROM event_rows WHERE kind IN ({string.Join(", ", kinds.Keys)}) ORDER BY id";
                using var r = read.ExecuteReader();
                while (r.Read())
                {
                    var context = r.GetInt64(2);
                    if (kinds[r.GetInt64(1)] == "llm_call")
                    {
                        if (!r.IsDBNull(3) && !r.IsDBNull(4) && transcriptShapes.Contains(r.GetInt64(4))) last[context] = r.GetValue(3);
                    }
                    else if (r.IsDBNull(3) && last.TryGetValue(context, out var figure)) carried.Add((r.GetInt64(0), figure));
                }
            }
            if (carried.Count == 0) return 0;
            // Untyped: the figure is kept as stored (hundredths as an integer, or a real), which the view decodes.
            c.Execute("DROP TABLE IF EXISTS temp.carried_context; CREATE TEMP TABLE carried_context (id INTEGER PRIMARY KEY, v)", transaction: tx);
            PreparedBatch.Run(c, tx, "INSERT INTO temp.carried_context VALUES ($1, $2)", carried.Select(x => new object?[] { x.id, x.value }));
            // The summaries follow the rows that gained a figure (SummaryTables.Recount), not every event.
            var changed = SummaryTables.Recount(c, tx, "SELECT id FROM temp.carried_context", rows => c.Execute(
                $"UPDATE event_rows SET context_percent = (SELECT v FROM temp.carried_context x WHERE x.id = event_rows.id) WHERE {rows}", transaction: tx));
            c.Execute("DROP TABLE temp.carried_context", transaction: tx);
            return changed;
        }

        /// <summary>
        /// Events are numbered in blocks of this many ids; event_blocks keeps each block's time span (a zone map), so a
        /// time window becomes an id range on the rows' own b-tree and the store needs no timestamp or story index.
        /// </summary>
        public const int BlockSize = 512;

        private const long NoBlock = 1L << 40;

        /// <summary>
        /// SQL: the time (epoch milliseconds) of the event_rows row <paramref name="row"/>. Since schema 61 a row holds it as
        /// an offset from its block's base (event_blocks.base_ts, fixed by the block's first write), about 3 bytes instead
        /// of 6, except a row with a pattern, which holds it whole (<see cref="PatternTime"/>). <paramref name="block"/>: the
        /// alias of the row's event_blocks row where the statement joins it (<see cref="BlockJoin"/>: a lookup by key per
        /// row, or one per block where the blocks are the outer loop); without one, a subquery per row (about 0.2 us:
        /// for statements that read few rows).
        /// </summary>
        public static string TimeOf(string row, string? block = null, string schema = "main") =>
            $"({row}.ts + CASE WHEN {row}.pattern_id IS NULL THEN {(block != null ? block + ".base_ts" : $"(SELECT base_ts FROM {schema}.event_blocks WHERE block = {row}.id / {BlockSize})")} ELSE 0 END)";

        /// <summary>Whether event_rows holds its times as offsets (ts, schema 61), not whole (timestamp, before).</summary>
        internal static bool TimesAreOffsets(SqliteConnection c, SqliteTransaction? tx) => HasColumn(c, tx, "event_rows", "ts");

        /// <summary>Whether a table of the store has a column (a migration run again on a store turned back finds either layout).</summary>
        internal static bool HasColumn(SqliteConnection c, SqliteTransaction? tx, string table, string column) =>
            c.ExecuteScalar<long>("SELECT count(*) FROM pragma_table_info(@table) WHERE name = @column", new { table, column }, tx) > 0;

        /// <summary>SQL: the time of the event_rows row <paramref name="row"/> in either layout (a migration before 61 run again on a store turned back, as upgrade tests do).</summary>
        internal static string TimeOfRow(SqliteConnection c, SqliteTransaction? tx, string row) => TimesAreOffsets(c, tx) ? TimeOf(row) : row + ".timestamp";

        /// <summary>
        /// SQL (a FROM clause): the rows of event_rows <paramref name="row"/> read block by block, each with its event_blocks
        /// row <paramref name="block"/> as the outer loop, so a block's base is read once for its rows: for statements that
        /// read whole blocks (restrict <paramref name="block"/>.block, <see cref="InBlockRanges"/>, <see cref="BlockBounds"/>).
        /// A lookup of each row's block by key (<see cref="BlockJoin"/>) cost about 0.4 us a row at 10M events where the
        /// rows are read by id ranges (the cut hours' pass: 22k rows, 3 -> 11 ms).
        /// </summary>
        public static string BlockRows(string row, string block) =>
            $"event_blocks {block} CROSS JOIN event_rows {row} ON {row}.id >= {block}.block * {BlockSize} AND {row}.id < ({block}.block + 1) * {BlockSize}";

        /// <summary>SQL: <paramref name="block"/>.block lies in one of the id ranges (false for none), as <see cref="InRanges"/> for ids.</summary>
        public static string InBlockRanges(string block, IReadOnlyCollection<(long from, long to)> ranges) => ranges.Count == 0 ? "0"
            : "(" + string.Join(" OR ", ranges.Select(r => $"({block}.block >= {r.from / BlockSize} AND {block}.block < {(r.to + BlockSize - 1) / BlockSize})")) + ")";

        /// <summary>The bounds of <see cref="IdBounds"/> on the blocks of <see cref="BlockRows"/> (with a leading AND; empty when neither end is given).</summary>
        public static string BlockBounds(string block, string? from, string? to)
        {
            var parts = new List<string>(2);
            if (from != null) parts.Add($" AND {block}.block >= coalesce((SELECT min(block) FROM event_blocks WHERE max_ts >= {from}), {NoBlock})");
            if (to != null) parts.Add($" AND {block}.block <= coalesce((SELECT max(block) FROM event_blocks WHERE min_ts < {to}), -1)");
            return string.Concat(parts);
        }

        /// <summary>
        /// SQL: the row <paramref name="row"/> (of <see cref="BlockRows"/>, or joined to its block) lies in [from, to) (SQL
        /// expressions or parameters; either may be null, not both). The offset is tested against the window moved by the
        /// block's base, and the pattern id (a column far into the record) is read only for a row whose time passed:
        /// reading it for every row cost more than the rest of the test.
        /// </summary>
        public static string Within(string row, string block, string? from, string? to)
        {
            string Test(string baseTs) => string.Join(" AND ", new[] { from == null ? null : $"{row}.ts >= {from}{baseTs}", to == null ? null : $"{row}.ts < {to}{baseTs}" }.Where(x => x != null));
            return $"(({Test($" - {block}.base_ts")} AND {row}.pattern_id IS NULL) OR ({Test("")} AND {row}.pattern_id IS NOT NULL))";
        }

        /// <summary>SQL: joins the row <paramref name="row"/> to its block's event_blocks row, <paramref name="block"/> (the row stays the outer loop).</summary>
        public static string BlockJoin(string row, string block, string schema = "main") =>
            $"LEFT JOIN {schema}.event_blocks {block} ON {block}.block = {row}.id / {BlockSize}";

        /// <summary>
        /// SQL: the time of a row that has a pattern: held whole (schema 61), so that the pattern index (pattern_id, ts)
        /// orders a pattern's events by time and bounds a window on it.
        /// </summary>
        public static string PatternTime(string row) => $"{row}.ts";

        /// <summary>
        /// Migration 61 (after its script, which dropped the view and the pattern index): each block's span is read again
        /// from its rows (in id order, a range per block: no sort), its least time becomes its base, and event_rows is
        /// copied into a table whose ts holds each row's time as an offset from its block's base (whole for a row with a
        /// pattern); then the index and the view are created. The copy is no change of the events, so event_changes does
        /// not list it. A store whose rows hold offsets already is only given the index and the view.
        /// </summary>
        internal static void TimesFromBlocks(SqliteConnection c, SqliteTransaction tx)
        {
            if (!TimesAreOffsets(c, tx))
            {
                var kept = c.Query<string>("SELECT name FROM pragma_table_info('event_rows') ORDER BY cid", transaction: tx).Where(col => col != "id" && col != "timestamp").ToList();
                c.Execute($@"ALTER TABLE event_blocks RENAME TO event_blocks_60;
{Schema.BlocksTableOf61}
INSERT INTO event_blocks(block, min_ts, max_ts, base_ts) SELECT block, min_ts, max_ts, min_ts FROM event_blocks_60 ORDER BY block;
DROP TABLE event_blocks_60;
-- A row whose block was never recorded gets one (none in a store the writer kept).
INSERT OR IGNORE INTO event_blocks(block, min_ts, max_ts, base_ts)
    SELECT r.id / {BlockSize}, r.timestamp, r.timestamp, r.timestamp FROM event_rows r WHERE NOT EXISTS (SELECT 1 FROM event_blocks b WHERE b.block = r.id / {BlockSize});
DELETE FROM event_blocks WHERE NOT EXISTS (SELECT 1 FROM event_rows r WHERE r.id >= event_blocks.block * {BlockSize} AND r.id < (event_blocks.block + 1) * {BlockSize});
UPDATE event_blocks SET (min_ts, max_ts, base_ts) = (SELECT min(r.timestamp), max(r.timestamp), min(r.timestamp) FROM event_rows r WHERE r.id >= event_blocks.block * {BlockSize} AND r.id < (event_blocks.block + 1) * {BlockSize});", transaction: tx);
                RewriteRows(c, tx, $@"
ALTER TABLE event_rows RENAME TO event_rows_60;
{Schema.RowsTableOf61}
INSERT INTO event_rows(id, ts, {string.Join(", ", kept)})
    SELECT r.id, CASE WHEN r.pattern_id IS NULL THEN r.timestamp - b.base_ts ELSE r.timestamp END, {string.Join(", ", kept.Select(col => "r." + col))}
    FROM event_rows_60 r CROSS JOIN event_blocks b ON b.block = r.id / {BlockSize} ORDER BY r.id;
DROP TABLE event_rows_60;");
            }
            c.Execute(Schema.PatternIndexOf61 + Schema.EventsViewOf61, transaction: tx);
        }

        /// <summary>
        /// Migration 81 (after its script, which dropped the view): the rows are copied, in id order so their pages are full,
        /// with every details literal of exactly 22 base-62 characters in the slots that hold ids packed (Text.PackedId; a
        /// shaped row's values only: a row without a shape holds its details whole in d1), and the view that unpacks them
        /// is created. The copy is no change of the events, so event_changes does not list it (RewriteRows keeps the
        /// triggers off the copy).
        /// </summary>
        internal static void PackIds(SqliteConnection c, SqliteTransaction tx)
        {
            var shaped = "r.kind IN (SELECT id FROM kinds WHERE details_shape <> 0)";
            var packs = ValueColumns.Take(Text.PackedId.Slots).ToList();
            var unpacked = string.Join(" OR ", packs.Select(col => $"typeof(r.{col}) = 'text' AND length(r.{col}) = {Text.PackedId.Length}"));
            if (c.ExecuteScalar<long>($"SELECT EXISTS (SELECT 1 FROM event_rows r WHERE ({unpacked}) AND {shaped})", transaction: tx) != 0)
            {
                c.CreateFunction("madf_packed_id", (object? v) => Text.PackedId.Packed(v), isDeterministic: true);
                var columns = c.Query<string>("SELECT name FROM pragma_table_info('event_rows') ORDER BY cid", transaction: tx).ToList();
                string Value(string col) => packs.Contains(col) ? $"CASE WHEN {shaped} THEN madf_packed_id(r.{col}) ELSE r.{col} END" : "r." + col;
                RewriteRows(c, tx, $@"
ALTER TABLE event_rows RENAME TO event_rows_80;
{Schema.RowsTableOf61}
INSERT INTO event_rows({string.Join(", ", columns)}) SELECT {string.Join(", ", columns.Select(Value))} FROM event_rows_80 r ORDER BY r.id;
DROP TABLE event_rows_80;");
            }
            c.Execute(Schema.EventsViewOf81, transaction: tx);
        }

        /// <summary>
        /// The values most events lack, kept in event_extras rather than a column of every row: four since schema 22, and
        /// the time saved or wasted since schema 56 (2.6 % of the realistic events report one).
        /// </summary>
        public static readonly string[] ExtraColumns = { "confidence_score", "impact_score", "user_satisfaction_delta", "created_rule", Wasted };

        /// <summary>The time saved (positive) or wasted (negative) an event reports, in event_extras since schema 56.</summary>
        public const string Wasted = "time_saved_or_wasted_ms";

        /// <summary>The columns migration 22 moved (the time wasted stayed in the rows until 56).</summary>
        private static readonly string[] ExtraColumnsOf22 = ExtraColumns.Where(col => col != Wasted).ToArray();

        /// <summary>
        /// Migration 22 (after its script): copies the rarely set values of event_rows into event_extras, drops their
        /// columns, and creates the view that reads them from there. A store whose rows lack them is only given the view.
        /// </summary>
        internal static void MoveRareColumnsApart(SqliteConnection c, SqliteTransaction tx)
        {
            var columns = c.Query<string>("SELECT name FROM pragma_table_info('event_rows')", transaction: tx).ToList();
            if (ExtraColumnsOf22.All(columns.Contains))
            {
                var list = string.Join(", ", ExtraColumnsOf22);
                c.Execute($@"INSERT OR REPLACE INTO event_extras(id, {list}) SELECT id, {list} FROM event_rows
                             WHERE {string.Join(" OR ", ExtraColumnsOf22.Select(col => col + " IS NOT NULL"))}", transaction: tx);
                foreach (var col in ExtraColumnsOf22) c.Execute($"ALTER TABLE event_rows DROP COLUMN {col}", transaction: tx);
            }
            c.Execute(ViewForRows(c, tx, Schema.EventsViewOf22), transaction: tx);
        }

        /// <summary>The details value columns rows had from schema 13 to 25 (d1..d8).</summary>
        private static readonly string[] EightValueColumns = Enumerable.Range(1, 8).Select(k => "d" + k).ToArray();

        /// <summary>
        /// Migration 32 (after its script, which dropped the view): the rows that use d6..d8 have their details joined
        /// (DetailsShape.Join, the view's rule) and split again into five values, then those columns are dropped and the
        /// view of five values created. The rewrite is no change of the events, so event_changes does not list it.
        /// A store whose rows lack the columns is only given the view.
        /// </summary>
        internal static void MoveToFiveSlots(SqliteConnection c, SqliteTransaction tx)
        {
            var columns = c.Query<string>("SELECT name FROM pragma_table_info('event_rows')", transaction: tx).ToList();
            var extra = EightValueColumns.Skip(DetailsShape.SlotsOf32).Where(columns.Contains).ToList();
            if (extra.Count > 0) WithoutListingChanges(c, tx, () =>
            {
                var present = EightValueColumns.Where(columns.Contains).ToList();
                var select = $@"SELECT r.id, sh.text AS shape, {string.Join(", ", present.Select(col => $"CAST(r.{col} AS TEXT) AS {col}"))}
                                FROM event_rows r JOIN names sh ON sh.id = r.details_shape
                                WHERE r.id > @after AND ({string.Join(" OR ", extra.Select(col => "r." + col + " IS NOT NULL"))}) ORDER BY r.id LIMIT 10000";
                var names = new Dictionary<long, string?>();
                string? Name(long id)
                {
                    if (!names.TryGetValue(id, out var text)) names[id] = text = c.ExecuteScalar<string?>("SELECT text FROM names WHERE id = @id", new { id }, tx);
                    return text;
                }
                var ids = new NameIds(c, tx);
                var splitter = new DetailsShape.Splitter(DetailsShape.SlotsOf32);
                using var update = c.CreateCommand();
                update.Transaction = tx;
                update.CommandText = $"UPDATE event_rows SET details_shape = $shape, {string.Join(", ", present.Select(col => $"{col} = ${col}"))} WHERE id = $id";
                foreach (var col in new[] { "id", "shape" }.Concat(present)) update.Parameters.Add(new SqliteParameter("$" + col, null));
                for (var after = long.MinValue; ;)
                {
                    var rows = new List<(long id, string shape, string?[] values)>();
                    using (var reader = c.ExecuteReader(select, new { after }, tx))
                        while (reader.Read())
                            rows.Add((reader.GetInt64(0), reader.GetString(1),
                                Enumerable.Range(2, present.Count).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i)).ToArray()));
                    if (rows.Count == 0) break;
                    after = rows[rows.Count - 1].id;
                    foreach (var row in rows) Resplit(row.id, row.shape, row.values);
                }
                void Resplit(long id, string shape, string?[] values)
                {
                    var details = DetailsShape.Join(shape, values, Name);
                    var split = splitter.Of(details);
                    update.Parameters["$id"].Value = id;
                    update.Parameters["$shape"].Value = split.Shape == null ? DBNull.Value : (object)ids.Of(split.Shape);
                    for (var k = 0; k < present.Count; k++)
                        update.Parameters["$" + present[k]].Value = (k < DetailsShape.SlotsOf32 ? StoredValue(split, details, k, ids, packIds: false) : null) ?? DBNull.Value;
                    update.ExecuteNonQuery();
                }
                foreach (var col in extra) c.Execute($"ALTER TABLE event_rows DROP COLUMN {col}", transaction: tx);
            });
            // A store turned back to an older version (as upgrade tests do) may have its rows in schema 49's layout already.
            c.Execute(ViewForRows(c, tx, RowsHaveShapes(c, tx) ? Schema.EventsViewOf32 : Schema.EventsViewOf49), transaction: tx);
        }

        /// <summary>
        /// Migration 84 (its script leaves the view, which this reads the details through): the rows whose shape holds
        /// a fourth or fifth value (of 83's five) are given three (DetailsShape.Slots), taking the kind of their new shape
        /// (its flags kept), with the trigger that lists changed events set aside (the events are the same). Where values 3
        /// to 5 are small integers (a Claude Code response's usage counts: nearly all such rows) they are packed into d3 in
        /// one pass over the rows, the shape's placeholders becoming the packed parts, as this build's import writes them;
        /// any other row is split again from its details. Then every row is copied, in id order so its pages are full, into
        /// a table without d4 and d5 (RewriteRows), and 84's view is created. A store whose rows lack the columns is only
        /// given the view.
        /// </summary>
        internal static void MoveToThreeSlots(SqliteConnection c, SqliteTransaction tx)
        {
            var old = Enumerable.Range(DetailsShape.Slots + 1, DetailsShape.SlotsOf32 - DetailsShape.Slots).Select(k => "d" + k).ToList();
            if (old.All(col => HasColumn(c, tx, "event_rows", col)))
            {
                // The kinds whose shapes put a value of a slot past the third (a literal or a names id).
                var beyond = Enumerable.Range(DetailsShape.Slots + 1, DetailsShape.SlotsOf32 - DetailsShape.Slots)
                    .SelectMany(k => new[] { DetailsShape.Placeholder(k, name: false), DetailsShape.Placeholder(k, name: true) })
                    .Select(ch => $"instr(sh.text, char({(int)ch}))");
                var kinds = c.Query<(long id, string shape)>($"SELECT kd.id, sh.text FROM kinds kd JOIN names sh ON sh.id = kd.details_shape WHERE {string.Join(" OR ", beyond)}", transaction: tx).ToList();
                if (kinds.Count > 0) WithoutListingChanges(c, tx, () =>
                {
                    var ids = new NameIds(c, tx);
                    PackSmallIntegers(c, tx, kinds, ids);
                    SplitIntoThree(c, tx, kinds.Select(k => k.id).ToList(), ids);
                });
                c.Execute("DROP VIEW IF EXISTS events", transaction: tx);
                var columns = c.Query<string>("SELECT name FROM pragma_table_info('event_rows') ORDER BY cid", transaction: tx).Where(col => !old.Contains(col)).ToList();
                RewriteRows(c, tx, $@"
ALTER TABLE event_rows RENAME TO event_rows_83;
{Schema.RowsTableOf84}
INSERT INTO event_rows({string.Join(", ", columns)}) SELECT {string.Join(", ", columns)} FROM event_rows_83 ORDER BY id;
DROP TABLE event_rows_83;");
            }
            c.Execute("DROP VIEW IF EXISTS events", transaction: tx);
            c.Execute(Schema.EventsViewOf84, transaction: tx);
        }

        // A migration's rewrite of rows in place is no change of the events: the trigger that lists changed events
        // (event_changes) is set aside while it runs.
        private static void WithoutListingChanges(SqliteConnection c, SqliteTransaction tx, Action rewrite)
        {
            var triggers = c.Query<(string name, string sql)>("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_rows' AND sql LIKE '%AFTER UPDATE%'", transaction: tx).ToList();
            foreach (var (name, _) in triggers) c.Execute($"DROP TRIGGER {name}", transaction: tx);
            rewrite();
            foreach (var (_, sql) in triggers) c.Execute(sql, transaction: tx);
        }

        // Value k (0-based) of a migration's split as its column holds it: a names id for a name, the stored part of a
        // quoted literal (an id packed where the writer packs ids, from schema 81), the whole details in d1 when unshaped.
        private static object? StoredValue(DetailsShape.Split split, string? details, int k, NameIds ids, bool packIds) =>
            split.Shape == null ? (k == 0 ? details : null) : split.Values[k] switch
            {
                long l => l,
                DetailsShape.Name n => ids.Of(n.Text),
                DetailsShape.Quoted q => packIds && k < Text.PackedId.Slots ? Text.PackedId.Packed(q.Stored) : q.Stored,
                string t => packIds && k < Text.PackedId.Slots ? Text.PackedId.Packed(t) : t,
                _ => null,
            };

        // Names ids by text for a migration's writes, added when missing.
        private sealed class NameIds
        {
            private readonly SqliteConnection _c;
            private readonly SqliteTransaction _tx;
            private readonly Dictionary<string, long> _ids = new Dictionary<string, long>(StringComparer.Ordinal);
            public NameIds(SqliteConnection c, SqliteTransaction tx) { _c = c; _tx = tx; }

            public long Of(string text)
            {
                if (_ids.TryGetValue(text, out var id)) return id;
                _c.Execute("INSERT OR IGNORE INTO names(text) VALUES (@text)", new { text }, _tx);
                return _ids[text] = _c.ExecuteScalar<long>("SELECT id FROM names WHERE text = @text", new { text }, _tx);
            }
        }

        // The kind of the same flags as <paramref name="kind"/> with details shape <paramref name="shape"/>, created (with the
        // id of the fewest bytes) when missing.
        private static long KindWithShape(SqliteConnection c, SqliteTransaction tx, long kind, long shape)
        {
            var flags = Kinds.Columns.Where(col => col != "details_shape").ToList();
            var found = c.ExecuteScalar<long?>($@"SELECT k2.id FROM kinds k JOIN kinds k2 ON {string.Join(" AND ", flags.Select(col => $"k2.{col} = k.{col}"))}
                                                 AND k2.details_shape = @shape WHERE k.id = @kind", new { kind, shape }, tx);
            if (found != null) return found.Value;
            var (greatest, least) = c.QuerySingle<(long, long)>("SELECT coalesce(max(id), 0), coalesce(min(id), 0) FROM kinds", transaction: tx);
            var id = Combinations.NextId(greatest, least);
            c.Execute($"INSERT INTO kinds(id, {string.Join(", ", flags)}, details_shape) SELECT @id, {string.Join(", ", flags)}, @shape FROM kinds WHERE id = @kind",
                new { id, kind, shape }, tx);
            return id;
        }

        // Migration 84's packing: the kinds whose values from the third on are literals (no names id) map to the kind of the
        // shape with packed parts in their place, and their rows whose values there are all integers in range move to it
        // with the integers packed into d3, in one UPDATE over the rows.
        private static void PackSmallIntegers(SqliteConnection c, SqliteTransaction tx, List<(long id, string shape)> kinds, NameIds ids)
        {
            // Values 3..5 of 83's rows: their literal placeholders, in the order the splitter filled them.
            var slots = Enumerable.Range(DetailsShape.Slots, DetailsShape.SlotsOf32 - DetailsShape.Slots + 1).ToList();
            var maps = new List<object?[]>();
            foreach (var (kind, shape) in kinds)
            {
                if (slots.Any(k => shape.Contains(DetailsShape.Placeholder(k, name: true)))) continue;
                var present = slots.TakeWhile(k => shape.Contains(DetailsShape.Placeholder(k, name: false))).ToList();
                if (present.Count < 2 || slots.Skip(present.Count).Any(k => shape.Contains(DetailsShape.Placeholder(k, name: false)))) continue;
                var packed = shape;
                for (var j = 0; j < present.Count; j++) packed = packed.Replace(DetailsShape.Placeholder(present[j], name: false), DetailsShape.PackedPart(j, present.Count));
                maps.Add(new object?[] { kind, KindWithShape(c, tx, kind, ids.Of(packed)), present.Count });
            }
            if (maps.Count == 0) return;
            c.Execute("DROP TABLE IF EXISTS temp.three_slots; CREATE TEMP TABLE three_slots (kind INTEGER PRIMARY KEY, to_kind INTEGER NOT NULL, parts INTEGER NOT NULL)", transaction: tx);
            PreparedBatch.Run(c, tx, "INSERT INTO temp.three_slots VALUES ($1, $2, $3)", maps);
            string Small(string col) => $"typeof({col}) = 'integer' AND {col} BETWEEN 0 AND {DetailsShape.PackedMask}";
            string Packed(int parts) => string.Join(" | ", slots.Take(parts).Select((k, j) => $"(d{k} << {DetailsShape.PackedShift(DetailsShape.PackedPart(j, parts))})"));
            c.Execute($@"UPDATE event_rows SET kind = m.to_kind,
                             d3 = CASE m.parts WHEN 2 THEN {Packed(2)} ELSE {Packed(3)} END, d4 = NULL, d5 = NULL
                         FROM temp.three_slots m
                         WHERE m.kind = event_rows.kind AND {Small("d3")} AND {Small("d4")} AND (m.parts = 2 AND d5 IS NULL OR m.parts = 3 AND {Small("d5")})", transaction: tx);
            c.Execute("DROP TABLE temp.three_slots", transaction: tx);
        }

        // Migration 84's re-split of the rows still of these kinds, read through 83's view in batches by id.
        private static void SplitIntoThree(SqliteConnection c, SqliteTransaction tx, List<long> kinds, NameIds ids)
        {
            var kindOf = new Dictionary<(long kind, long shape), long>();
            var splitter = new DetailsShape.Splitter();
            using var update = c.CreateCommand();
            update.Transaction = tx;
            update.CommandText = "UPDATE event_rows SET kind = $kind, d1 = $d1, d2 = $d2, d3 = $d3, d4 = NULL, d5 = NULL WHERE id = $id";
            foreach (var p in new[] { "$id", "$kind", "$d1", "$d2", "$d3" }) update.Parameters.Add(new SqliteParameter(p, null));
            var select = $"SELECT id, kind, details FROM events WHERE kind IN ({string.Join(", ", kinds)}) AND id > @after ORDER BY id LIMIT 10000";
            for (var after = long.MinValue; ;)
            {
                var rows = c.Query<(long id, long kind, string? details)>(select, new { after }, tx).ToList();
                if (rows.Count == 0) break;
                after = rows[rows.Count - 1].id;
                foreach (var (id, kind, details) in rows)
                {
                    var split = splitter.Of(details);
                    var shape = split.Shape == null ? 0 : ids.Of(split.Shape);
                    if (!kindOf.TryGetValue((kind, shape), out var to)) kindOf[(kind, shape)] = to = KindWithShape(c, tx, kind, shape);
                    update.Parameters["$id"].Value = id;
                    update.Parameters["$kind"].Value = to;
                    for (var k = 0; k < DetailsShape.Slots; k++)
                        update.Parameters["$d" + (k + 1)].Value = StoredValue(split, details, k, ids, packIds: true) ?? DBNull.Value;
                    update.ExecuteNonQuery();
                }
            }
        }

        /// <summary>
        /// A store turned back to a version before 84 (as upgrade tests do) keeps its rows in 84's layout, so the view an
        /// older migration created, which reads d4 and d5, cannot be read: it is given 84's view again (Schema.AfterScript).
        /// </summary>
        internal static void KeepViewOfThreeSlots(SqliteConnection c, SqliteTransaction tx)
        {
            if (HasColumn(c, tx, "event_rows", "d4") || !HasColumn(c, tx, "event_rows", "d3")) return;
            var view = c.ExecuteScalar<string?>("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'events'", transaction: tx);
            if (view == null || !view.Contains("r.d4")) return;
            c.Execute("DROP VIEW events", transaction: tx);
            c.Execute(Schema.EventsViewOf84, transaction: tx);
        }

        /// <summary>Whether event_rows still has its own details_shape column (before schema 49, which moved it into the kind).</summary>
        private static bool RowsHaveShapes(SqliteConnection c, SqliteTransaction tx) =>
            HasColumn(c, tx, "event_rows", "details_shape");

        /// <summary>SQL: an event_rows row's details shape (unaliased), in either layout (a migration before 49 runs on both: upgrade tests turn stores back).</summary>
        private static string ShapeOfRow(SqliteConnection c, SqliteTransaction tx) =>
            RowsHaveShapes(c, tx) ? "details_shape" : "nullif((SELECT k.details_shape FROM kinds k WHERE k.id = event_rows.kind), 0)";

        /// <summary>
        /// Migration 49 (after its script, which dropped the view): each row's details shape moves into its kind. kinds is
        /// built again with a details_shape column (0: details stored whole, or none), a row per pair of kind and shape
        /// the rows use, the most frequent first so that most rows' kind takes one byte (and the kinds no row uses, with
        /// shape 0); event_rows is copied into a table without the column, in id order so its pages are full (rows shrunk
        /// in place would leave them part empty until a VACUUM), keeping AUTOINCREMENT's counter, its index and its
        /// triggers; then the view is created. The copy is no change of the events, so event_changes does not list it.
        /// A store whose rows have no shape column is only given the view.
        /// </summary>
        internal static void FoldShapesIntoKinds(SqliteConnection c, SqliteTransaction tx)
        {
            if (RowsHaveShapes(c, tx))
            {
                var flags = "event_type, category, success, pattern_detected, needs_review";
                var same = string.Join(" AND ", flags.Split(',').Select(col => $"f.{col.Trim()} = k.{col.Trim()}"));
                // The old tables are renamed and the new ones created under their names (the schema reads as a new store's).
                // The pairs of kind and shape the rows use, counted in one pass over the rows (a GROUP BY would sort every
                // row, in memory since the connection keeps its temporary data there: 10M rows took 400 MB).
                var pairs = new Dictionary<(long kind, long shape), long>();
                using (var reader = c.ExecuteReader("SELECT kind, coalesce(details_shape, 0) FROM event_rows", transaction: tx))
                    while (reader.Read())
                    {
                        var pair = (reader.GetInt64(0), reader.GetInt64(1));
                        pairs[pair] = pairs.TryGetValue(pair, out var n) ? n + 1 : 1;
                    }
                c.Execute("CREATE TEMP TABLE kind_shapes (kind INTEGER NOT NULL, shape INTEGER NOT NULL, n INTEGER NOT NULL)", transaction: tx);
                PreparedBatch.Run(c, tx, "INSERT INTO temp.kind_shapes VALUES ($1, $2, $3)", pairs.Select(x => new object?[] { x.Key.kind, x.Key.shape, x.Value }));
                RewriteRows(c, tx, $@"
ALTER TABLE kinds RENAME TO kinds_unfolded;
ALTER TABLE event_rows RENAME TO event_rows_unfolded;
CREATE TABLE kinds (
    id INTEGER PRIMARY KEY,
    event_type INTEGER NOT NULL,
    category INTEGER NOT NULL,
    success INTEGER NOT NULL,
    pattern_detected INTEGER NOT NULL,
    needs_review INTEGER NOT NULL,
    details_shape INTEGER NOT NULL DEFAULT 0,
    UNIQUE (event_type, category, success, pattern_detected, needs_review, details_shape)
);
-- Errors.Kinds (a kind per error shape: 168 of 468 at 1M realistic events) is built once per statement, and some
-- statements hold one per pattern: read from this index, not by scanning every kind.
CREATE INDEX ix_kinds_outcome ON kinds(success, category);
INSERT INTO kinds({flags}, details_shape)
    SELECT k.event_type, k.category, k.success, k.pattern_detected, k.needs_review, s.shape FROM temp.kind_shapes s JOIN kinds_unfolded k ON k.id = s.kind ORDER BY s.n DESC, s.kind, s.shape;
INSERT OR IGNORE INTO kinds({flags}, details_shape) SELECT {flags}, 0 FROM kinds_unfolded ORDER BY id;
CREATE TEMP TABLE kind_map (kind INTEGER NOT NULL, shape INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (kind, shape)) WITHOUT ROWID;
INSERT INTO temp.kind_map SELECT s.kind, s.shape, f.id FROM temp.kind_shapes s JOIN kinds_unfolded k ON k.id = s.kind JOIN kinds f ON {same} AND f.details_shape = s.shape;
CREATE TABLE event_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    context INTEGER NOT NULL,
    duration_ms INTEGER,
    tokens_used INTEGER,
    context_percent,
    pattern_id INTEGER,
    d1, d2, d3, d4, d5,
    time_saved_or_wasted_ms INTEGER);
INSERT INTO event_rows(id, timestamp, kind, context, duration_ms, tokens_used, context_percent, pattern_id, d1, d2, d3, d4, d5, time_saved_or_wasted_ms)
    SELECT r.id, r.timestamp, coalesce(m.id, r.kind), r.context, r.duration_ms, r.tokens_used, r.context_percent, r.pattern_id, r.d1, r.d2, r.d3, r.d4, r.d5, r.time_saved_or_wasted_ms
    FROM event_rows_unfolded r LEFT JOIN temp.kind_map m ON m.kind = r.kind AND m.shape = coalesce(r.details_shape, 0) ORDER BY r.id;
DROP TABLE event_rows_unfolded;
DROP TABLE kinds_unfolded;
DROP TABLE temp.kind_shapes;
DROP TABLE temp.kind_map;");
            }
            c.Execute(ViewForRows(c, tx, Schema.EventsViewOf49), transaction: tx);
        }

        /// <summary>
        /// Runs <paramref name="sql"/>, which renames event_rows, creates it again in another layout, copies the old rows into
        /// it in id order (full pages: rows shrunk in place would leave them part empty until a VACUUM) and drops the old
        /// table, keeping AUTOINCREMENT's counter, the index and the triggers (migrations 49, 56 and 61; <see cref="CopyRows"/> copies
        /// rows between stores).
        /// </summary>
        private static void RewriteRows(SqliteConnection c, SqliteTransaction tx, string sql)
        {
            var dependents = c.Query<string>("SELECT sql FROM sqlite_master WHERE tbl_name = 'event_rows' AND type IN ('index', 'trigger') AND sql IS NOT NULL", transaction: tx).ToList();
            var seq = c.ExecuteScalar<long?>("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'", transaction: tx);
            c.Execute(sql, transaction: tx);
            // AUTOINCREMENT's high-water mark: ids are never reused, even those of rows retention moved out.
            if (seq.HasValue)
            {
                c.Execute("DELETE FROM sqlite_sequence WHERE name = 'event_rows'", transaction: tx);
                c.Execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('event_rows', max(@seq, (SELECT coalesce(max(id), 0) FROM event_rows)))", new { seq }, tx);
            }
            foreach (var dependent in dependents) c.Execute(dependent, transaction: tx);
        }

        /// <summary>Whether event_rows still holds the time saved or wasted (before schema 56, which moved it into event_extras).</summary>
        private static bool RowsHaveWasted(SqliteConnection c, SqliteTransaction tx) =>
            HasColumn(c, tx, "event_rows", Wasted);

        /// <summary>
        /// An events view of an earlier schema as the rows are: reading the time wasted from event_extras where the rows no
        /// longer hold it, and the time through the row's block where the rows hold offsets (a migration before 56 or 61
        /// run again on a store turned back by deleting version rows, as upgrade tests do).
        /// </summary>
        private static string ViewForRows(SqliteConnection c, SqliteTransaction tx, string view)
        {
            if (!RowsHaveWasted(c, tx)) view = Schema.WastedFromExtras(view);
            return ViewForTimes(c, tx, view);
        }

        // The view reading the time through the row's block where the rows hold offsets (schema 61).
        private static string ViewForTimes(SqliteConnection c, SqliteTransaction tx, string view) =>
            TimesAreOffsets(c, tx) ? Schema.TimesFromBlocksView(view) : view;

        /// <summary>
        /// Migration 56 (after its script, which dropped the view and event_extras' triggers): the time saved or wasted moves
        /// from event_rows into event_extras (a row there for the 2.6 % of events that report one: every row paid a byte of
        /// record header for it), event_rows is copied into a table without the column, and the triggers and the view are
        /// created again. The move is no change of the events, so event_changes does not list it (the triggers are created
        /// after it). A store whose rows have no such column is only given the column, the triggers and the view.
        /// </summary>
        internal static void MoveWastedApart(SqliteConnection c, SqliteTransaction tx)
        {
            if (!HasColumn(c, tx, "event_extras", Wasted))
                c.Execute($"ALTER TABLE event_extras ADD COLUMN {Wasted} INTEGER", transaction: tx);
            if (RowsHaveWasted(c, tx))
            {
                var kept = string.Join(", ", c.Query<string>("SELECT name FROM pragma_table_info('event_rows') ORDER BY cid", transaction: tx).Where(col => col != Wasted));
                c.Execute($@"INSERT INTO event_extras(id, {Wasted}) SELECT id, {Wasted} FROM event_rows WHERE {Wasted} IS NOT NULL
                             ON CONFLICT(id) DO UPDATE SET {Wasted} = excluded.{Wasted}", transaction: tx);
                RewriteRows(c, tx, $@"
ALTER TABLE event_rows RENAME TO event_rows_55;
{Schema.RowsTableOf56}
INSERT INTO event_rows({kept}) SELECT {kept} FROM event_rows_55 ORDER BY id;
DROP TABLE event_rows_55;");
            }
            c.Execute(Schema.ExtrasTriggersOf56 + ViewForTimes(c, tx, Schema.EventsViewOf56), transaction: tx);
        }

        /// <summary>
        /// The events that produced a rule point at it (created_rule, kept in event_extras with the other rarely set
        /// values), in the caller's transaction; <paramref name="where"/> is on event_rows, unaliased.
        /// </summary>
        public static void SetCreatedRule(SqliteConnection c, SqliteTransaction tx, string where, object parameters) =>
            c.Execute("INSERT INTO event_extras(id, created_rule) SELECT id, @Id FROM event_rows WHERE " + where
                + " ON CONFLICT(id) DO UPDATE SET created_rule = excluded.created_rule", parameters, tx);

        /// <summary>A merged pattern's events point at the pattern it merged into.</summary>
        public static void MovePattern(SqliteConnection c, SqliteTransaction tx, long from, long into) =>
            c.Execute("UPDATE event_rows SET pattern_id = @into WHERE pattern_id = @from", new { from, into }, tx);

        /// <summary>
        /// The events (of those matching <paramref name="where"/>, on event_rows unaliased) of many merged patterns point at
        /// their survivors, in one pass over the rows (<see cref="MovePattern"/> for each would read them once per pattern).
        /// </summary>
        public static void MovePatterns(SqliteConnection c, SqliteTransaction tx, IReadOnlyDictionary<long, long> survivors, string where)
        {
            if (survivors.Count == 0) return;
            c.Execute("DROP TABLE IF EXISTS temp.survivors; CREATE TEMP TABLE survivors (id INTEGER PRIMARY KEY, survivor INTEGER NOT NULL);", transaction: tx);
            PreparedBatch.Run(c, tx, "INSERT INTO temp.survivors VALUES ($1, $2)", survivors.Select(kv => new object?[] { kv.Key, kv.Value }));
            c.Execute($@"UPDATE main.event_rows SET pattern_id = (SELECT survivor FROM temp.survivors s WHERE s.id = event_rows.pattern_id)
                WHERE pattern_id IN (SELECT id FROM temp.survivors) AND {where}; DROP TABLE temp.survivors;", transaction: tx);
        }

        /// <summary>Deletes the rows matching <paramref name="where"/> (on event_rows unaliased) and their extras (a combined store takes changed events again).</summary>
        public static void DeleteRows(SqliteConnection c, SqliteTransaction tx, string where) =>
            c.Execute($"DELETE FROM main.event_extras WHERE id IN (SELECT id FROM main.event_rows WHERE {where}); DELETE FROM main.event_rows WHERE {where};", transaction: tx);

        /// <summary>
        /// Conditions (with a leading AND; empty when neither end is given) that bound <paramref name="id"/> to the blocks whose time span can meet
        /// [<paramref name="from"/>, <paramref name="to"/>): SQL expressions or parameters, either may be null. The exact
        /// timestamp test stays with the caller; this only lets SQLite skip the rest.
        /// </summary>
        public static string IdBounds(string id, string? from, string? to) => from == null && to == null ? "" : " AND " + IdRange(id, from, to);

        /// <summary>The same bounds as one condition (at least one of <paramref name="from"/> and <paramref name="to"/> given).</summary>
        public static string IdRange(string id, string? from, string? to)
        {
            var parts = new List<string>(2);
            if (from != null) parts.Add($"{id} >= coalesce((SELECT min(block) FROM event_blocks WHERE max_ts >= {from}), {NoBlock}) * {BlockSize}");
            if (to != null) parts.Add($"{id} < (coalesce((SELECT max(block) FROM event_blocks WHERE min_ts < {to}), -1) + 1) * {BlockSize}");
            return string.Join(" AND ", parts);
        }

        /// <summary>
        /// The time window [from, to) on an events alias ("" for none): the exact test and its id bounds. <paramref name="time"/>:
        /// the SQL of the event's time where the alias is not the events view (event_rows: <see cref="TimeOf"/>, <see cref="PatternTime"/>).
        /// </summary>
        public static string Window(string alias, string from, string to, string? time = null)
        {
            var a = alias.Length == 0 ? "" : alias + ".";
            time ??= a + "timestamp";
            return $"{time} >= {from} AND {time} < {to}{IdBounds(a + "id", from, to)}";
        }

        /// <summary>
        /// Keeps event_blocks and event_block_days equal to the rows after rows were deleted (retention) or copied in
        /// (archives; from <paramref name="fromBlock"/> on: rows added above the blocks before it, as -IncludeArchive's
        /// combined store takes the active store's new events).
        /// </summary>
        public static void RefreshBlocks(SqliteConnection c, SqliteTransaction tx, string schema = "main", long fromBlock = 0)
        {
            // A block keeps its base while it holds rows (they are offsets from it); its span is read from them, a range per block.
            var inBlock = $"r.id >= event_blocks.block * {BlockSize} AND r.id < (event_blocks.block + 1) * {BlockSize}";
            c.Execute($@"DELETE FROM {schema}.event_blocks WHERE block >= {fromBlock} AND NOT EXISTS (SELECT 1 FROM {schema}.event_rows r WHERE {inBlock});
                UPDATE {schema}.event_blocks SET (min_ts, max_ts) = (SELECT min({TimeOf("r", "event_blocks")}), max({TimeOf("r", "event_blocks")}) FROM {schema}.event_rows r WHERE {inBlock})
                WHERE block >= {fromBlock};
                DELETE FROM {schema}.event_block_days WHERE block >= {fromBlock};
                {BlockDaysFill(schema, fromBlock)};", transaction: tx);
        }

        /// <summary>
        /// event_block_days' rows from a schema's event_rows (of the blocks from <paramref name="fromBlock"/> on, which must
        /// have none): each block's span per day and story. <paramref name="wholeTimes"/>: rows before schema 61 (migration 15).
        /// </summary>
        internal static string BlockDaysFill(string schema, long fromBlock = 0, bool wholeTimes = false)
        {
            var time = wholeTimes ? "r.timestamp" : TimeOf("r", "b");
            return $@"INSERT INTO {schema}.event_block_days(day, story, block, min_ts, max_ts)
                SELECT {IsoWeeks.DaySql(time)}, x.story_id, r.id / {BlockSize}, min({time}), max({time})
                FROM {schema}.event_rows r JOIN {schema}.contexts x ON x.id = r.context{(wholeTimes ? "" : " " + BlockJoin("r", "b", schema))}{(fromBlock > 0 ? $" WHERE r.id >= {fromBlock * BlockSize}" : "")} GROUP BY 1, 2, 3";
        }

        // Above this many id ranges the nearest are joined (a superset), so a statement stays short.
        private const int MostRanges = 200;

        /// <summary>
        /// The id ranges [from, to) of the blocks that hold events of <paramref name="stories"/> (texts; null for any) within
        /// [<paramref name="since"/>, <paramref name="until"/>) (null for an open end), from each block's span per day and
        /// story (event_block_days), adjacent blocks joined. A window or a story meets far fewer blocks so than through one
        /// range from its first to its last block, since transcripts and daily logs interleave in id order.
        /// </summary>
        public static List<(long from, long to)> BlockRanges(SqliteConnection c, long? since, long? until, IReadOnlyCollection<string>? stories)
        {
            var p = new DynamicParameters();
            var sql = "SELECT DISTINCT block FROM event_block_days WHERE 1=1";
            if (since.HasValue) { sql += " AND day >= @sinceDay AND max_ts >= @since"; p.Add("since", since.Value); p.Add("sinceDay", IsoWeeks.DayOf(since.Value)); }
            if (until.HasValue) { sql += " AND day <= @untilDay AND min_ts < @until"; p.Add("until", until.Value); p.Add("untilDay", IsoWeeks.DayOf(until.Value)); }
            if (stories != null) { sql += " AND story IN (SELECT id FROM names WHERE text IN @stories)"; p.Add("stories", stories); }
            return Ranges(c.Query<long>(sql + " ORDER BY block", p));
        }

        /// <summary>The id ranges [from, to) of blocks (in ascending order), adjacent blocks joined, and across the narrowest gaps above a few hundred ranges.</summary>
        public static List<(long from, long to)> Ranges(IEnumerable<long> blocks)
        {
            var ranges = new List<(long from, long to)>();
            foreach (var block in blocks)
            {
                if (ranges.Count > 0 && ranges[ranges.Count - 1].to == block * BlockSize) ranges[ranges.Count - 1] = (ranges[ranges.Count - 1].from, (block + 1) * BlockSize);
                else ranges.Add((block * BlockSize, (block + 1) * BlockSize));
            }
            if (ranges.Count <= MostRanges) return ranges;
            // Keep the widest gaps between ranges; join across the rest.
            var keep = new HashSet<int>(Enumerable.Range(1, ranges.Count - 1).OrderByDescending(i => ranges[i].from - ranges[i - 1].to).ThenBy(i => i).Take(MostRanges - 1));
            var joined = new List<(long from, long to)> { ranges[0] };
            for (var i = 1; i < ranges.Count; i++)
                if (keep.Contains(i)) joined.Add(ranges[i]);
                else joined[joined.Count - 1] = (joined[joined.Count - 1].from, ranges[i].to);
            return joined;
        }

        /// <summary>SQL: <paramref name="id"/> lies in one of the ranges (false for none); SQLite reads each range from the rows' b-tree.</summary>
        public static string InRanges(string id, IReadOnlyCollection<(long from, long to)> ranges) => ranges.Count == 0 ? "0"
            : "(" + string.Join(" OR ", ranges.Select(r => $"({id} >= {r.from} AND {id} < {r.to})")) + ")";

        /// <summary>
        /// Deletes kinds, contexts and names no row refers to any more (after retention moved rows out), so the dictionaries
        /// shrink with the store.
        /// </summary>
        public static int PruneNames(SqliteConnection c, SqliteTransaction tx)
        {
            foreach (var t in AllCombinations)
                c.Execute($"DELETE FROM {t.Table} WHERE id NOT IN (SELECT {t.RowColumn} FROM event_rows)", transaction: tx);
            return c.Execute($"DELETE FROM names WHERE id NOT IN ({NameIdsUsed("main", "1")})", transaction: tx);
        }

        /// <summary>How many events the active store holds.</summary>
        public static long Count(SqliteConnection c) => c.ExecuteScalar<long>("SELECT count(*) FROM event_rows");

        /// <summary>The timestamp of the event <paramref name="keep"/> places after the newest (newest first), null when there are not that many.</summary>
        public static long? NewestTimestampBeyond(SqliteConnection c, long keep) =>
            c.ExecuteScalar<long?>($"SELECT {TimeOf("r", "b")} FROM event_rows r {BlockJoin("r", "b")} ORDER BY 1 DESC LIMIT 1 OFFSET @keep", new { keep });

        /// <summary>The months (yyyy-MM, UTC) that hold events before <paramref name="cutoff"/>, oldest first.</summary>
        public static List<string> MonthsBefore(SqliteConnection c, long cutoff) => c.Query<string>(
            $"SELECT DISTINCT strftime('%Y-%m', {TimeOf("r", "b")} / 1000, 'unixepoch') FROM event_rows r {BlockJoin("r", "b")} WHERE {TimeOf("r", "b")} < @cutoff" + IdBounds("r.id", null, "@cutoff") + " ORDER BY 1", new { cutoff }).ToList();

        /// <summary>
        /// Copies the active rows of [start, upper) and their keys (those of the whole month, packed) into the archive attached as <c>arch</c> (same schema), in
        /// the caller's transaction (retention's copy step). Name, kind and
        /// context ids are per database, so every coded column (kind, context, shape, name values) is
        /// translated through the texts; event ids are kept, which is how the delete step knows what the archive holds.
        /// INSERT OR IGNORE makes a repeated copy harmless.
        /// </summary>
        public static void CopyToArchive(SqliteConnection c, SqliteTransaction tx, long start, long upper)
        {
            var range = Window("r", "@start", "@upper", TimeOf("r"));
            var p = new { start, upper };
            CopyRows(c, tx, "main", "arch", range, p);
            // The packed keys of the rows' month, both sets (all of it: those of events that stay active too, which is
            // harmless, as they are stored once either way), added to the archive's; the responses' with their ids (kept).
            foreach (var responses in new[] { false, true })
                using (var active = responses ? EventKeys.Responses(c) : new EventKeys(c))
                using (var archive = responses ? EventKeys.Responses(c, "arch") : new EventKeys(c, "arch"))
                {
                    foreach (var (key, month, id) in active.TakeMonths(new[] { EventKeys.MonthOf(start) }, remove: false)) archive.Add(key, month, id);
                    archive.Flush();
                }
            RefreshBlocks(c, tx, "arch");
        }

        /// <summary>
        /// Copies the rows of schema <paramref name="from"/> matching <paramref name="where"/> (on alias r; null: all) into schema
        /// <paramref name="to"/> (same schema version), keeping their ids: name, kind and context ids are per database, so
        /// every coded column (kind, context, shape, name values) is translated through the texts, and the names, kinds
        /// and contexts the rows need are added to the target's own. INSERT OR IGNORE makes a repeated copy harmless.
        /// Retention copies active rows into an archive; -IncludeArchive copies archives into one store (CombinedStore).
        /// The caller refreshes the target's blocks.
        /// </summary>
        public static void CopyRows(SqliteConnection c, SqliteTransaction tx, string from, string to, string? where, object? p = null)
        {
            // All rows (where null: an archive into the combined store): every name, kind and context of the source,
            // without working out which the rows use (an archive holds only those its rows use).
            var all = where == null;
            where ??= "1";
            var used = all ? $"SELECT id FROM {from}.names" : NameIdsUsed(from, where);
            c.Execute($"INSERT OR IGNORE INTO {to}.names(text) SELECT text FROM {from}.names WHERE id IN ({used})", p, tx);
            c.Execute("DROP TABLE IF EXISTS temp.name_map; CREATE TEMP TABLE name_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);", transaction: tx);
            c.Execute($"INSERT INTO temp.name_map SELECT m.id, a.id FROM {from}.names m JOIN {to}.names a ON a.text = m.text WHERE m.id IN ({used})", p, tx);
            c.Execute("INSERT OR IGNORE INTO temp.name_map VALUES (0, 0)", transaction: tx); // "none" in a context
            string Mapped(string column) => $"(SELECT new FROM temp.name_map WHERE old = {column})";
            // Kinds and contexts: their names translated, added to the target's own, and their ids mapped.
            foreach (var t in AllCombinations)
            {
                var moved = all ? $"SELECT id FROM {from}.{t.Table}" : $"SELECT r.{t.RowColumn} FROM {from}.event_rows r WHERE {where}";
                string Value(string col) => t.NameColumns.Contains(col) ? Mapped("x." + col) : "x." + col;
                c.Execute($@"DROP TABLE IF EXISTS temp.{t.Table}_map; CREATE TEMP TABLE {t.Table}_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
                             INSERT OR IGNORE INTO {to}.{t.Table}({string.Join(", ", t.Columns)})
                             SELECT {string.Join(", ", t.Columns.Select(Value))} FROM {from}.{t.Table} x WHERE x.id IN ({moved});
                             INSERT INTO temp.{t.Table}_map SELECT x.id, y.id FROM {from}.{t.Table} x JOIN {to}.{t.Table} y ON
                             {string.Join(" AND ", t.Columns.Select(col => $"y.{col} = {Value(col)}"))} WHERE x.id IN ({moved});", p, tx);
            }
            var columns = c.Query<string>($"SELECT name FROM pragma_table_info('event_rows', '{from}')", transaction: tx).ToList();
            // A row's time is an offset from its block's base (TimeOf): the target's blocks the rows enter keep their
            // base, a block new to it takes the source's (the caller refreshes the spans), and the offsets are translated.
            c.Execute($@"INSERT OR IGNORE INTO {to}.event_blocks(block, min_ts, max_ts, base_ts)
                         SELECT block, min_ts, max_ts, base_ts FROM {from}.event_blocks WHERE block IN (SELECT r.id / {BlockSize} FROM {from}.event_rows r WHERE {where})", p, tx);
            string Select(string col)
            {
                if (col == "ts") return "r.ts + CASE WHEN r.pattern_id IS NULL THEN sb.base_ts - tb.base_ts ELSE 0 END";
                var combination = AllCombinations.FirstOrDefault(t => t.RowColumn == col);
                if (combination != null) return $"(SELECT new FROM temp.{combination.Table}_map WHERE old = r.{col})";
                var k = Array.IndexOf(ValueColumns, col) + 1; // a details value: a name id where the shape says so
                if (k > 0) return $"CASE WHEN {ValueIsName(k, "sh")} THEN {Mapped("r." + col)} ELSE r.{col} END";
                return "r." + col;
            }
            c.Execute($@"INSERT OR IGNORE INTO {to}.event_rows({string.Join(",", columns)})
                         SELECT {string.Join(",", columns.Select(Select))} FROM {from}.event_rows r {ShapeJoin(from, left: true)}
                         {BlockJoin("r", "sb", from)} {BlockJoin("r", "tb", to)} WHERE {where}", p, tx);
            var extras = "id, " + string.Join(", ", ExtraColumns);
            c.Execute($"INSERT OR IGNORE INTO {to}.event_extras({extras}) SELECT {extras} FROM {from}.event_extras{(all ? "" : $" WHERE id IN (SELECT r.id FROM {from}.event_rows r WHERE {where})")}", p, tx);
            c.Execute("DROP TABLE temp.name_map;" + string.Concat(AllCombinations.Select(t => $" DROP TABLE temp.{t.Table}_map;")), transaction: tx);
        }

        /// <summary>
        /// Deletes the active rows of [start, upper) that the archive attached as <c>arch</c> holds, with their keys (the
        /// archive has them: the writer looks there for events of archived months, so the active store does not grow with
        /// every archived event), in the caller's transaction (retention's delete step). Returns the rows deleted.
        /// </summary>
        public static int DeleteArchived(SqliteConnection c, SqliteTransaction tx, long start, long upper)
        {
            var archived = $"{Window("r", "@start", "@upper", TimeOf("r"))} AND r.id IN (SELECT id FROM arch.event_rows)";
            c.Execute($"DELETE FROM main.event_extras WHERE id IN (SELECT r.id FROM main.event_rows r WHERE {archived})", new { start, upper }, tx);
            var deleted = c.Execute($"DELETE FROM main.event_rows WHERE id IN (SELECT r.id FROM main.event_rows r WHERE {archived})", new { start, upper }, tx);
            // The month's packed keys, both sets, leave with its last event (the archive has them since the copy); while some
            // of its events stay (a window that cuts the month), they stay too (a response's key then names a row the
            // archive holds: its repeated lines find no row to grow, as they would in the archive's month).
            var first = DateTimeOffset.FromUnixTimeMilliseconds(start);
            var end = new DateTimeOffset(first.Year, first.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1).ToUnixTimeMilliseconds();
            if (!c.ExecuteScalar<bool>($"SELECT EXISTS (SELECT 1 FROM main.event_rows r WHERE {Window("r", "@start", "@end", TimeOf("r"))})", new { start, end }, tx))
            {
                using (var keys = new EventKeys(c)) keys.TakeMonths(new[] { EventKeys.MonthOf(start) }, remove: true);
                using (var keys = EventKeys.Responses(c)) keys.TakeMonths(new[] { EventKeys.MonthOf(start) }, remove: true);
            }
            return deleted;
        }

        /// <summary>The events the archive attached as <c>arch</c> holds: how many, the first and the last time.</summary>
        public static ArchivedSpan ArchiveSpan(SqliteConnection c, SqliteTransaction tx) =>
            c.QuerySingle<ArchivedSpan>($"SELECT count(*) AS Events, min({TimeOf("r", "b")}) AS First, max({TimeOf("r", "b")}) AS Last FROM arch.event_rows r {BlockJoin("r", "b", "arch")}", transaction: tx);

        /// <summary>An archive's events: how many, the first and the last time (null when it holds none).</summary>
        public sealed class ArchivedSpan
        {
            public long Events { get; set; }
            public long? First { get; set; }
            public long? Last { get; set; }
        }
    }
}

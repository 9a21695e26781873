using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Writes events into the compact store (docs/storage.md): the dedup key first (a key already in event_keys, or in
    /// response_keys for Claude Code responses whose repeated lines update their row, is a duplicate: this is what makes
    /// re-imports add nothing), then the row with its texts as kind, context and name ids and its details as shape and
    /// values. One writer serves one transaction, and <see cref="Flush"/> must be called before it commits (new keys are
    /// written into their packed rows then). Statements are prepared once and bound through SQLite's own API (ADO.NET's
    /// per-parameter overhead was most of the import's cost).
    /// </summary>
    public sealed class EventWriter : IDisposable
    {
        private static readonly string[] Columns = new[]
        {
            "id", "ts", "kind", "context", "duration_ms", "tokens_used", "context_percent", "pattern_id",
        }.Concat(EventStorage.ValueColumns).ToArray();

        // The rarely set columns, in a row of event_extras only for events that have one (schema 22; the time wasted since 56).
        private static readonly string[] ExtraColumns = new[] { "id" }.Concat(EventStorage.ExtraColumns).ToArray();

        private const int Done = 101, Row = 100;
        private readonly SqliteConnection _connection;
        // Rows go in several per statement (fewer native calls and statement starts per event): RowsPerInsert rows; the
        // rest of a batch one at a time.
        private const int RowsPerInsert = 16;
        private readonly sqlite3_stmt _insert, _inserts, _extras, _findName, _addName;
        private readonly Binder _rowBinder, _rowsBinder, _extrasBinder;
        private long _nextId;
        private readonly EventKeys _eventKeys, _responseKeys;
        private readonly bool _ownKeys, _ownResponseKeys;

        /// <param name="keys">The dedup keys to use, when the caller keeps them across transactions (their cache of rows
        /// read outlives this writer; the caller disposes them); by default the writer's own.</param>
        /// <param name="responseKeys">The same for the responses' keys (<see cref="EventKeys.Responses"/>).</param>
        public EventWriter(SqliteConnection connection, SqliteTransaction transaction, EventKeys? keys = null, EventKeys? responseKeys = null, Caches? caches = null)
        {
            _connection = connection;
            // Emptied: what a writer caches lives no longer than its transaction (a rollback cannot leave ids that were lost).
            var tables = caches ?? new Caches();
            tables.Clear();
            _names = tables.Names;
            _namesByInstance = tables.NamesByInstance;
            _kindIds = tables.KindIds;
            _kinds = new Combination(EventStorage.Kinds, tables.Kinds);
            _contexts = new Combination(EventStorage.Contexts, tables.Contexts);
            _eventKeys = keys ?? new EventKeys(connection);
            _ownKeys = keys == null;
            _responseKeys = responseKeys ?? EventKeys.Responses(connection);
            _ownResponseKeys = responseKeys == null;
            _insert = Prepare("INSERT INTO event_rows(" + string.Join(",", Columns) + ") VALUES " + Values(Columns.Length, 1));
            _inserts = Prepare("INSERT INTO event_rows(" + string.Join(",", Columns) + ") VALUES " + Values(Columns.Length, RowsPerInsert));
            _extras = Prepare("INSERT INTO event_extras(" + string.Join(",", ExtraColumns) + ") VALUES " + Values(ExtraColumns.Length, 1));
            _rowBinder = new Binder(_insert, Columns.Length);
            _rowsBinder = new Binder(_inserts, Columns.Length * RowsPerInsert);
            _extrasBinder = new Binder(_extras, ExtraColumns.Length);
            _findName = Prepare("SELECT id FROM names WHERE text = ?");
            _addName = Prepare("INSERT INTO names(text) VALUES (?)");
            foreach (var (period, path, last) in connection.Query<(string, string, long?)>(
                         "SELECT period, archive_path, last_timestamp FROM event_archives", transaction: transaction))
            {
                _archives[Month(period)] = path;
                _archivedUntil = Math.Max(_archivedUntil, last ?? long.MaxValue);
            }
            // AUTOINCREMENT's high-water mark: ids are never reused, even after retention moved the newest rows out.
            _nextId = Math.Max(
                connection.ExecuteScalar<long>("SELECT coalesce(max(id), 0) FROM event_rows", transaction: transaction),
                connection.ExecuteScalar<long>("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'event_rows'", transaction: transaction)) + 1;
        }

        private sqlite3_stmt Prepare(string sql)
        {
            Check(raw.sqlite3_prepare_v2(_connection.Handle, sql, out var statement));
            return statement;
        }

        private static string Values(int columns, int rows) =>
            string.Join(",", Enumerable.Repeat("(" + string.Join(",", Enumerable.Repeat("?", columns)) + ")", rows));

        /// <summary>Laps the writer's steps (dedup keys, rows, the rest) when the importer times them.</summary>
        internal StepClock? Steps { get; set; }

        /// <summary>Inserts the rows; returns how many were new (the rest were duplicates). Sets Id on new rows (0 on duplicates).</summary>
        [MethodImpl(Hot.Path)]
        public int Write(IReadOnlyList<EventRow> rows)
        {
            var n = rows.Count;
            var baseId = _nextId;
            _nextId += n;
            // Row i gets id baseId + i if it is new (a duplicate leaves a gap, which AUTOINCREMENT ids allow). Keys go in
            // sorted, so consecutive keys meet the same packed row (or b-tree pages); among equal keys the earlier row wins.
            if (_isNew.Length < n)
            {
                var length = Math.Max(n, _isNew.Length * 2);
                _isNew = new bool[length];
                _orderKeys = new long[length]; _orderPlaces = new int[length];
                _packedKeys = new long[length]; _packedPlaces = new int[length];
            }
            var count = 0;
            var packed = 0;
            for (var i = 0; i < n; i++)
            {
                _isNew[i] = false;
                if (InArchive(rows[i])) continue; // moved to an archive database by retention: already stored once
                if (rows[i].KeepLargestTokens) { _orderKeys[count] = rows[i].DedupKey; _orderPlaces[count++] = i; }
                else { _packedKeys[packed] = rows[i].DedupKey; _packedPlaces[packed++] = i; }
            }
            // Keys of events that are never updated: packed event_keys, which only answers "stored or not". The sort is
            // stable: among equal keys the earlier row comes first, and wins.
            EventKeys.RadixSort(_packedKeys, _packedPlaces, packed);
            for (var j = 0; j < packed; j++)
            {
                var index = _packedPlaces[j];
                _isNew[index] = _eventKeys.Add(_packedKeys[j], EventKeys.MonthOf(rows[index].Timestamp));
            }
            // Claude Code responses keep their row's id with the key (response_keys): a repeated line updates that row.
            EventKeys.RadixSort(_orderKeys, _orderPlaces, count);
            for (var j = 0; j < count; j++)
            {
                var index = _orderPlaces[j];
                _isNew[index] = _responseKeys.Add(_orderKeys[j], EventKeys.MonthOf(rows[index].Timestamp), baseId + index);
            }

            Steps?.Lap("write: keys");
            var inserted = 0;
            var pending = 0; // new rows bound into _inserts so far
            for (var i = 0; i < n; i++)
            {
                var e = rows[i];
                if (!_isNew[i]) { e.Id = 0; continue; }
                var id = baseId + i;
                e.Id = id;
                Span(id / EventStorage.BlockSize, e.Timestamp, OptionalNameId(e.StoryId));
                inserted++;
                _pendingRows[pending] = e;
                Bind(_rowsBinder, pending * Columns.Length, e);
                if (++pending == RowsPerInsert) { Step(_inserts); pending = 0; }
                if (e.ConfidenceScore.HasValue || e.ImpactScore.HasValue || e.UserSatisfactionDelta.HasValue || e.CreatedRule.HasValue || e.TimeSavedOrWastedMs.HasValue) BindExtras(e);
            }
            for (var j = 0; j < pending; j++)
            {
                Bind(_rowBinder, 0, _pendingRows[j]!);
                Step(_insert);
            }
            Steps?.Lap("write: rows");
            // Repeated Claude Code response lines, in order, once their first line is stored.
            for (var i = 0; i < n; i++)
                if (!_isNew[i] && rows[i].KeepLargestTokens) GrowTokens(rows[i]);
            WriteBlocks();
            Steps?.Lap("write: grown tokens, blocks");
            return inserted;
        }

        private readonly EventRow?[] _pendingRows = new EventRow?[RowsPerInsert];

        /// <summary>Writes the keys of this transaction's new events into their rows (both sets): call before committing.</summary>
        [MethodImpl(Hot.Path)]
        public void Flush()
        {
            _eventKeys.Flush();
            _responseKeys.Flush();
        }

        // Binds one event as the row at parameter offset o (0 for the first row of a statement).
        [MethodImpl(Hot.Path)]
        private void Bind(Binder b, int o, EventRow e)
        {
            var split = Split(e);
            b.Int(o + 1, e.Id);
            // The time as an offset from the block's base, whole for a row with a pattern (EventStorage.TimeOf).
            b.Int(o + 2, e.PatternId.HasValue ? e.Timestamp : e.Timestamp - BaseOf(e.Id / EventStorage.BlockSize, e.Timestamp));
            b.Int(o + 3, KindId(e, ShapeId(split)));
            b.Int(o + 4, ContextId(e));
            b.Int(o + 5, e.DurationMs);
            b.Int(o + 6, e.TokensUsed);
            Context(b, o + 7, e.ContextPercent);
            b.Int(o + 8, e.PatternId);
            Details(b, o + 9, e, split);
        }

        // Writes the event's rarely set values into event_extras (the view reads them from there).
        private void BindExtras(EventRow e)
        {
            var b = _extrasBinder;
            b.Int(1, e.Id);
            b.Real(2, e.ConfidenceScore);
            b.Real(3, e.ImpactScore);
            b.Real(4, e.UserSatisfactionDelta);
            b.Int(5, e.CreatedRule);
            b.Int(6, e.TimeSavedOrWastedMs);
            Step(_extras);
        }

        /// <summary>Runs a bound query and returns its first row's first column (null when it has no row).</summary>
        private long? FirstInteger(sqlite3_stmt s)
        {
            var rc = SqliteNative.Step(s);
            long? value = rc == Row ? raw.sqlite3_column_int64(s, 0) : (long?)null;
            SqliteNative.Reset(s);
            if (rc != Row && rc != Done) Check(rc);
            return value;
        }

        private long[] _orderKeys = Array.Empty<long>(), _packedKeys = Array.Empty<long>();
        private int[] _orderPlaces = Array.Empty<int>(), _packedPlaces = Array.Empty<int>();
        private bool[] _isNew = Array.Empty<bool>();

        // The time span of each block of ids this batch wrote into (EventStorage.BlockSize), merged into event_blocks,
        // and per day and story (a names id, 0 for none), merged into event_block_days.
        private readonly Dictionary<long, (long min, long max)> _blocks = new Dictionary<long, (long, long)>();
        private readonly Dictionary<(long day, long story, long block), (long min, long max)> _blockDays = new Dictionary<(long, long, long), (long, long)>();

        // The spans of the last block and of the last (day, story, block) met, kept out of the tables while consecutive rows
        // share them (nearly all do): two lookups and two stores per row, by hashing a long and a 3-tuple, were a tenth of
        // writing the rows. Put back into the tables before they are written (PutBackSpans).
        private long _spanBlock = -1;
        private (long min, long max) _blockSpan;
        private (long day, long story, long block) _spanDay = (0, 0, -1);
        private (long min, long max) _daySpan;

        [MethodImpl(Hot.Path)]
        private void Span(long block, long timestamp, long story)
        {
            if (block != _spanBlock)
            {
                PutBackSpans();
                _spanBlock = block;
                _blockSpan = _blocks.TryGetValue(block, out var span) ? span : (timestamp, timestamp);
            }
            _blockSpan = (Math.Min(_blockSpan.min, timestamp), Math.Max(_blockSpan.max, timestamp));
            var key = (IsoWeeks.DayOf(timestamp), story, block);
            if (key != _spanDay)
            {
                if (_spanDay.block >= 0) _blockDays[_spanDay] = _daySpan;
                _spanDay = key;
                _daySpan = _blockDays.TryGetValue(key, out var span) ? span : (timestamp, timestamp);
            }
            _daySpan = (Math.Min(_daySpan.min, timestamp), Math.Max(_daySpan.max, timestamp));
        }

        private void PutBackSpans()
        {
            if (_spanBlock >= 0) _blocks[_spanBlock] = _blockSpan;
            if (_spanDay.block >= 0) _blockDays[_spanDay] = _daySpan;
            _spanBlock = -1;
            _spanDay = (0, 0, -1);
        }

        // Each block's base (event_blocks.base_ts) as this writer found or set it: a block new to the store takes the time
        // of its first row written, and keeps it (its rows are offsets from it).
        private readonly Dictionary<long, long> _bases = new Dictionary<long, long>();
        private sqlite3_stmt? _findBase;

        private long _baseBlock = -1, _lastBase; // the last block's (a base never changes once found or set)

        [MethodImpl(Hot.Path)]
        private long BaseOf(long block, long firstTime)
        {
            if (block == _baseBlock) return _lastBase;
            if (!_bases.TryGetValue(block, out var b))
            {
                _findBase ??= Prepare("SELECT base_ts FROM event_blocks WHERE block = ?");
                SqliteNative.BindInt64(_findBase, 1, block);
                _bases[block] = b = FirstInteger(_findBase) ?? firstTime;
            }
            _baseBlock = block;
            return _lastBase = b;
        }

        private void WriteBlocks()
        {
            PutBackSpans();
            if (_blocks.Count == 0) return;
            _block ??= Prepare(@"INSERT INTO event_blocks(block, min_ts, max_ts, base_ts) VALUES (?, ?, ?, ?)
                ON CONFLICT(block) DO UPDATE SET min_ts = min(min_ts, excluded.min_ts), max_ts = max(max_ts, excluded.max_ts)");
            foreach (var pair in _blocks)
            {
                SqliteNative.BindInt64(_block, 1, pair.Key);
                SqliteNative.BindInt64(_block, 2, pair.Value.min);
                SqliteNative.BindInt64(_block, 3, pair.Value.max);
                // A block whose rows all have patterns has no base yet: its least time.
                SqliteNative.BindInt64(_block, 4, _bases.TryGetValue(pair.Key, out var b) ? b : pair.Value.min);
                Step(_block);
            }
            _blocks.Clear();
            _blockDay ??= Prepare(@"INSERT INTO event_block_days(day, story, block, min_ts, max_ts) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(day, story, block) DO UPDATE SET min_ts = min(min_ts, excluded.min_ts), max_ts = max(max_ts, excluded.max_ts)");
            foreach (var pair in _blockDays)
            {
                SqliteNative.BindInt64(_blockDay, 1, pair.Key.day);
                SqliteNative.BindInt64(_blockDay, 2, pair.Key.story);
                SqliteNative.BindInt64(_blockDay, 3, pair.Key.block);
                SqliteNative.BindInt64(_blockDay, 4, pair.Value.min);
                SqliteNative.BindInt64(_blockDay, 5, pair.Value.max);
                Step(_blockDay);
            }
            _blockDays.Clear();
        }

        // Retention moves whole months (or their older part) to archive databases and takes the keys along, so the
        // active store stays small; an event of an archived month is looked up in its archive before it is added.
        // Events after the newest archived one (every event of a normal daily import) are not looked up at all.
        private readonly Dictionary<int, string> _archives = new Dictionary<int, string>();
        private readonly Dictionary<int, ArchiveKeys?> _archiveConnections = new Dictionary<int, ArchiveKeys?>();

        /// <summary>An archive database's keys, both sets.</summary>
        private sealed class ArchiveKeys : IDisposable
        {
            private readonly SqliteConnection _connection;
            private readonly EventKeys _keys, _responses;

            public ArchiveKeys(SqliteConnection connection) { _connection = connection; _keys = new EventKeys(connection); _responses = EventKeys.Responses(connection); }

            public bool Contains(EventRow e) => (e.KeepLargestTokens ? _responses : _keys).Contains(e.DedupKey);

            public void Dispose() { _keys.Dispose(); _responses.Dispose(); _connection.Dispose(); }
        }
        private long _archivedUntil = long.MinValue;

        private static int Month(string period) => int.Parse(period.Substring(0, 4), System.Globalization.CultureInfo.InvariantCulture) * 12
            + int.Parse(period.Substring(5, 2), System.Globalization.CultureInfo.InvariantCulture);

        private bool InArchive(EventRow e)
        {
            if (e.Timestamp > _archivedUntil) return false;
            var date = DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp).UtcDateTime;
            var month = date.Year * 12 + date.Month;
            if (!_archiveConnections.TryGetValue(month, out var archive))
            {
                var connection = _archives.TryGetValue(month, out var path) && System.IO.File.Exists(path) ? MadfDatabase.Open(path, forWrite: false) : null;
                _archiveConnections[month] = archive = connection == null ? null : new ArchiveKeys(connection);
            }
            return archive != null && archive.Contains(e);
        }

        // Names (types, agents, stories, sessions, details shapes) repeat on almost every row: look each up once per
        // writer. The cache lives no longer than the transaction, so a rollback cannot leave it pointing at lost ids.
        private readonly Dictionary<string, long> _names;

        // The same names by instance, looked up first: the readers' and splitters' string caches hand out one instance per
        // text (types, stories, details shapes and short values, over and over), so this mostly answers without hashing
        // the text, which for a shape is long.
        private readonly ByReferenceMap<long> _namesByInstance;

        /// <summary>
        /// The tables of a writer's name and combination ids, handed from one transaction's writer to the next: each writer
        /// empties them first, and they keep their room (an import's writers, one per commit, grew them again each time, in
        /// the large object heap past a few thousand names, which only a full collection frees).
        /// </summary>
        public sealed class Caches
        {
            internal readonly Dictionary<string, long> Names = new Dictionary<string, long>(StringComparer.Ordinal);
            internal readonly ByReferenceMap<long> NamesByInstance = new ByReferenceMap<long>();
            internal readonly Dictionary<KindKey, long> KindIds = new Dictionary<KindKey, long>();
            internal readonly Dictionary<(long, long, long, long, long, long), long> Kinds = new Dictionary<(long, long, long, long, long, long), long>(),
                Contexts = new Dictionary<(long, long, long, long, long, long), long>();

            internal void Clear()
            {
                Names.Clear(); NamesByInstance.Clear(); KindIds.Clear(); Kinds.Clear(); Contexts.Clear();
            }
        }

        [MethodImpl(Hot.Path)]
        private long NameId(string text)
        {
            if (!_namesByInstance.TryGetValue(text, out var id))
            {
                if (!_names.TryGetValue(text, out id))
                {
                    raw.sqlite3_bind_text(_findName, 1, text);
                    id = FirstInteger(_findName) ?? Added(_addName, text);
                    if (_names.Count < 100_000) _names[text] = id;
                }
                if (_namesByInstance.Count < 100_000) _namesByInstance.Set(text, id);
            }
            return id;
        }

        // What the event is (type, category, flags, details shape) and who and where (session, story, workflow, agent),
        // each as one row of its combinations table. Consecutive events usually share them, as the very same strings, so
        // the last one is checked first.
        private readonly Combination _kinds, _contexts;
        private (string, string, long, bool, bool, long) _lastKind;
        private long _lastKindId;
        private (string?, string?, string?, string?) _lastContext;
        private long _lastContextId;

        [MethodImpl(Hot.Path)]
        private long KindId(EventRow e, long shape)
        {
            var success = e.Success.HasValue ? (e.Success.Value ? 1 : 0) : -1;
            var detected = e.PatternDetected || e.PatternId.HasValue;
            if (_lastKindId != 0 && ReferenceEquals(_lastKind.Item1, e.EventType) && ReferenceEquals(_lastKind.Item2, e.Category)
                && _lastKind.Item3 == success && _lastKind.Item4 == detected && _lastKind.Item5 == e.NeedsReview && _lastKind.Item6 == shape)
                return _lastKindId;
            _lastKind = (e.EventType, e.Category, success, detected, e.NeedsReview, shape);
            var key = new KindKey(e.EventType, e.Category, shape, (success + 1) | (detected ? 4 : 0) | (e.NeedsReview ? 8 : 0));
            if (_kindIds.TryGetValue(key, out var id)) return _lastKindId = id;
            id = _kinds.Id(this, NameId(e.EventType), NameId(e.Category), success, detected ? 1 : 0, e.NeedsReview ? 1 : 0, shape);
            if (_kindIds.Count < 100_000) _kindIds[key] = id;
            return _lastKindId = id;
        }

        // Every kind met in this transaction, by its texts, flags and shape: neighbouring rows often differ in kind or
        // shape (a tool call, then its model call), where the last kind's check misses and the kind was looked up by its
        // names' ids, each found by its text.
        private readonly Dictionary<KindKey, long> _kindIds;

        internal readonly struct KindKey : IEquatable<KindKey>
        {
            private readonly string _type, _category;
            private readonly long _shape;
            private readonly int _flags;

            public KindKey(string type, string category, long shape, int flags) { _type = type; _category = category; _shape = shape; _flags = flags; }

            public bool Equals(KindKey o) => _shape == o._shape && _flags == o._flags
                && string.Equals(_type, o._type, StringComparison.Ordinal) && string.Equals(_category, o._category, StringComparison.Ordinal);

            public override bool Equals(object? obj) => obj is KindKey o && Equals(o);

            public override int GetHashCode() => unchecked(((_type.GetHashCode() * 31 + _category.GetHashCode()) * 31 + (int)_shape) * 31 + _flags);
        }

        [MethodImpl(Hot.Path)]
        private long ContextId(EventRow e)
        {
            if (_lastContextId != 0 && ReferenceEquals(_lastContext.Item1, e.SessionId) && ReferenceEquals(_lastContext.Item2, e.StoryId)
                && ReferenceEquals(_lastContext.Item3, e.WorkflowId) && ReferenceEquals(_lastContext.Item4, e.AgentName))
                return _lastContextId;
            _lastContext = (e.SessionId, e.StoryId, e.WorkflowId, e.AgentName);
            return _lastContextId = _contexts.Id(this, OptionalNameId(e.SessionId), OptionalNameId(e.StoryId), OptionalNameId(e.WorkflowId), OptionalNameId(e.AgentName));
        }

        /// <summary>Ids of one combinations table, looked up or added once per writer.</summary>
        private sealed class Combination
        {
            private readonly EventStorage.Combinations _table;
            private readonly Dictionary<(long, long, long, long, long, long), long> _ids;
            private sqlite3_stmt? _find, _add, _greatest, _least;

            public Combination(EventStorage.Combinations table, Dictionary<(long, long, long, long, long, long), long> ids) { _table = table; _ids = ids; }

            public long Id(EventWriter w, long a, long b, long c, long d, long e = 0, long f = 0)
            {
                var key = (a, b, c, d, e, f);
                if (_ids.TryGetValue(key, out var id)) return id;
                var values = new[] { a, b, c, d, e, f };
                var n = _table.Columns.Length;
                _find ??= w.Prepare($"SELECT id FROM {_table.Table} WHERE " + string.Join(" AND ", _table.Columns.Select(col => col + " = ?")));
                for (var i = 0; i < n; i++) SqliteNative.BindInt64(_find, i + 1, values[i]);
                var found = w.FirstInteger(_find);
                if (found.HasValue) id = found.Value;
                else
                {
                    // The id of the fewest bytes (Combinations.NextId), from the table's ends (each read by its primary key).
                    _greatest ??= w.Prepare($"SELECT max(id) FROM {_table.Table}");
                    _least ??= w.Prepare($"SELECT min(id) FROM {_table.Table}");
                    id = EventStorage.Combinations.NextId(w.FirstInteger(_greatest) ?? 0, w.FirstInteger(_least) ?? 0);
                    _add ??= w.Prepare($"INSERT INTO {_table.Table}(id, {string.Join(", ", _table.Columns)}) VALUES (?, {string.Join(", ", _table.Columns.Select(_ => "?"))})");
                    SqliteNative.BindInt64(_add, 1, id);
                    for (var i = 0; i < n; i++) SqliteNative.BindInt64(_add, i + 2, values[i]);
                    w.Added(_add);
                }
                if (_ids.Count < 100_000) _ids[key] = id;
                return id;
            }

            public void Dispose() { _find?.Dispose(); _add?.Dispose(); _greatest?.Dispose(); _least?.Dispose(); }
        }

        private long OptionalNameId(string? text) => text == null ? 0 : NameId(text);

        private readonly DetailsShape.Splitter _splitter = new DetailsShape.Splitter();

        private DetailsShape.Split Split(EventRow e) => e.StoredDetails ?? _splitter.Of(e.Details);

        // The details shape's names id, part of the row's kind (0: details stored whole, or none).
        private long ShapeId(DetailsShape.Split split) => split.Shape != null ? NameId(split.Shape) : 0;

        // Binds the details values d1..d5 starting at column i (the shape is in the kind).
        [MethodImpl(Hot.Path)]
        private void Details(Binder b, int i, EventRow e, DetailsShape.Split split)
        {
            if (split.Shape != null)
            {
                for (var k = 0; k < DetailsShape.Slots; k++)
                {
                    var v = split.Values[k];
                    if (v is long l) b.Int(i + k, l);
                    else if (v is DetailsShape.Name n) b.Int(i + k, NameId(n.Text));
                    else if (v is DetailsShape.Quoted q) Literal(b, i + k, k, q.Json, 1 + q.Skip, q.Json.Length - 2 - q.Skip); // its Stored part, not copied
                    else if (v is string t) Literal(b, i + k, k, t, 0, t.Length);
                    else b.Null(i + k);
                }
                return;
            }
            if (e.Details == null) b.Null(i); else b.Text(i, e.Details);
            for (var k = 1; k < DetailsShape.Slots; k++) b.Null(i + k);
        }

        private readonly byte[] _packedId = new byte[PackedId.PackedLength];

        // A literal value (of slot k, 0-based): an id of base-62 characters packed in the slots that hold them (PackedId),
        // any other text as it is.
        [MethodImpl(Hot.Path)]
        private void Literal(Binder b, int i, int k, string text, int start, int length)
        {
            if (k >= PackedId.Slots || !PackedId.Is(text, start, length)) { b.Text(i, text, start, length); return; }
            PackedId.Pack(text, start, _packedId);
            b.Blob(i, _packedId);
        }

        // context_percent as exact hundredths in an integer when it round-trips (2 bytes instead of 8), else the real.
        /// <summary>
        /// The context figure as written by <see cref="Context"/>, read back in SQL from event_rows alias
        /// <paramref name="alias"/>: exact hundredths as an integer, else the real (the events view's own expression).
        /// </summary>
        internal static string ContextPercentSql(string alias) =>
            $"CASE WHEN typeof({alias}.context_percent) = 'integer' THEN {alias}.context_percent / 100.0 ELSE {alias}.context_percent END";

        private static void Context(Binder b, int i, double? v)
        {
            if (!v.HasValue) { b.Null(i); return; }
            var hundredths = Math.Round(v.Value * 100);
            if (Math.Abs(hundredths) < 1e15 && hundredths / 100.0 == v.Value) b.Int(i, (long)hundredths);
            else b.Real(i, v.Value);
        }

        /// <summary>
        /// Binds a statement's parameters, skipping values equal to what is already bound (SQLite keeps bindings across
        /// resets): consecutive events share most of their types, names and nulls, and every bind is a native call.
        /// </summary>
        private sealed class Binder
        {
            private const byte IsNull = 1, IsInt = 2, IsReal = 3, IsText = 4, IsBlob = 5; // 0: not bound yet
            private readonly sqlite3_stmt _s;
            private readonly byte[] _kind;
            private readonly long[] _bits;
            private readonly string?[] _text;

            public Binder(sqlite3_stmt s, int parameters)
            {
                _s = s;
                _kind = new byte[parameters + 1];
                _bits = new long[parameters + 1];
                _text = new string?[parameters + 1];
            }

            [MethodImpl(Hot.Path)]
            public void Null(int i)
            {
                if (_kind[i] == IsNull) return;
                SqliteNative.BindNull(_s, i);
                _kind[i] = IsNull;
            }

            [MethodImpl(Hot.Path)]
            public void Int(int i, long v)
            {
                if (_kind[i] == IsInt && _bits[i] == v) return;
                SqliteNative.BindInt64(_s, i, v);
                _kind[i] = IsInt; _bits[i] = v;
            }

            public void Int(int i, long? v) { if (v.HasValue) Int(i, v.Value); else Null(i); }

            [MethodImpl(Hot.Path)]
            public void Real(int i, double v)
            {
                var bits = BitConverter.DoubleToInt64Bits(v);
                if (_kind[i] == IsReal && _bits[i] == bits) return;
                SqliteNative.BindDouble(_s, i, v);
                _kind[i] = IsReal; _bits[i] = bits;
            }

            public void Real(int i, double? v) { if (v.HasValue) Real(i, v.Value); else Null(i); }

            public void Text(int i, string v) => Text(i, v, 0, v.Length);

            /// <summary>Binds v's characters [start, start + length) as UTF-16, which SQLite converts as it stores them (binding
            /// the string made a UTF-8 copy of it on every call).</summary>
            [MethodImpl(Hot.Path)]
            public void Text(int i, string v, int start, int length)
            {
                if (_kind[i] == IsText && ReferenceEquals(_text[i], v) && _bits[i] == ((long)start << 32 | (uint)length)) return;
                SqliteNative.BindText16(_s, i, v.AsSpan(start, length));
                _kind[i] = IsText; _text[i] = v; _bits[i] = (long)start << 32 | (uint)length;
            }

            /// <summary>Binds a copy of <paramref name="v"/> (SQLite copies it), always: blobs are rare and not compared.</summary>
            public void Blob(int i, byte[] v)
            {
                raw.sqlite3_bind_blob(_s, i, v);
                _kind[i] = IsBlob;
            }
        }

        private void Step(sqlite3_stmt s)
        {
            var rc = SqliteNative.StepAndReset(s);
            if (rc != Done) Check(rc);
        }

        /// <summary>Runs a bound INSERT (binding <paramref name="text"/> first when given) and returns the new rowid.</summary>
        private long Added(sqlite3_stmt insert, string? text = null)
        {
            if (text != null) raw.sqlite3_bind_text(insert, 1, text);
            Step(insert);
            return raw.sqlite3_last_insert_rowid(_connection.Handle);
        }

        private void Check(int rc) => SqliteResult.Check(_connection, rc);

        private sqlite3_stmt? _stored, _grow, _block, _blockDay;
        private Binder? _growBinder;

        // A repeated Claude Code response line: keep the larger usage (and its details), report the growth for the summaries.
        private void GrowTokens(EventRow e)
        {
            _stored ??= Prepare("SELECT coalesce(tokens_used, 0) FROM event_rows WHERE id = ?");
            _grow ??= Prepare("UPDATE event_rows SET tokens_used = ?, context_percent = ?, kind = ?, "
                + string.Join(", ", EventStorage.ValueColumns.Select(col => col + " = ?")) + " WHERE id = ?");
            // No row: the event's key was in an archive (InArchive), or it is a key migrated from archived_keys.
            var id = _responseKeys.IdOf(e.DedupKey);
            long? before = null;
            if (id != 0)
            {
                SqliteNative.BindInt64(_stored, 1, id);
                before = FirstInteger(_stored);
            }
            e.TokensGrowth = before.HasValue && (e.TokensUsed ?? 0) > before.Value ? (e.TokensUsed ?? 0) - before.Value : 0;
            if (e.TokensGrowth == 0) return;
            var b = _growBinder ??= new Binder(_grow, 4 + DetailsShape.Slots);
            var split = Split(e);
            b.Int(1, e.TokensUsed);
            Context(b, 2, e.ContextPercent);
            b.Int(3, GrownKindId(id, ShapeId(split)));
            Details(b, 4, e, split);
            b.Int(4 + DetailsShape.Slots, id);
            Step(_grow);
        }

        private sqlite3_stmt? _storedKind;

        // The stored row's kind with the grown details' shape: its flags stay as stored (a review flag set since, say).
        private long GrownKindId(long id, long shape)
        {
            _storedKind ??= Prepare("SELECT k.event_type, k.category, k.success, k.pattern_detected, k.needs_review FROM event_rows r JOIN kinds k ON k.id = r.kind WHERE r.id = ?");
            SqliteNative.BindInt64(_storedKind, 1, id);
            var rc = SqliteNative.Step(_storedKind);
            if (rc != Row) { SqliteNative.Reset(_storedKind); Check(rc); throw new InvalidOperationException("The grown response's row " + id + " has no kind."); }
            var k = new long[5];
            for (var i = 0; i < k.Length; i++) k[i] = raw.sqlite3_column_int64(_storedKind, i);
            SqliteNative.Reset(_storedKind);
            return _kinds.Id(this, k[0], k[1], k[2], k[3], k[4], shape);
        }

        public void Dispose()
        {
            if (_ownKeys) _eventKeys.Dispose();
            if (_ownResponseKeys) _responseKeys.Dispose();
            _insert.Dispose();
            _inserts.Dispose();
            _extras.Dispose();
            _findName.Dispose();
            _addName.Dispose();
            _stored?.Dispose();
            _grow?.Dispose();
            _storedKind?.Dispose();
            _block?.Dispose();
            _findBase?.Dispose();
            _blockDay?.Dispose();
            _kinds.Dispose();
            _contexts.Dispose();
            foreach (var archive in _archiveConnections.Values) archive?.Dispose();
        }
    }
}

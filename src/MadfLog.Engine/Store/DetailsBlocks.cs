using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Text;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Events' details packed per block of <see cref="Size"/> ids (docs/storage.md): one event_details row per block,
    /// column-wise (each event's shape, then the values of each shape's slots together, so paths, models and ids of one
    /// key sit side by side) and deflated once the writer has moved past the block (the open block is stored plain and
    /// rewritten per batch). A row per event paid a byte of record header per details column and kept random ids as
    /// literals; a block holds them for about 13 bytes an event. The events view reads details through
    /// <see cref="Function"/>, registered on every connection <see cref="MadfDatabase"/> opens, which inflates a block
    /// once per version and keeps the last few per connection, so a scan in id order inflates each block once.
    /// </summary>
    public static class DetailsBlocks
    {
        /// <summary>Ids per block: block = id &gt;&gt; Shift. Larger blocks deflate better (2048: 13 bytes an event, 512: 15.5).</summary>
        public const int Shift = 11;
        public const int Size = 1 << Shift;

        /// <summary>
        /// Events with a pattern (mined errors) keep their details in blocks of their own, of 2^14 ids (a few hundred
        /// errors each at the usual rates), numbered -1 - (id &gt;&gt; PatternShift): a pattern's examples are read a few
        /// at a time from all over the store, and inflating a block of every event for each one cost several times the
        /// row reads they replace. Errors' messages also deflate better among themselves.
        /// </summary>
        public const int PatternShift = 14;

        /// <summary>The SQL function the events view calls: madf_details(id, version of the id's block or NULL).</summary>
        public const string Function = "madf_details";

        /// <summary>SQL: an events row's details (alias r), as the view gives it.</summary>
        public const string ViewSql = "madf_details(r.id, r.pattern_id IS NOT NULL, (SELECT b.version FROM event_details b WHERE b.block = "
            + "CASE WHEN r.pattern_id IS NULL THEN r.id >> 11 ELSE -1 - (r.id >> 14) END))";

        /// <summary>SQL: the block holding the details of the events_rows row aliased r.</summary>
        public const string BlockSql = "CASE WHEN r.pattern_id IS NULL THEN r.id >> 11 ELSE -1 - (r.id >> 14) END";

        private const byte Plain = 0, Deflated = 1;
        private const byte TagNull = 0, TagInt = 1, TagLiteral = 2, TagName = 3;

        /// <summary>One event's details: a shape with its values, or the text as written (Shape null), or none.</summary>
        public readonly struct Entry
        {
            public Entry(long id, string? shape, object?[]? values, string? raw) { Id = id; Shape = shape; Values = values; Raw = raw; }

            public long Id { get; }
            public string? Shape { get; }
            /// <summary>Value k - 1 of the shape: a long, a literal's JSON text, or a <see cref="DetailsShape.Name"/>.</summary>
            public object?[]? Values { get; }
            public string? Raw { get; }

            /// <summary>An event's details as the writer has them (its split, or the text that does not split).</summary>
            public static Entry Of(long id, DetailsShape.Split split, string? details) =>
                split.Shape != null ? new Entry(id, split.Shape, split.Values, null) : new Entry(id, null, null, details); // a split is never changed once made

            /// <summary>The details JSON, exactly as the view before schema 20 put it back from shape and values.</summary>
            public string? Json()
            {
                if (Shape == null) return Raw;
                var sb = new StringBuilder(Shape.Length + 64);
                foreach (var ch in Shape)
                {
                    int k;
                    if (ch >= 1 && ch <= 8) k = ch <= 4 ? ch : ch - 4;
                    else if (ch >= 14 && ch <= 21) k = ch <= 17 ? ch - 9 : ch - 13;
                    else { sb.Append(ch); continue; }
                    switch (Values![k - 1])
                    {
                        case null: break;
                        case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                        case DetailsShape.Name n: sb.Append('"').Append(n.Text).Append('"'); break;
                        case string s: sb.Append(s); break;
                        case var other: sb.Append(Convert.ToString(other, CultureInfo.InvariantCulture)); break;
                    }
                }
                return sb.ToString();
            }
        }

        /// <summary>The block of an event's details: by its id, and whether it has a pattern.</summary>
        public static long BlockOf(long id, bool patterned = false) => patterned ? -1 - (id >> PatternShift) : id >> Shift;

        /// <summary>The first id of a block, and how many ids it spans.</summary>
        public static long FirstId(long block) => block >= 0 ? block << Shift : (-1 - block) << PatternShift;

        public static int Span(long block) => block >= 0 ? Size : 1 << PatternShift;

        /// <summary>
        /// Encodes a block's entries (ascending ids, all in one block); deflated when <paramref name="seal"/>. Layout: the
        /// count; each id as its distance from the previous; the shapes; each entry's code (0 no details, 1 text as
        /// written, 2 + s shape s); the texts; then per shape a mask of the slots its entries use and each slot's values
        /// together: a tag, then an integer as the zigzag difference from the slot's previous integer (usage counts grow
        /// along a session) or a string's UTF-8 bytes ended by a zero byte (JSON never holds a raw zero).
        /// </summary>
        public static byte[] Encode(long block, IReadOnlyList<Entry> entries, bool seal)
        {
            var w = new Writer();
            w.Varint((ulong)entries.Count);
            long prev = -1;
            var first = FirstId(block);
            foreach (var e in entries)
            {
                var offset = e.Id - first;
                if (offset < 0 || offset >= Span(block)) throw new InvalidOperationException($"Event id {e.Id} is not in details block {block}.");
                w.Varint((ulong)(offset - prev - 1));
                prev = offset;
            }
            var shapes = new Dictionary<string, int>(StringComparer.Ordinal);
            var order = new List<string>();
            var codes = new int[entries.Count];
            for (var i = 0; i < entries.Count; i++)
            {
                var e = entries[i];
                if (e.Shape == null) { codes[i] = e.Raw == null ? 0 : 1; continue; }
                if (!shapes.TryGetValue(e.Shape, out var s)) { shapes[e.Shape] = s = order.Count; order.Add(e.Shape); }
                codes[i] = 2 + s;
            }
            w.Varint((ulong)order.Count);
            foreach (var shape in order) w.String(shape);
            foreach (var code in codes) w.Varint((ulong)code);
            for (var i = 0; i < entries.Count; i++) if (codes[i] == 1) w.String(entries[i].Raw!);
            for (var s = 0; s < order.Count; s++)
            {
                var mask = 0;
                for (var i = 0; i < entries.Count; i++)
                    if (codes[i] == 2 + s)
                        for (var k = 0; k < DetailsShape.Slots; k++) if (entries[i].Values![k] != null) mask |= 1 << k;
                w.Byte((byte)mask);
                for (var k = 0; k < DetailsShape.Slots; k++)
                {
                    if ((mask & (1 << k)) == 0) continue;
                    long last = 0;
                    for (var i = 0; i < entries.Count; i++) if (codes[i] == 2 + s) w.Value(entries[i].Values![k], ref last);
                }
            }
            return w.ToArray(seal);
        }

        /// <summary>Decodes a block (its number gives the ids) into its entries, in id order.</summary>
        public static Entry[] Decode(long block, byte[] data) => new Parsed(block, data).Entries();

        /// <summary>
        /// A block inflated and indexed: each entry's values located in the payload, so one entry's details are put back
        /// without decoding the others (a pattern's examples read a few events of many blocks).
        /// </summary>
        internal sealed class Parsed
        {
            private readonly byte[] _data;
            private readonly long[] _ids;
            private readonly int[] _codes;
            private readonly (int at, int length)[] _shapes;
            private readonly string[] _shapeTexts;
            // Per entry and slot: the tag, and an integer's value or a string's offset << 24 | length.
            private readonly byte[] _tags;
            private readonly long[] _values;
            private readonly (int at, int length)[] _raws;

            public Parsed(long block, byte[] stored)
            {
                var r = new Reader(stored);
                _data = r.Data;
                var n = (int)r.Varint();
                _ids = new long[n];
                long prev = -1;
                for (var i = 0; i < n; i++) { prev += (long)r.Varint() + 1; _ids[i] = FirstId(block) + prev; }
                _shapes = new (int, int)[(int)r.Varint()];
                _shapeTexts = new string[_shapes.Length];
                for (var s = 0; s < _shapes.Length; s++) { _shapes[s] = r.Bytes(); _shapeTexts[s] = Encoding.UTF8.GetString(_data, _shapes[s].at, _shapes[s].length); }
                _codes = new int[n];
                var byShape = new int[_shapes.Length];
                for (var i = 0; i < n; i++) { _codes[i] = (int)r.Varint(); if (_codes[i] >= 2) byShape[_codes[i] - 2]++; }
                _raws = new (int, int)[n];
                for (var i = 0; i < n; i++) if (_codes[i] == 1) _raws[i] = r.Bytes();
                var members = new int[_shapes.Length][];
                for (var s = 0; s < members.Length; s++) members[s] = new int[byShape[s]];
                Array.Clear(byShape, 0, byShape.Length);
                for (var i = 0; i < n; i++) if (_codes[i] >= 2) members[_codes[i] - 2][byShape[_codes[i] - 2]++] = i;
                _tags = new byte[n * DetailsShape.Slots];
                _values = new long[n * DetailsShape.Slots];
                for (var s = 0; s < _shapes.Length; s++)
                {
                    var mask = r.Byte();
                    for (var k = 0; k < DetailsShape.Slots; k++)
                    {
                        if ((mask & (1 << k)) == 0) continue;
                        long last = 0;
                        foreach (var i in members[s])
                        {
                            var tag = r.Byte();
                            _tags[i * DetailsShape.Slots + k] = tag;
                            if (tag == TagInt) _values[i * DetailsShape.Slots + k] = last += Unzig(r.Varint());
                            else if (tag == TagName || tag == TagLiteral) { var (at, length) = r.Terminated(); _values[i * DetailsShape.Slots + k] = ((long)at << 24) | (uint)length; }
                            else if (tag != TagNull) throw new InvalidDataException("An event_details block holds an unknown value tag.");
                        }
                    }
                }
            }

            public int Count => _ids.Length;

            public long Id(int i) => _ids[i];

            public Entry[] Entries()
            {
                var entries = new Entry[_ids.Length];
                for (var i = 0; i < entries.Length; i++)
                {
                    if (_codes[i] < 2) { entries[i] = new Entry(_ids[i], null, null, _codes[i] == 1 ? Encoding.UTF8.GetString(_data, _raws[i].at, _raws[i].length) : null); continue; }
                    var values = new object?[DetailsShape.Slots];
                    for (var k = 0; k < DetailsShape.Slots; k++)
                    {
                        var v = _values[i * DetailsShape.Slots + k];
                        values[k] = _tags[i * DetailsShape.Slots + k] switch
                        {
                            TagInt => v,
                            TagName => new DetailsShape.Name(Encoding.UTF8.GetString(_data, (int)(v >> 24), (int)(v & 0xFFFFFF))),
                            TagLiteral => Encoding.UTF8.GetString(_data, (int)(v >> 24), (int)(v & 0xFFFFFF)),
                            _ => (object?)null,
                        };
                    }
                    entries[i] = new Entry(_ids[i], _shapeTexts[_codes[i] - 2], values, null);
                }
                return entries;
            }

            private byte[] _json = new byte[1024];

            /// <summary>Entry i's details JSON, put back from the payload's bytes.</summary>
            public string? Json(int i)
            {
                if (_codes[i] == 0) return null;
                if (_codes[i] == 1) return Encoding.UTF8.GetString(_data, _raws[i].at, _raws[i].length);
                var (at, length) = _shapes[_codes[i] - 2];
                var n = 0;
                for (var p = at; p < at + length; p++)
                {
                    var ch = _data[p];
                    int k;
                    if (ch >= 1 && ch <= 8) k = ch <= 4 ? ch : ch - 4;
                    else if (ch >= 14 && ch <= 21) k = ch <= 17 ? ch - 9 : ch - 13;
                    else { Put(ref n, ch); continue; }
                    var slot = i * DetailsShape.Slots + k - 1;
                    var v = _values[slot];
                    switch (_tags[slot])
                    {
                        case TagInt: PutLong(ref n, v); break;
                        case TagName: Put(ref n, (byte)'"'); Put(ref n, (int)(v >> 24), (int)(v & 0xFFFFFF)); Put(ref n, (byte)'"'); break;
                        case TagLiteral: Put(ref n, (int)(v >> 24), (int)(v & 0xFFFFFF)); break;
                    }
                }
                return Encoding.UTF8.GetString(_json, 0, n);
            }

            private void Put(ref int n, byte b)
            {
                if (n == _json.Length) Array.Resize(ref _json, _json.Length * 2);
                _json[n++] = b;
            }

            private void Put(ref int n, int at, int length)
            {
                if (n + length > _json.Length) Array.Resize(ref _json, Math.Max(_json.Length * 2, n + length));
                Buffer.BlockCopy(_data, at, _json, n, length);
                n += length;
            }

            private void PutLong(ref int n, long v)
            {
                if (v == long.MinValue) { foreach (var c in "-9223372036854775808") Put(ref n, (byte)c); return; }
                if (v < 0) { Put(ref n, (byte)'-'); v = -v; }
                Span<byte> digits = stackalloc byte[20];
                var d = 0;
                do { digits[d++] = (byte)('0' + v % 10); v /= 10; } while (v != 0);
                while (d > 0) Put(ref n, digits[--d]);
            }
        }

        private static long Unzig(ulong z) => (long)(z >> 1) ^ -(long)(z & 1);

        /// <summary>A block's entries as stored (empty when it has no row), in the caller's transaction.</summary>
        public static List<Entry> Load(SqliteConnection c, long block, string schema = "main")
        {
            using var s = Prepare(c, $"SELECT data FROM {schema}.event_details WHERE block = ?");
            raw.sqlite3_bind_int64(s, 1, block);
            var rc = raw.sqlite3_step(s);
            if (rc == Row) return new List<Entry>(Decode(block, raw.sqlite3_column_blob(s, 0).ToArray()));
            Check(c, rc);
            return new List<Entry>();
        }

        /// <summary>Writes a block (deleting its row when it holds no entry), with a new version, in the caller's transaction.</summary>
        public static void Save(SqliteConnection c, long block, IReadOnlyList<Entry> entries, bool seal, string schema = "main")
        {
            if (entries.Count == 0)
            {
                using var d = Prepare(c, $"DELETE FROM {schema}.event_details WHERE block = ?");
                raw.sqlite3_bind_int64(d, 1, block);
                Check(c, raw.sqlite3_step(d));
                return;
            }
            using var s = Prepare(c, $"INSERT OR REPLACE INTO {schema}.event_details(block, version, data) VALUES (?, ?, ?)");
            raw.sqlite3_bind_int64(s, 1, block);
            raw.sqlite3_bind_int64(s, 2, NewVersion());
            raw.sqlite3_bind_blob(s, 3, Encode(block, entries, seal));
            Check(c, raw.sqlite3_step(s));
        }

        private static readonly Random Versions = new Random();

        // A random version per write: a connection's cached block is stale exactly when the row's version differs, even
        // when another connection (or a rotation that deleted and rewrote the block) wrote it.
        private static long NewVersion()
        {
            var bytes = new byte[8];
            lock (Versions) Versions.NextBytes(bytes);
            return BitConverter.ToInt64(bytes, 0) & long.MaxValue;
        }

        /// <summary>
        /// Rewrites the blocks that hold ids of <paramref name="schema"/>'s event_details without a row in its event_rows
        /// any more (after rows were deleted), keeping the rest; deletes blocks left empty.
        /// </summary>
        public static void DropMissing(SqliteConnection c, string schema, IEnumerable<long> blocks)
        {
            foreach (var block in blocks)
            {
                var entries = Load(c, block, schema);
                if (entries.Count == 0) continue;
                var present = new HashSet<long>();
                using (var s = Prepare(c, $"SELECT id FROM {schema}.event_rows WHERE id >= ? AND id < ?"))
                {
                    raw.sqlite3_bind_int64(s, 1, FirstId(block));
                    raw.sqlite3_bind_int64(s, 2, FirstId(block) + Span(block));
                    int rc;
                    while ((rc = raw.sqlite3_step(s)) == Row) present.Add(raw.sqlite3_column_int64(s, 0));
                    Check(c, rc);
                }
                var kept = entries.FindAll(e => present.Contains(e.Id));
                if (kept.Count != entries.Count) Save(c, block, kept, seal: true, schema);
            }
        }

        /// <summary>
        /// Copies the details of the given events (their ids and whether they have a pattern) from main's blocks into
        /// <paramref name="schema"/>'s, merged with what its blocks hold (a repeated copy changes nothing).
        /// </summary>
        public static void Copy(SqliteConnection c, IEnumerable<(long id, bool patterned)> events, string schema)
        {
            var wanted = new SortedDictionary<long, HashSet<long>>();
            foreach (var (id, patterned) in events)
            {
                var block = BlockOf(id, patterned);
                if (!wanted.TryGetValue(block, out var ids)) wanted[block] = ids = new HashSet<long>();
                ids.Add(id);
            }
            foreach (var pair in wanted)
            {
                var merged = new SortedDictionary<long, Entry>();
                foreach (var e in Load(c, pair.Key, schema)) merged[e.Id] = e;
                foreach (var e in Load(c, pair.Key)) if (pair.Value.Contains(e.Id)) merged[e.Id] = e;
                Save(c, pair.Key, new List<Entry>(merged.Values), seal: true, schema);
            }
        }

        /// <summary>
        /// Migration 20: packs every event's details, read through the view as it was (shape and values per row), into
        /// blocks, then rebuilds event_rows without them (<see cref="Schema.PackedRows"/>) and drops the names only they used.
        /// </summary>
        internal static void Migrate(SqliteConnection c, SqliteTransaction tx)
        {
            var splitter = new DetailsShape.Splitter();
            // The block being filled in each series (with and without a pattern).
            var open = new (long block, List<Entry> entries)[] { (long.MinValue, new List<Entry>()), (long.MinValue, new List<Entry>()) };
            // Each event's step (Steps.NameFromDetails, from the same split the import takes it from), for its new kind.
            Dapper.SqlMapper.Execute(c, "CREATE TEMP TABLE event_steps (id INTEGER PRIMARY KEY, step INTEGER NOT NULL)", transaction: tx);
            var stepIds = new Dictionary<string, long>(StringComparer.Ordinal);
            using var name = Prepare(c, "INSERT INTO names(text) VALUES (?) ON CONFLICT(text) DO UPDATE SET text = excluded.text RETURNING id");
            using var addStep = Prepare(c, "INSERT INTO temp.event_steps(id, step) VALUES (?, ?)");
            using (var command = c.CreateCommand())
            {
                command.Transaction = tx;
                command.CommandText = "SELECT id, details, pattern_id IS NOT NULL, event_type FROM events ORDER BY id";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    var id = reader.GetInt64(0);
                    var details = reader.IsDBNull(1) ? null : reader.GetString(1);
                    var patterned = reader.GetInt64(2) != 0;
                    var split = splitter.Of(details);
                    var step = Domain.Steps.NameFromDetails(reader.GetString(3), split.Tool, split.Step);
                    if (step != null)
                    {
                        if (!stepIds.TryGetValue(step, out var stepId))
                        {
                            raw.sqlite3_bind_text(name, 1, step);
                            var rc = raw.sqlite3_step(name);
                            if (rc != Row) Check(c, rc);
                            stepIds[step] = stepId = raw.sqlite3_column_int64(name, 0);
                            Check(c, raw.sqlite3_step(name));
                            raw.sqlite3_reset(name);
                        }
                        raw.sqlite3_bind_int64(addStep, 1, id);
                        raw.sqlite3_bind_int64(addStep, 2, stepId);
                        Check(c, raw.sqlite3_step(addStep));
                        raw.sqlite3_reset(addStep);
                    }
                    var series = patterned ? 1 : 0;
                    var block = BlockOf(id, patterned);
                    if (open[series].block != block)
                    {
                        if (open[series].entries.Count > 0) Save(c, open[series].block, open[series].entries, seal: true);
                        open[series] = (block, new List<Entry>());
                    }
                    // Exactly the text the view gave: details a store kept whole (written before they were split) stay whole.
                    var entry = Entry.Of(id, split, details);
                    open[series].entries.Add(entry.Shape == null || entry.Json() == details ? entry : new Entry(id, null, null, details));
                }
            }
            foreach (var (block, entries) in open) if (entries.Count > 0) Save(c, block, entries, seal: true);
            Dapper.SqlMapper.Execute(c, Schema.PackedRows, transaction: tx);
            EventStorage.PruneNames(c, tx);
        }

        /// <summary>Registers <see cref="Function"/> on a connection, with its own cache of inflated blocks.</summary>
        public static void Register(SqliteConnection c)
        {
            var cache = new Cache(c);
            c.CreateFunction(Function, (long id, long patterned, long? version) => cache.Get(id, patterned != 0, version), isDeterministic: true);
        }

        /// <summary>The last few blocks a connection inflated, by block and version, each entry's JSON put back once asked for.</summary>
        private sealed class Cache
        {
            private const int Kept = 4;
            private readonly SqliteConnection _connection;
            private readonly long[] _blocks = { -1, -1, -1, -1 };
            private readonly long[] _versions = new long[Kept];
            private readonly Parsed?[] _parsed = new Parsed?[Kept];
            // Per cached block: each id's entry index (-1: none) and its JSON once built.
            private readonly int[][] _index = new int[Kept][];
            private readonly string?[][] _json = new string?[Kept][];
            private int _next;

            public Cache(SqliteConnection connection) { _connection = connection; }

            public string? Get(long id, bool patterned, long? version)
            {
                if (!version.HasValue) return null;
                var block = BlockOf(id, patterned);
                var slot = -1;
                for (var i = 0; i < Kept; i++)
                    if (_blocks[i] == block && _versions[i] == version.Value) { slot = i; break; }
                if (slot < 0) slot = Load(block);
                var parsed = _parsed[slot];
                var at = _index[slot][id - FirstId(block)];
                if (parsed == null || at < 0) return null;
                return _json[slot][at] ??= parsed.Json(at);
            }

            private int Load(long block)
            {
                var slot = _next;
                _next = (_next + 1) % Kept;
                _blocks[slot] = -1;
                var index = _index[slot];
                if (index == null || index.Length != Span(block)) _index[slot] = index = new int[Span(block)];
                for (var i = 0; i < index.Length; i++) index[i] = -1;
                Parsed? parsed = null;
                long stored = -1;
                using (var s = Prepare(_connection, "SELECT version, data FROM main.event_details WHERE block = ?"))
                {
                    raw.sqlite3_bind_int64(s, 1, block);
                    var rc = raw.sqlite3_step(s);
                    if (rc == Row)
                    {
                        stored = raw.sqlite3_column_int64(s, 0);
                        parsed = new Parsed(block, raw.sqlite3_column_blob(s, 1).ToArray());
                        for (var i = 0; i < parsed.Count; i++) index[parsed.Id(i) - FirstId(block)] = i;
                    }
                    else Check(_connection, rc);
                }
                _parsed[slot] = parsed;
                _json[slot] = new string?[parsed?.Count ?? 0];
                _versions[slot] = stored;
                _blocks[slot] = block;
                return slot;
            }
        }

        private const int Row = 100, Done = 101;

        private static sqlite3_stmt Prepare(SqliteConnection c, string sql)
        {
            var rc = raw.sqlite3_prepare_v2(c.Handle, sql, out var statement);
            Check(c, rc);
            return statement;
        }

        private static void Check(SqliteConnection c, int rc)
        {
            if (rc == 0 || rc == Row || rc == Done) return;
            throw new SqliteException($"SQLite Error {rc}: '{raw.sqlite3_errmsg(c.Handle).utf8_to_string()}'.", rc);
        }

        private sealed class Writer
        {
            private byte[] _buffer = new byte[16384];
            private int _length;

            public void Byte(byte b)
            {
                if (_length == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
                _buffer[_length++] = b;
            }

            public void Varint(ulong v)
            {
                while (v >= 0x80) { Byte((byte)(v | 0x80)); v >>= 7; }
                Byte((byte)v);
            }

            public void String(string s)
            {
                var count = Encoding.UTF8.GetByteCount(s);
                Varint((ulong)count);
                if (_length + count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
                _length += Encoding.UTF8.GetBytes(s, 0, s.Length, _buffer, _length);
            }

            public void Value(object? v, ref long last)
            {
                switch (v)
                {
                    case null: Byte(TagNull); break;
                    case long l: Byte(TagInt); var d = unchecked(l - last); Varint((ulong)((d << 1) ^ (d >> 63))); last = l; break;
                    case DetailsShape.Name n: Byte(TagName); Terminated(n.Text); break;
                    case string s: Byte(TagLiteral); Terminated(s); break;
                    default: Byte(TagLiteral); Terminated(Convert.ToString(v, CultureInfo.InvariantCulture)!); break;
                }
            }

            private void Terminated(string s)
            {
                var count = Encoding.UTF8.GetByteCount(s);
                if (_length + count + 1 > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count + 1));
                _length += Encoding.UTF8.GetBytes(s, 0, s.Length, _buffer, _length);
                _buffer[_length++] = 0;
            }

            public byte[] ToArray(bool seal)
            {
                using var result = new MemoryStream(_length / (seal ? 3 : 1) + 16);
                result.WriteByte(seal ? Deflated : Plain);
                if (!seal) result.Write(_buffer, 0, _length);
                else using (var z = new DeflateStream(result, CompressionLevel.Optimal, leaveOpen: true)) z.Write(_buffer, 0, _length);
                return result.ToArray();
            }
        }

        private sealed class Reader
        {
            private int _at;

            public Reader(byte[] stored)
            {
                if (stored.Length == 0) throw new InvalidDataException("An event_details block is empty.");
                if (stored[0] == Plain) { Data = stored; _at = 1; return; }
                if (stored[0] != Deflated) throw new InvalidDataException($"An event_details block has an unknown format ({stored[0]}).");
                using var z = new DeflateStream(new MemoryStream(stored, 1, stored.Length - 1), CompressionMode.Decompress);
                using var m = new MemoryStream(stored.Length * 4);
                z.CopyTo(m);
                Data = m.ToArray();
            }

            public byte[] Data { get; }

            public byte Byte() => Data[_at++];

            public ulong Varint()
            {
                ulong v = 0;
                for (var shift = 0; ; shift += 7)
                {
                    var b = Data[_at++];
                    v |= (ulong)(b & 0x7f) << shift;
                    if (b < 0x80) return v;
                }
            }

            /// <summary>A length-prefixed string's place.</summary>
            public (int at, int length) Bytes()
            {
                var length = (int)Varint();
                var at = _at;
                _at += length;
                return (at, length);
            }

            /// <summary>A zero-terminated string's place.</summary>
            public (int at, int length) Terminated()
            {
                var end = Array.IndexOf(Data, (byte)0, _at);
                if (end < 0) throw new InvalidDataException("An event_details block ends inside a string.");
                var at = _at;
                _at = end + 1;
                return (at, end - at);
            }
        }
    }
}

using System;
using System.Collections.Generic;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// The dedup keys of stored events, packed (docs/storage.md, "Dedup keys"): <c>event_keys</c> splits the 64-bit key
    /// space into ranges, one row per range (<c>lo</c>, its first key, as the rowid), whose blob holds the range's keys
    /// sorted, each as its offset from <c>lo</c> in as few bytes as the range needs (7 at a million keys, 6 from about
    /// 64 million), grouped by the month of their event so retention can move a month's keys with its events. A row splits
    /// in two past <see cref="MaxKeys"/> keys, so rows stay small whatever the store holds.
    /// Keys found new are kept in memory until <see cref="Flush"/> (once per transaction): each touched row is then
    /// rewritten once, not once per batch. Rows read stay cached (up to 32 MB) for the next transactions of the same
    /// connection, unless another connection commits in between; after a rollback call <see cref="Discard"/>.
    /// Blob layout: byte width; int64 hi (the range's last key, inclusive); then per month, in month order: uint16 month
    /// (months since 1970-01, <see cref="UnknownMonth"/> for keys whose event is not known), int32 count, count offsets
    /// (little-endian, <c>width</c> bytes each, ascending).
    /// </summary>
    public sealed class EventKeys : IDisposable
    {
        /// <summary>A row splits past this many keys (blobs of at most about 1 KB: several rows share a page).</summary>
        public const int MaxKeys = 128;

        /// <summary>The month of keys whose event was not known when they were stored (keys of archived events kept by
        /// an older schema): never moved by retention.</summary>
        public const ushort UnknownMonth = ushort.MaxValue;

        private const int Row = 100;
        private readonly SqliteConnection _connection;
        private readonly string _schema;
        private readonly sqlite3_stmt _find, _put;

        // Keys found new in this transaction, as a set for membership, and by the row that will hold them.
        private readonly HashSet<long> _pendingKeys = new HashSet<long>();
        private readonly Dictionary<long, Range> _touched = new Dictionary<long, Range>();

        /// <summary>One row as read: its range, its blob (null when not cached) and the keys added to it.</summary>
        private sealed class Range
        {
            public long Lo, Hi;
            public byte[]? Blob;
            public int Length;
            public List<(long key, ushort month)>? Added;
        }

        // Rows read in this transaction, found by the top bits of a key (each row is listed under every bucket its range
        // meets), so a row is read from SQLite once per transaction, not once per batch: later batches' keys fall into
        // rows already read. At most CacheBytes of blobs (about 4.5 million keys) are kept; rows past that are read again.
        private const int BucketBits = 12;
        private const long CacheBytes = 32L << 20;
        private readonly List<Range>?[] _buckets = new List<Range>?[1 << BucketBits];
        private long _cached;
        private Range? _last;

        public EventKeys(SqliteConnection connection, string schema = "main")
        {
            _connection = connection;
            _schema = schema;
            _find = Prepare($"SELECT lo, keys FROM {schema}.event_keys WHERE lo <= ? ORDER BY lo DESC LIMIT 1");
            _put = Prepare($"INSERT OR REPLACE INTO {schema}.event_keys(lo, keys) VALUES (?, ?)");
        }

        /// <summary>The month a key is filed under: the month of its event's time (UTC).</summary>
        public static ushort MonthOf(long timestamp)
        {
            var d = DateTimeOffset.FromUnixTimeMilliseconds(timestamp).UtcDateTime;
            var m = (d.Year - 1970) * 12 + d.Month - 1;
            return m < 0 || m >= UnknownMonth ? UnknownMonth : (ushort)m;
        }

        // PRAGMA data_version when the cache was last known to match the file: rows read are kept across this
        // connection's transactions (one import's), unless another connection has committed since.
        private long _dataVersion = -1;
        private bool _checked;

        private void CheckCache()
        {
            _checked = true;
            var version = DataVersion();
            if (version != _dataVersion) { DropCache(); _dataVersion = version; }
        }

        private long DataVersion()
        {
            using (var s = Prepare($"PRAGMA {_schema}.data_version"))
            {
                var rc = raw.sqlite3_step(s);
                if (rc != Row) Check(rc);
                return raw.sqlite3_column_int64(s, 0);
            }
        }

        /// <summary>Adds the key unless it is stored or already added in this transaction; true when it was new.</summary>
        public bool Add(long key, ushort month)
        {
            if (!_checked) CheckCache();
            if (_pendingKeys.Contains(key)) return false;
            var range = Find(key);
            if (Stored(range, key)) return false;
            _pendingKeys.Add(key);
            (range.Added ??= new List<(long, ushort)>()).Add((key, month));
            if (!_touched.ContainsKey(range.Lo)) _touched[range.Lo] = range;
            return true;
        }

        /// <summary>Whether the key is stored (or added in this transaction).</summary>
        public bool Contains(long key)
        {
            if (!_checked) CheckCache();
            return _pendingKeys.Contains(key) || Stored(Find(key), key);
        }

        private bool Stored(Range range, long key)
        {
            if (range.Blob != null) return Contains(range.Blob, range.Length, range.Lo, key);
            var again = Read(key); // a row that did not fit in the cache
            return Contains(again.Blob!, again.Length, again.Lo, key);
        }

        // The sign bit flipped, so buckets follow the keys' (signed) order and a range's buckets run from its lo's to its hi's.
        private static int Bucket(long key) => (int)(unchecked((ulong)(key ^ long.MinValue)) >> (64 - BucketBits));

        // The row whose range holds the key: the last one, a cached one, or read (and cached while there is room).
        private Range Find(long key)
        {
            if (_last != null && key >= _last.Lo && key <= _last.Hi) return _last;
            var list = _buckets[Bucket(key)];
            if (list != null)
                foreach (var r in list)
                    if (key >= r.Lo && key <= r.Hi) return _last = r;
            var range = Read(key);
            if (_touched.TryGetValue(range.Lo, out var touched)) return _last = touched; // added to, but not cached
            if (!Cache(range)) range.Blob = null; // kept by _touched alone, if keys are added to it
            return _last = range;
        }

        private bool Cache(Range range)
        {
            if (_cached + range.Length > CacheBytes) return false;
            _cached += range.Length + 64;
            for (var b = Bucket(range.Lo); b <= Bucket(range.Hi); b++) (_buckets[b] ??= new List<Range>()).Add(range);
            return true;
        }

        private void Uncache(Range range)
        {
            var found = false;
            for (var b = Bucket(range.Lo); b <= Bucket(range.Hi); b++) found |= _buckets[b]?.Remove(range) == true;
            if (found) _cached -= range.Length + 64;
        }

        /// <summary>Writes the keys added since the last flush into their rows (splitting rows that grow too large).</summary>
        public void Flush()
        {
            if (_touched.Count > 0)
            {
                var entries = new List<(long key, ushort month)>();
                var los = new List<long>(_touched.Keys);
                los.Sort();
                foreach (var lo in los)
                {
                    var range = _touched[lo];
                    var blob = range.Blob;
                    var length = range.Length;
                    if (blob == null)
                    {
                        var again = Read(lo);
                        if (again.Lo != lo) throw new InvalidOperationException("event_keys changed during the transaction");
                        blob = again.Blob;
                        length = again.Length;
                    }
                    entries.Clear();
                    Decode(blob!, length, lo, entries);
                    entries.AddRange(range.Added!);
                    if (range.Blob != null) Uncache(range);
                    Write(lo, range.Hi, entries); // caches the rows written in its place
                }
            }
            _touched.Clear();
            _pendingKeys.Clear();
            _last = null;
            _dataVersion = DataVersion();
            _checked = false;
        }

        /// <summary>
        /// Forgets keys added since the last flush and the rows read: call when the transaction rolled back (the rows
        /// cached since were never committed).
        /// </summary>
        public void Discard()
        {
            _touched.Clear();
            _pendingKeys.Clear();
            DropCache();
            _checked = false;
            _dataVersion = -1;
        }

        private void DropCache()
        {
            Array.Clear(_buckets, 0, _buckets.Length);
            _cached = 0;
            _last = null;
        }

        /// <summary>
        /// Every stored key of the given months with its month (in key order), optionally removing them. Rows keep their
        /// ranges (an emptied row stays, so the rows still cover every key).
        /// </summary>
        public List<(long key, ushort month)> TakeMonths(ICollection<ushort> months, bool remove)
        {
            Flush();
            var taken = new List<(long, ushort)>();
            var rows = Rows();
            var entries = new List<(long key, ushort month)>();
            foreach (var (lo, blob) in rows)
            {
                entries.Clear();
                Decode(blob, blob.Length, lo, entries);
                var kept = entries.FindAll(e => !months.Contains(e.month));
                if (kept.Count == entries.Count) continue;
                foreach (var e in entries) if (months.Contains(e.month)) taken.Add(e);
                if (remove) Write(lo, Hi(blob), kept);
            }
            Discard();
            taken.Sort((x, y) => x.Item1.CompareTo(y.Item1));
            return taken;
        }

        /// <summary>Every stored key with its month, in key order.</summary>
        public List<(long key, ushort month)> All()
        {
            Flush();
            var all = new List<(long, ushort)>();
            foreach (var (lo, blob) in Rows()) Decode(blob, blob.Length, lo, all);
            all.Sort((x, y) => x.Item1.CompareTo(y.Item1));
            return all;
        }

        private List<(long lo, byte[] blob)> Rows()
        {
            var rows = new List<(long lo, byte[] blob)>();
            using (var all = Prepare($"SELECT lo, keys FROM {_schema}.event_keys ORDER BY lo"))
            {
                int rc;
                while ((rc = raw.sqlite3_step(all)) == Row)
                    rows.Add((raw.sqlite3_column_int64(all, 0), raw.sqlite3_column_blob(all, 1).ToArray()));
                if (rc != 101) Check(rc);
            }
            return rows;
        }

        // Reads the row whose range holds the key (or, with no rows yet, the whole key space, empty).
        private Range Read(long key)
        {
            raw.sqlite3_bind_int64(_find, 1, key);
            var rc = raw.sqlite3_step(_find);
            try
            {
                if (rc == Row)
                {
                    var copy = raw.sqlite3_column_blob(_find, 1).ToArray();
                    return new Range { Lo = raw.sqlite3_column_int64(_find, 0), Hi = Hi(copy), Blob = copy, Length = copy.Length };
                }
                if (rc != 101) Check(rc);
                return new Range { Lo = long.MinValue, Hi = long.MaxValue, Blob = Array.Empty<byte>(), Length = 0 };
            }
            finally { raw.sqlite3_reset(_find); }
        }

        private static long Hi(byte[] blob) => blob.Length >= 9 ? unchecked((long)Read(blob, 1, 8)) : long.MaxValue;

        private static bool Contains(byte[] blob, int length, long lo, long key)
        {
            if (length < 9) return false;
            int width = blob[0];
            var target = unchecked((ulong)(key - lo));
            var p = 9;
            while (p < length)
            {
                var count = (int)Read(blob, p + 2, 4);
                var start = p + 6;
                int a = 0, b = count - 1;
                while (a <= b)
                {
                    var m = (a + b) >> 1;
                    var v = Read(blob, start + m * width, width);
                    if (v == target) return true;
                    if (v < target) a = m + 1; else b = m - 1;
                }
                p = start + count * width;
            }
            return false;
        }

        private static void Decode(byte[] blob, int length, long lo, List<(long key, ushort month)> into)
        {
            if (length < 9) return;
            int width = blob[0];
            var p = 9;
            while (p < length)
            {
                var month = (ushort)Read(blob, p, 2);
                var count = (int)Read(blob, p + 2, 4);
                p += 6;
                for (var i = 0; i < count; i++, p += width) into.Add((unchecked(lo + (long)Read(blob, p, width)), month));
            }
        }

        private static ulong Read(byte[] blob, int at, int width)
        {
            ulong v = 0;
            for (var i = width - 1; i >= 0; i--) v = (v << 8) | blob[at + i];
            return v;
        }

        /// <summary>Bytes an offset within [lo, hi] needs.</summary>
        private static int Width(long lo, long hi)
        {
            var span = unchecked((ulong)(hi - lo));
            var w = 1;
            while (w < 8 && span >> (8 * w) != 0) w++;
            return w;
        }

        // Writes the range's keys as one row, or as several ranges of about MaxKeys / 2 keys when there are more than MaxKeys.
        private void Write(long lo, long hi, List<(long key, ushort month)> entries)
        {
            // Sorted as two arrays: a primitive sort, several times faster than a comparer's on the tuples.
            var n = entries.Count;
            if (_sortKeys.Length < n) { _sortKeys = new long[n * 2]; _sortMonths = new ushort[n * 2]; }
            for (var i = 0; i < n; i++) { _sortKeys[i] = entries[i].key; _sortMonths[i] = entries[i].month; }
            Array.Sort(_sortKeys, _sortMonths, 0, n);
            for (var i = 0; i < n; i++) entries[i] = (_sortKeys[i], _sortMonths[i]);
            if (entries.Count <= MaxKeys) { Put(lo, hi, entries, 0, entries.Count); return; }
            var pieces = (entries.Count + MaxKeys / 2 - 1) / (MaxKeys / 2);
            var per = (entries.Count + pieces - 1) / pieces;
            for (var start = 0; start < entries.Count; start += per)
            {
                var end = Math.Min(entries.Count, start + per);
                var pieceLo = start == 0 ? lo : entries[start].key;
                var pieceHi = end == entries.Count ? hi : entries[end].key - 1;
                Put(pieceLo, pieceHi, entries, start, end);
            }
        }

        private byte[] _out = new byte[64];
        private long[] _sortKeys = new long[2 * MaxKeys];
        private ushort[] _sortMonths = new ushort[2 * MaxKeys];
        private readonly List<ushort> _months = new List<ushort>();

        // Little-endian, as Read reads it back.
        private void WriteInt(long v, int at, int bytes)
        {
            for (var b = 0; b < bytes; b++, v >>= 8) _out[at + b] = (byte)v;
        }

        private void Put(long lo, long hi, List<(long key, ushort month)> entries, int start, int end)
        {
            var width = Width(lo, hi);
            // Per month, in month order, the keys stay in key order (a stable pass per month).
            var months = _months;
            months.Clear();
            for (var i = start; i < end; i++)
            {
                var at = months.BinarySearch(entries[i].month);
                if (at < 0) months.Insert(~at, entries[i].month);
            }
            var size = 9 + months.Count * 6 + (end - start) * width;
            if (_out.Length < size) _out = new byte[Math.Max(size, _out.Length * 2)];
            _out[0] = (byte)width;
            WriteInt(hi, 1, 8);
            var p = 9;
            foreach (var month in months)
            {
                var header = p;
                p += 6;
                var count = 0;
                for (var i = start; i < end; i++)
                {
                    if (entries[i].month != month) continue;
                    var v = unchecked((ulong)(entries[i].key - lo));
                    for (var b = 0; b < width; b++, v >>= 8) _out[p++] = (byte)v;
                    count++;
                }
                WriteInt(month, header, 2);
                WriteInt(count, header + 2, 4);
            }
            raw.sqlite3_bind_int64(_put, 1, lo);
            raw.sqlite3_bind_blob(_put, 2, new ReadOnlySpan<byte>(_out, 0, p));
            Step(_put);
            var copy = new byte[p];
            Buffer.BlockCopy(_out, 0, copy, 0, p);
            Cache(new Range { Lo = lo, Hi = hi, Blob = copy, Length = p });
        }

        /// <summary>
        /// Builds the rows from keys in ascending order (a migration's conversion): one pass, constant memory.
        /// </summary>
        public sealed class Builder
        {
            private readonly EventKeys _keys;
            private readonly List<(long key, ushort month)> _run = new List<(long, ushort)>();
            private long _lo = long.MinValue;

            public Builder(EventKeys keys) { _keys = keys; }

            public void Add(long key, ushort month)
            {
                if (_run.Count == MaxKeys / 2)
                {
                    _keys.Put(_lo, key - 1, _run, 0, _run.Count);
                    _run.Clear();
                    _lo = key;
                }
                _run.Add((key, month));
            }

            public void Finish()
            {
                if (_run.Count > 0 || _lo != long.MinValue) _keys.Put(_lo, long.MaxValue, _run, 0, _run.Count);
                _run.Clear();
            }
        }

        /// <summary>
        /// Migration 14: packs the keys of legacy_event_keys (key, event_id) into event_keys, each under its event's
        /// month (the unknown month for keys without a stored event: archived keys kept by an older schema), then drops it.
        /// Keys are read in key order, so this is one pass in constant memory.
        /// </summary>
        internal static void ConvertLegacy(SqliteConnection connection, SqliteTransaction transaction)
        {
            using (var keys = new EventKeys(connection))
            {
                var build = new Builder(keys);
                using (var read = keys.Prepare("SELECT k.key, (SELECT e.timestamp FROM events e WHERE e.id = k.event_id) FROM legacy_event_keys k ORDER BY k.key"))
                {
                    int rc;
                    while ((rc = raw.sqlite3_step(read)) == Row)
                        build.Add(raw.sqlite3_column_int64(read, 0),
                            raw.sqlite3_column_type(read, 1) == raw.SQLITE_NULL ? UnknownMonth : MonthOf(raw.sqlite3_column_int64(read, 1)));
                    if (rc != 101) keys.Check(rc);
                }
                build.Finish();
            }
            Dapper.SqlMapper.Execute(connection, "DROP TABLE legacy_event_keys", transaction: transaction);
        }

        private sqlite3_stmt Prepare(string sql)
        {
            Check(raw.sqlite3_prepare_v2(_connection.Handle, sql, out var statement));
            return statement;
        }

        private void Step(sqlite3_stmt s)
        {
            var rc = raw.sqlite3_step(s);
            raw.sqlite3_reset(s);
            if (rc != 101) Check(rc);
        }

        private void Check(int rc)
        {
            if (rc == 0 || rc == 100 || rc == 101) return;
            var message = raw.sqlite3_errmsg(_connection.Handle).utf8_to_string();
            throw new SqliteException($"SQLite Error {rc}: '{message}'.", rc);
        }

        public void Dispose()
        {
            _find.Dispose();
            _put.Dispose();
        }
    }
}

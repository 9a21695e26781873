using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Text;
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
    /// Keys found new are kept in memory until <see cref="Flush"/> (once per transaction), and then written into
    /// <c>event_keys_recent</c>, a second set of rows of the same layout: keys are hashes, so a transaction's keys meet
    /// nearly every row, and rewriting every row of a large store at each commit made an import quadratic in the store's
    /// size. The recent rows are few (at most a quarter of the keys); once they hold a quarter, they are merged into
    /// <c>event_keys</c> in one pass in key order, and emptied. A key is stored when either holds it. Rows read stay
    /// cached (up to 4 MB of each) for the next transactions of the same connection,
    /// unless another connection commits in between; after a rollback call <see cref="Discard"/>.
    /// Blob layout: byte <see cref="Packed"/>; int64 hi (the range's last key, inclusive); then per month, in month order:
    /// uint16 month (months since 1970-01, <see cref="UnknownMonth"/> for keys whose event is not known) and the month's
    /// keys as offsets from lo (<see cref="SortedOffsets"/>: about log2 of their mean gap plus 2 bits each). Until schema 43
    /// the first byte was a width (1-8) and each month an int32 count and offsets of that many bytes (7 at a million keys);
    /// rows of that layout are still read, and rewritten in this one when written (migration 43 rewrites them all).
    /// </summary>
    public sealed class EventKeys : IDisposable
    {
        /// <summary>A row splits past this many keys (blobs of at most about 1 KB: several rows share a page).</summary>
        public const int MaxKeys = 128;

        /// <summary>The first byte of a row in the current layout (a fixed-width row's is its width, 1-8).</summary>
        internal const byte Packed = 0x80;

        /// <summary>The month of keys whose event was not known when they were stored (keys of archived events kept by
        /// an older schema): never moved by retention.</summary>
        public const ushort UnknownMonth = ushort.MaxValue;

        /// <summary>The recent rows are merged into event_keys once they hold this share of all keys (1 / MergeShare).</summary>
        internal const int MergeShare = 4;

        // Keys merged per pass (in key order, so each pass rewrites the rows of one stretch of the key space once).
        private const int MergeChunk = 1 << 16;

        private const int Row = 100;
        private readonly SqliteConnection _connection;
        private readonly string _schema;
        private readonly Level _main, _recent;

        // Keys found new in this transaction (all go to the recent rows).
        private readonly HashSet<long> _pendingKeys = new HashSet<long>();
        private long _recentKeys = -1; // keys in the recent rows, counted when first needed

        // The caches are small: once the rows outgrow them, new keys are answered by the filters, keys are staged to their
        // rows by the rows' index (no blob read), and only duplicates, "maybe"s and each row written at a flush read a
        // row, from SQLite's own page cache; larger caches bought little speed and made the import's memory grow with the
        // store (32 + 16 MB at 10M keys, then 8 + 16).
        public EventKeys(SqliteConnection connection, string schema = "main") : this(connection, schema, 4L << 20, 4L << 20) { }

        /// <summary>With caches of the given sizes (tests use tiny ones to reach the paths of a large store).</summary>
        internal EventKeys(SqliteConnection connection, string schema, long cacheBytes, long recentCacheBytes)
        {
            _connection = connection;
            _schema = schema;
            _main = new Level(this, "event_keys", cacheBytes, 1);
            _recent = new Level(this, "event_keys_recent", recentCacheBytes, MergeShare);
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
            if (version != _dataVersion) { _main.DropCache(); _recent.DropCache(); _recentKeys = -1; _dataVersion = version; }
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
            if (_recent.Stored(key) || _main.Stored(key)) return false;
            _pendingKeys.Add(key);
            _recent.Stage(key, month);
            return true;
        }

        /// <summary>Rows read from SQLite so far to answer or stage keys, both sets of rows.</summary>
        internal long RowReads => _main.RowReads + _recent.RowReads;

        /// <summary>Whether the key is stored (or added in this transaction).</summary>
        public bool Contains(long key)
        {
            if (!_checked) CheckCache();
            return _pendingKeys.Contains(key) || _recent.Stored(key) || _main.Stored(key);
        }

        /// <summary>
        /// Writes the keys added since the last flush into the recent rows (splitting rows that grow too large), and merges
        /// the recent rows into event_keys once they hold a quarter of the keys.
        /// </summary>
        public void Flush()
        {
            var added = _pendingKeys.Count;
            if (added > 0)
            {
                _recentKeys = (_recentKeys < 0 ? _recent.CountKeys() : _recentKeys) + added;
                // Due: the staged keys go straight into event_keys with the recent rows' (not written apart first).
                if (_recentKeys * MergeShare >= StoredKeys()) Merge();
            }
            _recent.Flush();
            _pendingKeys.Clear();
            _dataVersion = DataVersion();
            _checked = false;
        }

        // About how many keys are stored: the events ever written (AUTOINCREMENT's high-water mark), a bound that costs
        // nothing to read. It counts responses (keyed in response_keys) and archived events too, so merges come a little
        // later than a quarter; the answer does not depend on it, only when rows are rewritten.
        private long StoredKeys()
        {
            using (var s = Prepare($"SELECT coalesce((SELECT seq FROM {_schema}.sqlite_sequence WHERE name = 'event_rows'), 0)"))
            {
                var rc = raw.sqlite3_step(s);
                if (rc != Row) Check(rc);
                return raw.sqlite3_column_int64(s, 0);
            }
        }

        // The recent rows' keys and the keys staged for them into event_keys, in key order and in passes of about
        // MergeChunk keys, so memory stays bounded and each row of event_keys is rewritten once; then the recent rows are
        // emptied.
        [MethodImpl(Hot.Path)]
        private void Merge()
        {
            var staged = _recent.TakeStaged();
            // The tuples' own order (key, then month; no key is staged twice): no delegate call per comparison.
            staged.Sort();
            var next = 0;
            var chunk = new List<(long key, ushort month)>();
            // Read in place, row by row (the recent rows can be a quarter of the store: not all copied at once).
            using (var rows = _recent.RowsInOrder())
            {
                var rc = 101;
                while (rows != null && (rc = raw.sqlite3_step(rows)) == Row)
                {
                    var blob = raw.sqlite3_column_blob(rows, 1);
                    Decode(blob, raw.sqlite3_column_int64(rows, 0), chunk);
                    var hi = blob.Length >= 9 ? unchecked((long)Read(blob, 1, 8)) : long.MaxValue; // rows cover the key space in lo order
                    while (next < staged.Count && staged[next].key <= hi) chunk.Add(staged[next++]);
                    if (chunk.Count >= MergeChunk) { MergePass(chunk); chunk.Clear(); }
                }
                if (rc != 101) Check(rc);
            }
            while (next < staged.Count) chunk.Add(staged[next++]);
            MergePass(chunk);
            _recent.Empty();
            _recentKeys = 0;
        }

        [MethodImpl(Hot.Path)]
        private void MergePass(List<(long key, ushort month)> chunk)
        {
            if (chunk.Count == 0) return;
            chunk.Sort(); // by key (no key twice): consecutive keys meet the same row of event_keys
            foreach (var (key, month) in chunk) _main.Stage(key, month);
            _main.Flush();
        }

        /// <summary>
        /// Forgets keys added since the last flush and the rows read: call when the transaction rolled back (the rows
        /// cached since were never committed).
        /// </summary>
        public void Discard()
        {
            _pendingKeys.Clear();
            _main.Discard();
            _recent.Discard();
            _recentKeys = -1;
            _checked = false;
            _dataVersion = -1;
        }

        /// <summary>
        /// Every stored key of the given months with its month (in key order), optionally removing them. Rows keep their
        /// ranges (an emptied row stays, so the rows still cover every key).
        /// </summary>
        public List<(long key, ushort month)> TakeMonths(ICollection<ushort> months, bool remove)
        {
            Flush();
            var taken = new List<(long, ushort)>();
            _main.TakeMonths(months, remove, taken);
            _recent.TakeMonths(months, remove, taken);
            Discard();
            taken.Sort((x, y) => x.Item1.CompareTo(y.Item1));
            return taken;
        }

        /// <summary>Every stored key with its month, in key order.</summary>
        public List<(long key, ushort month)> All()
        {
            Flush();
            var all = new List<(long, ushort)>();
            foreach (var (lo, blob) in _main.Rows()) Decode(blob, blob.Length, lo, all);
            foreach (var (lo, blob) in _recent.Rows()) Decode(blob, blob.Length, lo, all);
            all.Sort((x, y) => x.Item1.CompareTo(y.Item1));
            return all;
        }

        /// <summary>
        /// One table of packed rows (event_keys or event_keys_recent): its rows by range, the rows read (cached), and the
        /// keys staged for it until <see cref="Flush"/>.
        /// </summary>
        private sealed class Level
        {
            private readonly EventKeys _owner;
            private readonly string _table;
            private readonly long _cacheBytes;
            private sqlite3_stmt? _find, _put;
            private bool? _exists;

            // Keys staged in this transaction, by the row that will hold them.
            private readonly Dictionary<long, Range> _touched = new Dictionary<long, Range>();

            // Rows read, found by the top bits of a key (each row is listed under every bucket its range meets), so a row
            // is read from SQLite once, not once per batch. At most _cacheBytes of blobs are kept; rows past that are read
            // again when needed (and searched in place, without a copy).
            private readonly List<Range>?[] _buckets = new List<Range>?[1 << BucketBits];
            private long _cached;
            private Range? _last;

            private readonly int _share; // of all keys, the most this set holds: 1 for event_keys, MergeShare for the recent rows

            public Level(EventKeys owner, string table, long cacheBytes, int share) { _owner = owner; _table = table; _cacheBytes = cacheBytes; _share = share; }

            private string Table => _owner._schema + "." + _table;

            // A store read before its table existed (a read-only file of an older schema) has no recent rows.
            private bool Exists => _exists ??= _owner.Scalar($"SELECT count(*) FROM {_owner._schema}.sqlite_master WHERE type = 'table' AND name = '{_table}'") > 0;

            public void Stage(long key, ushort month)
            {
                _filter?.Add(key);
                var range = Staging(key);
                (range.Added ??= new List<(long, ushort)>()).Add((key, month));
                if (!_touched.ContainsKey(range.Lo)) _touched[range.Lo] = range;
            }

            // The rows' first keys in order: the rows cover the key space, each up to the next one's lo - 1, so a key is
            // staged to its row by this index alone, without reading the row (Flush reads each row staged to once). So
            // the blobs' cache can stay small: SQLite's page cache holds the rows anyway. Read once per cache lifetime
            // (8 bytes a row), and kept up to date by Flush with the rows a split adds.
            private List<long>? _los;
            private readonly List<long> _written = new List<long>();

            private List<long> Los()
            {
                if (_los != null) return _los;
                var los = new List<long>();
                if (Exists)
                    using (var all = _owner.Prepare($"SELECT lo FROM {Table} ORDER BY lo"))
                    {
                        int rc;
                        while ((rc = raw.sqlite3_step(all)) == Row) los.Add(raw.sqlite3_column_int64(all, 0));
                        if (rc != 101) _owner.Check(rc);
                    }
                return _los = los;
            }

            // The row whose range holds the key when it is the last one used or a cached one (and it becomes the last one).
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private Range? Cached(long key)
            {
                if (_last != null && key >= _last.Lo && key <= _last.Hi) return _last;
                var list = _buckets[Bucket(key)];
                if (list != null)
                    foreach (var r in list)
                        if (key >= r.Lo && key <= r.Hi) return _last = r;
                return null;
            }

            // The row a key is staged to: the last one, a cached one, one already staged to, or its range from the index
            // (with no blob: Flush reads it). With no rows yet, the whole key space, empty.
            [MethodImpl(Hot.Path)]
            private Range Staging(long key)
            {
                if (Cached(key) is { } cached) return cached;
                var los = Los();
                if (los.Count == 0) return _touched.TryGetValue(long.MinValue, out var all) ? _last = all : _last = new Range { Lo = long.MinValue, Hi = long.MaxValue, Blob = Array.Empty<byte>(), Length = 0 };
                var i = los.BinarySearch(key);
                if (i < 0) i = ~i - 1;
                if (i < 0) return Find(key); // below the first row: not a layout this code writes, read as before
                var lo = los[i];
                if (_touched.TryGetValue(lo, out var touched)) return _last = touched;
                return _last = new Range { Lo = lo, Hi = i + 1 < los.Count ? los[i + 1] - 1 : long.MaxValue };
            }

            // Adds the rows Flush wrote (a split's new ones among them) to the index, in order.
            private void IndexWritten()
            {
                if (_los == null || _written.Count == 0) { _written.Clear(); return; }
                _written.Sort();
                var merged = new List<long>(_los.Count + _written.Count);
                int a = 0, b = 0;
                while (a < _los.Count || b < _written.Count)
                {
                    long next;
                    if (b == _written.Count || a < _los.Count && _los[a] <= _written[b]) next = _los[a++];
                    else next = _written[b++];
                    if (merged.Count == 0 || merged[merged.Count - 1] != next) merged.Add(next);
                }
                _los = merged;
                _written.Clear();
            }

            public bool Stored(long key)
            {
                if (!Exists) return false;
                if (_filter != null)
                {
                    // Sized for the keys it held when built: past that it answers "maybe" more and more often (a row read
                    // each), so it is built again for the keys there are now.
                    if (_filter.Outgrown) BuildFilter();
                    if (!_filter!.MayContain(key)) return false;
                }
                // With the cache full, a row not in it is searched where SQLite holds it, in one read.
                var cached = Cached(key);
                if (cached == null && _cached >= _cacheBytes) return StoredUncached(key);
                var range = cached ?? Find(key);
                return range.Blob != null ? Contains(range.Blob, range.Length, range.Lo, key) : StoredUncached(key);
            }

            // Once the rows outgrow the cache and lookups keep missing it, a filter of every key in the rows answers most
            // "not stored" without reading a row (new keys are most of an import's). Built from all the rows as read in this
            // transaction, given every key staged after, and dropped with the cache (another connection may have written).
            private KeyFilter? _filter;
            private int _misses;
            private const int MissesBeforeFilter = 4096;

            /// <summary>Rows read from SQLite to answer or stage a key (what the cache and the filter are there to save).</summary>
            public long RowReads;

            // A row that did not fit in the cache: read again and searched where SQLite holds it.
            private bool StoredUncached(long key)
            {
                RowReads++;
                if (_filter == null && ++_misses >= MissesBeforeFilter) { BuildFilter(); if (!_filter!.MayContain(key)) return false; }
                var find = FindStatement();
                raw.sqlite3_bind_int64(find, 1, key);
                var rc = raw.sqlite3_step(find);
                try
                {
                    if (rc == Row)
                    {
                        var blob = raw.sqlite3_column_blob(find, 1);
                        return Contains(blob, raw.sqlite3_column_int64(find, 0), key);
                    }
                    if (rc != 101) _owner.Check(rc);
                    return false;
                }
                finally { raw.sqlite3_reset(find); }
            }

            private sqlite3_stmt FindStatement() => _find ??= _owner.Prepare($"SELECT lo, keys FROM {Table} WHERE lo <= ? ORDER BY lo DESC LIMIT 1");

            // The row whose range holds the key: the last one, a cached one, or read (and cached while there is room).
            private Range Find(long key)
            {
                if (Cached(key) is { } cached) return cached;
                // With the cache full, only the row's range is taken (no copy of its keys, which would be dropped at once).
                var range = _cached < _cacheBytes ? Read(key) : Read(key, copy: false);
                if (_touched.TryGetValue(range.Lo, out var touched))
                {
                    // Staged to by the index alone: its blob, now read, is kept (while there is room) for the lookups and
                    // the flush that follow.
                    if (touched.Blob == null && range.Blob != null)
                    {
                        touched.Blob = range.Blob;
                        touched.Length = range.Length;
                        if (!Cache(touched)) { touched.Blob = null; touched.Length = 0; }
                    }
                    return _last = touched; // staged to, but not cached
                }
                if (range.Blob == null || !Cache(range)) range.Blob = null; // kept by _touched alone, if keys are staged to it
                return _last = range;
            }

            private bool Cache(Range range)
            {
                if (_cached + range.Length > _cacheBytes) return false;
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

            /// <summary>Writes the keys staged since the last flush into their rows (splitting rows that grow too large).</summary>
            [MethodImpl(Hot.Path)]
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
                _last = null;
                IndexWritten();
            }

            public void Discard()
            {
                _touched.Clear();
                DropCache();
            }

            public void DropCache()
            {
                Array.Clear(_buckets, 0, _buckets.Length);
                _cached = 0;
                _last = null;
                _filter = null;
                _misses = 0;
                _los = null;
                _written.Clear();
            }

            private void BuildFilter()
            {
                // The keys it may hold before its cache is dropped: the stored ones (a quarter of them for the recent rows),
                // with room for what this import adds.
                // (The events ever written bound the keys from above but lag a store whose keys came without events, as a
                // migration's do: a filter outgrown is built for the keys it held, counted, instead.)
                var expected = Math.Max(Math.Max(_owner.StoredKeys() / _share, _filter?.Count ?? 0), 1L << 16) * 3 / 2;
                _filter = null; // the old one's memory can go before the new one's is taken
                var filter = new KeyFilter(expected);
                using (var all = _owner.Prepare($"SELECT lo, keys FROM {Table}"))
                {
                    int rc;
                    while ((rc = raw.sqlite3_step(all)) == Row) filter.AddRow(raw.sqlite3_column_int64(all, 0), raw.sqlite3_column_blob(all, 1));
                    if (rc != 101) _owner.Check(rc);
                }
                foreach (var range in _touched.Values) foreach (var (key, _) in range.Added!) filter.Add(key);
                _filter = filter;
            }

            /// <summary>The keys staged since the last flush, taken away (a merge writes them elsewhere).</summary>
            public List<(long key, ushort month)> TakeStaged()
            {
                var staged = new List<(long key, ushort month)>();
                foreach (var range in _touched.Values) staged.AddRange(range.Added!);
                foreach (var range in _touched.Values) range.Added = null;
                _touched.Clear();
                _last = null;
                return staged;
            }

            /// <summary>Deletes every row (after a merge moved their keys).</summary>
            public void Empty()
            {
                using (var s = _owner.Prepare($"DELETE FROM {Table}")) _owner.Step(s);
                Discard();
            }

            /// <summary>How many keys the rows hold.</summary>
            public long CountKeys()
            {
                if (!Exists) return 0;
                long n = 0;
                foreach (var (_, blob) in Rows()) n += Count(blob);
                return n;
            }

            public void TakeMonths(ICollection<ushort> months, bool remove, List<(long, ushort)> taken)
            {
                var entries = new List<(long key, ushort month)>();
                foreach (var (lo, blob) in Rows())
                {
                    entries.Clear();
                    Decode(blob, blob.Length, lo, entries);
                    var kept = entries.FindAll(e => !months.Contains(e.month));
                    if (kept.Count == entries.Count) continue;
                    foreach (var e in entries) if (months.Contains(e.month)) taken.Add(e);
                    if (remove) Write(lo, Hi(blob), kept);
                }
            }

            /// <summary>A statement reading the rows in lo order (null when the table does not exist): the caller steps and disposes it.</summary>
            public sqlite3_stmt? RowsInOrder() => Exists ? _owner.Prepare($"SELECT lo, keys FROM {Table} ORDER BY lo") : null;

            public List<(long lo, byte[] blob)> Rows()
            {
                var rows = new List<(long lo, byte[] blob)>();
                if (!Exists) return rows;
                using (var all = _owner.Prepare($"SELECT lo, keys FROM {Table} ORDER BY lo"))
                {
                    int rc;
                    while ((rc = raw.sqlite3_step(all)) == Row)
                        rows.Add((raw.sqlite3_column_int64(all, 0), raw.sqlite3_column_blob(all, 1).ToArray()));
                    if (rc != 101) _owner.Check(rc);
                }
                return rows;
            }

            // Reads the row whose range holds the key (or, with no rows yet, the whole key space, empty).
            private Range Read(long key, bool copy = true)
            {
                RowReads++;
                var find = FindStatement();
                raw.sqlite3_bind_int64(find, 1, key);
                var rc = raw.sqlite3_step(find);
                try
                {
                    if (rc == Row)
                    {
                        var blob = raw.sqlite3_column_blob(find, 1);
                        var lo = raw.sqlite3_column_int64(find, 0);
                        var hi = blob.Length >= 9 ? unchecked((long)EventKeys.Read(blob, 1, 8)) : long.MaxValue;
                        if (!copy) return new Range { Lo = lo, Hi = hi, Length = blob.Length };
                        var bytes = blob.ToArray();
                        return new Range { Lo = lo, Hi = hi, Blob = bytes, Length = bytes.Length };
                    }
                    if (rc != 101) _owner.Check(rc);
                    return new Range { Lo = long.MinValue, Hi = long.MaxValue, Blob = Array.Empty<byte>(), Length = 0 };
                }
                finally { raw.sqlite3_reset(find); }
            }

            // Writes the range's keys as one row, or as several ranges of about MaxKeys / 2 keys when there are more than MaxKeys.
            [MethodImpl(Hot.Path)]
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

            private long[] _sortKeys = new long[2 * MaxKeys];
            private ushort[] _sortMonths = new ushort[2 * MaxKeys];

            public void Put(long lo, long hi, List<(long key, ushort month)> entries, int start, int end)
            {
                var length = _owner.Encode(lo, hi, entries, start, end);
                _put ??= _owner.Prepare($"INSERT OR REPLACE INTO {Table}(lo, keys) VALUES (?, ?)");
                raw.sqlite3_bind_int64(_put, 1, lo);
                raw.sqlite3_bind_blob(_put, 2, new ReadOnlySpan<byte>(_owner._out, 0, length));
                _owner.Step(_put);
                var copy = new byte[length];
                Buffer.BlockCopy(_owner._out, 0, copy, 0, length);
                Cache(new Range { Lo = lo, Hi = hi, Blob = copy, Length = length });
                _written.Add(lo);
            }

            public void Dispose()
            {
                _find?.Dispose();
                _put?.Dispose();
            }
        }

        /// <summary>
        /// A Bloom filter of keys: "no" means the key is not among those added; "maybe" is checked in the rows. About 10
        /// bits per key (about 1% false "maybe") up to <see cref="MaxBytes"/>, fewer bits per key past that (more rows
        /// read, never a wrong answer: 6.4 bits a key at 10M keys, about 5% "maybe"), so an import's memory stays about
        /// the same whatever the store holds. Blocked: a key's probes all fall in one 64-byte block (one cache line), so a
        /// lookup costs one memory read where five scattered probes cost five (most lookups miss every cache once the
        /// filter is megabytes), and the block is found by a multiplication instead of five divisions.
        /// </summary>
        internal sealed class KeyFilter
        {
            /// <summary>The most one filter takes (there are two: event_keys' and the recent rows').</summary>
            internal const long MaxBytes = 8L << 20;

            private const int Probes = 5, BlockWords = 8; // 512 bits a block
            private const int BitsPerKey = 10;
            private readonly ulong[] _bits;
            private readonly ulong _blocks;
            private readonly long _capacity; // keys it was sized for at BitsPerKey; long.MaxValue when at MaxBytes

            public KeyFilter(long expectedKeys)
            {
                var bits = Math.Min(Math.Max(expectedKeys * BitsPerKey, 1L << 16), MaxBytes * 8);
                _blocks = (ulong)((bits + 511) / 512);
                _bits = new ulong[_blocks * BlockWords];
                _capacity = bits == MaxBytes * 8 ? long.MaxValue : bits / BitsPerKey;
            }

            /// <summary>Keys added (with repeats).</summary>
            public long Count { get; private set; }

            /// <summary>Holds more keys than it was sized for (and could be larger): built again, it says "maybe" less.</summary>
            public bool Outgrown => Count > _capacity;

            // splitmix64: keys of some formats are not uniform hashes (tests, ids), the probes must be.
            private static ulong Mix(long key)
            {
                var z = unchecked((ulong)key + 0x9E3779B97F4A7C15UL);
                z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
                z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
                return z ^ (z >> 31);
            }

            // The block from the hash's high 32 bits (scaled to the block count, no division); the probes' 9-bit offsets
            // within it from a second mix of it (independent of the block).
            [MethodImpl(Hot.Path)]
            public void Add(long key)
            {
                Count++;
                var h = Mix(key);
                var block = (int)(((h >> 32) * _blocks) >> 32) * BlockWords;
                h = Mix(unchecked((long)h));
                for (var i = 0; i < Probes; i++, h >>= 9) _bits[block + (int)((h >> 6) & 7)] |= 1UL << (int)(h & 63);
            }

            [MethodImpl(Hot.Path)]
            public bool MayContain(long key)
            {
                var h = Mix(key);
                var block = (int)(((h >> 32) * _blocks) >> 32) * BlockWords;
                h = Mix(unchecked((long)h));
                for (var i = 0; i < Probes; i++, h >>= 9)
                    if ((_bits[block + (int)((h >> 6) & 7)] & (1UL << (int)(h & 63))) == 0) return false;
                return true;
            }

            public void AddRow(long lo, ReadOnlySpan<byte> blob)
            {
                if (blob.Length < 9) return;
                int width = blob[0];
                if (width == Packed)
                {
                    for (var at = 9; at < blob.Length; )
                    {
                        var keys = new SortedOffsets.Reader(blob, at + 2);
                        while (keys.Next(out var offset)) Add(unchecked(lo + (long)offset));
                        at = keys.End;
                    }
                    return;
                }
                var p = 9;
                while (p < blob.Length)
                {
                    var count = (int)Read(blob, p + 2, 4);
                    p += 6;
                    for (var i = 0; i < count; i++, p += width) Add(unchecked(lo + (long)Read(blob, p, width)));
                }
            }
        }

        /// <summary>One row as read: its range, its blob (null when not cached) and the keys staged to it.</summary>
        private sealed class Range
        {
            public long Lo, Hi;
            public byte[]? Blob;
            public int Length;
            public List<(long key, ushort month)>? Added;
        }

        private const int BucketBits = 12;

        // The sign bit flipped, so buckets follow the keys' (signed) order and a range's buckets run from its lo's to its hi's.
        private static int Bucket(long key) => (int)(unchecked((ulong)(key ^ long.MinValue)) >> (64 - BucketBits));

        private static long Hi(byte[] blob) => blob.Length >= 9 ? unchecked((long)Read(blob, 1, 8)) : long.MaxValue;

        private static bool Contains(byte[] blob, int length, long lo, long key) => Contains(new ReadOnlySpan<byte>(blob, 0, length), lo, key);

        private static bool Contains(ReadOnlySpan<byte> blob, long lo, long key)
        {
            if (blob.Length < 9) return false;
            int width = blob[0];
            var target = unchecked((ulong)(key - lo));
            if (width == Packed)
            {
                for (var at = 9; at < blob.Length; )
                {
                    var keys = new SortedOffsets.Reader(blob, at + 2);
                    if (keys.Contains(target)) return true;
                    at = keys.End;
                }
                return false;
            }
            var p = 9;
            while (p < blob.Length)
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

        // How many keys a row holds (the sum of its months' counts).
        private static long Count(byte[] blob)
        {
            if (blob.Length < 9) return 0;
            int width = blob[0];
            long n = 0;
            var p = 9;
            if (width == Packed)
            {
                while (p < blob.Length)
                {
                    var keys = new SortedOffsets.Reader(blob, p + 2);
                    n += keys.Count;
                    p = keys.End;
                }
                return n;
            }
            while (p < blob.Length)
            {
                var count = (int)Read(blob, p + 2, 4);
                n += count;
                p += 6 + count * width;
            }
            return n;
        }

        private static void Decode(byte[] blob, int length, long lo, List<(long key, ushort month)> into) =>
            Decode(new ReadOnlySpan<byte>(blob, 0, length), lo, into);

        private static void Decode(ReadOnlySpan<byte> blob, long lo, List<(long key, ushort month)> into)
        {
            if (blob.Length < 9) return;
            int width = blob[0];
            var p = 9;
            if (width == Packed)
            {
                while (p < blob.Length)
                {
                    var month = (ushort)Read(blob, p, 2);
                    var keys = new SortedOffsets.Reader(blob, p + 2);
                    while (keys.Next(out var offset)) into.Add((unchecked(lo + (long)offset), month));
                    p = keys.End;
                }
                return;
            }
            while (p < blob.Length)
            {
                var month = (ushort)Read(blob, p, 2);
                var count = (int)Read(blob, p + 2, 4);
                p += 6;
                for (var i = 0; i < count; i++, p += width) into.Add((unchecked(lo + (long)Read(blob, p, width)), month));
            }
        }

        private static ulong Read(ReadOnlySpan<byte> blob, int at, int width)
        {
            ulong v = 0;
            for (var i = width - 1; i >= 0; i--) v = (v << 8) | blob[at + i];
            return v;
        }

        private byte[] _out = new byte[64];
        private ulong[] _offsets = new ulong[2 * MaxKeys];
        private readonly List<ushort> _months = new List<ushort>();

        // Little-endian, as Read reads it back.
        private void WriteInt(long v, int at, int bytes)
        {
            for (var b = 0; b < bytes; b++, v >>= 8) _out[at + b] = (byte)v;
        }

        // Encodes entries [start, end) (sorted by key) as one row's blob into _out; returns its length.
        [MethodImpl(Hot.Path)]
        private int Encode(long lo, long hi, List<(long key, ushort month)> entries, int start, int end)
        {
            // Per month, in month order, the keys stay in key order (a stable pass per month).
            var months = _months;
            months.Clear();
            for (var i = start; i < end; i++)
            {
                var at = months.BinarySearch(entries[i].month);
                if (at < 0) months.Insert(~at, entries[i].month);
            }
            var size = 9 + months.Count * 2 + months.Count * SortedOffsets.MaxSize(0) + SortedOffsets.MaxSize(end - start);
            if (_out.Length < size) _out = new byte[Math.Max(size, _out.Length * 2)];
            if (_offsets.Length < end - start) _offsets = new ulong[(end - start) * 2];
            _out[0] = Packed;
            WriteInt(hi, 1, 8);
            var p = 9;
            foreach (var month in months)
            {
                var count = 0;
                for (var i = start; i < end; i++)
                    if (entries[i].month == month) _offsets[count++] = unchecked((ulong)(entries[i].key - lo));
                WriteInt(month, p, 2);
                p = SortedOffsets.Write(_out, p + 2, _offsets, 0, count);
            }
            return p;
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
                    _keys._main.Put(_lo, key - 1, _run, 0, _run.Count);
                    _run.Clear();
                    _lo = key;
                }
                _run.Add((key, month));
            }

            public void Finish()
            {
                if (_run.Count > 0 || _lo != long.MinValue) _keys._main.Put(_lo, long.MaxValue, _run, 0, _run.Count);
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

        /// <summary>
        /// Migration 43: rewrites both tables with every row in the current layout (same ranges, keys and months), read a
        /// page of rows at a time. The rows are written again in order after the table is emptied, not updated in place:
        /// SQLite does not merge the pages that shrunken rows leave part empty, so the saving would wait for a VACUUM;
        /// the pages the old rows took are free, and given back by the next import (<see cref="MadfDatabase.ReleaseFreePages"/>).
        /// </summary>
        internal static void Repack(SqliteConnection connection, SqliteTransaction transaction)
        {
            using (var keys = new EventKeys(connection))
                foreach (var table in new[] { "event_keys", "event_keys_recent" })
                {
                    Dapper.SqlMapper.Execute(connection, "CREATE TEMP TABLE repacked_keys (lo INTEGER PRIMARY KEY, keys BLOB NOT NULL)", transaction: transaction);
                    var entries = new List<(long key, ushort month)>();
                    var from = long.MinValue;
                    var inclusive = true;
                    while (true)
                    {
                        var rows = Dapper.SqlMapper.Query<(long lo, byte[] keys)>(connection,
                            $"SELECT lo, keys FROM main.{table} WHERE lo {(inclusive ? ">=" : ">")} @from ORDER BY lo LIMIT 1024", new { from }, transaction).ToList();
                        if (rows.Count == 0) break;
                        var packed = new List<(long lo, byte[] keys)>(rows.Count);
                        foreach (var (lo, blob) in rows)
                        {
                            if (blob.Length < 9 || blob[0] == Packed) { packed.Add((lo, blob)); continue; }
                            entries.Clear();
                            Decode(blob, blob.Length, lo, entries);
                            entries.Sort();
                            var length = keys.Encode(lo, Hi(blob), entries, 0, entries.Count);
                            var bytes = new byte[length];
                            Buffer.BlockCopy(keys._out, 0, bytes, 0, length);
                            packed.Add((lo, bytes));
                        }
                        Dapper.SqlMapper.Execute(connection, "INSERT INTO temp.repacked_keys(lo, keys) VALUES (@lo, @keys)", packed.Select(r => new { r.lo, r.keys }), transaction);
                        from = rows[rows.Count - 1].lo;
                        inclusive = false;
                    }
                    Dapper.SqlMapper.Execute(connection, $@"DELETE FROM main.{table};
INSERT INTO main.{table}(lo, keys) SELECT lo, keys FROM temp.repacked_keys ORDER BY lo;
DROP TABLE temp.repacked_keys;", transaction: transaction);
                }
        }

        private sqlite3_stmt Prepare(string sql)
        {
            Check(raw.sqlite3_prepare_v2(_connection.Handle, sql, out var statement));
            return statement;
        }

        private long Scalar(string sql)
        {
            using (var s = Prepare(sql))
            {
                var rc = raw.sqlite3_step(s);
                if (rc != Row) Check(rc);
                return raw.sqlite3_column_int64(s, 0);
            }
        }

        private void Step(sqlite3_stmt s)
        {
            var rc = raw.sqlite3_step(s);
            raw.sqlite3_reset(s);
            if (rc != 101) Check(rc);
        }

        private void Check(int rc) => SqliteResult.Check(_connection, rc);

        public void Dispose()
        {
            _main.Dispose();
            _recent.Dispose();
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MadfLog.Engine.Store
{
    using Entry = (long key, ushort month, long id);

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
    /// The keys of Claude Code responses, whose repeated lines update their stored row, are a second set of the same rows
    /// (<see cref="Responses"/>: <c>response_keys</c> and <c>response_keys_recent</c>, schema 50) whose months also hold
    /// each key's event id (first byte <see cref="PackedWithIds"/>; after a month's keys: varint the least id, one byte
    /// b, then each key's id less the least as b bits, in key order), so <see cref="IdOf"/> finds the row to update.
    /// </summary>
    public sealed class EventKeys : IDisposable
    {
        /// <summary>A row splits past this many keys (blobs of at most about 1 KB: several rows share a page).</summary>
        public const int MaxKeys = 128;

        /// <summary>The first byte of a row in the current layout (a fixed-width row's is its width, 1-8).</summary>
        internal const byte Packed = 0x80;

        /// <summary>The first byte of a row whose keys each carry their event's id (the responses' rows).</summary>
        internal const byte PackedWithIds = 0x81;

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
        private readonly bool _ids; // the responses' set: each key with its event's id
        private readonly byte _layout;

        // Keys found new in this transaction (all go to the recent rows), with their event ids in the responses' set.
        private readonly PendingKeys _pendingKeys = new PendingKeys();
        private long _recentKeys = -1; // keys in the recent rows, counted when first needed
        private long _mainKeys = -1; // the responses' keys in their main rows, counted when first needed

        // The caches are small: once the rows outgrow them, new keys are answered by the filters, keys are staged to their
        // rows by the rows' index (no blob read), and only duplicates, "maybe"s and each row written at a flush read a
        // row, from SQLite's own page cache; larger caches bought little speed and made the import's memory grow with the
        // store (32 + 16 MB at 10M keys, then 8 + 16).
        public EventKeys(SqliteConnection connection, string schema = "main") : this(connection, schema, 4L << 20, 4L << 20) { }

        /// <summary>With caches of the given sizes (tests use tiny ones to reach the paths of a large store).</summary>
        internal EventKeys(SqliteConnection connection, string schema, long cacheBytes, long recentCacheBytes, bool ids = false)
        {
            _connection = connection;
            _schema = schema;
            _ids = ids;
            _layout = ids ? PackedWithIds : Packed;
            var table = ids ? "response_keys" : "event_keys";
            _main = new Level(this, table, cacheBytes, 1);
            _recent = new Level(this, table + "_recent", recentCacheBytes, MergeShare);
        }

        /// <summary>
        /// The keys of Claude Code responses with their events' ids (response_keys, response_keys_recent): the same rows,
        /// recent rows and merges as the other events' keys, each key also holding its event's id for <see cref="IdOf"/>.
        /// A response is 12% of the realistic logs' events, so its caches are a quarter of the others'.
        /// </summary>
        public static EventKeys Responses(SqliteConnection connection, string schema = "main") => new EventKeys(connection, schema, 1L << 20, 1L << 20, ids: true);

        /// <summary>The responses' set with caches of the given sizes (tests).</summary>
        internal static EventKeys Responses(SqliteConnection connection, long cacheBytes, long recentCacheBytes) => new EventKeys(connection, "main", cacheBytes, recentCacheBytes, ids: true);

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
            if (version != _dataVersion) { _main.DropCache(); _recent.DropCache(); _recentKeys = -1; _mainKeys = -1; _dataVersion = version; }
        }

        private long DataVersion()
        {
            using (var s = Prepare($"PRAGMA {_schema}.data_version"))
            {
                var rc = SqliteNative.Step(s);
                if (rc != Row) Check(rc);
                return raw.sqlite3_column_int64(s, 0);
            }
        }

        /// <summary>Adds the key (with its event's id in the responses' set) unless it is stored or already added in this
        /// transaction; true when it was new.</summary>
        [MethodImpl(Hot.Path)]
        public bool Add(long key, ushort month, long id = 0)
        {
            if (!_checked) CheckCache();
            if (_pendingKeys.Find(key, out var slot)) return false;
            if (_recent.Lookup(key) >= 0 || _main.Lookup(key) >= 0) return false;
            _pendingKeys.AddAt(slot, key, id); // the lookups above leave the table as it was: the slot is still the key's
            _recent.Stage(key, month, id);
            return true;
        }

        /// <summary>The event id stored with the key in the responses' set (added in this transaction or stored); 0 when the
        /// key is not stored.</summary>
        public long IdOf(long key)
        {
            if (!_checked) CheckCache();
            if (_pendingKeys.TryGetValue(key, out var id)) return id;
            id = _recent.Lookup(key);
            if (id < 0) id = _main.Lookup(key);
            return Math.Max(id, 0);
        }

        /// <summary>Rows read from SQLite so far to answer or stage keys, both sets of rows.</summary>
        internal long RowReads => _main.RowReads + _recent.RowReads;

        /// <summary>Whether the key is stored (or added in this transaction).</summary>
        public bool Contains(long key)
        {
            if (!_checked) CheckCache();
            return _pendingKeys.ContainsKey(key) || _recent.Lookup(key) >= 0 || _main.Lookup(key) >= 0;
        }

        /// <summary>
        /// Writes the keys added since the last flush into the recent rows (splitting rows that grow too large), and merges
        /// the recent rows into event_keys once they hold a quarter of the keys.
        /// </summary>
        [MethodImpl(Hot.Path)]
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
        // later than a quarter; the answer does not depend on it, only when rows are rewritten. The responses (a few of
        // the events) count their main rows' keys once, then add what each merge moves there.
        private long StoredKeys()
        {
            if (_ids)
            {
                if (_mainKeys < 0) _mainKeys = _main.CountKeys();
                return _mainKeys + Math.Max(_recentKeys, 0);
            }
            using (var s = Prepare($"SELECT coalesce((SELECT seq FROM {_schema}.sqlite_sequence WHERE name = 'event_rows'), 0)"))
            {
                var rc = SqliteNative.Step(s);
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
            // In key order (no key is staged twice); read in place until the recent rows are emptied below.
            var segment = _recent.TakeStaged();
            var staged = segment.Array!;
            var stagedCount = segment.Count;
            var next = 0;
            var chunk = _chunk;
            chunk.Clear();
            // Read in place, row by row (the recent rows can be a quarter of the store: not all copied at once).
            using (var rows = _recent.RowsInOrder())
            {
                var rc = 101;
                while (rows != null && (rc = SqliteNative.Step(rows)) == Row)
                {
                    var blob = raw.sqlite3_column_blob(rows, 1);
                    Decode(blob, raw.sqlite3_column_int64(rows, 0), chunk);
                    var hi = Hi(blob); // rows cover the key space in lo order
                    while (next < stagedCount && staged[next].key <= hi) chunk.Add(staged[next++]);
                    if (chunk.Count >= MergeChunk) { MergePass(chunk); chunk.Clear(); }
                }
                if (rc != 101) Check(rc);
            }
            while (next < stagedCount) chunk.Add(staged[next++]);
            MergePass(chunk);
            chunk.Clear();
            _recent.Empty();
            if (_mainKeys >= 0) _mainKeys += _recentKeys;
            _recentKeys = 0;
        }

        private readonly List<Entry> _chunk = new List<Entry>();

        [MethodImpl(Hot.Path)]
        private void MergePass(List<Entry> chunk)
        {
            if (chunk.Count == 0) return;
            // Flush sorts them by key (no key twice): consecutive keys meet the same row of event_keys.
            foreach (var (key, month, id) in chunk) _main.Stage(key, month, id);
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
            _mainKeys = -1;
            _checked = false;
            _dataVersion = -1;
        }

        /// <summary>
        /// Every stored key of the given months with its month and id (in key order), optionally removing them. Rows keep
        /// their ranges (an emptied row stays, so the rows still cover every key).
        /// </summary>
        public List<(long key, ushort month, long id)> TakeMonths(ICollection<ushort> months, bool remove)
        {
            Flush();
            var taken = new List<Entry>();
            _main.TakeMonths(months, remove, taken);
            _recent.TakeMonths(months, remove, taken);
            Discard();
            taken.Sort();
            return taken;
        }

        /// <summary>Every stored key with its month, in key order.</summary>
        public List<(long key, ushort month)> All() => Entries().ConvertAll(e => (e.key, e.month));

        /// <summary>Every stored key with its month and id (0 outside the responses' set), in key order.</summary>
        public List<(long key, ushort month, long id)> Entries()
        {
            Flush();
            var all = new List<Entry>();
            foreach (var (lo, blob) in _main.Rows()) Decode(blob, blob.Length, lo, all);
            foreach (var (lo, blob) in _recent.Rows()) Decode(blob, blob.Length, lo, all);
            all.Sort();
            return all;
        }

        /// <summary>
        /// Sorts the first <paramref name="n"/> keys and the entries beside them by key, in place; <paramref name="places"/>
        /// (at least n long) is scratch.
        /// </summary>
        [MethodImpl(Hot.Path)]
        internal static void SortByKeys(long[] keys, Entry[] entries, int[] places, int n)
        {
            for (var i = 0; i < n; i++) places[i] = i;
            RadixSort(keys, places, n);
            // Position i takes the entry at places[i]; each cycle is followed once (a place done is marked with ~).
            for (var i = 0; i < n; i++)
            {
                if (places[i] < 0 || places[i] == i) continue;
                var held = entries[i];
                var at = i;
                while (true)
                {
                    var from = places[at];
                    places[at] = ~from;
                    if (from == i) { entries[at] = held; break; }
                    entries[at] = entries[from];
                    at = from;
                }
            }
        }

        /// <summary>
        /// Sorts the first n keys, and the places beside them, by key, stably (equal keys keep their order): least
        /// significant byte first, one pass per byte that differs between keys (the sign bit flipped, so negative keys come
        /// first); a few keys by insertion. For the per-commit and per-batch sorts of keys, which Array.Sort ran in code the
        /// JIT had not optimized yet (a method called a few times per commit stays in tier 0 for most of an import: perf
        /// showed GenericArraySortHelper [QuickJitted] under the keys' flush and EventWriter.Write).
        /// </summary>
        [MethodImpl(Hot.Path)]
        internal static void RadixSort(long[] keys, int[] places, int n)
        {
            if (n < 2) return;
            if (n <= 48)
            {
                for (var i = 1; i < n; i++)
                {
                    var key = keys[i];
                    var place = places[i];
                    var j = i - 1;
                    for (; j >= 0 && keys[j] > key; j--) { keys[j + 1] = keys[j]; places[j + 1] = places[j]; }
                    keys[j + 1] = key;
                    places[j + 1] = place;
                }
                return;
            }
            const ulong Sign = 0x8000000000000000UL;
            var counts = _radixCounts ??= new int[8 * 256];
            Array.Clear(counts, 0, counts.Length);
            for (var i = 0; i < n; i++)
            {
                var k = (ulong)keys[i] ^ Sign;
                for (var b = 0; b < 8; b++) counts[b << 8 | (int)((k >> (b << 3)) & 0xFF)]++;
            }
            var keyPool = System.Buffers.ArrayPool<long>.Shared.Rent(n);
            var placePool = System.Buffers.ArrayPool<int>.Shared.Rent(n);
            try
            {
                long[] fromKeys = keys, toKeys = keyPool;
                int[] fromPlaces = places, toPlaces = placePool;
                var first = (ulong)keys[0] ^ Sign;
                for (var b = 0; b < 8; b++)
                {
                    var shift = b << 3;
                    var at = b << 8;
                    if (counts[at | (int)((first >> shift) & 0xFF)] == n) continue; // every key has the same byte here
                    var sum = 0;
                    for (var d = 0; d < 256; d++) { var c = counts[at + d]; counts[at + d] = sum; sum += c; }
                    for (var i = 0; i < n; i++)
                    {
                        var key = fromKeys[i];
                        var to = counts[at | (int)((((ulong)key ^ Sign) >> shift) & 0xFF)]++;
                        toKeys[to] = key;
                        toPlaces[to] = fromPlaces[i];
                    }
                    (fromKeys, toKeys) = (toKeys, fromKeys);
                    (fromPlaces, toPlaces) = (toPlaces, fromPlaces);
                }
                if (!ReferenceEquals(fromKeys, keys))
                {
                    Array.Copy(fromKeys, keys, n);
                    Array.Copy(fromPlaces, places, n);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<long>.Shared.Return(keyPool);
                System.Buffers.ArrayPool<int>.Shared.Return(placePool);
            }
        }

        [ThreadStatic] private static int[]? _radixCounts;

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

            // Keys staged in this transaction, in one array reused from commit to commit, sorted by key at the flush and
            // written row by row then. (A list per row staged to, and a row object each, lived as long as the transaction
            // and were promoted before they died: 0.26 GB per 1M events, and the collector's heap grew with the store.)
            private Entry[] _staged = new Entry[1024];
            private long[] _stagedKeys = new long[1024];
            private int _stagedCount;

            private readonly List<Range>?[] _buckets = new List<Range>?[1 << BucketBits];
            private long _cached;
            private Range? _last;

            private readonly int _share; // of all keys, the most this set holds: 1 for event_keys, MergeShare for the recent rows

            public Level(EventKeys owner, string table, long cacheBytes, int share) { _owner = owner; _table = table; _cacheBytes = cacheBytes; _share = share; }

            private string Table => _owner._schema + "." + _table;

            // A store read before its table existed (a read-only file of an older schema) has no recent rows.
            private bool Exists => _exists ??= _owner.Scalar($"SELECT count(*) FROM {_owner._schema}.sqlite_master WHERE type = 'table' AND name = '{_table}'") > 0;

            /// <summary>Stages a key for its row (no row is read until <see cref="Flush"/>).</summary>
            [MethodImpl(Hot.Path)]
            public void Stage(long key, ushort month, long id)
            {
                _filter?.Add(key);
                if (_stagedCount == _staged.Length)
                {
                    Array.Resize(ref _staged, _staged.Length * 2);
                    Array.Resize(ref _stagedKeys, _staged.Length);
                }
                _stagedKeys[_stagedCount] = key;
                _staged[_stagedCount++] = (key, month, id);
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

            /// <summary>-1 when the key is not stored in these rows, else its id (0 in a set without ids).</summary>
            [MethodImpl(Hot.Path)]
            public long Lookup(long key)
            {
                if (!Exists) return -1;
                if (_filter != null)
                {
                    // Sized for the keys it held when built: past that it answers "maybe" more and more often (a row read
                    // each), so it is built again for the keys there are now.
                    if (_filter.Outgrown) BuildFilter();
                    if (!_filter!.MayContain(key)) return -1;
                }
                // With the cache full, a row not in it is searched where SQLite holds it, in one read.
                var cached = Cached(key);
                if (cached == null && _cached >= _cacheBytes) return LookupUncached(key);
                var range = cached ?? Find(key);
                if (range.Blob == null) return LookupUncached(key);
                var id = EventKeys.Lookup(new ReadOnlySpan<byte>(range.Blob, 0, range.Length), range.Lo, key);
                // A key not found searched a cached row all the same: new keys, most of an import's, each cost a search.
                if (id < 0 && _filter == null && ++_misses >= MissesBeforeFilter) BuildFilter();
                return id;
            }

            // Once lookups keep finding nothing (in cached rows, or in rows that outgrew the cache), a filter of every key
            // in the rows answers most "not stored" without searching or reading a row (new keys are most of an import's).
            // Built from all the rows as read in this transaction, given every key staged after, and dropped with the cache
            // (another connection may have written).
            private KeyFilter? _filter;
            private int _misses;
            private const int MissesBeforeFilter = 4096;

            /// <summary>Rows read from SQLite to answer or stage a key (what the cache and the filter are there to save).</summary>
            public long RowReads;

            // A row that did not fit in the cache: read again and searched where SQLite holds it.
            private long LookupUncached(long key)
            {
                RowReads++;
                if (_filter == null && ++_misses >= MissesBeforeFilter) { BuildFilter(); if (!_filter!.MayContain(key)) return -1; }
                var (find, found) = StepToRow(key);
                try
                {
                    return found ? EventKeys.Lookup(raw.sqlite3_column_blob(find, 1), raw.sqlite3_column_int64(find, 0), key) : -1;
                }
                finally { SqliteNative.Reset(find); }
            }

            private sqlite3_stmt FindStatement() => _find ??= _owner.Prepare($"SELECT lo, keys FROM {Table} WHERE lo <= ? ORDER BY lo DESC LIMIT 1");

            /// <summary>
            /// Steps the find statement to the row whose range holds the key (lo in column 0, keys in 1), if there is one;
            /// the caller reads it in place and resets the statement.
            /// </summary>
            private (sqlite3_stmt find, bool found) StepToRow(long key)
            {
                var find = FindStatement();
                SqliteNative.BindInt64(find, 1, key);
                var rc = SqliteNative.Step(find);
                if (rc != Row && rc != 101) { SqliteNative.Reset(find); _owner.Check(rc); }
                return (find, rc == Row);
            }

            // The row whose range holds the key: the last one, a cached one, or read (and cached while there is room).
            private Range Find(long key)
            {
                if (Cached(key) is { } cached) return cached;
                // With the cache full, only the row's range is taken (no copy of its keys, which would be dropped at once).
                var range = _cached < _cacheBytes ? Read(key) : Read(key, copy: false);
                if (range.Blob == null || !Cache(range)) range.Blob = null; // its range only: searched in SQLite's copy
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

            /// <summary>Writes the keys staged since the last flush into their rows (splitting rows that grow too large): in
            /// key order, each row staged to read once (from the cache, else where SQLite holds it) and written once.</summary>
            [MethodImpl(Hot.Path)]
            public void Flush()
            {
                var n = _stagedCount;
                SortStaged(n);
                var entries = _entries;
                for (var i = 0; i < n;)
                {
                    entries.Clear();
                    var (lo, hi) = RowInto(_stagedKeys[i], entries);
                    while (i < n && _stagedKeys[i] <= hi) entries.Add(_staged[i++]);
                    Write(lo, hi, entries); // caches the rows written in its place
                }
                _stagedCount = 0;
                entries.Clear();
                // A flush into a level without rows (a new store, the recent rows after a merge) gathers a commit's keys
                // for one range: not kept for the small rows of later flushes (6 MB at 200k keys, a level's for good).
                if (entries.Capacity > 8 * MaxKeys) entries.Capacity = 2 * MaxKeys;
                _last = null;
            }

            private readonly List<Entry> _entries = new List<Entry>();

            /// <summary>
            /// Sorts the staged keys in key order, in place: by their keys and places (the primitive sort every row's
            /// <see cref="Write"/> runs), then each entry moved along its cycle of the permutation. A sort of the entries
            /// with their keys was a generic instantiation of its own, compiled for a call or two per commit and run in
            /// tier-0 code at first (0.16 s of the JIT's time at 1M, loaded).
            /// </summary>
            [MethodImpl(Hot.Path)]
            private void SortStaged(int n)
            {
                if (n < 2) return;
                if (_stagedPlaces.Length < n) _stagedPlaces = new int[_staged.Length];
                EventKeys.SortByKeys(_stagedKeys, _staged, _stagedPlaces, n);
            }

            private int[] _stagedPlaces = Array.Empty<int>();

            // Decodes the keys of the row whose range holds the key into the list and returns the row's range; a cached
            // copy of the row leaves the cache (it is about to be rewritten). With no rows yet, the whole key space, empty.
            private (long lo, long hi) RowInto(long key, List<Entry> into)
            {
                if (Cached(key) is { Blob: { } blob } cached)
                {
                    Decode(blob, cached.Length, cached.Lo, into);
                    Uncache(cached);
                    _last = null;
                    return (cached.Lo, cached.Hi);
                }
                _last = null;
                RowReads++;
                var (find, found) = StepToRow(key);
                try
                {
                    if (found)
                    {
                        var row = raw.sqlite3_column_blob(find, 1);
                        var lo = raw.sqlite3_column_int64(find, 0);
                        Decode(row, lo, into);
                        return (lo, Hi(row));
                    }
                }
                finally { SqliteNative.Reset(find); }
                // Below the first row (not a layout this code writes: its first row starts at the least key): up to it.
                var first = Exists ? _owner.Scalar($"SELECT coalesce(min(lo), 0) FROM {Table}") : 0;
                return (long.MinValue, first != 0 && first > key ? first - 1 : long.MaxValue);
            }

            public void Discard()
            {
                _stagedCount = 0;
                DropCache();
            }

            public void DropCache()
            {
                Array.Clear(_buckets, 0, _buckets.Length);
                _cached = 0;
                _last = null;
                _filter = null;
                _misses = 0;
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
                    while ((rc = SqliteNative.Step(all)) == Row) filter.AddRow(raw.sqlite3_column_int64(all, 0), raw.sqlite3_column_blob(all, 1));
                    if (rc != 101) _owner.Check(rc);
                }
                for (var i = 0; i < _stagedCount; i++) filter.Add(_stagedKeys[i]);
                _filter = filter;
            }

            /// <summary>The keys staged since the last flush, taken away in key order (a merge writes them elsewhere): the
            /// level's own array, valid until it stages again.</summary>
            public ArraySegment<Entry> TakeStaged()
            {
                var n = _stagedCount;
                SortStaged(n);
                _stagedCount = 0;
                _last = null;
                return new ArraySegment<Entry>(_staged, 0, n);
            }

            /// <summary>Deletes every row (after a merge moved their keys).</summary>
            public void Empty()
            {
                using (var s = _owner.Prepare($"DELETE FROM {Table}")) _owner.Step(s);
                Discard();
            }

            /// <summary>How many keys the rows hold: each row's months' counts read where SQLite holds the row (a copy of
            /// every blob at once was 14 MB for the responses' rows at 10M events).</summary>
            public long CountKeys()
            {
                long n = 0;
                using (var rows = RowsInOrder())
                {
                    var rc = 101;
                    while (rows != null && (rc = SqliteNative.Step(rows)) == Row) n += Count(raw.sqlite3_column_blob(rows, 1));
                    if (rc != 101) _owner.Check(rc);
                }
                return n;
            }

            public void TakeMonths(ICollection<ushort> months, bool remove, List<Entry> taken)
            {
                var entries = new List<Entry>();
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
                    while ((rc = SqliteNative.Step(all)) == Row)
                        rows.Add((raw.sqlite3_column_int64(all, 0), raw.sqlite3_column_blob(all, 1).ToArray()));
                    if (rc != 101) _owner.Check(rc);
                }
                return rows;
            }

            // Reads the row whose range holds the key (or, with no rows yet, the whole key space, empty).
            private Range Read(long key, bool copy = true)
            {
                RowReads++;
                var (find, found) = StepToRow(key);
                try
                {
                    if (found)
                    {
                        var blob = raw.sqlite3_column_blob(find, 1);
                        var lo = raw.sqlite3_column_int64(find, 0);
                        var hi = Hi(blob);
                        if (!copy) return new Range { Lo = lo, Hi = hi, Length = blob.Length };
                        var bytes = blob.ToArray();
                        return new Range { Lo = lo, Hi = hi, Blob = bytes, Length = bytes.Length };
                    }
                    return new Range { Lo = long.MinValue, Hi = long.MaxValue, Blob = Array.Empty<byte>(), Length = 0 };
                }
                finally { SqliteNative.Reset(find); }
            }

            // Writes the range's keys as one row, or as several ranges of about MaxKeys / 2 keys when there are more than MaxKeys.
            [MethodImpl(Hot.Path)]
            private void Write(long lo, long hi, List<Entry> entries)
            {
                // Sorted as two arrays (keys, and their places): a primitive sort, several times faster than a comparer's on
                // the tuples.
                var n = entries.Count;
                // A range that had no keys gets staged keys only, already in key order: a large one (a commit's keys into
                // a level without rows) would grow the scratch arrays to twice a commit's keys (15 MB at 200k), kept.
                if (!InKeyOrder(entries))
                {
                    if (_sortKeys.Length < n) { _sortKeys = new long[n * 2]; _sortPlaces = new int[n * 2]; _sorted = new Entry[n * 2]; }
                    for (var i = 0; i < n; i++) { _sortKeys[i] = entries[i].key; _sortPlaces[i] = i; }
                    RadixSort(_sortKeys, _sortPlaces, n);
                    for (var i = 0; i < n; i++) _sorted[i] = entries[_sortPlaces[i]];
                    for (var i = 0; i < n; i++) entries[i] = _sorted[i];
                }
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

            private static bool InKeyOrder(List<Entry> entries)
            {
                for (var i = 1; i < entries.Count; i++)
                    if (entries[i].key < entries[i - 1].key) return false;
                return true;
            }

            private long[] _sortKeys = new long[2 * MaxKeys];
            private int[] _sortPlaces = new int[2 * MaxKeys];
            private Entry[] _sorted = new Entry[2 * MaxKeys];

            [MethodImpl(Hot.Path)]
            public void Put(long lo, long hi, List<Entry> entries, int start, int end)
            {
                var length = _owner.Encode(lo, hi, entries, start, end);
                _put ??= _owner.Prepare($"INSERT OR REPLACE INTO {Table}(lo, keys) VALUES (?, ?)");
                SqliteNative.BindInt64(_put, 1, lo);
                raw.sqlite3_bind_blob(_put, 2, new ReadOnlySpan<byte>(_owner._out, 0, length));
                _owner.Step(_put);
                if (_cached + length > _cacheBytes) return; // no room: not copied
                var copy = new byte[length];
                Buffer.BlockCopy(_owner._out, 0, copy, 0, length);
                Cache(new Range { Lo = lo, Hi = hi, Blob = copy, Length = length });
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
                var months = new Months(blob);
                while (months.Next(out var month))
                    while (month.Next(out var offset)) Add(unchecked(lo + (long)offset));
            }
        }

        /// <summary>One row as read: its range, its blob (null when not cached) and the keys staged to it.</summary>
        private sealed class Range
        {
            public long Lo, Hi;
            public byte[]? Blob;
            public int Length;
        }

        private const int BucketBits = 12;

        // The sign bit flipped, so buckets follow the keys' (signed) order and a range's buckets run from its lo's to its hi's.
        private static int Bucket(long key) => (int)(unchecked((ulong)(key ^ long.MinValue)) >> (64 - BucketBits));

        /// <summary>The last key a packed row covers (its range's hi; an empty row covers the rest of the key space).</summary>
        private static long Hi(ReadOnlySpan<byte> blob) => blob.Length >= 9 ? unchecked((long)Read(blob, 1, 8)) : long.MaxValue;

        /// <summary>
        /// A row's months in order, in any of its layouts: the one walk every reader of a row takes (the filter's fill,
        /// lookups, counts and decoding).
        /// </summary>
        private ref struct Months
        {
            private readonly ReadOnlySpan<byte> _blob;
            private readonly int _width; // 0: Elias-Fano; 1-8: the fixed-width offsets of a row written before schema 43
            private readonly bool _ids;
            private int _at;

            [MethodImpl(Hot.Path)]
            public Months(ReadOnlySpan<byte> blob)
            {
                _blob = blob;
                _at = 9; // after the layout byte and hi
                _ids = blob.Length >= 9 && blob[0] == PackedWithIds;
                _width = blob.Length < 9 || blob[0] == Packed || _ids ? 0 : blob[0];
            }

            [MethodImpl(Hot.Path)]
            public bool Next(out Month month)
            {
                if (_at >= _blob.Length) { month = default; return false; }
                month = new Month(_blob, _at, _width, _ids);
                _at = month.End;
                return true;
            }
        }

        /// <summary>One month of a row: its number, its keys as offsets from the row's lo in ascending order, and each
        /// key's event id in a row with ids (0 in one without).</summary>
        private ref struct Month
        {
            public readonly ushort Number;
            public readonly int Count;
            public readonly int End;
            private SortedOffsets.Reader _packed;
            private readonly ReadOnlySpan<byte> _blob;
            private readonly int _width, _offsetsAt, _idsAt, _idBits;
            private readonly long _leastId;
            private int _index;

            [MethodImpl(Hot.Path)]
            public Month(ReadOnlySpan<byte> blob, int at, int width, bool ids)
            {
                _blob = blob;
                _width = width;
                _index = 0;
                Number = (ushort)Read(blob, at, 2);
                if (width == 0)
                {
                    _packed = new SortedOffsets.Reader(blob, at + 2);
                    Count = _packed.Count;
                    _offsetsAt = 0;
                    at = _packed.End;
                }
                else
                {
                    _packed = default;
                    Count = (int)Read(blob, at + 2, 4);
                    _offsetsAt = at + 6;
                    at = _offsetsAt + Count * width;
                }
                _leastId = 0;
                _idBits = 0;
                _idsAt = at;
                if (ids)
                {
                    _leastId = Varint.Get(blob, ref at);
                    _idBits = blob[at++];
                    _idsAt = at;
                    at += (int)(((long)Count * _idBits + 7) / 8);
                }
                End = at;
            }

            /// <summary>The next offset, in ascending order.</summary>
            public bool Next(out ulong offset)
            {
                if (_width == 0) return _packed.Next(out offset);
                if (_index >= Count) { offset = 0; return false; }
                offset = Read(_blob, _offsetsAt + _index++ * _width, _width);
                return true;
            }

            /// <summary>The index of the offset among the month's, -1 when it is not one (on a month not yet read by Next).</summary>
            [MethodImpl(Hot.Path)]
            public int IndexOf(ulong target)
            {
                if (_width == 0) return _packed.IndexOf(target);
                int a = 0, b = Count - 1;
                while (a <= b)
                {
                    var m = (a + b) >> 1;
                    var v = Read(_blob, _offsetsAt + m * _width, _width);
                    if (v == target) return m;
                    if (v < target) a = m + 1; else b = m - 1;
                }
                return -1;
            }

            /// <summary>The event id of the month's key at <paramref name="index"/> (0 in a row without ids).</summary>
            public long Id(int index) => _leastId + (long)SortedOffsets.Bits(_blob, _idsAt, (long)index * _idBits, _idBits);
        }

        /// <summary>-1 when the row does not hold the key, else its id (0 in a row without ids).</summary>
        [MethodImpl(Hot.Path)]
        private static long Lookup(ReadOnlySpan<byte> blob, long lo, long key)
        {
            var target = unchecked((ulong)(key - lo));
            var months = new Months(blob);
            while (months.Next(out var month))
            {
                var i = month.IndexOf(target);
                if (i >= 0) return month.Id(i);
            }
            return -1;
        }

        // How many keys a row holds (the sum of its months' counts).
        private static long Count(ReadOnlySpan<byte> blob)
        {
            long n = 0;
            var months = new Months(blob);
            while (months.Next(out var month)) n += month.Count;
            return n;
        }

        private static void Decode(byte[] blob, int length, long lo, List<Entry> into) =>
            Decode(new ReadOnlySpan<byte>(blob, 0, length), lo, into);

        private static void Decode(ReadOnlySpan<byte> blob, long lo, List<Entry> into)
        {
            var months = new Months(blob);
            while (months.Next(out var month))
                for (var i = 0; month.Next(out var offset); i++) into.Add((unchecked(lo + (long)offset), month.Number, month.Id(i)));
        }

        private static ulong Read(ReadOnlySpan<byte> blob, int at, int width)
        {
            ulong v = 0;
            for (var i = width - 1; i >= 0; i--) v = (v << 8) | blob[at + i];
            return v;
        }

        private byte[] _out = new byte[64];
        private ulong[] _offsets = new ulong[2 * MaxKeys];
        private long[] _monthIds = new long[2 * MaxKeys];
        private readonly List<ushort> _months = new List<ushort>();

        // Little-endian, as Read reads it back.
        private void WriteInt(long v, int at, int bytes)
        {
            for (var b = 0; b < bytes; b++, v >>= 8) _out[at + b] = (byte)v;
        }

        // Encodes entries [start, end) (sorted by key) as one row's blob into _out; returns its length.
        [MethodImpl(Hot.Path)]
        private int Encode(long lo, long hi, List<Entry> entries, int start, int end)
        {
            // Per month, in month order, the keys stay in key order (a stable pass per month).
            var months = _months;
            months.Clear();
            for (var i = start; i < end; i++)
            {
                var at = months.BinarySearch(entries[i].month);
                if (at < 0) months.Insert(~at, entries[i].month);
            }
            var size = 9 + months.Count * 2 + months.Count * SortedOffsets.MaxSize(0) + SortedOffsets.MaxSize(end - start)
                + (_ids ? months.Count * 11 + (end - start) * 8 : 0);
            if (_out.Length < size) _out = new byte[Math.Max(size, _out.Length * 2)];
            if (_offsets.Length < end - start) { _offsets = new ulong[(end - start) * 2]; _monthIds = new long[(end - start) * 2]; }
            _out[0] = _layout;
            WriteInt(hi, 1, 8);
            var p = 9;
            foreach (var month in months)
            {
                var count = 0;
                for (var i = start; i < end; i++)
                    if (entries[i].month == month) { _offsets[count] = unchecked((ulong)(entries[i].key - lo)); _monthIds[count++] = entries[i].id; }
                WriteInt(month, p, 2);
                p = SortedOffsets.Write(_out, p + 2, _offsets, 0, count);
                if (_ids) p = WriteIds(p, count);
            }
            return p;
        }

        // The month's ids (_monthIds[0, count), in its keys' order) at p: the least, the bits each takes above it, then
        // each above the least in that many bits. Returns the position after them.
        private int WriteIds(int p, int count)
        {
            long least = long.MaxValue, most = 0;
            for (var i = 0; i < count; i++) { least = Math.Min(least, _monthIds[i]); most = Math.Max(most, _monthIds[i]); }
            if (count == 0) least = 0;
            var bits = most > least ? SortedOffsets.Log2((ulong)(most - least)) + 1 : 0;
            p = Varint.Write(_out, p, (ulong)least);
            _out[p++] = (byte)bits;
            var bytes = (int)(((long)count * bits + 7) / 8);
            Array.Clear(_out, p, bytes);
            for (var i = 0; i < count; i++) SortedOffsets.PutBits(_out, p, (long)i * bits, (ulong)(_monthIds[i] - least), bits);
            return p + bytes;
        }

        /// <summary>
        /// Builds the rows from keys in ascending order (a migration's conversion): one pass, constant memory.
        /// </summary>
        public sealed class Builder
        {
            private readonly EventKeys _keys;
            private readonly List<Entry> _run = new List<Entry>();
            private long _lo = long.MinValue;

            public Builder(EventKeys keys) { _keys = keys; }

            public void Add(long key, ushort month, long id = 0)
            {
                if (_run.Count == MaxKeys / 2)
                {
                    _keys._main.Put(_lo, key - 1, _run, 0, _run.Count);
                    _run.Clear();
                    _lo = key;
                }
                _run.Add((key, month, id));
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
                    while ((rc = SqliteNative.Step(read)) == Row)
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
                    var entries = new List<Entry>();
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

        /// <summary>
        /// Migration 50: packs the responses' keys of the old response_keys (key, event_id: a 64-bit rowid and an id per
        /// key, in a b-tree filled in random order) into rows of the packed layout with their ids, each under its event's
        /// month (the unknown month for a key without a stored event), and adds response_keys_recent. Keys are read in key
        /// order: one pass in constant memory, the rows written in order, so their pages are full. A store whose
        /// response_keys is packed already (a test that turned its version back) keeps it.
        /// </summary>
        internal static void ConvertResponses(SqliteConnection connection, SqliteTransaction transaction)
        {
            var old = Dapper.SqlMapper.ExecuteScalar<long>(connection, "SELECT count(*) FROM pragma_table_info('response_keys') WHERE name = 'event_id'", transaction: transaction) > 0;
            Dapper.SqlMapper.Execute(connection, (old ? @"ALTER TABLE response_keys RENAME TO legacy_response_keys;
CREATE TABLE response_keys (lo INTEGER PRIMARY KEY, keys BLOB NOT NULL);
DROP TABLE IF EXISTS response_keys_recent;" : "")
                + "CREATE TABLE IF NOT EXISTS response_keys_recent (lo INTEGER PRIMARY KEY, keys BLOB NOT NULL);", transaction: transaction);
            if (!old) return;
            using (var keys = Responses(connection))
            {
                var build = new Builder(keys);
                using (var read = keys.Prepare($"SELECT k.key, k.event_id, (SELECT {EventStorage.TimeOfRow(connection, transaction, "r")} FROM event_rows r WHERE r.id = k.event_id) FROM legacy_response_keys k ORDER BY k.key"))
                {
                    int rc;
                    while ((rc = SqliteNative.Step(read)) == Row)
                        build.Add(raw.sqlite3_column_int64(read, 0),
                            raw.sqlite3_column_type(read, 2) == raw.SQLITE_NULL ? UnknownMonth : MonthOf(raw.sqlite3_column_int64(read, 2)),
                            raw.sqlite3_column_int64(read, 1));
                    if (rc != 101) keys.Check(rc);
                }
                build.Finish();
            }
            Dapper.SqlMapper.Execute(connection, "DROP TABLE legacy_response_keys", transaction: transaction);
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
                var rc = SqliteNative.Step(s);
                if (rc != Row) Check(rc);
                return raw.sqlite3_column_int64(s, 0);
            }
        }

        private void Step(sqlite3_stmt s)
        {
            var rc = SqliteNative.StepAndReset(s);
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

using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using Microsoft.Data.Sqlite;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>The packed dedup keys: every key stored once, found again whatever row it ended up in.</summary>
    public class EventKeysTests
    {
        /// <summary>Undoes migration 14 for a test that replays earlier ones: the keys back in their version-12 table.</summary>
        internal static void UnpackKeys(SqliteConnection c)
        {
            List<(long key, ushort month)> keys;
            using (var packed = new EventKeys(c)) keys = packed.All();
            c.Execute("DELETE FROM schema_version WHERE version >= 14; DROP TABLE event_keys; DROP TABLE event_keys_recent; DROP TABLE response_keys; CREATE TABLE event_keys (key INTEGER PRIMARY KEY, event_id INTEGER NOT NULL);");
            using var tx = c.BeginTransaction();
            c.Execute("INSERT INTO event_keys(key, event_id) VALUES (@key, 0)", keys.Select(k => new { k.key }), tx);
            tx.Commit();
        }

        private static readonly ushort Jan = EventKeys.MonthOf(1_767_225_600_000), Feb = (ushort)(Jan + 1); // 2026-01

        [Fact]
        public void KeysAreFoundAgainAcrossSplitsTransactionsAndTheWholeKeySpace()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            var random = new Random(7);
            // The ends of the key space, neighbours, and enough random keys to split rows many times over.
            var keys = new[] { long.MinValue, long.MinValue + 1, long.MaxValue, long.MaxValue - 1, 0, -1, 1 }
                .Concat(Enumerable.Range(0, 20 * EventKeys.MaxKeys).Select(_ => random.NextInt64(long.MinValue, long.MaxValue))).Distinct().ToList();
            var half = keys.Count / 2;
            for (var part = 0; part < 2; part++)
            {
                using var tx = c.BeginTransaction();
                using (var k = new EventKeys(c))
                {
                    foreach (var key in keys.Skip(part * half).Take(part == 0 ? half : keys.Count - half))
                    {
                        Assert.True(k.Add(key, part == 0 ? Jan : Feb));
                        Assert.False(k.Add(key, Jan)); // a second time in the same transaction
                    }
                    k.Flush();
                }
                tx.Commit();
            }
            using (var k = new EventKeys(c))
            {
                foreach (var key in keys) Assert.False(k.Add(key, Jan), $"key {key} was not found again");
                Assert.True(k.Add(12345, Jan) || keys.Contains(12345));
                k.Discard();
                var all = k.All();
                Assert.Equal(keys.OrderBy(x => x), all.Select(a => a.key));
                Assert.Equal(keys.Count - half, all.Count(a => a.month == Feb));
            }
            Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_keys") > 20); // split into rows
            Assert.True(c.ExecuteScalar<long>("SELECT max(length(keys)) FROM event_keys") <= 9 + 2 * 6 + EventKeys.MaxKeys * 8);
        }

        [Fact]
        public void SortedOffsetsReadBackInOrderAndFindExactlyTheOffsetsWritten()
        {
            var random = new Random(43);
            var buffer = new byte[SortedOffsets.MaxSize(300) + 8];
            for (var round = 0; round < 2000; round++)
            {
                // Dense and sparse offsets, runs of neighbours, both ends of the 64-bit space, one offset, none.
                var n = round % 50 == 0 ? 0 : random.Next(1, 300);
                var span = round % 3 == 0 ? ulong.MaxValue : (ulong)random.NextInt64(1, long.MaxValue) >> random.Next(0, 60);
                if (span < (ulong)n * 4) span = (ulong)n * 4; // room for n different offsets
                var set = new SortedSet<ulong>();
                if (round % 7 == 0 && n > 2) { set.Add(0); set.Add(span); }
                while (set.Count < n)
                {
                    var v = unchecked((ulong)random.NextInt64(long.MinValue, long.MaxValue)) % (span == ulong.MaxValue ? ulong.MaxValue : span + 1);
                    set.Add(v);
                    if (round % 5 == 0 && v < span) set.Add(v + 1);
                }
                var offsets = set.ToArray();
                Array.Fill(buffer, (byte)0xA5); // what the encoding must not leave set
                var end = SortedOffsets.Write(buffer, 3, offsets, 0, offsets.Length);
                Assert.True(end - 3 <= SortedOffsets.MaxSize(offsets.Length));
                var read = new List<ulong>();
                var reader = new SortedOffsets.Reader(buffer, 3);
                Assert.Equal(offsets.Length, reader.Count);
                Assert.Equal(end, reader.End);
                while (reader.Next(out var v)) read.Add(v);
                Assert.Equal(offsets, read);
                foreach (var v in offsets.Take(40)) Assert.True(new SortedOffsets.Reader(buffer, 3).Contains(v), $"offset {v} not found (round {round})");
                foreach (var v in offsets.Take(40).SelectMany(v => new[] { v - 1, v + 1, v ^ (1UL << random.Next(64)) }).Concat(new[] { 0UL, ulong.MaxValue }))
                    Assert.Equal(set.Contains(v), new SortedOffsets.Reader(buffer, 3).Contains(v));
            }
            // Random keys of a row at a million keys (about 2^44 apart): 46 bits each, where the fixed width took 56.
            var keys = new SortedSet<ulong>();
            while (keys.Count < 100) keys.Add((ulong)random.NextInt64(0, 100L << 44));
            Assert.True(SortedOffsets.Write(buffer, 0, keys.ToArray(), 0, 100) <= 100 * 47 / 8 + 4);
        }

        /// <summary>A row of the layout before schema 43: width, hi, per month its int32 count and fixed-width offsets.</summary>
        private static byte[] FixedWidthRow(long lo, long hi, IEnumerable<(long key, ushort month)> keys)
        {
            var span = unchecked((ulong)(hi - lo));
            var width = 1;
            while (width < 8 && span >> (8 * width) != 0) width++;
            var bytes = new List<byte> { (byte)width };
            bytes.AddRange(BitConverter.GetBytes(hi));
            foreach (var month in keys.GroupBy(k => k.month).OrderBy(g => g.Key))
            {
                bytes.AddRange(BitConverter.GetBytes(month.Key));
                bytes.AddRange(BitConverter.GetBytes(month.Count()));
                foreach (var (key, _) in month.OrderBy(k => k.key)) bytes.AddRange(BitConverter.GetBytes(unchecked((ulong)(key - lo))).Take(width));
            }
            return bytes.ToArray();
        }

        [Fact]
        public void UpgradingRewritesFixedWidthRowsShorterWithTheSameKeys()
        {
            using var t = TestPaths.NewTemp();
            var random = new Random(42);
            var keys = Enumerable.Range(0, 30 * EventKeys.MaxKeys).Select(i => (key: random.NextInt64(long.MinValue, long.MaxValue), month: i % 3 == 0 ? Feb : Jan))
                .GroupBy(k => k.key).Select(g => g.First()).ToList();
            List<(long key, ushort month)> before;
            long bytesBefore;
            using (var c = MadfDatabase.Open(t.Db))
            {
                c.Execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('event_rows', 1000000)"); // keeps recent keys apart
                foreach (var part in new[] { keys.Take(keys.Count / 2), keys.Skip(keys.Count / 2) })
                {
                    using var tx = c.BeginTransaction();
                    using (var k = new EventKeys(c)) { foreach (var (key, month) in part) Assert.True(k.Add(key, month)); k.Flush(); }
                    tx.Commit();
                }
                c.Execute("UPDATE sqlite_sequence SET seq = 1 WHERE name = 'event_rows'");
                using (var tx = c.BeginTransaction())
                {
                    using (var k = new EventKeys(c)) { Assert.True(k.Add(12345, Jan)); k.Flush(); } // merges into event_keys
                    tx.Commit();
                }
                c.Execute("UPDATE sqlite_sequence SET seq = 1000000 WHERE name = 'event_rows'");
                using (var tx = c.BeginTransaction())
                {
                    using (var k = new EventKeys(c)) { Assert.True(k.Add(67890, Feb)); k.Flush(); } // and one recent row
                    tx.Commit();
                }
                using (var k = new EventKeys(c)) before = k.All();
                // A store at schema 42: every row in the fixed-width layout.
                c.Execute("DELETE FROM schema_version WHERE version >= 43");
                foreach (var table in new[] { "event_keys", "event_keys_recent" })
                    foreach (var (lo, blob) in c.Query<(long, byte[])>($"SELECT lo, keys FROM {table}").ToList())
                    {
                        var hi = blob.Length >= 9 ? BitConverter.ToInt64(blob, 1) : long.MaxValue;
                        var inRow = before.Where(k => k.key >= lo && k.key <= hi).ToList();
                        c.Execute($"UPDATE {table} SET keys = @old WHERE lo = @lo", new { old = FixedWidthRow(lo, hi, table == "event_keys_recent" ? inRow.Where(k => k.key == 67890) : inRow.Where(k => k.key != 67890)), lo });
                    }
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_keys_recent") >= 1);
                Assert.Equal(0, c.ExecuteScalar<long>($"SELECT count(*) FROM event_keys WHERE length(keys) >= 9 AND substr(keys, 1, 1) = x'{EventKeys.Packed:x2}'"));
                using (var k = new EventKeys(c)) Assert.Equal(before, k.All()); // the old layout still reads
                bytesBefore = c.ExecuteScalar<long>("SELECT sum(length(keys)) FROM event_keys");
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(0, c.ExecuteScalar<long>($"SELECT count(*) FROM event_keys WHERE length(keys) >= 9 AND substr(keys, 1, 1) <> x'{EventKeys.Packed:x2}'"));
                Assert.True(c.ExecuteScalar<long>("SELECT sum(length(keys)) FROM event_keys") < bytesBefore * 9 / 10);
                using var k = new EventKeys(c);
                Assert.Equal(before, k.All());
                using var tx = c.BeginTransaction();
                foreach (var (key, _) in before) Assert.False(k.Add(key, Jan), $"key {key} taken for new after the upgrade");
                Assert.True(k.Add(424242, Jan));
                k.Discard();
            }
        }

        [Fact]
        public void RecentKeysStayApartUntilTheyHoldAQuarterAndAreThenMergedInKeyOrder()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            // The merge is due when the recent rows hold a quarter of the events ever written (event_rows' sequence).
            void Written(long events) => c.Execute("DELETE FROM sqlite_sequence WHERE name = 'event_rows'; INSERT INTO sqlite_sequence(name, seq) VALUES ('event_rows', @events)", new { events });
            long Rows(string table) => c.ExecuteScalar<long>($"SELECT count(*) FROM {table}");
            var random = new Random(11);
            List<long> Keys(int n) => Enumerable.Range(0, n).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).ToList();
            var stored = new List<long>();
            using var kept = new EventKeys(c); // across transactions, as the importer's
            void Commit(List<long> keys, bool expectNew = true)
            {
                using var tx = c.BeginTransaction();
                foreach (var key in keys) Assert.Equal(expectNew, kept.Add(key, Jan));
                kept.Flush();
                tx.Commit();
                if (expectNew) stored.AddRange(keys);
            }

            Commit(Keys(10 * EventKeys.MaxKeys)); // an empty store: merged at once
            Assert.Equal(0, Rows("event_keys_recent"));
            Written(1_000_000);
            Commit(Keys(10 * EventKeys.MaxKeys));
            Commit(Keys(10 * EventKeys.MaxKeys));
            Assert.True(Rows("event_keys_recent") > 10, "the recent keys were merged although they are a small share");
            // Found in either set, by this instance, by a new one, and by a connection that did not write them.
            Commit(stored.Take(300).Concat(stored.Skip(stored.Count - 300)).ToList(), expectNew: false);
            using (var other = MadfDatabase.Open(t.Db))
            using (var fresh = new EventKeys(other))
                foreach (var key in stored) Assert.True(fresh.Contains(key), $"key {key} not found");
            Assert.Equal(stored.OrderBy(k => k), kept.All().Select(a => a.key));

            // A quarter now: the next commit merges everything into event_keys, rows split, none left apart.
            Written(stored.Count);
            Commit(Keys(EventKeys.MaxKeys));
            Assert.Equal(0, Rows("event_keys_recent"));
            Assert.True(c.ExecuteScalar<long>("SELECT max(length(keys)) FROM event_keys") <= 9 + 2 * 6 + EventKeys.MaxKeys * 8);
            Assert.Equal(stored.OrderBy(k => k), kept.All().Select(a => a.key));
            using (var fresh = new EventKeys(c))
                foreach (var key in stored) Assert.False(fresh.Add(key, Feb), $"key {key} taken for new after the merge");
        }

        [Fact]
        public void KeysAreFoundWhenTheRowsOutgrowTheCacheAndTheFilterAnswers()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            c.Execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('event_rows', 1000000)"); // keeps recent keys apart
            var random = new Random(5);
            var first = Enumerable.Range(0, 12_000).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).ToList();
            var second = Enumerable.Range(0, 12_000).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).ToList();
            // Caches of a few rows: nearly every lookup reads its row again, and past a few thousand such reads the filter
            // of each set's keys answers first.
            using var k = new EventKeys(c, "main", 4096, 4096);
            using (var tx = c.BeginTransaction())
            {
                foreach (var key in first) Assert.True(k.Add(key, Jan));
                k.Flush();
                tx.Commit();
            }
            c.Execute("UPDATE sqlite_sequence SET seq = 1 WHERE name = 'event_rows'"); // the next flush merges
            using (var tx = c.BeginTransaction())
            {
                foreach (var key in second) Assert.True(k.Add(key, Feb));
                foreach (var key in first) Assert.False(k.Add(key, Feb), $"stored key {key} taken for new");
                k.Flush(); // merges both into event_keys
                foreach (var key in first.Concat(second)) Assert.False(k.Add(key, Feb), $"merged key {key} taken for new");
                var fresh = random.NextInt64(long.MinValue, long.MaxValue);
                Assert.True(k.Add(fresh, Feb));
                k.Flush();
                tx.Commit();
            }
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_keys_recent"));
            Assert.Equal(first.Count + second.Count + 1, k.All().Count);
        }

        [Fact]
        public void KeysStagedByTheRowsIndexWithNothingCachedAreFoundInLaterTransactions()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            c.Execute("DELETE FROM sqlite_sequence WHERE name = 'event_rows'; INSERT INTO sqlite_sequence(name, seq) VALUES ('event_rows', 100000000)"); // recent rows are not merged
            var random = new Random(11);
            var stored = new List<long>();
            // One instance across transactions, as an import keeps it, with caches too small for any row: once a few
            // thousand lookups have read rows, the filter answers "not stored" for new keys without finding their row, and
            // each is staged to its row by the index alone; rows split at every flush, and the index must follow.
            using var k = new EventKeys(c, "main", 64, 64);
            for (var round = 0; round < 8; round++)
            {
                var fresh = Enumerable.Range(0, 1000).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).ToList();
                using var tx = c.BeginTransaction();
                foreach (var key in stored) Assert.False(k.Add(key, Jan), $"key {key} of an earlier transaction taken for new in round {round}");
                foreach (var key in fresh) Assert.True(k.Add(key, Jan));
                // A split row's first key (a stored key) and the key before it (the end of the row before): the index's boundaries.
                foreach (var lo in c.Query<long>("SELECT lo FROM event_keys_recent", transaction: tx).Where(lo => lo != long.MinValue).ToList())
                {
                    Assert.False(k.Add(lo, Jan), $"a row's first key {lo} taken for new");
                    var isNew = !stored.Contains(lo - 1) && !fresh.Contains(lo - 1);
                    Assert.Equal(isNew, k.Add(lo - 1, Jan));
                    if (isNew) fresh.Add(lo - 1);
                }
                k.Flush();
                tx.Commit();
                stored.AddRange(fresh);
            }
            Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_keys_recent") > 10, $"{c.ExecuteScalar<long>("SELECT count(*) FROM event_keys_recent")} recent rows, {c.ExecuteScalar<long>("SELECT count(*) FROM event_keys")} rows"); // split into rows
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_keys"));
            using var again = new EventKeys(c);
            Assert.Equal(stored.Distinct().OrderBy(x => x), again.All().Select(a => a.key));
        }

        [Theory]
        [InlineData(1)] // random 64-bit keys, as line hashes are
        [InlineData(2)] // consecutive keys, as some formats' ids are
        public void TheFilterSaysNoToNoKeyAddedAndMaybeToFewOthers(int kind)
        {
            const int n = 200_000;
            var random = new Random(7);
            var added = Enumerable.Range(0, n).Select(i => kind == 1 ? random.NextInt64(long.MinValue, long.MaxValue) : 1_000_000L + 2 * i).ToList();
            var filter = new EventKeys.KeyFilter(n);
            foreach (var key in added) filter.Add(key);
            foreach (var key in added) Assert.True(filter.MayContain(key), $"added key {key} answered no");
            // About 10 bits a key: about 1% of keys never added answer "maybe" (each costs a row read, not a wrong answer).
            var others = Enumerable.Range(0, n).Select(i => kind == 1 ? random.NextInt64(long.MinValue, long.MaxValue) : 1_000_001L + 2 * i);
            var maybe = others.Count(filter.MayContain);
            Assert.True(maybe < n / 50, $"{maybe} of {n} keys never added answered maybe");
        }

        [Fact]
        public void AFilterOutgrownByTheKeysStoredSinceIsBuiltAgain()
        {
            // One instance across transactions, as an import keeps it, with caches too small for any row: the filter is
            // built once lookups keep reading rows, sized for the keys there are then. Stored keys grow past that many
            // times over (a first import of millions of events), and a filter never built again would answer "maybe" to
            // most new keys: a row read each, two with the cache full.
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            var random = new Random(11);
            using var k = new EventKeys(c, "main", 64, 64);
            for (var round = 0; round < 3; round++)
            {
                using var tx = c.BeginTransaction();
                for (var i = 0; i < 100_000; i++) k.Add(random.NextInt64(long.MinValue, long.MaxValue), Jan);
                k.Flush();
                tx.Commit();
            }
            using (var tx = c.BeginTransaction())
            {
                const int fresh = 20_000;
                var before = k.RowReads;
                for (var i = 0; i < fresh; i++) Assert.True(k.Add(random.NextInt64(long.MinValue, long.MaxValue), Jan));
                var reads = k.RowReads - before;
                // About 1% of new keys answer "maybe" at 10 bits a key; a filter sized for a third of the keys, about 30%.
                Assert.True(reads < fresh / 20, $"{reads} rows read for {fresh} new keys");
                k.Discard();
            }
        }

        [Fact]
        public void KeysOfARolledBackTransactionAreNotKept()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            using (var tx = c.BeginTransaction())
            using (var k = new EventKeys(c))
            {
                Assert.True(k.Add(42, Jan));
                k.Flush();
                // no commit
            }
            using (var k = new EventKeys(c)) Assert.True(k.Add(42, Jan));
        }

        [Fact]
        public void AMonthsKeysAreTakenOutAndTheRestStay()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            var keys = Enumerable.Range(0, 3 * EventKeys.MaxKeys).Select(i => (long)i * 7919 * 1_000_000_007L).ToList();
            using (var k = new EventKeys(c))
            {
                for (var i = 0; i < keys.Count; i++) k.Add(keys[i], i % 3 == 0 ? Jan : Feb);
                var jan = k.TakeMonths(new[] { Jan }, remove: true);
                Assert.Equal(keys.Where((_, i) => i % 3 == 0).OrderBy(x => x), jan.Select(j => j.key));
                for (var i = 0; i < keys.Count; i++) Assert.Equal(i % 3 != 0, k.Contains(keys[i]));
                Assert.Equal(keys.Count - jan.Count, k.All().Count);
            }
        }

        [Fact]
        public void RowsKeptFromAnEarlierTransactionAreReadAgainOnceAnotherConnectionWrote()
        {
            using var t = TestPaths.NewTemp();
            using var a = MadfDatabase.Open(t.Db);
            using var b = MadfDatabase.Open(t.Db);
            var random = new Random(3);
            var first = Enumerable.Range(0, 4 * EventKeys.MaxKeys).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).ToList();
            using var kept = new EventKeys(a); // lives across a's transactions, as the importer's does
            using (var tx = a.BeginTransaction())
            {
                foreach (var k in first) Assert.True(kept.Add(k, Jan));
                kept.Flush();
                tx.Commit();
            }
            // Another connection stores keys into the same rows (and splits them).
            var other = Enumerable.Range(0, 4 * EventKeys.MaxKeys).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).ToList();
            using (var tx = b.BeginTransaction())
            using (var k = new EventKeys(b))
            {
                foreach (var key in other) Assert.True(k.Add(key, Feb));
                k.Flush();
                tx.Commit();
            }
            using (var tx = a.BeginTransaction())
            {
                foreach (var k in other) Assert.False(kept.Add(k, Jan), "a key the other connection stored was taken for new");
                foreach (var k in first) Assert.False(kept.Add(k, Jan));
                var fresh = random.NextInt64(long.MinValue, long.MaxValue);
                Assert.True(kept.Add(fresh, Jan));
                kept.Flush();
                tx.Commit();
                Assert.Equal(first.Count + other.Count + 1, kept.All().Count);
            }
        }
    

        [Fact]
        public void ResponseKeysGiveTheirIdsBackAcrossSplitsMergesAndRecentRows()
        {
            using var t = TestPaths.NewTemp();
            var random = new Random(11);
            var keys = Enumerable.Range(0, 40 * EventKeys.MaxKeys).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).Distinct().ToList();
            // Ids far apart and close together, in two months: each month's ids take the bits its spread needs.
            var stored = keys.Select((key, i) => (key, month: i % 4 == 0 ? Feb : Jan, id: i % 7 == 0 ? (1L << 40) + i : 1 + i)).ToList();
            using var c = MadfDatabase.Open(t.Db);
            // Tiny caches: most rows are searched where SQLite holds them, and the filters are built.
            using var kept = EventKeys.Responses(c, 512, 512);
            var recentSeen = false;
            const int Parts = 8; // equal parts: the first four merge at once, the fifth stays in the recent rows, the sixth merges
            for (var p = 0; p < Parts; p++)
            {
                using var tx = c.BeginTransaction();
                var part = stored.Skip(p * stored.Count / Parts).Take(stored.Count / Parts + (p == Parts - 1 ? Parts : 0)).ToList();
                foreach (var (key, month, id) in part)
                {
                    Assert.True(kept.Add(key, month, id));
                    Assert.Equal(id, kept.IdOf(key)); // before the flush too: a repeated line in the same transaction
                }
                kept.Flush();
                tx.Commit();
                recentSeen |= c.ExecuteScalar<long>("SELECT count(*) FROM response_keys_recent") > 0;
            }
            Assert.True(recentSeen);
            Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM response_keys") > 30);
            Assert.Equal(0, c.ExecuteScalar<long>($"SELECT count(*) FROM response_keys WHERE length(keys) >= 9 AND substr(keys, 1, 1) <> x'{EventKeys.PackedWithIds:x2}'"));
            Assert.Equal(stored.OrderBy(s => s.key), kept.Entries());
            using var fresh = EventKeys.Responses(c);
            foreach (var (key, _, id) in stored)
            {
                Assert.Equal(id, kept.IdOf(key));
                Assert.Equal(id, fresh.IdOf(key));
            }
            using var again = c.BeginTransaction();
            foreach (var (key, month, id) in stored) Assert.False(fresh.Add(key, month, id + 1));
            var taken = stored.Select(s => s.key).ToHashSet();
            var unstored = Enumerable.Range(0, 1000).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).Where(k => !taken.Contains(k)).ToList();
            foreach (var key in unstored) Assert.Equal(0, fresh.IdOf(key));
            fresh.Discard();
        }

        /// <summary>Responses' keys stored as before schema 50 (a 64-bit rowid and the event's id per key).</summary>
        private static void UnpackResponseKeys(SqliteConnection c)
        {
            List<(long key, ushort month, long id)> entries;
            using (var responses = EventKeys.Responses(c)) entries = responses.Entries();
            c.Execute("DELETE FROM schema_version WHERE version >= 50; DROP TABLE response_keys; DROP TABLE response_keys_recent; CREATE TABLE response_keys (key INTEGER PRIMARY KEY, event_id INTEGER NOT NULL);");
            using var tx = c.BeginTransaction();
            c.Execute("INSERT INTO response_keys(key, event_id) VALUES (@key, @id)", entries.Select(e => new { e.key, e.id }), tx);
            tx.Commit();
        }

        private static EventRow Response(long key, long timestamp, long tokens) => new EventRow
        {
            Timestamp = timestamp, EventType = "llm_call", Category = "model", DedupKey = key, KeepLargestTokens = true, TokensUsed = tokens,
        };

        [Fact]
        public void AStoreAtSchema48ReadsItsResponsesKeysPackedAndGrowsTheRightRows()
        {
            using var t = TestPaths.NewTemp();
            var random = new Random(5);
            var t0 = 1_767_225_600_000L; // 2026-01-01
            var responses = Enumerable.Range(0, 3 * EventKeys.MaxKeys).Select(i => Response(random.NextInt64(long.MinValue, long.MaxValue), t0 + i * 3_600_000L, 100 + i)).ToList();
            var others = Enumerable.Range(0, 200).Select(i => new EventRow { Timestamp = t0 + i, EventType = "step", Category = "workflow", DedupKey = random.NextInt64() }).ToList();
            List<(long key, ushort month, long id)> before;
            using (var c = MadfDatabase.Open(t.Db))
            {
                using (var tx = c.BeginTransaction())
                {
                    Assert.Equal(responses.Count + others.Count, ImportStages.Write(c, tx, responses.Concat(others).ToList()));
                    tx.Commit();
                }
                using (var k = EventKeys.Responses(c)) before = k.Entries();
                Assert.Equal(responses.Count, before.Count);
                UnpackResponseKeys(c);
                Assert.Equal(responses.Count, c.ExecuteScalar<long>("SELECT count(*) FROM response_keys"));
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                using (var k = EventKeys.Responses(c)) Assert.Equal(before, k.Entries());
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'legacy_response_keys'"));
                Assert.Equal(0, c.ExecuteScalar<long>("PRAGMA freelist_count")); // the old table's pages given back by the upgrade
                // Every stored event is a duplicate; a response's repeated line with more tokens grows its own row only.
                using var tx = c.BeginTransaction();
                var grown = Response(responses[17].DedupKey, responses[17].Timestamp, 5000);
                var again = responses.Select(r => Response(r.DedupKey, r.Timestamp, r.TokensUsed!.Value)).Concat(others.Select(o => new EventRow
                    { Timestamp = o.Timestamp, EventType = o.EventType, Category = o.Category, DedupKey = o.DedupKey })).Append(grown).ToList();
                Assert.Equal(0, ImportStages.Write(c, tx, again));
                tx.Commit();
                var tokens = c.Query<(long id, long tokens)>("SELECT id, tokens_used FROM events WHERE event_type = 'llm_call'").ToDictionary(r => r.id, r => r.tokens);
                Assert.Equal(5000, tokens[responses[17].Id]);
                Assert.All(responses.Where(r => r.Id != responses[17].Id), r => Assert.Equal(r.TokensUsed, tokens[r.Id]));
            }
        }

        [Theory]
        [InlineData(0, false)]
        [InlineData(1, false)]
        [InlineData(2, false)]
        [InlineData(1000, false)]
        [InlineData(1000, true)]
        [InlineData(70_000, true)]
        public void StagedKeysAreSortedWithTheirEntries(int n, bool wide)
        {
            // The flush writes staged keys row by row in key order: each entry must move with its key (a permutation
            // followed wrongly gives keys their neighbours' ids). Some keys repeat, some are in place already. Wide keys
            // span the whole 64-bit range as hashes do (every byte differs, negative and positive), with the extremes.
            var rnd = new Random(n + 7);
            var keys = new long[n + 5];
            var entries = new (long key, ushort month, long id)[n + 5];
            var buffer = new byte[8];
            for (var i = 0; i < n; i++)
            {
                if (wide)
                {
                    rnd.NextBytes(buffer);
                    keys[i] = i % 97 == 3 ? long.MinValue : i % 97 == 5 ? long.MaxValue : i % 13 == 0 ? keys[i / 2] : BitConverter.ToInt64(buffer, 0);
                }
                else keys[i] = i % 10 == 0 ? i : rnd.Next(0, n / 2 + 1) - n / 4;
                entries[i] = (keys[i], (ushort)(i % 12), 1_000_000 + i);
            }
            var expected = entries.Take(n).OrderBy(e => e.key).ThenBy(e => e.id).ToList();
            EventKeys.SortByKeys(keys, entries, new int[n + 5], n);
            Assert.Equal(expected.Select(e => e.key), keys.Take(n));
            Assert.All(Enumerable.Range(0, n), i => Assert.Equal(keys[i], entries[i].key));
            Assert.Equal(expected, entries.Take(n).OrderBy(e => e.key).ThenBy(e => e.id).ToList());
            Assert.All(entries.Skip(n), e => Assert.Equal(default, e));
        }

        [Theory]
        [InlineData(5)]
        [InlineData(48)]
        [InlineData(49)]
        [InlineData(500)]
        [InlineData(20_000)]
        public void KeysSortStablyWithTheirPlaces(int n)
        {
            // EventWriter.Write sorts a batch's keys with their rows' places: among equal keys (a line twice in a batch)
            // the earlier row must come first, as it is the one stored. Keys repeat, span the sign and the whole range.
            var rnd = new Random(n);
            var buffer = new byte[8];
            var keys = new long[n + 3];
            var places = new int[n + 3];
            for (var i = 0; i < n; i++)
            {
                rnd.NextBytes(buffer);
                keys[i] = i % 3 == 0 ? keys[rnd.Next(0, i + 1)] : i % 5 == 0 ? rnd.Next(-3, 3) : BitConverter.ToInt64(buffer, 0);
                places[i] = i;
            }
            var expected = Enumerable.Range(0, n).Select(i => (key: keys[i], place: i)).OrderBy(x => x.key).ThenBy(x => x.place).ToList();
            EventKeys.RadixSort(keys, places, n);
            Assert.Equal(expected.Select(x => x.key), keys.Take(n));
            Assert.Equal(expected.Select(x => x.place), places.Take(n));
            Assert.All(keys.Skip(n), k => Assert.Equal(0, k));
        }

        [Fact]
        public void PendingKeysHoldWhatADictionaryWouldAcrossGrowthAndClears()
        {
            // The transaction's new keys: small keys and 0, hashes over the whole
            // range and keys added twice must each be held once with their value, through growth and after a clear.
            var pending = new PendingKeys(slots: 16);
            var reference = new Dictionary<long, long>();
            var rnd = new Random(11);
            var buffer = new byte[8];
            for (var round = 0; round < 3; round++)
            {
                for (var i = 0; i < 5000; i++)
                {
                    long key;
                    if (i % 7 == 0) key = i; // small keys, 0 among them
                    else if (i % 11 == 0) key = reference.Count > 0 ? reference.Keys.First() : 0; // again
                    else { rnd.NextBytes(buffer); key = BitConverter.ToInt64(buffer, 0); }
                    var added = !reference.ContainsKey(key);
                    if (added) reference[key] = 1000L * round + i;
                    if (pending.Find(key, out var slot)) Assert.False(added);
                    else { Assert.True(added); pending.AddAt(slot, key, 1000L * round + i); }
                    Assert.False(pending.TryAdd(key, -1));
                }
                Assert.Equal(reference.Count, pending.Count);
                foreach (var (key, value) in reference)
                {
                    Assert.True(pending.TryGetValue(key, out var held));
                    Assert.Equal(value, held);
                }
                for (var i = 0; i < 1000; i++)
                {
                    rnd.NextBytes(buffer);
                    var other = BitConverter.ToInt64(buffer, 0);
                    Assert.Equal(reference.ContainsKey(other), pending.ContainsKey(other));
                }
                pending.Clear();
                reference.Clear();
                Assert.Equal(0, pending.Count);
                Assert.False(pending.ContainsKey(0));
                Assert.False(pending.ContainsKey(7));
            }
        }
    }
}

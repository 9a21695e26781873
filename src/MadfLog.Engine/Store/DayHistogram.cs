using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// A day's duration histogram (Domain.DurationBuckets with their counts) as one small blob per day, story, scope
    /// and key in day_hist (and per hour in hour_hist). One row per key instead of one per bucket keeps the day summaries
    /// a few bytes per event. A blob is one of two encodings, whichever is shorter (since schema 42; before, always the
    /// first): a (bucket gap, count) pair per counted bucket, in bucket order; or <see cref="Mark"/> and then runs of
    /// neighbouring buckets, each the gap from the previous run's last bucket (the first: its bucket), how many buckets it
    /// spans, and each one's count (0 for a bucket between two counted ones). All are variable-length integers. A
    /// histogram of many events has its buckets mostly next to each other, where runs cost about a byte a bucket instead
    /// of two; one of a few scattered buckets stays in pairs. An empty histogram is an empty blob.
    /// </summary>
    public static class DayHistogram
    {
        /// <summary>The first bytes of a blob of runs: a zero written in two bytes, which the pairs' encoding never writes.</summary>
        internal static readonly byte[] Mark = { 0x80, 0x00 };

        // A run goes on over one empty bucket (a zero count: one byte), not over two (a new run's gap and length: two bytes).
        private const int RunGap = 2;

        [MethodImpl(Hot.Path)]
        public static byte[] Encode(IEnumerable<KeyValuePair<int, long>> buckets)
        {
            var counted = new Counted();
            foreach (var b in buckets.Where(b => b.Value != 0).OrderBy(b => b.Key)) counted.Add(b.Key, b.Value);
            return counted.Encode();
        }

        /// <summary>Counts by bucket (index: bucket), encoded as <see cref="Encode(IEnumerable{KeyValuePair{int, long}})"/> does: the import's flush, without sorting.</summary>
        [MethodImpl(Hot.Path)]
        public static byte[] Encode(long[] counts)
        {
            var counted = new Counted();
            for (var bucket = 0; bucket < counts.Length; bucket++)
                if (counts[bucket] != 0) counted.Add(bucket, counts[bucket]);
            return counted.Encode();
        }

        /// <summary>Counts over a range of buckets, encoded as <see cref="Encode(long[])"/> encodes the same counts from bucket 0.</summary>
        internal static byte[] Encode(BucketCounts counts)
        {
            var counted = new Counted();
            for (var i = 0; i < counts.Length; i++)
                if (counts.CountAt(i) != 0) counted.Add(counts.BucketAt(i), counts.CountAt(i));
            return counted.Encode();
        }

        /// <summary>
        /// Counted buckets (in bucket order, counts not 0) in this thread's reused arrays, encoded as runs or as pairs,
        /// whichever is shorter. (A list of pairs and two lists of bytes per histogram were 50 MB of a 1M import's flushes.)
        /// </summary>
        private ref struct Counted
        {
            [ThreadStatic] private static int[]? t_buckets;
            [ThreadStatic] private static long[]? t_counts;
            [ThreadStatic] private static byte[]? t_pairs, t_runs;

            private int[]? _buckets;
            private long[]? _counts;
            private int _n;

            [MethodImpl(Hot.Path)]
            public void Add(int bucket, long n)
            {
                if (bucket < 0 || n < 0) throw new ArgumentException("buckets and counts are not negative");
                _buckets ??= t_buckets ??= new int[64];
                _counts ??= t_counts ??= new long[64];
                if (_n == _buckets.Length || _n == _counts.Length)
                {
                    Array.Resize(ref _buckets, 2 * _n);
                    Array.Resize(ref _counts, 2 * _n);
                    t_buckets = _buckets;
                    t_counts = _counts;
                }
                _buckets[_n] = bucket;
                _counts[_n++] = n;
            }

            [MethodImpl(Hot.Path)]
            public byte[] Encode()
            {
                var n = _n;
                if (n == 0) return Array.Empty<byte>();
                // A varint is at most 10 bytes: a pair 20, a run's bucket 10 more with its head and at most one empty bucket before it.
                var size = 32 * n + 16;
                if (t_pairs == null || t_pairs.Length < size) { t_pairs = new byte[size]; t_runs = new byte[size]; }
                byte[] pairs = t_pairs, runs = t_runs!;
                int[] buckets = _buckets!;
                long[] counts = _counts!;
                var p = 0;
                var at = 0;
                for (var i = 0; i < n; i++)
                {
                    p = Varint.Write(pairs, p, (ulong)(buckets[i] - at));
                    p = Varint.Write(pairs, p, (ulong)counts[i]);
                    at = buckets[i];
                }
                var r = 0;
                runs[r++] = Mark[0];
                runs[r++] = Mark[1];
                var previous = 0;
                for (var i = 0; i < n;)
                {
                    var end = i + 1; // the run's counted buckets are i..end-1
                    while (end < n && buckets[end] - buckets[end - 1] <= RunGap) end++;
                    var first = buckets[i];
                    var last = buckets[end - 1];
                    r = Varint.Write(runs, r, (ulong)(first - previous));
                    r = Varint.Write(runs, r, (ulong)(last - first + 1));
                    for (var j = i; j < end; j++)
                    {
                        if (j > i) for (var empty = buckets[j - 1] + 1; empty < buckets[j]; empty++) runs[r++] = 0;
                        r = Varint.Write(runs, r, (ulong)counts[j]);
                    }
                    previous = last;
                    i = end;
                    if (r >= p) return Copy(pairs, p);
                }
                return r < p ? Copy(runs, r) : Copy(pairs, p);
            }

            private static byte[] Copy(byte[] from, int length)
            {
                var bytes = new byte[length];
                Buffer.BlockCopy(from, 0, bytes, 0, length);
                return bytes;
            }
        }

        /// <summary>The counted buckets of a blob of either encoding, in bucket order.</summary>
        public static IEnumerable<(int bucket, long n)> Decode(byte[]? blob)
        {
            if (blob == null) yield break;
            var i = 0;
            var bucket = 0;
            if (blob.Length >= Mark.Length && blob[0] == Mark[0] && blob[1] == Mark[1])
            {
                i = Mark.Length;
                while (i < blob.Length)
                {
                    bucket += (int)Read(blob, ref i);
                    var span = Read(blob, ref i);
                    for (var k = 0; k < span; k++)
                    {
                        var n = Read(blob, ref i);
                        if (n != 0) yield return (bucket + k, n);
                    }
                    bucket += (int)span - 1;
                }
                yield break;
            }
            while (i < blob.Length)
            {
                bucket += (int)Read(blob, ref i);
                yield return (bucket, Read(blob, ref i));
            }
        }

        /// <summary>Two histograms summed (the SQL function madf_hist_add, for upserts), as runs whatever each was written in.</summary>
        [MethodImpl(Hot.Path)]
        public static byte[] Add(byte[]? a, byte[]? b)
        {
            // Both in bucket order: one merge pass (an import's flush calls this for every histogram row it updates).
            using var x = Decode(a).GetEnumerator();
            using var y = Decode(b).GetEnumerator();
            var counted = new Counted();
            var hasA = x.MoveNext();
            var hasB = y.MoveNext();
            while (hasA || hasB)
            {
                (int Bucket, long N) next;
                if (hasA && (!hasB || x.Current.bucket < y.Current.bucket)) { next = x.Current; hasA = x.MoveNext(); }
                else if (!hasA || y.Current.bucket < x.Current.bucket) { next = y.Current; hasB = y.MoveNext(); }
                else { next = (x.Current.bucket, x.Current.n + y.Current.n); hasA = x.MoveNext(); hasB = y.MoveNext(); }
                if (next.N == 0) continue;
                counted.Add(next.Bucket, next.N);
            }
            return counted.Encode();
        }

        /// <summary>From "bucket:n,bucket:n" (the SQL function madf_hist_of, over group_concat).</summary>
        public static byte[] FromText(string? pairs) => Encode((pairs ?? "").Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split(':')).GroupBy(p => int.Parse(p[0], CultureInfo.InvariantCulture))
            .Select(g => new KeyValuePair<int, long>(g.Key, g.Sum(p => long.Parse(p[1], CultureInfo.InvariantCulture)))));

        /// <summary>Registers madf_duration_bucket, madf_hist_add and madf_hist_of on a connection.</summary>
        public static void Register(Microsoft.Data.Sqlite.SqliteConnection c)
        {
            c.CreateFunction("madf_duration_bucket", (long ms) => Domain.DurationBuckets.Of(ms), isDeterministic: true);
            c.CreateFunction("madf_hist_add", (byte[]? a, byte[]? b) => Add(a, b), isDeterministic: true);
            c.CreateFunction("madf_hist_of", (string? pairs) => FromText(pairs), isDeterministic: true);
        }

        private static long Read(byte[] b, ref int i) => Varint.Get(b, ref i);
    }

    /// <summary>
    /// Counts by duration bucket: up to <see cref="Few"/> counted buckets in fields of their own, then counts over the
    /// range of buckets seen (a cell's durations cluster: a few buckets, not the 150 from 1 ms to 10 minutes), so the
    /// import's cells and its per-day and per-hour histograms stay small. (Most cells of a batch see a few events: an
    /// array from their first bucket, grown as the next ones came, was 0.15 GB per 1M events of the import's 1.55.)
    /// </summary>
    internal sealed class BucketCounts
    {
        private const int Few = 4;

        // The few buckets held in fields, in bucket order: _few of them; -1 once the range's array holds the counts.
        private int _few;
        private int _b0, _b1, _b2, _b3;
        private long _n0, _n1, _n2, _n3;

        // Counts[i] is bucket Min + i's (zero for a bucket in the range never counted).
        private int _min;
        private long[] _counts = Array.Empty<long>();

        /// <summary>Places held: the counted buckets, or the range's buckets (some of them counting 0).</summary>
        public int Length { [MethodImpl(Hot.Small)] get => _few >= 0 ? _few : _counts.Length; }

        /// <summary>The bucket at a place (places are in bucket order).</summary>
        [MethodImpl(Hot.Small)]
        public int BucketAt(int i) => _few >= 0 ? FewBucket(i) : _min + i;

        /// <summary>The count at a place (0 for a bucket of the range never counted, or counted back to 0).</summary>
        [MethodImpl(Hot.Small)]
        public long CountAt(int i) => _few >= 0 ? FewCount(i) : _counts[i];

        [MethodImpl(Hot.Path)]
        public void Add(int bucket, long n)
        {
            if (_few >= 0)
            {
                var at = 0;
                while (at < _few && FewBucket(at) < bucket) at++;
                if (at < _few && FewBucket(at) == bucket) { SetFew(at, bucket, FewCount(at) + n); return; }
                if (_few < Few)
                {
                    for (var i = _few; i > at; i--) SetFew(i, FewBucket(i - 1), FewCount(i - 1));
                    SetFew(at, bucket, n);
                    _few++;
                    return;
                }
                ToRange(bucket);
            }
            if (bucket < _min || bucket >= _min + _counts.Length)
            {
                var min = Math.Min(_min, bucket);
                var grown = new long[Math.Max(Math.Max(_min + _counts.Length, bucket + 1) - min, _counts.Length * 2)];
                Array.Copy(_counts, 0, grown, _min - min, _counts.Length);
                _min = min;
                _counts = grown;
            }
            _counts[bucket - _min] += n;
        }

        [MethodImpl(Hot.Path)]
        public void Add(BucketCounts o)
        {
            for (var i = 0; i < o.Length; i++)
            {
                var n = o.CountAt(i);
                if (n != 0) Add(o.BucketAt(i), n);
            }
        }

        // From the few buckets to the range over them and the bucket about to be added.
        private void ToRange(int bucket)
        {
            var min = Math.Min(_b0, bucket);
            var max = Math.Max(FewBucket(_few - 1), bucket);
            var counts = new long[max - min + 1];
            for (var i = 0; i < _few; i++) counts[FewBucket(i) - min] = FewCount(i);
            _min = min;
            _counts = counts;
            _few = -1;
        }

        [MethodImpl(Hot.Small)]
        private int FewBucket(int i) => i switch { 0 => _b0, 1 => _b1, 2 => _b2, _ => _b3 };

        [MethodImpl(Hot.Small)]
        private long FewCount(int i) => i switch { 0 => _n0, 1 => _n1, 2 => _n2, _ => _n3 };

        [MethodImpl(Hot.Small)]
        private void SetFew(int i, int bucket, long n)
        {
            switch (i)
            {
                case 0: _b0 = bucket; _n0 = n; break;
                case 1: _b1 = bucket; _n1 = n; break;
                case 2: _b2 = bucket; _n2 = n; break;
                default: _b3 = bucket; _n3 = n; break;
            }
        }
    }
}

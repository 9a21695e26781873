using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

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

        public static byte[] Encode(IEnumerable<KeyValuePair<int, long>> buckets)
        {
            var counted = new List<(int, long)>();
            foreach (var b in buckets.Where(b => b.Value != 0).OrderBy(b => b.Key))
            {
                if (b.Key < 0 || b.Value < 0) throw new ArgumentException("buckets and counts are not negative");
                counted.Add((b.Key, b.Value));
            }
            return Runs(counted);
        }

        /// <summary>Counts by bucket (index: bucket), encoded as <see cref="Encode(IEnumerable{KeyValuePair{int, long}})"/> does: the import's flush, without sorting.</summary>
        public static byte[] Encode(long[] counts)
        {
            var counted = new List<(int, long)>();
            for (var bucket = 0; bucket < counts.Length; bucket++)
            {
                var n = counts[bucket];
                if (n == 0) continue;
                if (n < 0) throw new ArgumentException("buckets and counts are not negative");
                counted.Add((bucket, n));
            }
            return Runs(counted);
        }

        // Counted buckets (in bucket order, counts not 0) as runs or as pairs, whichever is shorter.
        private static byte[] Runs(List<(int Bucket, long N)> counted)
        {
            if (counted.Count == 0) return Array.Empty<byte>();
            var pairs = new List<byte>(2 * counted.Count);
            var at = 0;
            foreach (var (bucket, n) in counted) { Varint.Put(pairs, bucket - at); Varint.Put(pairs, n); at = bucket; }
            var bytes = new List<byte>(counted.Count + 8);
            bytes.AddRange(Mark);
            var previous = 0;
            for (var i = 0; i < counted.Count;)
            {
                var end = i + 1; // the run's counted buckets are i..end-1
                while (end < counted.Count && counted[end].Bucket - counted[end - 1].Bucket <= RunGap) end++;
                var first = counted[i].Bucket;
                var last = counted[end - 1].Bucket;
                Varint.Put(bytes, first - previous);
                Varint.Put(bytes, last - first + 1);
                for (var j = i; j < end; j++)
                {
                    if (j > i) for (var empty = counted[j - 1].Bucket + 1; empty < counted[j].Bucket; empty++) bytes.Add(0);
                    Varint.Put(bytes, counted[j].N);
                }
                previous = last;
                i = end;
                if (bytes.Count >= pairs.Count) return pairs.ToArray();
            }
            return bytes.Count < pairs.Count ? bytes.ToArray() : pairs.ToArray();
        }

        /// <summary>Counts over a range of buckets, encoded as <see cref="Encode(long[])"/> encodes the same counts from bucket 0.</summary>
        internal static byte[] Encode(BucketCounts counts)
        {
            var counted = new List<(int, long)>();
            for (var i = 0; i < counts.Counts.Length; i++)
            {
                var n = counts.Counts[i];
                if (n == 0) continue;
                if (n < 0) throw new ArgumentException("buckets and counts are not negative");
                counted.Add((counts.Min + i, n));
            }
            return Runs(counted);
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
        public static byte[] Add(byte[]? a, byte[]? b)
        {
            // Both in bucket order: one merge pass (an import's flush calls this for every histogram row it updates).
            using var x = Decode(a).GetEnumerator();
            using var y = Decode(b).GetEnumerator();
            var counted = new List<(int, long)>();
            var hasA = x.MoveNext();
            var hasB = y.MoveNext();
            while (hasA || hasB)
            {
                (int Bucket, long N) next;
                if (hasA && (!hasB || x.Current.bucket < y.Current.bucket)) { next = x.Current; hasA = x.MoveNext(); }
                else if (!hasA || y.Current.bucket < x.Current.bucket) { next = y.Current; hasB = y.MoveNext(); }
                else { next = (x.Current.bucket, x.Current.n + y.Current.n); hasA = x.MoveNext(); hasB = y.MoveNext(); }
                if (next.N == 0) continue;
                if (next.Bucket < 0 || next.N < 0) throw new ArgumentException("buckets and counts are not negative");
                counted.Add(next);
            }
            return Runs(counted);
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
    /// Counts by duration bucket over the range of buckets seen (a cell's durations cluster: a few buckets, not the 150
    /// from 1 ms to 10 minutes), so the import's cells and its per-day and per-hour histograms stay small.
    /// </summary>
    internal sealed class BucketCounts
    {
        public int Min;
        public long[] Counts = Array.Empty<long>();

        public void Add(int bucket, long n)
        {
            if (Counts.Length == 0) { Min = bucket; Counts = new long[4]; }
            else if (bucket < Min || bucket >= Min + Counts.Length)
            {
                var min = Math.Min(Min, bucket);
                var grown = new long[Math.Max(Math.Max(Min + Counts.Length, bucket + 1) - min, Counts.Length * 2)];
                Array.Copy(Counts, 0, grown, Min - min, Counts.Length);
                Min = min;
                Counts = grown;
            }
            Counts[bucket - Min] += n;
        }

        public void Add(BucketCounts o)
        {
            for (var i = 0; i < o.Counts.Length; i++) if (o.Counts[i] != 0) Add(o.Min + i, o.Counts[i]);
        }
    }
}

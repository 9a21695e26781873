using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// A day's duration histogram (Domain.DurationBuckets with their counts) as one small blob per day, story, scope
    /// and key in day_hist: (bucket delta, count) varint pairs in bucket order, empty buckets left out. One row per key
    /// instead of one per bucket keeps the day summaries a few bytes per event.
    /// </summary>
    public static class DayHistogram
    {
        public static byte[] Encode(IEnumerable<KeyValuePair<int, long>> buckets)
        {
            using var ms = new MemoryStream();
            var previous = 0;
            foreach (var b in buckets.Where(b => b.Value != 0).OrderBy(b => b.Key))
            {
                if (b.Key < 0 || b.Value < 0) throw new ArgumentException("buckets and counts are not negative");
                Write(ms, b.Key - previous);
                Write(ms, b.Value);
                previous = b.Key;
            }
            return ms.ToArray();
        }

        /// <summary>Counts by bucket (index: bucket), encoded as <see cref="Encode(IEnumerable{KeyValuePair{int, long}})"/> does: the import's flush, without sorting.</summary>
        public static byte[] Encode(long[] counts)
        {
            var bytes = new List<byte>(16);
            var previous = 0;
            for (var bucket = 0; bucket < counts.Length; bucket++)
            {
                var n = counts[bucket];
                if (n == 0) continue;
                if (n < 0) throw new ArgumentException("buckets and counts are not negative");
                Varint.Put(bytes, bucket - previous);
                Varint.Put(bytes, n);
                previous = bucket;
            }
            return bytes.ToArray();
        }

        /// <summary>Counts over a range of buckets, encoded as <see cref="Encode(long[])"/> encodes the same counts from bucket 0.</summary>
        internal static byte[] Encode(BucketCounts counts)
        {
            var bytes = new List<byte>(16);
            var previous = 0;
            for (var i = 0; i < counts.Counts.Length; i++)
            {
                var n = counts.Counts[i];
                if (n == 0) continue;
                if (n < 0) throw new ArgumentException("buckets and counts are not negative");
                var bucket = counts.Min + i;
                Varint.Put(bytes, bucket - previous);
                Varint.Put(bytes, n);
                previous = bucket;
            }
            return bytes.ToArray();
        }

        public static IEnumerable<(int bucket, long n)> Decode(byte[]? blob)
        {
            if (blob == null) yield break;
            var i = 0;
            var bucket = 0;
            while (i < blob.Length)
            {
                bucket += (int)Read(blob, ref i);
                yield return (bucket, Read(blob, ref i));
            }
        }

        /// <summary>Two histograms summed (the SQL function madf_hist_add, for upserts).</summary>
        public static byte[] Add(byte[]? a, byte[]? b)
        {
            // Both in bucket order: one merge pass (an import's flush calls this for every histogram row it updates).
            a ??= Array.Empty<byte>();
            b ??= Array.Empty<byte>();
            var bytes = new List<byte>(a.Length + b.Length);
            int i = 0, j = 0, bucketA = 0, bucketB = 0, previous = 0;
            long nA = 0, nB = 0;
            bool Next(byte[] blob, ref int at, ref int bucket, out long n)
            {
                n = 0;
                if (at >= blob.Length) return false;
                bucket += (int)Read(blob, ref at);
                n = Read(blob, ref at);
                return true;
            }
            var hasA = Next(a, ref i, ref bucketA, out nA);
            var hasB = Next(b, ref j, ref bucketB, out nB);
            while (hasA || hasB)
            {
                int bucket;
                long n;
                if (hasA && (!hasB || bucketA < bucketB)) { bucket = bucketA; n = nA; hasA = Next(a, ref i, ref bucketA, out nA); }
                else if (!hasA || bucketB < bucketA) { bucket = bucketB; n = nB; hasB = Next(b, ref j, ref bucketB, out nB); }
                else { bucket = bucketA; n = nA + nB; hasA = Next(a, ref i, ref bucketA, out nA); hasB = Next(b, ref j, ref bucketB, out nB); }
                if (n == 0) continue;
                if (bucket < 0 || n < 0) throw new ArgumentException("buckets and counts are not negative");
                Varint.Put(bytes, bucket - previous);
                Varint.Put(bytes, n);
                previous = bucket;
            }
            return bytes.ToArray();
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

        private static void Write(Stream s, long v) => Varint.Put(s, v);
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

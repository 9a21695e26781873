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
        public static byte[] Add(byte[]? a, byte[]? b) => Encode(Decode(a).Concat(Decode(b)).GroupBy(x => x.bucket).Select(g => new KeyValuePair<int, long>(g.Key, g.Sum(x => x.n))));

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
}

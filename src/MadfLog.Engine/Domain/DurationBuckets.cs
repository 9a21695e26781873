using System;

namespace MadfLog.Engine.Domain
{
    /// <summary>
    /// The buckets of every duration histogram (duration_hist, day_hist): 8 per doubling, so a bucket's upper bound is
    /// within 9% of any value in it. In SQL: <c>madf_duration_bucket(ms)</c>, registered on every connection.
    /// </summary>
    public static class DurationBuckets
    {
        /// <summary>The bucket of a duration in milliseconds.</summary>
        public static int Of(long ms) => ms <= 1 ? 0 : (int)Math.Ceiling(Math.Log(ms, 2) * 8);

        /// <summary>The value a bucket reports (its upper bound).</summary>
        public static double Value(int bucket) => bucket == 0 ? 1 : Math.Round(Math.Pow(2, bucket / 8.0));
    }
}

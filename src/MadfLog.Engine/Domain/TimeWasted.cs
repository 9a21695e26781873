namespace MadfLog.Engine.Domain
{
    /// <summary>
    /// Time wasted by an event: its duration when it failed, plus the waste it reports (a negative
    /// time_saved_or_wasted_ms). The import's summaries (C#), their rebuild and the scans (SQL) and the sums of a
    /// cut day's groups all use these.
    /// </summary>
    public static class TimeWasted
    {
        public static long Ms(bool? success, long? durationMs, long? savedOrWastedMs) => FailedMs(success, durationMs) + ReportedMs(savedOrWastedMs);

        /// <summary>The failed part: also of a group's summed durations when its events share one outcome.</summary>
        public static long FailedMs(bool? success, long? durationMs) => success == false ? durationMs ?? 0 : 0;

        /// <summary>The reported part (what a negative time_saved_or_wasted_ms says).</summary>
        public static long ReportedMs(long? savedOrWastedMs) => savedOrWastedMs < 0 ? -savedOrWastedMs.Value : 0;

        /// <summary><see cref="Ms"/> in SQL over an event's columns (success 0/1/NULL); never NULL.</summary>
        public static string Sql(string success, string duration, string saved) =>
            $"(CASE WHEN {success} = 0 THEN coalesce({duration}, 0) ELSE 0 END + {ReportedSql(saved)})";

        /// <summary><see cref="ReportedMs"/> in SQL; never NULL.</summary>
        public static string ReportedSql(string saved) => $"CASE WHEN {saved} < 0 THEN -{saved} ELSE 0 END";
    }
}

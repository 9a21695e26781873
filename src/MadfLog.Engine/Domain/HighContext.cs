namespace MadfLog.Engine.Domain
{
    /// <summary>
    /// High context: an event logged above this share of the context window. The summaries keep the split at this
    /// threshold only (event_rollup.ctx_hot, session_rollup), so other thresholds are answered from the events.
    /// </summary>
    public static class HighContext
    {
        /// <summary>The threshold in percent (context_percent above it is high).</summary>
        public const int Percent = 80;

        public static bool IsHigh(double? contextPercent) => contextPercent > Percent;

        /// <summary>The test in SQL over a context column (e.g. <c>e.context_percent</c>).</summary>
        public static string Sql(string column) => column + " > " + Percent;
    }
}

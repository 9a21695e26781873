using System;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>
    /// What every question covers: the events in the active store. Retention moves older events to monthly archive
    /// databases (madflog-YYYY-MM.db) and then rebuilds the summaries from the remaining events, so summaries and
    /// scans answer over the same window; archived events are counted by no question (open an archive with
    /// -Database to ask about it).
    /// </summary>
    public static class ActiveWindow
    {
        /// <summary>Where the active window starts (just after the newest archived event), or null when nothing is archived.</summary>
        public static DateTimeOffset? Start(SqliteConnection c)
        {
            var last = c.ExecuteScalar<long?>("SELECT max(last_timestamp) FROM event_archives");
            return last.HasValue ? DateTimeOffset.FromUnixTimeMilliseconds(last.Value + 1) : (DateTimeOffset?)null;
        }

        /// <summary>How many events retention has moved to archives.</summary>
        public static long ArchivedEvents(SqliteConnection c) => c.ExecuteScalar<long?>("SELECT sum(events) FROM event_archives") ?? 0;

        /// <summary>One line for briefs when older events are archived ("" when the active store holds everything).</summary>
        public static string Note(SqliteConnection c)
        {
            var start = Start(c);
            if (!start.HasValue) return "";
            return $"Active window from {start.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; {ArchivedEvents(c)} older events archived, not counted.";
        }
    }
}

using System;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>
    /// What every question covers: by default the events in the active store. Retention moves older events to monthly
    /// archive databases (madflog-YYYY-MM.db) and then rebuilds the summaries from the remaining events, so summaries and
    /// scans answer over the same window. With -IncludeArchive a question covers the active and the archived events: it
    /// is answered by the same code from a store that holds both (Lifecycle.CombinedStore).
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

        /// <summary>The line for briefs under -IncludeArchive: how many archived events are counted too, of when, from how many files.</summary>
        public static string IncludeArchiveNote(long archived, long? first, long? last, int files) =>
            string.Format(Messages.Culture, Messages.IncludeArchiveNote, archived,
                DateTimeOffset.FromUnixTimeMilliseconds(first ?? 0).UtcDateTime, DateTimeOffset.FromUnixTimeMilliseconds(last ?? 0).UtcDateTime, files);
    }
}

using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>How many errors and events a filter covers (briefs state them beside the top items).</summary>
    internal static class CountsQuestion
    {
        /// <summary>What the summaries answer: event_rollup (by agent) for the whole store, day_rollup for a story or a window.</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByAgent | Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent;

        internal static long CountErrors(SqliteConnection c, QueryFilter f) => Count(c, f, errors: true);

        internal static long CountEvents(SqliteConnection c, QueryFilter f) => Count(c, f, errors: false);

        private static long Count(SqliteConnection c, QueryFilter f, bool errors)
        {
            var p = new DynamicParameters();
            var source = Sources.For(f, Answers);
            if (source != Source.Events)
            {
                var (table, where) = Sources.SummaryTable(c, source, f, p);
                return c.ExecuteScalar<long?>($"SELECT sum(r.events) FROM {table} r WHERE {(errors ? Errors.InRollup("r") : "1")}{where}", p) ?? 0;
            }
            return c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {(errors ? Errors.InEvents : "1")}{f.Where(c, p)}", p);
        }
    }
}

using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>How many errors and events a filter covers (the events answer; briefs state them beside the top items).</summary>
    internal static class CountsQuestion
    {
        /// <summary>Only the events answer.</summary>
        internal const Summarised Answers = Summarised.None;

        internal static long CountErrors(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            return c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {Errors.InEvents}{f.Where(p)}", p);
        }

        internal static long CountEvents(SqliteConnection c, QueryFilter f)
        {
            var p = new DynamicParameters();
            return c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE 1=1{f.Where(p)}", p);
        }
    }
}

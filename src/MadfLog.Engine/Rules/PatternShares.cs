using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Rules
{
    /// <summary>One pattern's share of the window's errors.</summary>
    public sealed class PatternShare
    {
        public long PatternId { get; set; }
        public string Template { get; set; } = "";
        public string ErrorClass { get; set; } = "Other";
        public long Count { get; set; }
        public double Share { get; set; }
        public string[] Stories { get; set; } = Array.Empty<string>();
        public string[] Agents { get; set; } = Array.Empty<string>();
    }

    /// <summary>Which error patterns a window's rules are proposed for: each pattern's share of the window's errors.</summary>
    public static class PatternShares
    {
        /// <summary>Error patterns in the window by share of the window's (non-cascade) errors, largest first.</summary>
        public static List<PatternShare> Of(SqliteConnection c, long from, long to, long totalErrors)
        {
            var rows = c.Query<(long id, string template, string cls, long n, string? stories, string? agents)>(
                @"SELECT e.pattern_id, coalesce(p.display, p.template), p.error_class, count(*), group_concat(DISTINCT e.story_id), group_concat(DISTINCT e.agent_name)
                  FROM events e JOIN patterns p ON p.id = e.pattern_id
                  WHERE " + Domain.Errors.InEvents + " AND " + EventStorage.Window("e", "@from", "@to") + @"
                  GROUP BY e.pattern_id ORDER BY count(*) DESC, e.pattern_id", new { from, to });
            return rows.Select(r => new PatternShare
            {
                PatternId = r.id, Template = r.template, ErrorClass = r.cls, Count = r.n,
                Share = totalErrors > 0 ? (double)r.n / totalErrors : 0,
                Stories = Split(r.stories), Agents = Split(r.agents),
            }).ToList();
        }

        private static string[] Split(string? list) =>
            string.IsNullOrEmpty(list) ? Array.Empty<string>() : list!.Split(',').OrderBy(s => s, StringComparer.Ordinal).ToArray();
    }
}

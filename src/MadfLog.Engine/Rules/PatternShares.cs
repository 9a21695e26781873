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

        /// <summary>
        /// Whether the pattern earns a rule at <paramref name="threshold"/>: its share of the window's errors is at least the
        /// threshold and it recurred. An error seen once is not a recurring mistake, however small the week that makes it 3 %.
        /// </summary>
        public bool IsFrequent(double threshold) => Share >= threshold && Count >= PatternShares.RecurringCount;
    }

    /// <summary>Which error patterns a window's rules are proposed for: each pattern's share of the window's errors.</summary>
    public static class PatternShares
    {
        /// <summary>How many errors in a window make a pattern a recurring mistake rather than a single error.</summary>
        public const int RecurringCount = 2;

        /// <summary>Error patterns in the window by share of the window's (non-cascade) errors, largest first.</summary>
        public static List<PatternShare> Of(SqliteConnection c, long from, long to, long totalErrors)
        {
            var rows = c.Query<ShareRow>(
                @"SELECT e.pattern_id AS PatternId, coalesce(p.display, p.template) AS Template, p.error_class AS ErrorClass, count(*) AS Errors,
                         group_concat(DISTINCT e.story_id) AS Stories, group_concat(DISTINCT e.agent_name) AS Agents
                  FROM events e JOIN patterns p ON p.id = e.pattern_id
                  WHERE " + Domain.Errors.InEvents + " AND " + EventStorage.Window("e", "@from", "@to") + @"
                  GROUP BY e.pattern_id ORDER BY count(*) DESC, e.pattern_id", new { from, to });
            return rows.Select(r => new PatternShare
            {
                PatternId = r.PatternId, Template = r.Template, ErrorClass = r.ErrorClass, Count = r.Errors,
                Share = totalErrors > 0 ? (double)r.Errors / totalErrors : 0,
                Stories = Split(r.Stories), Agents = Split(r.Agents),
            }).ToList();
        }

        /// <summary>A pattern's errors in the window, with its stories and agents as lists (mapped by column name).</summary>
        private sealed class ShareRow
        {
            public long PatternId { get; set; }
            public string Template { get; set; } = "";
            public string ErrorClass { get; set; } = "";
            public long Errors { get; set; }
            public string? Stories { get; set; }
            public string? Agents { get; set; }
        }

        private static string[] Split(string? list) =>
            string.IsNullOrEmpty(list) ? Array.Empty<string>() : list!.Split(',').OrderBy(s => s, StringComparer.Ordinal).ToArray();
    }
}

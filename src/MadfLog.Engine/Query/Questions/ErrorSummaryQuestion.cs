using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Patterns;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Errors grouped by pattern, with their share of all errors.</summary>
    internal static class ErrorSummaryQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore;

        internal static List<ErrorSummaryItem> ErrorSummary(SqliteConnection c, QueryFilter f, int top = 20)
        {
            if (Sources.For(f, Answers) == Source.Summaries) return ErrorSummaryFromSummaries(c, top);
            var p = new DynamicParameters();
            var where = f.Where(p);
            p.Add("top", top);
            var total = c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {Errors.InEvents}{where}", p);
            return c.Query<(long? id, string? template, string? cls, long n, string? agents, string? stories, long first, long last, string? example)>(
                    $@"SELECT e.pattern_id, coalesce(p.display, p.template), p.error_class, count(*), group_concat(DISTINCT e.agent_name), group_concat(DISTINCT e.story_id),
                              min(e.timestamp), max(e.timestamp), p.example
                       FROM events e LEFT JOIN patterns p ON p.id = e.pattern_id
                       WHERE {Errors.InEvents}{where} GROUP BY e.pattern_id ORDER BY count(*) DESC, e.pattern_id LIMIT @top", p)
                .Select(r => new ErrorSummaryItem
                {
                    PatternId = r.id, Template = r.template ?? "(no message)", ErrorClass = r.cls ?? ErrorClasses.Other, Count = r.n,
                    Share = total > 0 ? (double)r.n / total : 0, Agents = List(r.agents), Stories = List(r.stories),
                    FirstSeen = Time(r.first), LastSeen = Time(r.last), Example = r.example,
                }).ToList();
        }

        // Whole store: counts per pattern, first and last seen from the summaries (the active window); the example is kept on the pattern.
        private static List<ErrorSummaryItem> ErrorSummaryFromSummaries(SqliteConnection c, int top)
        {
            var total = c.ExecuteScalar<long?>($"SELECT sum(events) FROM event_rollup WHERE {Errors.InRollup()}") ?? 0;
            return c.Query<(long id, string? template, string? cls, long n, string? agents, string? stories, long? first, long? last, string? example)>(
                    $@"SELECT r.pattern_id, coalesce(p.display, p.template), p.error_class, sum(r.events), group_concat(DISTINCT nullif(r.agent_name, '')),
                             (SELECT group_concat(s.story_id) FROM pattern_stories s WHERE s.pattern_id = r.pattern_id), min(r.first_ts), max(r.last_ts), p.example
                      FROM event_rollup r LEFT JOIN patterns p ON p.id = r.pattern_id
                      WHERE {Errors.InRollup("r")} GROUP BY r.pattern_id ORDER BY sum(r.events) DESC, r.pattern_id LIMIT @top", new { top })
                .Select(r => new ErrorSummaryItem
                {
                    PatternId = r.id == 0 ? (long?)null : r.id, Template = r.template ?? "(no message)", ErrorClass = r.cls ?? ErrorClasses.Other, Count = r.n,
                    Share = total > 0 ? (double)r.n / total : 0, Agents = List(r.agents), Stories = List(r.stories),
                    FirstSeen = Time(r.first ?? 0), LastSeen = Time(r.last ?? 0), Example = r.example,
                }).ToList();
        }
    }
}

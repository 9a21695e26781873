using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>The top error patterns with their breakdowns by story and agent and recent examples.</summary>
    internal static class ErrorPatternsQuestion
    {
        /// <summary>Only the events answer (the top patterns come from ErrorSummaryQuestion, which has its own source).</summary>
        internal const Summarised Answers = Summarised.None;

        internal static List<ErrorPattern> ErrorPatterns(SqliteConnection c, QueryFilter f, int top = 20)
        {
            var summary = ErrorSummaryQuestion.ErrorSummary(c, f, top).Where(s => s.PatternId.HasValue).ToList();
            if (summary.Count == 0) return new List<ErrorPattern>();
            var p = new DynamicParameters();
            var where = f.Where(p);
            p.Add("ids", summary.Select(s => s.PatternId!.Value).ToList());
            var byStory = c.Query<(long id, string? story, long n)>($"SELECT e.pattern_id, e.story_id, count(*) FROM events e WHERE e.pattern_id IN @ids AND {Errors.InEvents}{where} GROUP BY 1, 2", p).ToList();
            var byAgent = c.Query<(long id, string? agent, long n)>($"SELECT e.pattern_id, e.agent_name, count(*) FROM events e WHERE e.pattern_id IN @ids AND {Errors.InEvents}{where} GROUP BY 1, 2", p).ToList();
            var examples = c.Query<(long id, string? details)>(
                $@"SELECT pid, details FROM (SELECT e.pattern_id AS pid, e.details AS details, row_number() OVER (PARTITION BY e.pattern_id ORDER BY e.timestamp DESC) AS k
                   FROM events e WHERE e.pattern_id IN @ids AND {Errors.InEvents}{where}) WHERE k <= 20", p).ToList();
            return summary.Select(s => new ErrorPattern
            {
                PatternId = s.PatternId!.Value, Template = s.Template, ErrorClass = s.ErrorClass, Count = s.Count, Share = s.Share, FirstSeen = s.FirstSeen, LastSeen = s.LastSeen,
                ByStory = byStory.Where(x => x.id == s.PatternId).OrderBy(x => x.story, StoryOrder.Instance).ToDictionary(x => x.story ?? "", x => x.n),
                ByAgent = byAgent.Where(x => x.id == s.PatternId).OrderByDescending(x => x.n).ToDictionary(x => x.agent ?? "", x => x.n),
                Examples = examples.Where(x => x.id == s.PatternId).Select(x => EventDetails.Message(x.details)).Where(m => m != null).Distinct().Take(3).Select(m => Text.SafeText.Redact(m)!).ToArray(),
            }).ToList();
        }
    }
}

using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>The top error patterns with their breakdowns by story and agent and recent examples.</summary>
    internal static class ErrorPatternsQuestion
    {
        /// <summary>
        /// What this question's summaries answer: the breakdowns come from the same summaries as the top patterns
        /// (ErrorSummaryQuestion); the examples are always the newest events of each pattern, read by growing windows.
        /// </summary>
        internal const Summarised Answers = ErrorSummaryQuestion.Answers;

        /// <summary>How many of a pattern's newest errors its examples are taken from.</summary>
        private const int ExampleRows = 20;

        internal static List<ErrorPattern> ErrorPatterns(SqliteConnection c, QueryFilter f, int top = 20)
        {
            var summary = ErrorSummaryQuestion.ErrorSummary(c, f, top).Where(s => s.PatternId.HasValue).ToList();
            if (summary.Count == 0) return new List<ErrorPattern>();
            var source = Sources.For(f, Answers);
            var p = new DynamicParameters();
            p.Add("ids", summary.Select(s => s.PatternId!.Value).ToList());
            List<(long id, string? story, long n)> byStory;
            List<(long id, string? agent, long n)> byAgent;
            if (source == Source.Summaries)
            {
                // pattern_stories counts errors with a story; the rest of the pattern's count had none.
                byStory = c.Query<(long id, string? story, long n)>("SELECT pattern_id, story_id, errors FROM pattern_stories WHERE pattern_id IN @ids", p).ToList();
                foreach (var s in summary)
                {
                    var rest = s.Count - byStory.Where(x => x.id == s.PatternId).Sum(x => x.n);
                    if (rest > 0) byStory.Add((s.PatternId!.Value, null, rest));
                }
                byAgent = c.Query<(long id, string? agent, long n)>(
                    $"SELECT r.pattern_id, nullif(r.agent_name, ''), sum(r.events) FROM event_rollup r WHERE r.pattern_id IN @ids AND {Errors.InRollup("r")} GROUP BY 1, 2", p).ToList();
            }
            else if (source == Source.DaySummaries)
            {
                var (table, where) = Sources.SummaryTable(source, f, p);
                byStory = c.Query<(long id, string? story, long n)>(
                    $"SELECT r.pattern_id, nullif(r.story_id, ''), sum(r.events) FROM {table} r WHERE r.pattern_id IN @ids AND {Errors.InRollup("r")}{where} GROUP BY 1, 2", p).ToList();
                byAgent = c.Query<(long id, string? agent, long n)>(
                    $"SELECT r.pattern_id, nullif(r.agent_name, ''), sum(r.events) FROM {table} r WHERE r.pattern_id IN @ids AND {Errors.InRollup("r")}{where} GROUP BY 1, 2", p).ToList();
            }
            else
            {
                var where = f.Where(p);
                byStory = c.Query<(long id, string? story, long n)>($"SELECT e.pattern_id, e.story_id, count(*) FROM events e WHERE e.pattern_id IN @ids AND {Errors.InEvents}{where} GROUP BY 1, 2", p).ToList();
                byAgent = c.Query<(long id, string? agent, long n)>($"SELECT e.pattern_id, e.agent_name, count(*) FROM events e WHERE e.pattern_id IN @ids AND {Errors.InEvents}{where} GROUP BY 1, 2", p).ToList();
            }
            return summary.Select(s => new ErrorPattern
            {
                PatternId = s.PatternId!.Value, Template = s.Template, ErrorClass = s.ErrorClass, Count = s.Count, Share = s.Share, FirstSeen = s.FirstSeen, LastSeen = s.LastSeen,
                ByStory = byStory.Where(x => x.id == s.PatternId).OrderBy(x => x.story, StoryOrder.Instance).ToDictionary(x => x.story ?? "", x => x.n),
                ByAgent = byAgent.Where(x => x.id == s.PatternId).OrderByDescending(x => x.n).ToDictionary(x => x.agent ?? "", x => x.n),
                Examples = NewestDetails(c, f, s).Select(EventDetails.Message).Where(m => m != null).Distinct().Take(3).Select(m => Text.SafeText.Redact(m)!).ToArray(),
            }).ToList();
        }

        // The details of a pattern's newest errors under the filter, newest first.
        private static List<string?> NewestDetails(SqliteConnection c, QueryFilter f, ErrorSummaryItem s) =>
            InTimeOrder(c, f, blocks =>
            {
                var p = new DynamicParameters();
                var where = f.Where(p) + blocks;
                p.Add("id", s.PatternId!.Value);
                p.Add("limit", ExampleRows);
                return c.Query<string?>($"SELECT e.details FROM events e WHERE e.pattern_id = @id AND {Errors.InEvents}{where} ORDER BY e.timestamp DESC, e.id DESC LIMIT @limit", p).ToList();
            }, ExampleRows, newest: true);
    }
}

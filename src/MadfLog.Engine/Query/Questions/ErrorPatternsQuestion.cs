using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Store;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>The top error patterns with their breakdowns by story and agent and recent examples.</summary>
    internal static class ErrorPatternsQuestion
    {
        /// <summary>
        /// What this question's summaries answer: the breakdowns come from the same summaries as the top patterns
        /// (ErrorSummaryQuestion); the examples are always the newest errors of each pattern, read through the pattern index.
        /// </summary>
        internal const Summarised Answers = ErrorSummaryQuestion.Answers;

        /// <summary>How many of a pattern's newest errors its examples are taken from.</summary>
        private const int ExampleRows = 20;

        internal static List<ErrorPattern> ErrorPatterns(SqliteConnection c, QueryFilter f, int top = 20)
        {
            var source = Sources.For(f, Answers);
            // From the day rows, the summary's own read of them gives the breakdowns too.
            List<(long pattern, string? story, string? agent, long n)>? cells = null;
            List<ErrorSummaryItem> all;
            if (source == Source.DaySummaries) (all, cells) = ErrorSummaryQuestion.FromDays(c, f, top);
            else all = ErrorSummaryQuestion.ErrorSummary(c, f, top);
            var summary = all.Where(s => s.PatternId.HasValue).ToList();
            if (summary.Count == 0) return new List<ErrorPattern>();
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
            else if (cells != null)
            {
                var ids = new HashSet<long>(summary.Select(s => s.PatternId!.Value));
                var mine = cells.Where(x => ids.Contains(x.pattern)).ToList();
                byStory = mine.GroupBy(x => (x.pattern, x.story)).Select(g => (g.Key.pattern, g.Key.story, g.Sum(x => x.n))).ToList();
                byAgent = mine.GroupBy(x => (x.pattern, x.agent)).Select(g => (g.Key.pattern, g.Key.agent, g.Sum(x => x.n))).ToList();
            }
            else
            {
                var where = f.Where(c, p);
                byStory = c.Query<(long id, string? story, long n)>($"SELECT e.pattern_id, e.story_id, count(*) FROM events e WHERE e.pattern_id IN @ids AND {Errors.InEvents}{where} GROUP BY 1, 2", p).ToList();
                byAgent = c.Query<(long id, string? agent, long n)>($"SELECT e.pattern_id, e.agent_name, count(*) FROM events e WHERE e.pattern_id IN @ids AND {Errors.InEvents}{where} GROUP BY 1, 2", p).ToList();
            }
            var examples = Examples(c, f, summary.Select(s => s.PatternId!.Value).ToList());
            return summary.Select(s => new ErrorPattern
            {
                PatternId = s.PatternId!.Value, Template = s.Template, ErrorClass = s.ErrorClass, Count = s.Count, Share = s.Share, FirstSeen = s.FirstSeen, LastSeen = s.LastSeen,
                ByStory = byStory.Where(x => x.id == s.PatternId).OrderBy(x => x.story, StoryOrder.Instance).ToDictionary(x => x.story ?? "", x => x.n),
                ByAgent = byAgent.Where(x => x.id == s.PatternId).OrderByDescending(x => x.n).ToDictionary(x => x.agent ?? "", x => x.n),
                Examples = examples[s.PatternId!.Value],
            }).ToList();
        }

        // Each pattern's examples: the first three distinct messages among its newest errors under the filter, newest
        // first. Their ids come from the pattern index (pattern_id, ts: a pattern's rows hold their time whole), read from the newest back within the window
        // and the stories' time span, in one statement for all patterns; their rows are read (EventsQuestion.ById) in two
        // rounds (the newest three of each pattern, then the rest only for patterns that have not yet three distinct messages).
        private static Dictionary<long, string[]> Examples(SqliteConnection c, QueryFilter f, List<long> patterns)
        {
            var p = new DynamicParameters();
            var time = EventStorage.PatternTime("r");
            var where = f.Where(c, p, "r", ids: "", fewRows: true, time: time);
            if (f.Stories is { Length: > 0 })
                where += $@" AND {time} >= coalesce((SELECT min(first_ts) FROM story_rollup WHERE story_id IN @stories), -9223372036854775807)
                            AND {time} <= coalesce((SELECT max(last_ts) FROM story_rollup WHERE story_id IN @stories), 9223372036854775807)";
            p.Add("limit", ExampleRows);
            for (var i = 0; i < patterns.Count; i++) p.Add("id" + i, patterns[i]);
            var ids = c.Query<(long pattern, long id, long ts)>(string.Join(" UNION ALL ", patterns.Select((_, i) =>
                         $"SELECT * FROM (SELECT r.pattern_id, r.id, {time} FROM event_rows r WHERE r.pattern_id = @id{i} AND r.kind IN {Errors.Kinds}{where} ORDER BY {time} DESC, r.id DESC LIMIT @limit)")), p)
                .GroupBy(x => x.pattern).ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.ts).ThenByDescending(x => x.id).Select(x => x.id).ToList());
            foreach (var pattern in patterns) if (!ids.ContainsKey(pattern)) ids[pattern] = new List<long>();
            var messages = patterns.ToDictionary(x => x, _ => new List<string>());
            var taken = 0;
            foreach (var upTo in new[] { Shown, ExampleRows })
            {
                var need = ids.Where(x => messages[x.Key].Count < Shown && x.Value.Count > taken).ToList();
                if (need.Count == 0) break;
                var read = EventsQuestion.ById(c, need.SelectMany(x => x.Value.Skip(taken).Take(upTo - taken)).ToList()).ToDictionary(e => e.Id, e => e.Message);
                foreach (var x in need)
                    foreach (var id in x.Value.Skip(taken).Take(upTo - taken))
                    {
                        var m = read[id];
                        if (m != null && messages[x.Key].Count < Shown && !messages[x.Key].Contains(m)) messages[x.Key].Add(m);
                    }
                taken = upTo;
            }
            return messages.ToDictionary(x => x.Key, x => x.Value.Select(m => Text.SafeText.Redact(m)!).ToArray());
        }

        /// <summary>How many distinct messages a pattern shows as examples.</summary>
        private const int Shown = 3;
    }
}

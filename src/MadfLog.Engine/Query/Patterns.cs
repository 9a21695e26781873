using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using MadfLog.Engine.Patterns;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>One error pattern with its breakdowns.</summary>
    public sealed class ErrorPattern
    {
        public long PatternId { get; set; }
        public string Template { get; set; } = "";
        public string ErrorClass { get; set; } = "Other";
        public long Count { get; set; }
        public double Share { get; set; }
        public Dictionary<string, long> ByStory { get; set; } = new Dictionary<string, long>();
        public Dictionary<string, long> ByAgent { get; set; } = new Dictionary<string, long>();
        public DateTime FirstSeen { get; set; }
        public DateTime LastSeen { get; set; }
        public string[] Examples { get; set; } = Array.Empty<string>();
    }

    /// <summary>A recurring sequence: a retry loop (the same failing pattern again and again in a session) or steps that often lead to an error.</summary>
    public sealed class ErrorSequence
    {
        /// <summary>RetryLoop or LeadsToError.</summary>
        public string Kind { get; set; } = "";
        public string Sequence { get; set; } = "";
        public long Occurrences { get; set; }
        public long Sessions { get; set; }
        public long? PatternId { get; set; }
        /// <summary>For retry loops: the longest run of the same error in one session.</summary>
        public int LongestRun { get; set; }
    }

    public static class PatternAnalysis
    {
        public static List<ErrorPattern> ErrorPatterns(SqliteConnection c, QueryFilter f, int top = 20)
        {
            var summary = Analysis.ErrorSummary(c, f, top).Where(s => s.PatternId.HasValue).ToList();
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

        /// <summary>
        /// Retry loops: runs of two or more consecutive errors with the same pattern within a session (other events between
        /// them allowed, as long as no different error intervenes). Leads-to-error: the three events before each error, as
        /// tool/outcome steps, counted over all sessions; sequences seen at least minSupport times.
        /// </summary>
        public static List<ErrorSequence> ErrorSequences(SqliteConnection c, QueryFilter f, int top = 20, int minSupport = 3)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            var rows = c.Query<(string session, string type, string cat, long? success, long? pattern, string step, string? cls)>(
                $@"SELECT e.session_id, e.event_type, e.category, e.success, e.pattern_id, {Steps.NameSql}, pt.error_class
                   FROM events e LEFT JOIN patterns pt ON pt.id = e.pattern_id
                   WHERE e.session_id IS NOT NULL AND e.event_type <> 'llm_call'{where} ORDER BY e.session_id, e.timestamp, e.id", p, buffered: false);

            var loops = new Dictionary<long, (long runs, long repeats, int longest, HashSet<string> sessions)>();
            var leads = new Dictionary<string, (long n, HashSet<string> sessions)>(StringComparer.Ordinal);
            string? session = null;
            var window = new List<string>();
            long? runPattern = null;
            var runLength = 0;

            void CloseRun(string s)
            {
                if (runPattern.HasValue && runLength >= 2)
                {
                    loops.TryGetValue(runPattern.Value, out var l);
                    l.sessions ??= new HashSet<string>();
                    l.sessions.Add(s);
                    loops[runPattern.Value] = (l.runs + 1, l.repeats + runLength - 1, Math.Max(l.longest, runLength), l.sessions);
                }
                runPattern = null; runLength = 0;
            }

            foreach (var r in rows)
            {
                if (r.session != session)
                {
                    if (session != null) CloseRun(session);
                    session = r.session; window.Clear();
                }
                var isError = Errors.IsError(r.success.HasValue ? r.success != 0 : (bool?)null, r.cat);
                var step = r.step;
                if (isError)
                {
                    step += " ✗" + (r.cls ?? "error");
                    if (window.Count >= 3)
                    {
                        var key = string.Join(" → ", window.Skip(window.Count - 3)) + " → " + step;
                        leads.TryGetValue(key, out var v);
                        v.sessions ??= new HashSet<string>();
                        v.sessions.Add(r.session);
                        leads[key] = (v.n + 1, v.sessions);
                    }
                    if (r.pattern.HasValue && r.pattern == runPattern) runLength++;
                    else { CloseRun(r.session); runPattern = r.pattern; runLength = r.pattern.HasValue ? 1 : 0; }
                }
                window.Add(step);
                if (window.Count > 8) window.RemoveAt(0);
            }
            if (session != null) CloseRun(session);

            var templates = loops.Count == 0 ? new Dictionary<long, string>() :
                c.Query<(long id, string t)>("SELECT id, coalesce(display, template) FROM patterns WHERE id IN @ids", new { ids = loops.Keys.ToList() }).ToDictionary(x => x.id, x => x.t);
            var result = loops.OrderByDescending(l => l.Value.repeats).Take(top).Select(l => new ErrorSequence
            {
                Kind = "RetryLoop", PatternId = l.Key, Occurrences = l.Value.runs, Sessions = l.Value.sessions.Count, LongestRun = l.Value.longest,
                Sequence = $"{(templates.TryGetValue(l.Key, out var t) ? t : "P" + l.Key)} repeated ({l.Value.repeats} retries)",
            }).ToList();
            result.AddRange(leads.Where(kv => kv.Value.n >= minSupport).OrderByDescending(kv => kv.Value.n).Take(top).Select(kv => new ErrorSequence
            {
                Kind = "LeadsToError", Sequence = kv.Key, Occurrences = kv.Value.n, Sessions = kv.Value.sessions.Count,
            }));
            return result;
        }
    }
}

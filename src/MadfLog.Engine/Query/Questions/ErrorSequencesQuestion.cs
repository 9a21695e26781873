using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Retry loops and the steps that lead to errors.</summary>
    internal static class ErrorSequencesQuestion
    {
        /// <summary>Only the events answer (the top patterns come from ErrorSummaryQuestion, which has its own source).</summary>
        internal const Summarised Answers = Summarised.None;

        /// <summary>
        /// Retry loops: runs of two or more consecutive errors with the same pattern within a session (other events between
        /// them allowed, as long as no different error intervenes). Leads-to-error: the three events before each error, as
        /// tool/outcome steps, counted over all sessions; sequences seen at least minSupport times.
        /// </summary>
        internal static List<ErrorSequence> ErrorSequences(SqliteConnection c, QueryFilter f, int top = 20, int minSupport = 3)
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

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Retry loops and the steps that lead to errors.</summary>
    internal static class ErrorSequencesQuestion
    {
        /// <summary>
        /// What the per-session summaries (SequenceStage) answer: the whole store, a story and a window, each session
        /// whole; the sessions a filter cuts (a window through them, a story among others in them) or whose events
        /// arrived out of time order are read from their events.
        /// </summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByStory | Summarised.Days | Summarised.DayParts;

        // Above this many sessions to read from their events (one query each), one scan of the filter is cheaper.
        private const int MostSessionsByName = 200;

        /// <summary>
        /// Retry loops per pattern and leads per sequence of steps, with the sessions they occurred in: counted (from the
        /// summaries) plus named (from a scan; the two never share a session).
        /// </summary>
        private sealed class Found
        {
            public readonly Dictionary<long, (long runs, long repeats, int longest, long counted, HashSet<string> sessions)> Loops = new Dictionary<long, (long, long, int, long, HashSet<string>)>();
            public readonly Dictionary<string, (long n, long counted, HashSet<string> sessions)> Leads = new Dictionary<string, (long, long, HashSet<string>)>(StringComparer.Ordinal);

            public void Run(long pattern, long length, string session)
            {
                if (length < 2) return;
                Add(pattern, 1, length - 1, (int)length, 0).Add(session);
            }

            public HashSet<string> Add(long pattern, long runs, long repeats, int longest, long sessions)
            {
                Loops.TryGetValue(pattern, out var l);
                l.sessions ??= new HashSet<string>(StringComparer.Ordinal);
                Loops[pattern] = (l.runs + runs, l.repeats + repeats, Math.Max(l.longest, longest), l.counted + sessions, l.sessions);
                return l.sessions;
            }

            public HashSet<string> Lead(string key, long n, long sessions)
            {
                Leads.TryGetValue(key, out var v);
                v.sessions ??= new HashSet<string>(StringComparer.Ordinal);
                Leads[key] = (v.n + n, v.counted + sessions, v.sessions);
                return v.sessions;
            }
        }

        /// <summary>
        /// Retry loops: runs of two or more consecutive errors with the same pattern within a session (other events between
        /// them allowed, as long as no different error intervenes). Leads-to-error: the three events before each error, as
        /// tool/outcome steps, counted over all sessions; sequences seen at least minSupport times. The <paramref name="top"/>
        /// most frequent of both kinds together (or of <paramref name="kind"/> only), most occurrences first.
        /// </summary>
        internal static List<ErrorSequence> ErrorSequences(SqliteConnection c, QueryFilter f, int top = 20, int minSupport = 3, string? kind = null)
        {
            var found = new Found();
            // The per-session summaries are not split by agent (a session's steps run across its agents), so Answers has no
            // ByAgent or DaysByAgent: -Agent reads the events.
            if (Sources.For(f, Answers) == Source.Events) Scan(c, f, null, found);
            else
            {
                var partial = FromSummaries(c, f, found);
                if (partial.Count > MostSessionsByName) { found = new Found(); Scan(c, f, null, found); }
                else
                    // Each session's own span only (a session is short; the filter's window may be long).
                    foreach (var s in partial)
                    {
                        var since = Math.Max(s.FirstTs, f.Since?.ToUnixTimeMilliseconds() ?? long.MinValue);
                        var until = Math.Min(s.LastTs + 1, f.Until?.ToUnixTimeMilliseconds() ?? long.MaxValue);
                        var span = new QueryFilter { Stories = f.Stories, Since = DateTimeOffset.FromUnixTimeMilliseconds(since), Until = DateTimeOffset.FromUnixTimeMilliseconds(until) };
                        Scan(c, span, new List<string> { s.SessionId }, found);
                    }
            }

            var loops = Wanted(kind, RetryLoop) ? found.Loops.ToList() : new();
            var leads = Wanted(kind, LeadsToError) ? found.Leads.ToList() : new();
            var templates = loops.Count == 0 ? new Dictionary<long, string>() :
                c.Query<PatternRow>("SELECT id, coalesce(display, template) AS Text FROM patterns WHERE id IN @ids", new { ids = loops.Select(l => l.Key).ToList() })
                    .ToDictionary(x => x.Id, x => x.Text ?? "");
            // Ties in order of pattern id and of sequence text, so every source lists them alike.
            var result = loops.OrderByDescending(l => l.Value.repeats).ThenBy(l => l.Key).Take(top).Select(l => new ErrorSequence
            {
                Kind = RetryLoop, PatternId = l.Key, Occurrences = l.Value.runs, Sessions = l.Value.counted + l.Value.sessions.Count, LongestRun = l.Value.longest,
                Sequence = $"{(templates.TryGetValue(l.Key, out var t) ? t : "P" + l.Key)} repeated ({l.Value.repeats} retries)",
            }).ToList();
            result.AddRange(leads.Where(kv => kv.Value.n >= minSupport).OrderByDescending(kv => kv.Value.n).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(top).Select(kv => new ErrorSequence
            {
                Kind = LeadsToError, Sequence = kv.Key, Occurrences = kv.Value.n, Sessions = kv.Value.counted + kv.Value.sessions.Count,
            }));
            // Both kinds in one list, most frequent first (each kind's ties keep their order above).
            return result.OrderByDescending(q => q.Occurrences).ThenByDescending(q => q.Sessions).Take(top).ToList();
        }

        internal const string RetryLoop = "RetryLoop", LeadsToError = "LeadsToError";

        private static bool Wanted(string? kind, string name) => kind == null || string.Equals(kind, name, StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// The sessions the filter covers whole, from the per-session summaries (merged patterns resolved to their
        /// survivors, runs of what became one pattern joined, error classes as they are now); returns the sessions it
        /// covers in part, to be read from their events.
        /// </summary>
        private static List<SessionSpan> FromSummaries(SqliteConnection c, QueryFilter f, Found found)
        {
            var p = new DynamicParameters();
            // Whole: in order, all its events in the stories, all within the window. Candidate: any of its events may be.
            var whole = "s.in_order = 1";
            var candidate = "1";
            if (f.Stories is { Length: > 0 })
            {
                p.Add("stories", f.Stories);
                whole += " AND coalesce(s.story_id IN @stories, 0)";
                candidate += " AND (s.story_id IS NULL OR s.story_id IN @stories)";
            }
            if (f.Since.HasValue) { p.Add("since", f.Since.Value.ToUnixTimeMilliseconds()); whole += " AND s.first_ts >= @since"; candidate += " AND s.last_ts >= @since"; }
            if (f.Until.HasValue) { p.Add("until", f.Until.Value.ToUnixTimeMilliseconds()); whole += " AND s.last_ts < @until"; candidate += " AND s.first_ts < @until"; }

            // Merged patterns' survivors, and every pattern's class as SQL rows (the scan names an error by its pattern's class).
            var patterns = c.Query<PatternRow>("SELECT id, merged_into AS MergedInto, error_class AS ErrorClass FROM patterns").ToDictionary(x => x.Id);
            long Survivor(long id)
            {
                for (var hops = 0; hops < 64 && patterns.TryGetValue(id, out var pt) && pt.MergedInto.HasValue && pt.MergedInto.Value != id; hops++) id = pt.MergedInto.Value;
                return id;
            }
            // An error step's mark: its pattern's class as it is now (a pattern of 0 or unknown: "error"); -1: not an error.
            var marks = patterns.Keys.ToDictionary(id => id, id => " ✗" + (patterns.TryGetValue(Survivor(id), out var pt) && pt.ErrorClass != null ? pt.ErrorClass : "error"));
            string Mark(long pattern) => pattern < 0 ? "" : marks.TryGetValue(pattern, out var m) ? m : " ✗error";

            // Runs of two or more, per pattern, in SQL; a session with a run of a merged pattern is read run by run instead,
            // since runs of what became one pattern join (and only there can two runs of one become longer than two).
            var merged = patterns.Keys.Where(id => Survivor(id) != id).ToList();
            var mergedSessions = merged.Count == 0 ? "" : $" AND r.session_id NOT IN (SELECT session_id FROM session_runs WHERE pattern_id IN ({string.Join(", ", merged)}))";
            foreach (var r in c.Query<LoopRow>($@"
                SELECT r.pattern_id AS PatternId, count(*) AS Runs, sum(r.length - 1) AS Repeats, max(r.length) AS Longest, count(DISTINCT r.session_id) AS Sessions
                FROM session_runs r JOIN session_sequences s ON s.session_id = r.session_id
                WHERE r.length >= 2 AND r.pattern_id <> 0 AND {whole}{mergedSessions} GROUP BY r.pattern_id", p))
                found.Add(r.PatternId, r.Runs, r.Repeats, (int)r.Longest, r.Sessions);
            if (merged.Count > 0)
            {
                string? session = null;
                long runPattern = 0, runLength = 0;
                foreach (var r in c.Query<RunRow>($@"
                    SELECT r.session_id AS SessionId, r.pattern_id AS PatternId, r.length FROM session_runs r JOIN session_sequences s ON s.session_id = r.session_id
                    WHERE {whole} AND r.session_id IN (SELECT session_id FROM session_runs WHERE pattern_id IN ({string.Join(", ", merged)})) ORDER BY r.session_id, r.seq", p))
                {
                    var pattern = r.PatternId == 0 ? 0 : Survivor(r.PatternId);
                    if (r.SessionId == session && pattern != 0 && pattern == runPattern) { runLength += r.Length; continue; }
                    if (session != null && runPattern != 0) found.Run(runPattern, runLength, session);
                    session = r.SessionId; runPattern = pattern; runLength = r.Length;
                }
                if (session != null && runPattern != 0) found.Run(runPattern, runLength, session);
            }

            // Leads, each error step named by its pattern's class as it is now: the whole sessions' rows in session order, named
            // and counted here (sessions per lead once each), which reads each row once instead of grouping them in SQL.
            var leads = new Dictionary<(string, string, string, string, string, string, string, string), (long n, long sessions, string? last)>();
            using (var reader = c.ExecuteReader($@"
                SELECT l.session_id, l.step1, l.pattern1, l.step2, l.pattern2, l.step3, l.pattern3, l.error_step, l.error_pattern, l.n
                FROM session_leads l JOIN session_sequences s ON s.session_id = l.session_id WHERE {whole} ORDER BY l.session_id", p))
                while (reader.Read())
                {
                    var session = reader.GetString(0);
                    var key = (reader.GetString(1), Mark(reader.GetInt64(2)), reader.GetString(3), Mark(reader.GetInt64(4)),
                               reader.GetString(5), Mark(reader.GetInt64(6)), reader.GetString(7), Mark(reader.GetInt64(8)));
                    leads.TryGetValue(key, out var v);
                    leads[key] = (v.n + reader.GetInt64(9), v.sessions + (v.last == session ? 0 : 1), session);
                }
            foreach (var l in leads)
            {
                var (s1, m1, s2, m2, s3, m3, s4, m4) = l.Key;
                found.Lead(string.Join(SummaryTables.SequenceArrow, s1 + m1, s2 + m2, s3 + m3, s4 + m4), l.Value.n, l.Value.sessions);
            }
            return c.Query<SessionSpan>($"SELECT s.session_id AS SessionId, s.first_ts AS FirstTs, s.last_ts AS LastTs FROM session_sequences s WHERE {candidate} AND NOT ({whole})", p)
                .ToList();
        }

        // Rows as the sequences read them (mapped by column name).

        private sealed class PatternRow
        {
            public long Id { get; set; }
            public string? Text { get; set; }
            public long? MergedInto { get; set; }
            public string? ErrorClass { get; set; }
        }

        /// <summary>A pattern's runs of two or more errors in the sessions a filter covers whole.</summary>
        private sealed class LoopRow
        {
            public long PatternId { get; set; }
            public long Runs { get; set; }
            public long Repeats { get; set; }
            public long Longest { get; set; }
            public long Sessions { get; set; }
        }

        /// <summary>A session_runs row: a run of one pattern (0: none) in a session.</summary>
        private sealed class RunRow
        {
            public string SessionId { get; set; } = "";
            public long PatternId { get; set; }
            public long Length { get; set; }
        }

        /// <summary>A session's first and last time.</summary>
        private sealed class SessionSpan
        {
            public string SessionId { get; set; } = "";
            public long FirstTs { get; set; }
            public long LastTs { get; set; }
        }

        /// <summary>An event as the sequences read it, in session order.</summary>
        private sealed class SequenceRow
        {
            public string SessionId { get; set; } = "";
            public string Category { get; set; } = "";
            public long? Success { get; set; }
            public long? PatternId { get; set; }
            public string Step { get; set; } = "";
            public string? ErrorClass { get; set; }
        }

        /// <summary>Reads the events (of the named sessions only, when given) in each session's time order.</summary>
        private static void Scan(SqliteConnection c, QueryFilter f, List<string>? sessions, Found found)
        {
            var p = new DynamicParameters();
            // Bounded by the blocks that hold the filter's events (a named session's short span meets a few): one id range
            // from the first to the last block whose span meets it would read every block between a day's daily log and its
            // transcripts, imported far apart (65 s for a week from 13:00 at 10M events).
            var where = f.Where(c, p);
            if (sessions != null)
            {
                where += " AND e.context IN (SELECT x.id FROM contexts x WHERE x.session_id IN (SELECT id FROM names WHERE text IN @sessions))";
                p.Add("sessions", sessions);
            }
            var rows = c.Query<SequenceRow>(
                $@"SELECT e.session_id AS SessionId, e.category, e.success, e.pattern_id AS PatternId, {Steps.NameSql} AS Step, pt.error_class AS ErrorClass
                   FROM events e LEFT JOIN patterns pt ON pt.id = e.pattern_id
                   WHERE e.session_id IS NOT NULL AND e.event_type <> 'llm_call'{where} ORDER BY e.session_id, e.timestamp, e.id", p, buffered: false);

            string? session = null;
            var window = new List<string>();
            long? runPattern = null;
            var runLength = 0;

            void CloseRun(string s)
            {
                if (runPattern.HasValue) found.Run(runPattern.Value, runLength, s);
                runPattern = null; runLength = 0;
            }

            foreach (var r in rows)
            {
                if (r.SessionId != session)
                {
                    if (session != null) CloseRun(session);
                    session = r.SessionId; window.Clear();
                }
                var isError = Errors.IsError(r.Success.HasValue ? r.Success != 0 : (bool?)null, r.Category);
                var step = r.Step;
                if (isError)
                {
                    step += " ✗" + (r.ErrorClass ?? "error");
                    if (window.Count >= SummaryTables.LeadSteps)
                        found.Lead(string.Join(SummaryTables.SequenceArrow, window.Skip(window.Count - SummaryTables.LeadSteps)) + SummaryTables.SequenceArrow + step, 1, 0).Add(r.SessionId);
                    if (r.PatternId.HasValue && r.PatternId == runPattern) runLength++;
                    else { CloseRun(r.SessionId); runPattern = r.PatternId; runLength = r.PatternId.HasValue ? 1 : 0; }
                }
                window.Add(step);
                if (window.Count > SummaryTables.LeadSteps) window.RemoveAt(0);
            }
            if (session != null) CloseRun(session);
        }
    }
}

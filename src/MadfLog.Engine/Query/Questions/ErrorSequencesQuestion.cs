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
            public readonly Dictionary<SequenceCells.Lead, (long n, long counted, HashSet<string> sessions)> Leads = new Dictionary<SequenceCells.Lead, (long, long, HashSet<string>)>();

            /// <summary>Leads counted in the summaries, by their number in sequence_lead_names (never sessions the others count).</summary>
            public readonly Dictionary<long, (long n, long sessions)> CellLeads = new Dictionary<long, (long, long)>();

            public void CellLead(long id, long n, long sessions)
            {
                CellLeads.TryGetValue(id, out var v);
                CellLeads[id] = (v.n + n, v.sessions + sessions);
            }

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

            public HashSet<string> Lead(SequenceCells.Lead key, long n, long sessions)
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
        /// first of both kinds in turn (the most frequent of each, then the second of each, ...; or of <paramref name="kind"/>
        /// only): a loop counts runs of one error and a lead the errors after it, so ranked by count together one kind hid the other.
        /// </summary>
        internal static List<ErrorSequence> ErrorSequences(SqliteConnection c, QueryFilter f, int top = 20, int minSupport = 3, string? kind = null)
        {
            var found = new Found();
            // The per-session summaries are not split by agent (a session's steps run across its agents), so Answers has no
            // ByAgent or DaysByAgent: -Agent reads the events.
            if (Sources.For(f, Answers) == Source.Events) Scan(c, f, null, found);
            else
            {
                var cut = FromSummaries(c, f, found);
                var partial = cut.Where(s => s.Trail == null).ToList();
                if (partial.Count > MostSessionsByName) { found = new Found(); Scan(c, f, null, found); }
                else
                {
                    Slices(c, f, cut.Where(s => s.Trail != null).ToList(), found);
                    // Each session's own span within the window only (a session is short; the window may be long), one
                    // statement per group of spans that overlap: the sessions a window's start cuts all hold its start.
                    foreach (var (since, until, sessions) in Overlapping(partial.Select(s => (
                                 Math.Max(s.FirstTs, f.Since?.ToUnixTimeMilliseconds() ?? long.MinValue),
                                 Math.Min(s.LastTs + 1, f.Until?.ToUnixTimeMilliseconds() ?? long.MaxValue), s.SessionId))))
                    {
                        var span = new QueryFilter { Stories = f.Stories, Since = DateTimeOffset.FromUnixTimeMilliseconds(since), Until = DateTimeOffset.FromUnixTimeMilliseconds(until) };
                        Scan(c, span, sessions, found);
                    }
                }
            }

            var loops = Wanted(kind, RetryLoop) ? found.Loops.ToList() : new();
            var leads = Wanted(kind, LeadsToError) ? TopLeads(c, found, top, minSupport) : new();
            var templates = loops.Count == 0 ? new Dictionary<long, string>() :
                c.Query<PatternRow>("SELECT id, coalesce(display, template) AS Text FROM patterns WHERE id IN @ids", new { ids = loops.Select(l => l.Key).ToList() })
                    .ToDictionary(x => x.Id, x => x.Text ?? "");
            // Ties in order of pattern id and of sequence text, so every source lists them alike.
            var loopItems = loops.OrderByDescending(l => l.Value.repeats).ThenBy(l => l.Key).Take(top).Select(l => new ErrorSequence
            {
                Kind = RetryLoop, PatternId = l.Key, Occurrences = l.Value.runs, Sessions = l.Value.counted + l.Value.sessions.Count, LongestRun = l.Value.longest,
                Sequence = $"{(templates.TryGetValue(l.Key, out var t) ? t : "P" + l.Key)} repeated ({l.Value.repeats} {(l.Value.repeats == 1 ? "retry" : "retries")})",
            });
            var leadItems = leads.Select(l => new ErrorSequence { Kind = LeadsToError, Sequence = l.lead, Occurrences = l.n, Sessions = l.sessions });
            // Both kinds in turn by their rank within their kind, the more frequent of a rank first (each kind's ties keep
            // their order above).
            return loopItems.Select((q, rank) => (q, rank)).Concat(leadItems.Select((q, rank) => (q, rank)))
                .OrderBy(x => x.rank).ThenByDescending(x => x.q.Occurrences).ThenByDescending(x => x.q.Sessions)
                .Select(x => x.q).Take(top).ToList();
        }

        internal const string RetryLoop = "RetryLoop", LeadsToError = "LeadsToError";

        /// <summary>
        /// The sessions a window cuts that have a trail: the leads that start and the errors that lie within the window, as
        /// a scan of the session's events in the window counts them.
        /// </summary>
        private static void Slices(SqliteConnection c, QueryFilter f, List<SessionSpan> sessions, Found found)
        {
            if (sessions.Count == 0) return;
            long since = f.Since?.ToUnixTimeMilliseconds() ?? long.MinValue, until = f.Until?.ToUnixTimeMilliseconds() ?? long.MaxValue;
            var classes = SequenceCells.Classes.Current(c, null);
            var numbers = new SequenceCells.LeadNumbers(c, null);
            string Step((long Name, long Pattern) s) => numbers.StepName(s.Name) + classes.Mark(s.Pattern);
            foreach (var s in sessions)
            {
                var leads = new Dictionary<SequenceCells.Lead, long>();
                var runs = new List<(long Pattern, long Length)>();
                long pattern = 0, length = 0;
                foreach (var e in ErrorTrail.Read(s.FirstTs, s.Trail!))
                {
                    if (e.Ts < since || e.Ts >= until) continue;
                    if (e.LeadFrom >= since)
                    {
                        var lead = new SequenceCells.Lead(Step(e.Steps[0]), Step(e.Steps[1]), Step(e.Steps[2]), Step(e.Own));
                        leads[lead] = (leads.TryGetValue(lead, out var n) ? n : 0) + 1;
                    }
                    var survivor = e.Own.Pattern == 0 ? 0 : classes.Resolve(e.Own.Pattern).Survivor;
                    if (survivor != 0 && survivor == pattern) { length++; continue; }
                    if (pattern != 0 && length >= 2) runs.Add((pattern, length));
                    pattern = survivor; length = 1;
                }
                if (pattern != 0 && length >= 2) runs.Add((pattern, length));
                foreach (var l in leads) found.Lead(l.Key, l.Value, 1);
                foreach (var g in runs.GroupBy(r => r.Pattern)) found.Add(g.Key, g.Count(), g.Sum(r => r.Length - 1), (int)g.Max(r => r.Length), 1);
            }
        }

        /// <summary>Spans that overlap joined: each group's start and end and its sessions (a session's events outside its own span lie outside the window or do not exist).</summary>
        private static IEnumerable<(long since, long until, List<string> sessions)> Overlapping(IEnumerable<(long since, long until, string session)> spans)
        {
            (long since, long until, List<string> sessions)? group = null;
            foreach (var s in spans.OrderBy(s => s.since))
            {
                if (group is { } g && s.since <= g.until) { g.sessions.Add(s.session); group = (g.since, Math.Max(g.until, s.until), g.sessions); continue; }
                if (group != null) yield return group.Value;
                group = (s.since, s.until, new List<string> { s.session });
            }
            if (group != null) yield return group.Value;
        }

        /// <summary>
        /// The <paramref name="top"/> leads seen at least <paramref name="minSupport"/> times, most often first (ties in
        /// order of their text): the summaries' counts (by number) and the scanned sessions' added up, naming only the
        /// leads that can be among them.
        /// </summary>
        private static List<(string lead, long n, long sessions)> TopLeads(SqliteConnection c, Found found, int top, int minSupport)
        {
            var named = found.Leads.ToDictionary(kv => kv.Key, kv => (kv.Value.n, sessions: kv.Value.counted + kv.Value.sessions.Count));
            var numbered = found.CellLeads;
            var numbers = new SequenceCells.LeadNumbers(c, null);
            if (numbered.Count > 0 && named.Count > 0)
                foreach (var kv in numbers.Find(named.Keys))
                    if (numbered.TryGetValue(kv.Value, out var v))
                    {
                        var o = named[kv.Key];
                        named[kv.Key] = (o.n + v.n, o.sessions + v.sessions);
                        numbered.Remove(kv.Value);
                    }
            // Each lead's count is final now: the top-th largest is as low as a lead in the answer can be.
            var counts = named.Values.Select(v => v.n).Concat(numbered.Values.Select(v => v.n)).Where(n => n >= minSupport).OrderByDescending(n => n).ToList();
            if (counts.Count == 0 || top <= 0) return new List<(string, long, long)>();
            var least = counts[Math.Min(top, counts.Count) - 1];
            foreach (var kv in numbers.Named(numbered.Where(kv => kv.Value.n >= least).Select(kv => kv.Key)))
                named[kv.Value] = numbered[kv.Key];
            return named.Where(kv => kv.Value.n >= least).Select(kv => (lead: kv.Key.ToString(), kv.Value.n, kv.Value.sessions))
                .OrderByDescending(l => l.n).ThenBy(l => l.lead, StringComparer.Ordinal).Take(top).ToList();
        }

        private static bool Wanted(string? kind, string name) => kind == null || string.Equals(kind, name, StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// The sessions the filter covers whole, from the summaries: the cells (Store.SequenceCells) of the whole store, a
        /// story or the whole days of a window, and the per-session rows of the other whole sessions (a window's ends that
        /// cut a day, or all of them while the cells were counted with classes that have changed since); returns the
        /// sessions it covers in part, to be read from their events.
        /// </summary>
        private static List<SessionSpan> FromSummaries(SqliteConnection c, QueryFilter f, Found found)
        {
            var p = new DynamicParameters();
            // Whole: in order, all its events in the stories, all within the window. Candidate: any of its events may be.
            var whole = "s.in_order = 1";
            var candidate = "1";
            var stories = f.Stories is { Length: > 0 };
            if (stories)
            {
                p.Add("stories", f.Stories);
                whole += " AND coalesce(s.story_id IN @stories, 0)";
                candidate += " AND (s.story_id IS NULL OR s.story_id IN @stories)";
            }
            if (f.Since.HasValue) { p.Add("since", f.Since.Value.ToUnixTimeMilliseconds()); whole += " AND s.first_ts >= @since"; candidate += " AND s.last_ts >= @since"; }
            if (f.Until.HasValue) { p.Add("until", f.Until.Value.ToUnixTimeMilliseconds()); whole += " AND s.last_ts < @until"; candidate += " AND s.first_ts < @until"; }

            // The cells count the whole sessions of whole days (all of them without a window), as long as they were counted
            // with the classes as they are now; the other whole sessions are read one by one.
            var classes = SequenceCells.Classes.Current(c, null);
            string? cells = null;
            string? uncounted = whole; // the whole sessions the cells leave out (null: none)
            if (classes.Differences(SequenceCells.Classes.Counted(c, null)).Count == 0)
            {
                if (!f.Since.HasValue && !f.Until.HasValue)
                {
                    cells = stories ? $"x.scope = {SequenceCells.Story} AND x.first_day = 0 AND x.last_day = 0 AND x.story_id IN @stories" : $"x.scope = {SequenceCells.WholeStore}";
                    uncounted = null;
                }
                else
                {
                    cells = stories ? $"x.scope = {SequenceCells.Days} AND x.story_id IN @stories" : $"x.scope IN ({SequenceCells.Days}, {SequenceCells.DaysOfSeveralStories})";
                    var inDays = "1";
                    var (wholeFrom, wholeTo, _) = Sources.Days(f);
                    if (wholeFrom.HasValue)
                    {
                        p.Add("wholeFrom", wholeFrom.Value); p.Add("wholeFromMs", wholeFrom.Value * IsoWeeks.DayMs);
                        cells += " AND x.first_day >= @wholeFrom"; inDays += " AND s.first_ts >= @wholeFromMs";
                    }
                    if (wholeTo.HasValue)
                    {
                        p.Add("wholeTo", wholeTo.Value); p.Add("wholeToMs", wholeTo.Value * IsoWeeks.DayMs);
                        cells += " AND x.last_day < @wholeTo"; inDays += " AND s.last_ts < @wholeToMs";
                    }
                    uncounted += $" AND NOT ({inDays})";
                }
            }

            if (cells != null)
            {
                foreach (var r in c.Query<LoopRow>($@"
                    SELECT x.pattern_id AS PatternId, sum(x.runs) AS Runs, sum(x.runs * (x.length - 1)) AS Repeats, max(x.length) AS Longest, sum(x.sessions) AS Sessions
                    FROM sequence_runs x WHERE {cells} GROUP BY x.pattern_id", p))
                    found.Add(r.PatternId, r.Runs, r.Repeats, (int)r.Longest, r.Sessions);
                // Added up here rather than grouped in SQL (which sorts the cells' rows first), read straight from the
                // statement: a week's cells are tens of thousands of rows.
                using (var reader = c.ExecuteReader($"SELECT x.leads FROM sequence_lead_cells x WHERE {cells}", p))
                    while (reader.Read())
                        foreach (var (lead, n, inSessions) in SequenceCells.UnpackCell((byte[])reader.GetValue(0))) found.CellLead(lead, n, inSessions);
            }

            // One read of the sessions the cells leave out: the whole ones (uncounted) and those the filter covers in part,
            // each cut by time only (in order, all its events in the stories) with its trail, the others read from their
            // events (session_sequences has no time index: a scan of it per use cost as much as the rest of a week's answer).
            var byTime = "s.in_order = 1" + (stories ? " AND coalesce(s.story_id IN @stories, 0)" : "");
            // The tables under session_sequences and sequence_session_errors, both keyed by the session's names id: its text
            // is read only for the sessions kept.
            var sessions = c.Query<SessionSpan>($@"SELECT n.text AS SessionId, s.first_ts AS FirstTs, s.last_ts AS LastTs, ({uncounted ?? "0"}) AS Uncounted,
                       CASE WHEN NOT ({whole}) AND {byTime} THEN (SELECT t.errors FROM sequence_trails t WHERE t.session = s.session) END AS Trail
                FROM sequence_spans s JOIN names n ON n.id = s.session WHERE {candidate} AND (({uncounted ?? "0"}) OR NOT ({whole}))", p).ToList();
            var others = sessions.Where(x => x.Uncounted != 0).Select(x => x.SessionId).ToList();
            if (others.Count > 0)
            {
                var listed = "SELECT value AS session_id FROM json_each(@others)";
                var ids = new { others = System.Text.Json.JsonSerializer.Serialize(others) };
                SequenceCells.Runs(c, null, listed, ids, classes, (session, runs) =>
                {
                    foreach (var g in runs.GroupBy(r => r.Pattern))
                        found.Add(g.Key, g.Count(), g.Sum(r => r.Length - 1), (int)g.Max(r => r.Length), 1);
                });
                if (cells != null)
                    // The cells are current, and so are the sessions' numbered leads.
                    using (var reader = c.ExecuteReader($"SELECT l.leads FROM ({listed}) x CROSS JOIN sequence_session_leads l ON l.session_id = x.session_id", ids))
                        while (reader.Read())
                            foreach (var (lead, n) in SequenceCells.Unpack((byte[])reader.GetValue(0))) found.CellLead(lead, n, 1);
                else
                    SequenceCells.Leads(c, null, listed, ids, classes, (session, leads) =>
                    {
                        foreach (var l in leads) found.Lead(l.Key, l.Value, 1);
                    });
            }
            return sessions.Where(x => x.Uncounted == 0).ToList();
        }

        // Rows as the sequences read them (mapped by column name).

        private sealed class PatternRow
        {
            public long Id { get; set; }
            public string? Text { get; set; }
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

        /// <summary>A session's first and last time, and what the question reads of it.</summary>
        private sealed class SessionSpan
        {
            public string SessionId { get; set; } = "";
            public long FirstTs { get; set; }
            public long LastTs { get; set; }
            /// <summary>1: a whole session the cells do not count (its runs and leads are read from its own rows); 0: one the filter covers in part.</summary>
            public long Uncounted { get; set; }
            /// <summary>Its events arrived in order and the filter cuts it by time only: its error trail (ErrorTrail) answers.</summary>
            public byte[]? Trail { get; set; }
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
                        found.Lead(new SequenceCells.Lead(window[window.Count - 3], window[window.Count - 2], window[window.Count - 1], step), 1, 0).Add(r.SessionId);
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

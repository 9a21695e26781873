using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using static MadfLog.Engine.Query.Questions.Shared;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>Per-session summaries.</summary>
    internal static class SessionsQuestion
    {
        /// <summary>What this question's summaries answer (Sources.For picks the source from it and the filter).</summary>
        internal const Summarised Answers = Summarised.WholeStore | Summarised.ByAgent | Summarised.Days | Summarised.DayParts | Summarised.DaysByAgent;

        /// <summary>Per-session summaries; <paramref name="sessionPattern"/> is a session id with optional * and ? wildcards.</summary>
        internal static List<SessionSummary> Sessions(SqliteConnection c, QueryFilter f, string? sessionPattern = null)
        {
            var p = new DynamicParameters();
            // session_day answers the whole store too (every day's rows), and an -Agent filter (it is keyed by agent).
            var day = Sources.For(f, Answers) != Source.Events;
            var (table, where) = day ? Sources.SummaryTable(c, Source.DaySummaries, f, p, dayTable: "session_day") : ("", f.Where(c, p));
            var alias = day ? "r" : "e";
            if (sessionPattern != null)
            {
                var like = sessionPattern.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_").Replace('*', '%').Replace('?', '_');
                where += $" AND {alias}.session_id LIKE @session ESCAPE '\\'";
                p.Add("session", like);
            }
            if (day) return FromSessionDays(c, table, where, p, numbered: table == SummaryTables.Grain.Day.Sessions && sessionPattern == null);
            var sql = $@"SELECT e.session_id AS SessionId, max(e.story_id) AS Story, group_concat(DISTINCT NULLIF(e.agent_name, '')) AS Agents, min(e.timestamp) AS FirstTs, max(e.timestamp) AS LastTs,
                              count(*) AS Events, sum({Errors.InEvents}) AS Errors, sum(e.tokens_used) AS Tokens, max(e.context_percent) AS MaxContext,
                              sum(e.event_type = 'human_interaction') AS Human
                       FROM events e WHERE e.session_id IS NOT NULL{where} GROUP BY e.session_id ORDER BY min(e.timestamp), e.session_id";
            return c.Query<SessionRow>(sql, p)
                .Select(r => new SessionSummary
                {
                    SessionId = r.SessionId, Story = r.Story, Agents = List(r.Agents), Start = Time(r.FirstTs), End = Time(r.LastTs), DurationMs = r.LastTs - r.FirstTs,
                    Events = r.Events, Errors = r.Errors, Tokens = r.Tokens ?? 0, MaxContextPercent = r.MaxContext, HumanInteractions = r.Human,
                }).ToList();
        }

        /// <summary>
        /// The whole store, a story or whole days: each session's rows per day, story and agent (session_day), summed per
        /// session here as the scan's GROUP BY does (story: the greatest; agents: the distinct non-empty ones), in order of
        /// the first time and the session id. Reading the rows in the table's order and summing them in a dictionary skips
        /// the sort by session that a GROUP BY needs (33k sessions at 10M events). <paramref name="numbered"/>: the rows are
        /// session_day's own (no hours or parts of a cut window, no pattern on the id), so they are read from its cells
        /// by the session's number and the sessions named after, in one pass over names in id order: through the view, a
        /// lookup of the name per row cost the whole store's question at 10M about a fifth more (cold calls over 100 ms).
        /// </summary>
        [System.Runtime.CompilerServices.MethodImpl(Text.Hot.Path)]
        private static List<SessionSummary> FromSessionDays(SqliteConnection c, string table, string where, DynamicParameters p, bool numbered)
        {
            var byText = new Dictionary<string, Totals>(StringComparer.Ordinal);
            var byNumber = new Dictionary<long, Totals>();
            using (var reader = c.ExecuteReader(
                $@"SELECT {(numbered ? "r.session" : "r.session_id")}, r.story_id, r.agent_name, r.first_ts, r.last_ts, r.events, r.errors, r.tokens, r.max_context, r.human
                   FROM {(numbered ? SummaryTables.Grain.Day.SessionCells : table)} r WHERE 1=1{where}", p))
            {
                var names = new FewTexts();
                while (reader.Read())
                {
                    var row = StatementRow.Of(reader);
                    Totals? t;
                    if (numbered)
                    {
                        var number = row.Int64(0);
                        if (!byNumber.TryGetValue(number, out t)) byNumber[number] = t = new Totals { FirstTs = long.MaxValue, LastTs = long.MinValue };
                    }
                    else
                    {
                        var id = row.Text(0)!;
                        if (!byText.TryGetValue(id, out t)) byText[id] = t = new Totals { Id = id, FirstTs = long.MaxValue, LastTs = long.MinValue };
                    }
                    var story = row.Text(1, names)!;
                    if (t.Story == null || string.CompareOrdinal(story, t.Story) > 0) t.Story = story;
                    var agent = row.Text(2, names)!;
                    if (agent.Length > 0)
                    {
                        if (t.Agent == null) t.Agent = agent;
                        else if (agent != t.Agent && !(t.MoreAgents ??= new List<string>()).Contains(agent)) t.MoreAgents.Add(agent);
                    }
                    t.FirstTs = Math.Min(t.FirstTs, row.Int64(3));
                    t.LastTs = Math.Max(t.LastTs, row.Int64(4));
                    t.Events += row.Int64(5);
                    t.Errors += row.Int64(6);
                    t.Tokens += row.Int64(7);
                    if (row.NullableDouble(8) is double m && (t.MaxContext == null || m > t.MaxContext)) t.MaxContext = m;
                    t.Human += row.Int64(9);
                }
            }
            if (numbered && byNumber.Count > 0) NameSessions(c, byNumber);
            var totals = numbered ? byNumber.Values : (ICollection<Totals>)byText.Values;
            // By first time as plain integer keys (a comparison delegate per pair cost more than the sort), then the
            // sessions that start at the same time by id.
            var ordered = new Totals[totals.Count];
            totals.CopyTo(ordered, 0);
            var starts = new long[ordered.Length];
            for (var i = 0; i < ordered.Length; i++) starts[i] = ordered[i].FirstTs;
            Array.Sort(starts, ordered);
            for (int i = 0, j; i < ordered.Length; i = j)
            {
                for (j = i + 1; j < ordered.Length && starts[j] == starts[i];) j++;
                if (j - i > 1) Array.Sort(ordered, i, j - i, ById.Instance);
            }
            var list = new List<SessionSummary>(ordered.Length);
            foreach (var s in ordered)
                list.Add(new SessionSummary
                {
                    SessionId = s.Id, Story = s.Story is { Length: > 0 } story ? story : null, Agents = s.Agents(),
                    Start = Time(s.FirstTs), End = Time(s.LastTs), DurationMs = s.LastTs - s.FirstTs,
                    Events = s.Events, Errors = s.Errors, Tokens = s.Tokens, MaxContextPercent = s.MaxContext, HumanInteractions = s.Human,
                });
            return list;
        }

        // Each session's text, from names read in id order between the lowest and highest number (a range of the table's
        // rowids, so its pages are read once each, in order, not once per session).
        private static void NameSessions(SqliteConnection c, Dictionary<long, Totals> sessions)
        {
            long lo = long.MaxValue, hi = long.MinValue;
            foreach (var number in sessions.Keys) { lo = Math.Min(lo, number); hi = Math.Max(hi, number); }
            using var reader = c.ExecuteReader("SELECT id, text FROM names WHERE id BETWEEN @lo AND @hi", new { lo, hi });
            while (reader.Read())
            {
                var row = StatementRow.Of(reader);
                if (sessions.TryGetValue(row.Int64(0), out var t)) t.Id = row.Text(1)!;
            }
        }

        private sealed class ById : IComparer<Totals>
        {
            public static readonly ById Instance = new ById();
            public int Compare(Totals? a, Totals? b) => string.CompareOrdinal(a!.Id, b!.Id);
        }

        private sealed class Totals
        {
            public string Id = "";
            public string? Story, Agent;
            public List<string>? MoreAgents;
            public long FirstTs, LastTs, Events, Errors, Tokens, Human;
            public double? MaxContext;

            // As the scan's group_concat of the distinct agents, split again (one agent without a comma: itself).
            public string[] Agents() =>
                Agent == null ? Array.Empty<string>()
                : MoreAgents == null && Agent.IndexOf(',') < 0 ? new[] { Agent }
                : List(string.Join(",", new[] { Agent }.Concat(MoreAgents ?? Enumerable.Empty<string>())));
        }

        /// <summary>A session's row as both sources give it (mapped by column name).</summary>
        private sealed class SessionRow
        {
            public string SessionId { get; set; } = "";
            public string? Story { get; set; }
            public string? Agents { get; set; }
            public long FirstTs { get; set; }
            public long LastTs { get; set; }
            public long Events { get; set; }
            public long Errors { get; set; }
            public long? Tokens { get; set; }
            public double? MaxContext { get; set; }
            public long Human { get; set; }
        }
    }
}

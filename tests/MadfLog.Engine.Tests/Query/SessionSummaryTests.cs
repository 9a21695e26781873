using System;
using System.IO;
using System.Linq;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>
    /// Sessions from their per-day rows (session_day, summed per session in C#) answer as the scan's GROUP BY does: a
    /// session over several days, stories and agents, events without an agent or a context figure, and sessions that
    /// start at the same time (ordered by id).
    /// </summary>
    public class SessionSummaryTests
    {
        private static string Line(string ts, string session, string? story, string? agent, string type = "tool_call", bool success = true, string? ctx = null, int? tokens = null) =>
            "{\"timestamp\":\"" + ts + "\",\"event_type\":\"" + type + "\",\"category\":\"execution\",\"session_id\":\"" + session + "\""
            + (story == null ? "" : ",\"story_id\":\"" + story + "\"") + (agent == null ? "" : ",\"agent_name\":\"" + agent + "\"")
            + (ctx == null ? "" : ",\"context_percent\":" + ctx) + (tokens == null ? "" : ",\"tokens_used\":" + tokens)
            + ",\"success\":" + (success ? "true" : "false") + ",\"details\":{\"tool\":\"Read\",\"message\":\"failed " + session + "\"}}";

        [Fact]
        public void SessionsFromTheirDayRowsMatchTheScan()
        {
            using var temp = TestPaths.NewTemp();
            var log = temp.File("s.jsonl");
            File.WriteAllLines(log, new[]
            {
                // s-b and s-a start at the same time: ordered by id. s-a spans two days, two stories and three agents.
                Line("2026-11-20T23:00:00Z", "s-b", "1.2", "dev", ctx: "12.5"),
                Line("2026-11-20T23:00:00Z", "s-a", "1.10", "qa", tokens: 40),
                Line("2026-11-20T23:30:00Z", "s-a", null, null, success: false, ctx: "91.25"),
                Line("2026-11-21T01:00:00Z", "s-a", "1.9", "dev", tokens: 2),
                Line("2026-11-21T02:00:00Z", "s-a", "1.9", "arch", "human_interaction", ctx: "85"),
                Line("2026-11-21T03:00:00Z", "s-c", null, null),
                Line("2026-11-22T00:00:00Z", "s-b", "1.2", "dev", success: false),
            });
            new LogImporter(new ImportOptions { DatabasePath = temp.Db }).Import(new[] { log });
            using var c = MadfDatabase.Open(temp.Db, forWrite: false);
            var scan = Analysis.Sessions(c, new QueryFilter { ScanEvents = true });
            var days = Analysis.Sessions(c, new QueryFilter());
            Assert.Equal(new[] { "s-a", "s-b", "s-c" }, scan.Select(s => s.SessionId));
            Assert.Equal(scan.Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)),
                         days.Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)));
            var a = days[0];
            Assert.Equal("1.9", a.Story); // the greatest story as text, as max() gives
            Assert.Equal(new[] { "arch", "dev", "qa" }, a.Agents);
            Assert.Equal((4L, 1L, 42L, 91.25), (a.Events, a.Errors, a.Tokens, a.MaxContextPercent!.Value));
            Assert.Null(days[2].Story);
            Assert.Empty(days[2].Agents);
            Assert.Null(days[2].MaxContextPercent);
            // A window cutting the days and a story answer alike.
            foreach (var f in new[] { new QueryFilter { Since = new DateTimeOffset(2026, 11, 20, 23, 15, 0, TimeSpan.Zero) }, new QueryFilter { Stories = new[] { "1.9" } } })
                Assert.Equal(Analysis.Sessions(c, new QueryFilter { Since = f.Since, Stories = f.Stories, ScanEvents = true }).Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent)),
                             Analysis.Sessions(c, f).Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent)));
        }

        [Fact]
        public void NamesThatDifferInOneByteOrOutsideAsciiAndAgentsWithCommasAnswerAsTheScan()
        {
            // Stories and agents are decoded once per distinct value on the summary path: names of one length that differ in
            // one byte or one non-ASCII letter must stay apart, and an agent with a comma is split as the scan's list is.
            using var temp = TestPaths.NewTemp();
            var log = temp.File("s.jsonl");
            File.WriteAllLines(log, new[]
            {
                Line("2026-11-20T10:00:00Z", "s-1", "2.1", "revu"),
                Line("2026-11-20T10:01:00Z", "s-1", "2.1", "révu", ctx: "40"),
                Line("2026-11-20T10:02:00Z", "s-2", "2.2", "revw"),
                Line("2026-11-20T10:03:00Z", "s-2", "2.é", "a,b", success: false),
                Line("2026-11-21T10:00:00Z", "s-3", "2.é", "revu", tokens: 7),
                Line("2026-11-21T10:00:00Z", "s-1", "2.2", "a,b"),
            });
            new LogImporter(new ImportOptions { DatabasePath = temp.Db }).Import(new[] { log });
            using var c = MadfDatabase.Open(temp.Db, forWrite: false);
            var scan = Analysis.Sessions(c, new QueryFilter { ScanEvents = true });
            var days = Analysis.Sessions(c, new QueryFilter());
            Assert.Equal(scan.Select(x => (x.SessionId, x.Story, string.Join("|", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)),
                         days.Select(x => (x.SessionId, x.Story, string.Join("|", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)));
            Assert.Equal(new[] { "a", "b", "revu", "révu" }, days[0].Agents);
            Assert.Equal(("2.é", "a|b|revw"), (days[1].Story, string.Join("|", days[1].Agents)));
            Assert.Equal(("2.é", "revu"), (days[2].Story, string.Join("|", days[2].Agents)));
        }
    }
}

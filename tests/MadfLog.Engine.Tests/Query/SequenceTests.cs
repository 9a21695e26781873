using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    public class SequenceTests
    {
        [Fact]
        public void AnErrorRepeatedOnceIsOneRetry()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            c.Execute("INSERT INTO patterns(id, template, token_count, error_class, created, display) VALUES (1, 'x', 1, 'TestFailure', 0, 'pytest failed: <*>')");
            var rows = Enumerable.Range(0, 2).Select(i => new EventRow
            {
                Timestamp = 1_760_000_000_000 + i * 1000, EventType = "tool_call", Category = "tool", SessionId = "a", StoryId = "1.1", AgentName = "dev",
                Success = false, PatternId = 1, DedupKey = i + 1, Details = "{\"tool\":\"Bash\"}",
            }).ToList();
            using (var tx = c.BeginTransaction()) { ImportStages.Write(c, tx, rows); tx.Commit(); }
            var loop = Assert.Single(PatternAnalysis.ErrorSequences(c, new QueryFilter(), minSupport: 1), s => s.Kind == "RetryLoop");
            Assert.Equal("pytest failed: <*> repeated (1 retry)", loop.Sequence);
        }

        [Fact]
        public void TopIsPerKindSoLeadsShowBesideMoreFrequentLoops()
        {
            // A retry loop counts runs of one error, a lead the errors after three steps: different units. With -Top taken
            // over both together, ten loops of many runs hid every lead, and the brief then said "0 step sequences ending
            // in an error" of logs full of them.
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            c.Execute("INSERT INTO patterns(id, template, token_count, error_class, created, display) VALUES (1, 'x', 1, 'TestFailure', 0, 'pytest failed: <*>'), (2, 'y', 1, 'FileNotFound', 0, 'File does not exist: <*>')");
            var rows = new List<EventRow>();
            var k = 0L;
            void Add(string session, string tool, long? pattern) => rows.Add(new EventRow
            {
                Timestamp = 1_760_000_000_000 + k * 1000, EventType = "tool_call", Category = "tool", SessionId = session, StoryId = "1.1", AgentName = "dev",
                Success = pattern == null, PatternId = pattern, DedupKey = ++k, Details = "{\"tool\":\"" + tool + "\"}",
            });
            // Twenty short sessions retry pattern 1 and twenty pattern 2 (two loops of 20 runs); in three more, one lead
            // (Read → Grep → Edit → Bash ✗) ends an error.
            for (var s = 0; s < 20; s++) { Add("b" + s, "Bash", 1); Add("b" + s, "Bash", 1); Add("w" + s, "Write", 2); Add("w" + s, "Write", 2); }
            for (var s = 0; s < 3; s++) { Add("r" + s, "Read", null); Add("r" + s, "Grep", null); Add("r" + s, "Edit", null); Add("r" + s, "Bash", 1); }
            using (var tx = c.BeginTransaction()) { ImportStages.Write(c, tx, rows); tx.Commit(); }

            var found = PatternAnalysis.ErrorSequences(c, new QueryFilter(), top: 2, minSupport: 3);
            Assert.Equal(2, found.Count);
            Assert.Equal(20, Assert.Single(found, s => s.Kind == "RetryLoop").Occurrences);
            var lead = Assert.Single(found, s => s.Kind == "LeadsToError");
            Assert.Equal(3, lead.Occurrences);
            Assert.StartsWith("Read → Grep → Edit → Bash ✗", lead.Sequence);
            // In turn: the first of each kind, the more frequent first, then the second loop.
            Assert.Equal(new[] { "RetryLoop", "LeadsToError", "RetryLoop" }, PatternAnalysis.ErrorSequences(c, new QueryFilter(), top: 3, minSupport: 3).Select(s => s.Kind));
            Assert.Contains("leads 3x in 3 sessions: Read → Grep → Edit → Bash", MadfLog.Engine.Briefing.MoreBriefs.ErrorSequences(found));
        }

        [Fact]
        public void RetryLoopsAndStepsThatLeadToErrorsAreFound()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            c.Execute("INSERT INTO patterns(id, template, token_count, error_class, created, display) VALUES (1, 'x', 1, 'TestFailure', 0, 'pytest failed: <*>'), (2, 'y', 1, 'FileNotFound', 0, 'File does not exist: <*>')");
            var rows = new List<EventRow>();
            var k = 0L;
            void Add(string session, string tool, long? pattern, string story = "1.1", string agent = "dev") => rows.Add(new EventRow
            {
                Timestamp = 1_760_000_000_000 + k * 1000, EventType = "tool_call", Category = "tool", SessionId = session, StoryId = story, AgentName = agent,
                Success = pattern == null, PatternId = pattern, DedupKey = ++k, Details = "{\"tool\":\"" + tool + "\"}",
            });
            // Session a: Edit → pytest fails → Edit → pytest fails → Edit → pytest fails (a loop of 3 on pattern 1, with edits between).
            for (var i = 0; i < 3; i++) { Add("a", "Edit", null); Add("a", "Bash", 1); }
            // Session b: the same Edit/Bash dance twice, then a different error.
            for (var i = 0; i < 2; i++) { Add("b", "Edit", null); Add("b", "Bash", 1); }
            Add("b", "Read", 2);
            // Session c: one failure only: no loop.
            Add("c", "Edit", null); Add("c", "Bash", 1);
            using (var tx = c.BeginTransaction()) { ImportStages.Write(c, tx, rows); tx.Commit(); }

            var found = PatternAnalysis.ErrorSequences(c, new QueryFilter(), minSupport: 2);
            var loop = Assert.Single(found, s => s.Kind == "RetryLoop");
            Assert.Equal(1, loop.PatternId);
            Assert.Equal(2, loop.Occurrences);   // sessions a and b
            Assert.Equal(3, loop.LongestRun);
            Assert.Equal(2, loop.Sessions);
            Assert.Equal("pytest failed: <*> repeated (3 retries)", loop.Sequence);
            var leads = found.Where(s => s.Kind == "LeadsToError").ToList();
            // The example: Edit → test failure → Edit → test failure: twice in session a (2nd and 3rd failure), once in b.
            var edit = leads.Single(s => s.Sequence == "Edit → Bash ✗TestFailure → Edit → Bash ✗TestFailure");
            Assert.Equal(3, edit.Occurrences);
            Assert.Equal(2, edit.Sessions);
            Assert.All(leads, l => Assert.True(l.Occurrences >= 2)); // below the support threshold nothing is reported

            // -Kind and -Top: one kind only, and top sequences, the more frequent of the two kinds' first first.
            Assert.All(PatternAnalysis.ErrorSequences(c, new QueryFilter(), minSupport: 2, kind: "leadstoerror"), s => Assert.Equal("LeadsToError", s.Kind));
            var first = Assert.Single(PatternAnalysis.ErrorSequences(c, new QueryFilter(), top: 1, minSupport: 2));
            Assert.Equal(found.Max(s => s.Occurrences), first.Occurrences);
        }

        [Fact]
        public void ErrorPatternsBreakDownByStoryAndAgentWithExamples()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            c.Execute("INSERT INTO patterns(id, template, token_count, error_class, created, display) VALUES (1, 'x', 1, 'FileNotFound', 0, 'File does not exist: <*>')");
            var rows = Enumerable.Range(0, 6).Select(i => new EventRow
            {
                Timestamp = 1_760_000_000_000 + i, EventType = "tool_call", Category = "tool", StoryId = i < 4 ? "1.1" : "1.2", AgentName = i % 2 == 0 ? "dev" : "qa",
                Success = false, PatternId = 1, DedupKey = i + 1, Details = "{\"message\":\"File does not exist: f" + (i % 2) + ".py\"}",
            }).ToList();
            using (var tx = c.BeginTransaction()) { ImportStages.Write(c, tx, rows); tx.Commit(); }
            var p = Assert.Single(PatternAnalysis.ErrorPatterns(c, new QueryFilter()));
            Assert.Equal(new Dictionary<string, long> { ["1.1"] = 4, ["1.2"] = 2 }, p.ByStory);
            Assert.Equal(3, p.ByAgent["dev"]);
            Assert.Equal(2, p.Examples.Length);
            Assert.Equal(1.0, p.Share);
        }
    }
}

namespace MadfLog.Engine.Tests.Query
{
    public class SessionFilterTests
    {
        [Fact]
        public void SessionIdsMatchExactlyOrByWildcardAndUnderscoresAreLiteral()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            var rows = new[] { "run_1", "runX1", "run_2", "other" }.Select((s, i) => new EventRow
            {
                Timestamp = 1_760_000_000_000 + i, EventType = "step", Category = "workflow", SessionId = s, DedupKey = i + 1,
            }).ToList();
            using (var tx = c.BeginTransaction()) { ImportStages.Write(c, tx, rows); tx.Commit(); }
            Assert.Equal(new[] { "run_1" }, PatternAnalysisSessions(c, "run_1"));
            Assert.Equal(new[] { "run_1", "run_2" }, PatternAnalysisSessions(c, "run_*"));
            Assert.Equal(new[] { "runX1", "run_1" }, PatternAnalysisSessions(c, "run?1")); // ordinal order
        }

        private static string[] PatternAnalysisSessions(Microsoft.Data.Sqlite.SqliteConnection c, string pattern) =>
            Analysis.Sessions(c, new QueryFilter(), pattern).Select(s => s.SessionId).OrderBy(s => s, StringComparer.Ordinal).ToArray();
    }
}

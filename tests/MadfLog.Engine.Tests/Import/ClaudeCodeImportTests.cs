using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Import.ClaudeCode;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    /// <summary>
    /// Expected figures for ../shared/data/claude-code were computed independently with a Python scan of the raw JSON
    /// (distinct tool_result ids; is_error; the last, largest usage of each distinct (message.id, requestId);
    /// rejection texts, interruptions not following a rejection, AskUserQuestion results).
    /// </summary>
    public class ClaudeCodeImportTests
    {
        private const int ToolCalls = 206, Failures = 9, Responses = 169, Rejections = 3, Interruptions = 1, Clarifications = 1;
        private const long Tokens = 15_887_433;

        private static string Data => Path.Combine(TestPaths.Shared, "data", "claude-code");

        private static ImportResult Import(string db, params string[] paths) =>
            new LogImporter(new ImportOptions { DatabasePath = db }).Import(paths);

        private static long Scalar(string db, string sql)
        {
            using var c = MadfDatabase.Open(db);
            return c.ExecuteScalar<long>(sql);
        }

        [Fact]
        public void TheSharedTranscriptsGiveTheIndependentlyComputedCounts()
        {
            using var t = TestPaths.NewTemp();
            var r = Import(t.Db, Data);
            Assert.Equal(5, r.Files);
            Assert.Equal(0, r.Quarantined);
            Assert.All(r.FileResults, f => Assert.Equal("ClaudeCode", f.Format));
            Assert.Equal(ToolCalls, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'tool_call'"));
            Assert.Equal(Failures, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND success = 0"));
            Assert.Equal(Failures, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND success = 0 AND category <> 'cascade'")); // no cascades in these files
            Assert.Equal(Responses, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'llm_call'"));
            Assert.Equal(Tokens, Scalar(t.Db, "SELECT sum(tokens_used) FROM events WHERE event_type = 'llm_call'"));
            Assert.Equal(Rejections, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'human_interaction' AND category = 'rejection'"));
            Assert.Equal(Interruptions, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'human_interaction' AND category = 'interruption'"));
            Assert.Equal(Clarifications, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'human_interaction' AND category = 'clarification'"));
            // The long session's tokens: each response once, not once per content-block line.
            Assert.True(Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'llm_call' AND details LIKE '%\"input_tokens\"%' AND details LIKE '%\"cache_read_input_tokens\"%'") == Responses);
        }

        [Fact]
        public void ReimportingOrCopyingASessionAddsNothing()
        {
            using var t = TestPaths.NewTemp();
            var first = Import(t.Db, Data);
            var again = Import(t.Db, Data);
            Assert.Equal(0, again.Imported);
            var copy = Path.Combine(t.Path, "projects", "-copied-project");
            Directory.CreateDirectory(copy);
            File.Copy(Path.Combine(Data, "short.jsonl"), Path.Combine(copy, "short.jsonl"));
            var copied = Import(t.Db, copy);
            Assert.Equal(0, copied.Imported);
            Assert.Equal(first.Imported, Scalar(t.Db, "SELECT count(*) FROM events"));
            Assert.Equal(Tokens, Scalar(t.Db, "SELECT sum(tokens_used) FROM events"));
        }

        [Fact]
        public void SubAgentEventsCarryTheSubAgentsType()
        {
            using var t = TestPaths.NewTemp();
            Import(t.Db, Path.Combine(Data, "projects"));
            using var c = MadfDatabase.Open(t.Db);
            var agents = c.Query<string>("SELECT DISTINCT agent_name FROM events ORDER BY 1").ToList();
            Assert.Equal(new[] { "claude-code-guide", "compact", "main" }, agents);
            Assert.Equal("-home-dev-spotter", c.ExecuteScalar<string>("SELECT DISTINCT workflow_id FROM events"));
            Assert.Equal("258c7280-ae70-4798-800f-63464d01a85d", c.ExecuteScalar<string>("SELECT DISTINCT session_id FROM events WHERE agent_name = 'claude-code-guide'"));
        }

        [Fact]
        public void ASessionImportedWhileItIsWrittenEndsWithTheSameTotals()
        {
            using var t = TestPaths.NewTemp();
            var lines = File.ReadAllLines(Path.Combine(Data, "projects", "-home-dev-spotter", "258c7280-ae70-4798-800f-63464d01a85d.jsonl"));
            var live = Path.Combine(t.Path, "projects", "-home-dev-spotter", "258c7280-ae70-4798-800f-63464d01a85d.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(live)!);
            var whole = t.File("whole.db");
            Import(whole, Path.Combine(Data, "projects", "-home-dev-spotter", "258c7280-ae70-4798-800f-63464d01a85d.jsonl"));

            // Written in three pieces, the middle one cut mid-line (the writer is still appending).
            File.WriteAllText(live, string.Join("\n", lines.Take(700)) + "\n");
            Import(t.Db, live);
            File.AppendAllText(live, string.Join("\n", lines.Skip(700).Take(600)) + "\n" + lines[1300].Substring(0, 20));
            Import(t.Db, live);
            File.AppendAllText(live, lines[1300].Substring(20) + "\n" + string.Join("\n", lines.Skip(1301)) + "\n");
            Import(t.Db, live);

            foreach (var sql in new[]
            {
                "SELECT count(*) FROM events", "SELECT count(*) FROM events WHERE event_type = 'tool_call'", "SELECT count(*) FROM events WHERE success = 0",
                "SELECT sum(tokens_used) FROM events", "SELECT sum(duration_ms) FROM events WHERE event_type = 'tool_call'",
                "SELECT count(*) FROM events WHERE details LIKE '%\"tool\":\"unknown\"%'",
            })
                Assert.Equal(Scalar(whole, sql), Scalar(t.Db, sql));
        }

        [Fact]
        public void CascadesStoriesSkipsAndBadLinesAreHandled()
        {
            using var t = TestPaths.NewTemp();
            const string env = "\"sessionId\":\"s1\",\"isSidechain\":false,\"gitBranch\":\"feature/story-2.3-login\"";
            var path = Path.Combine(t.Path, "projects", "-work-app", "s1.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllLines(path, new[]
            {
                "{\"type\":\"file-history-snapshot\",\"messageId\":\"m\",\"snapshot\":{}}",
                "{\"type\":\"assistant\"," + env + ",\"uuid\":\"a1\",\"timestamp\":\"2026-11-20T10:00:00Z\",\"requestId\":\"r1\",\"message\":{\"id\":\"msg1\",\"model\":\"claude\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"Bash\",\"input\":{\"command\":\"make\"}},{\"type\":\"tool_use\",\"id\":\"t2\",\"name\":\"Read\",\"input\":{\"file_path\":\"a.py\"}}],\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}}",
                "{\"type\":\"user\"," + env + ",\"uuid\":\"u1\",\"timestamp\":\"2026-11-20T10:00:03Z\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"is_error\":true,\"content\":\"Command timed out after 2m 0.0s\"}]}}",
                "{\"type\":\"user\"," + env + ",\"uuid\":\"u2\",\"timestamp\":\"2026-11-20T10:00:04Z\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t2\",\"is_error\":true,\"content\":\"<tool_use_error>Sibling tool call errored</tool_use_error>\"}]}}",
                "{\"type\":\"brand-new-record-type\",\"x\":1}",
                "{\"type\":\"user\"," + env + ",\"uuid\":\"u3\",\"message\":{\"content\":\"no timestamp\"}}",
                "this is not json",
                "{\"type\":\"progress\"," + env + ",\"data\":{\"type\":\"hook_progress\"}}",
            });
            var issues = new List<ImportIssue>();
            var r = new LogImporter(new ImportOptions { DatabasePath = t.Db, OnIssue = issues.Add }).Import(new[] { Path.Combine(t.Path, "projects") });
            Assert.Equal(3, r.Skipped);      // snapshot, unknown type, progress
            Assert.Equal(2, r.Quarantined);  // no timestamp, not JSON
            Assert.Contains(issues, i => i.LineNumber == 6 && i.Reason.Contains("timestamp"));
            using var c = MadfDatabase.Open(t.Db);
            Assert.Equal("cascade", c.ExecuteScalar<string>("SELECT category FROM events WHERE details LIKE '%\"tool_use_id\":\"t2\"%'"));
            Assert.Equal(3000, c.ExecuteScalar<long>("SELECT duration_ms FROM events WHERE details LIKE '%\"tool_use_id\":\"t1\"%'"));
            Assert.Equal("Command timed out after 2m 0.0s", Events.EventDetails.Message(c.ExecuteScalar<string>("SELECT details FROM events WHERE details LIKE '%t1%'")));
            Assert.Equal(new[] { "2.3" }, c.Query<string>("SELECT DISTINCT story_id FROM events").ToArray());
            Assert.Equal("-work-app", c.ExecuteScalar<string>("SELECT DISTINCT workflow_id FROM events"));
            // Only the real failure gets a pattern; the cascade stays out of error frequencies.
            Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE pattern_id IS NOT NULL"));
        }

        [Fact]
        public void ACallAndWhatAHumanDidAboutItHappenAtTheContextOfTheResponseThatMadeIt()
        {
            using var t = TestPaths.NewTemp();
            const string env = "\"sessionId\":\"s1\",\"isSidechain\":false";
            string Response(string uuid, string time, string msg, string tool, long cacheRead) =>
                "{\"type\":\"assistant\"," + env + ",\"uuid\":\"" + uuid + "\",\"timestamp\":\"" + time + "\",\"requestId\":\"r" + uuid + "\",\"message\":{\"id\":\"" + msg +
                "\",\"model\":\"claude\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t" + uuid + "\",\"name\":\"" + tool + "\",\"input\":{\"command\":\"make\"}}],\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":" + cacheRead + ",\"output_tokens\":5}}}";
            string Result(string uuid, string time, string content) =>
                "{\"type\":\"user\"," + env + ",\"uuid\":\"u" + uuid + "\",\"timestamp\":\"" + time + "\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t" + uuid + "\",\"is_error\":true,\"content\":\"" + content + "\"}]}}";
            var path = Path.Combine(t.Path, "projects", "-work-app", "s1.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllLines(path, new[]
            {
                Response("1", "2026-11-20T10:00:00Z", "m1", "Bash", 39_990),    // 20 %
                Result("1", "2026-11-20T10:00:03Z", "Exit code 2\\nmake: *** No rule to make target"),
                Response("2", "2026-11-20T10:01:00Z", "m2", "Bash", 179_990),   // 90 %
                Result("2", "2026-11-20T10:01:03Z", "Exit code 2\\nmake: *** No rule to make target"),
                Response("3", "2026-11-20T10:02:00Z", "m3", "Edit", 169_990),   // 85 %
                Result("3", "2026-11-20T10:02:09Z", "The user doesn't want to proceed with this tool use. The tool use was rejected."),
                "{\"type\":\"assistant\"," + env + ",\"uuid\":\"a4\",\"timestamp\":\"2026-11-20T10:03:00Z\",\"requestId\":\"r4\",\"message\":{\"id\":\"m4\",\"model\":\"claude\"," +
                    "\"content\":[{\"type\":\"text\",\"text\":\"Let me think.\"}],\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":189990,\"output_tokens\":5}}}", // 95 %
                "{\"type\":\"user\"," + env + ",\"uuid\":\"u4\",\"timestamp\":\"2026-11-20T10:03:30Z\",\"message\":{\"role\":\"user\",\"content\":\"[Request interrupted by user]\"}}",
            });
            Import(t.Db, Path.Combine(t.Path, "projects"));
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var stored = c.Query<(string type, string category, double? context)>(
                "SELECT event_type, category, context_percent FROM events ORDER BY timestamp, event_type").ToList();
            Assert.Equal(new (string, string, double?)[]
            {
                ("llm_call", "model", 20.0), ("tool_call", "tool", 20.0),
                ("llm_call", "model", 90.0), ("tool_call", "tool", 90.0),
                ("llm_call", "model", 85.0), ("human_interaction", "rejection", 85.0), ("tool_call", "tool", 85.0),
                ("llm_call", "model", 95.0), ("human_interaction", "interruption", 95.0),
            }, stored);
            // So the errors fall on both sides of 80 %: below it one failed make of two events; above it the other and the
            // rejected edit, of seven (the interruption is a human's act, not an error).
            foreach (var f in new[] { new MadfLog.Engine.Query.QueryFilter(), new MadfLog.Engine.Query.QueryFilter { Since = new DateTimeOffset(2026, 11, 20, 9, 30, 0, TimeSpan.Zero) } })
            {
                var session = Assert.Single(MadfLog.Engine.Query.Analysis.ContextPressure(c, f));
                Assert.Equal((7L, Math.Round(2.0 / 7, 4), 0.5), (session.EventsAbove80, session.ErrorRateAbove80, session.ErrorRateBelow80));
            }
        }

        /// <summary>A transcript whose one Bash call the user rejected; <paramref name="flagged"/>: the result has is_error.</summary>
        internal static string WriteRejectedCall(string root, bool flagged)
        {
            const string env = "\"sessionId\":\"s1\",\"isSidechain\":false,\"gitBranch\":\"story-2.3\"";
            var path = Path.Combine(root, "projects", "-work-app", "s1.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllLines(path, new[]
            {
                "{\"type\":\"assistant\"," + env + ",\"uuid\":\"a1\",\"timestamp\":\"2026-11-20T10:00:00Z\",\"requestId\":\"r1\",\"message\":{\"id\":\"msg1\",\"model\":\"claude\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"Bash\",\"input\":{\"command\":\"rm -rf build\"}}],\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}}",
                "{\"type\":\"user\"," + env + ",\"uuid\":\"u1\",\"timestamp\":\"2026-11-20T10:00:09Z\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\"," +
                    (flagged ? "\"is_error\":true," : "") + "\"content\":\"The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.\"}]}}",
            });
            return Path.Combine(root, "projects");
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void ARejectedCallIsOneErrorAndOneRejection(bool flagged)
        {
            using var t = TestPaths.NewTemp();
            Import(t.Db, WriteRejectedCall(t.Path, flagged));
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            // The summaries and a scan of the events (a window) must both count the one rejection once.
            foreach (var f in new[] { new MadfLog.Engine.Query.QueryFilter(), new MadfLog.Engine.Query.QueryFilter { Since = new DateTimeOffset(2026, 11, 20, 9, 30, 0, TimeSpan.Zero) } })
            {
                Assert.Equal(1, MadfLog.Engine.Query.Analysis.ErrorSummary(c, f).Sum(e => e.Count));
                Assert.Single(MadfLog.Engine.Query.Analysis.ErrorSummary(c, f));
                var human = Assert.Single(MadfLog.Engine.Query.Analysis.HumanInteractions(c, f));
                Assert.Equal(("rejection", 1L), (human.Category, human.Count));
            }
            // Which event carries it: the call when its result says it failed, else the human's rejection.
            Assert.Equal(flagged ? "tool_call" : "human_interaction", c.ExecuteScalar<string>("SELECT event_type FROM events WHERE success = 0"));
        }

        [Fact]
        public void AStoreThatCountedRejectionsTwiceCountsThemOnceOnceMigrated()
        {
            using var t = TestPaths.NewTemp();
            Import(t.Db, WriteRejectedCall(t.Path, flagged: true));
            // A rejection logged on its own (our own format, no call before it) is an error as logged, before and after.
            var own = t.File("own.jsonl");
            File.WriteAllText(own, "{\"timestamp\":\"2026-11-20T10:00:09Z\",\"event_type\":\"human_interaction\",\"category\":\"rejection\",\"session_id\":\"s1\",\"story_id\":\"2.3\"," +
                "\"agent_name\":\"main\",\"success\":false,\"details\":{\"message\":\"The user doesn't want to proceed with this tool use.\"}}\n");
            Import(t.Db, own);
            var filters = new[] { new MadfLog.Engine.Query.QueryFilter(), new MadfLog.Engine.Query.QueryFilter { Since = new DateTimeOffset(2026, 11, 20, 9, 30, 0, TimeSpan.Zero) } };
            string Answers(Microsoft.Data.Sqlite.SqliteConnection c) => string.Join("\n", filters.Select(f =>
                string.Join(";", MadfLog.Engine.Query.Analysis.ErrorSummary(c, f).Select(e => $"{e.PatternId}:{e.Count}:{e.Share}")) + "|" +
                string.Join(";", MadfLog.Engine.Query.Analysis.HumanInteractions(c, f).Select(h => $"{h.Category}:{h.Count}"))));
            // As a store before schema 33 holds it: the transcript's rejection an error as well, in the rows and the summaries.
            AssertUpgradeEqualsFreshImport(t.Db, 33, Answers, (c, tx) =>
            {
                c.Execute(@"INSERT OR IGNORE INTO kinds(event_type, category, success, pattern_detected, needs_review, details_shape)
                            SELECT event_type, category, 0, pattern_detected, needs_review, details_shape FROM kinds WHERE success = 1 AND category = (SELECT id FROM names WHERE text = 'rejection')", transaction: tx);
                Assert.Equal(1, c.Execute(@"UPDATE event_rows SET kind = (SELECT k2.id FROM kinds k JOIN kinds k2 ON k2.event_type = k.event_type AND k2.category = k.category
                                AND k2.pattern_detected IS k.pattern_detected AND k2.needs_review IS k.needs_review AND k2.details_shape = k.details_shape AND k2.success = 0 WHERE k.id = event_rows.kind)
                            WHERE kind IN (SELECT id FROM kinds WHERE success = 1 AND category = (SELECT id FROM names WHERE text = 'rejection'))", transaction: tx));
            },
            old: c => Assert.Equal(3, MadfLog.Engine.Query.Analysis.ErrorSummary(c, filters[0]).Sum(e => e.Count)),
            upgraded: c => Assert.Equal(2, MadfLog.Engine.Query.Analysis.ErrorSummary(c, filters[0]).Sum(e => e.Count)));
        }

        [Fact]
        public void AStoreWhoseCallsHadNoContextGetsTheirResponsesFiguresOnceMigrated()
        {
            using var t = TestPaths.NewTemp();
            Import(t.Db, Data);
            // Our own format's events without a figure keep none.
            var own = t.File("own.jsonl");
            File.WriteAllText(own,
                "{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"llm_call\",\"session_id\":\"o1\",\"agent_name\":\"dev\",\"tokens_used\":10,\"context_percent\":91.5,\"success\":true}\n" +
                "{\"timestamp\":\"2026-11-20T10:00:01Z\",\"event_type\":\"tool_call\",\"session_id\":\"o1\",\"agent_name\":\"dev\",\"success\":false,\"details\":{\"tool\":\"Bash\",\"message\":\"boom\"}}\n");
            Import(t.Db, own);
            var filters = new[] { new MadfLog.Engine.Query.QueryFilter(), new MadfLog.Engine.Query.QueryFilter { Since = new DateTimeOffset(2026, 2, 11, 20, 50, 0, TimeSpan.Zero) } };
            string Answers(Microsoft.Data.Sqlite.SqliteConnection c) => string.Join("\n", filters.Select(f =>
                string.Join(";", MadfLog.Engine.Query.Analysis.ContextPressure(c, f).Select(p => $"{p.SessionId}/{p.Agent}:{p.MaxContextPercent}:{p.EventsAbove80}:{p.ErrorRateAbove80}:{p.ErrorRateBelow80}")) + "|" +
                string.Join(";", MadfLog.Engine.Query.Analysis.AgentPerformance(c, f).Select(a => $"{a.Agent}:{a.ContextPressure}"))));
            // As a store before schema 39 holds it: no figure on a transcript's calls and human acts, in the rows and the summaries.
            AssertUpgradeEqualsFreshImport(t.Db, 39, Answers, (c, tx) =>
                Assert.True(c.Execute(@"UPDATE event_rows SET context_percent = NULL WHERE context_percent IS NOT NULL AND kind IN
                    (SELECT k.id FROM kinds k JOIN names n ON n.id = k.event_type WHERE n.text IN ('tool_call', 'human_interaction'))", transaction: tx) > 200),
                upgraded: c => Assert.Null(c.ExecuteScalar<double?>("SELECT context_percent FROM events WHERE session_id = 'o1' AND event_type = 'tool_call'")));
        }

        /// <summary>
        /// Turns a freshly imported store back to how a store before schema <paramref name="version"/> held it (its rows
        /// changed by <paramref name="turnBack"/>, its summaries counted from them), reopens it, and checks that the upgrade
        /// gives the answers and the events of the fresh import.
        /// </summary>
        private static void AssertUpgradeEqualsFreshImport(string db, int version, Func<Microsoft.Data.Sqlite.SqliteConnection, string> answers,
            Action<Microsoft.Data.Sqlite.SqliteConnection, Microsoft.Data.Sqlite.SqliteTransaction> turnBack,
            Action<Microsoft.Data.Sqlite.SqliteConnection>? old = null, Action<Microsoft.Data.Sqlite.SqliteConnection>? upgraded = null)
        {
            string expected;
            using (var c = MadfDatabase.Open(db)) expected = answers(c);
            var events = Store.EventExtrasTests.PlainRead(db);
            using (var c = MadfDatabase.Open(db))
            {
                using var tx = c.BeginTransaction();
                turnBack(c, tx);
                SummaryTables.Rebuild(c, tx);
                c.Execute("DELETE FROM schema_version WHERE version >= @version", new { version }, tx);
                tx.Commit();
                Assert.NotEqual(expected, answers(c));
                old?.Invoke(c);
            }
            using (var c = MadfDatabase.Open(db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                Assert.Equal(expected, answers(c));
                upgraded?.Invoke(c);
            }
            Assert.Equal(events, Store.EventExtrasTests.PlainRead(db));
        }

        [Theory]
        [InlineData("story-1.2", "1.2")]
        [InlineData("feature/story_3-4-login", "3.4")]
        [InlineData("1-2-user-auth", "1.2")]
        [InlineData("main", null)]
        [InlineData("release-2024.1", null)]
        public void StoriesAreFoundInBranchNames(string branch, string? story) => Assert.Equal(story, ClaudeCodeFormat.StoryFromBranch(branch));

        [Fact]
        public void FormatIsRecognisedOrForced()
        {
            using var t = TestPaths.NewTemp();
            var r = Import(t.Db, Path.Combine(Data, "short.jsonl"));
            Assert.Equal("ClaudeCode", r.FileResults.Single().Format);
            var forced = new LogImporter(new ImportOptions { DatabasePath = t.File("forced.db"), Format = "Madf" }).Import(new[] { Path.Combine(Data, "short.jsonl") });
            Assert.Equal(15, forced.Quarantined); // as QuickLogger lines they lack event_type/category
            Assert.Equal("UnknownFormat", Assert.Throws<MadfException>(() =>
                new LogImporter(new ImportOptions { DatabasePath = t.File("x.db"), Format = "Nope" }).Import(new[] { Path.Combine(Data, "short.jsonl") })).ErrorId);
        }
    }
}

namespace MadfLog.Engine.Tests.Import
{
    public class ClaudeCodeSummaryTests
    {
        [Fact]
        public void SummariesCountEachResponsesFinalUsage()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { System.IO.Path.Combine(TestPaths.Shared, "data", "claude-code") });
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var fromSummaries = MadfLog.Engine.Query.Analysis.AgentPerformance(c, new MadfLog.Engine.Query.QueryFilter()).Sum(a => a.Tokens);
            var fromEvents = MadfLog.Engine.Query.Analysis.AgentPerformance(c, new MadfLog.Engine.Query.QueryFilter { Since = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero) }).Sum(a => a.Tokens);
            Assert.Equal(15_887_433, fromEvents);
            Assert.Equal(fromEvents, fromSummaries);
            Assert.Equal(fromEvents, Dapper.SqlMapper.ExecuteScalar<long>(c, "SELECT sum(tokens) FROM week_rollup"));
        }
    }
}

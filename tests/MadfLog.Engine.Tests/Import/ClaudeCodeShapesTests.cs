using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    /// <summary>
    /// The other shapes Claude Code records come in (../shared/data/claude-code-shapes): a stream-json folder that is the
    /// claude-code/projects sessions written again, and a chat.json array dump. Expected chat.json figures were computed
    /// independently with a Python scan of the raw JSON (distinct tool_result ids; is_error; the largest usage of each
    /// distinct message.id; tool results of calls made in isSidechain records).
    /// </summary>
    public class ClaudeCodeShapesTests
    {
        private static string Shapes => Path.Combine(TestPaths.Shared, "data", "claude-code-shapes");
        private static string Stream => Path.Combine(Shapes, "stream-json");
        private static string ChatJson => Path.Combine(Shapes, "chat-json", "chat.json");
        private static string Projects => Path.Combine(TestPaths.Shared, "data", "claude-code", "projects");

        // The projects/ sessions (and so the stream-json folder): Python scan of the raw files.
        private const int ProjectToolCalls = 188, ProjectFailures = 7, ProjectResponses = 156;
        private const long ProjectTokens = 15_405_777;
        // chat.json: 213 tool uses, 33 failed (4 of them Task calls the user interrupted), 217 responses; 132 tool calls inside sub-agents.
        private const int ChatToolCalls = 213, ChatFailures = 33, ChatResponses = 217, ChatSidechainToolCalls = 132, ChatInterruptions = 4;
        private const long ChatTokens = 11_957_953;

        private static ImportResult Import(string db, params string[] paths) =>
            new LogImporter(new ImportOptions { DatabasePath = db }).Import(paths);

        private static long Scalar(string db, string sql)
        {
            using var c = MadfDatabase.Open(db);
            return c.ExecuteScalar<long>(sql);
        }

        /// <summary>The figures that must not depend on the shape a session was read from.</summary>
        private static readonly string[] Figures =
        {
            "SELECT count(*) FROM events WHERE event_type = 'tool_call'",
            "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND success = 0",
            "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND category = 'cascade'",
            "SELECT count(*) FROM events WHERE event_type = 'llm_call'",
            "SELECT coalesce(sum(tokens_used), 0) FROM events WHERE event_type = 'llm_call'",
            "SELECT count(*) FROM events WHERE event_type = 'human_interaction' AND category = 'rejection'",
            "SELECT count(*) FROM events WHERE event_type = 'human_interaction' AND category = 'interruption'",
            "SELECT count(*) FROM events WHERE event_type = 'human_interaction' AND category = 'clarification'",
            "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND agent_name = 'main'",
            "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND agent_name = 'claude-code-guide'",
            "SELECT count(*) FROM events WHERE agent_name = 'compact' AND event_type = 'llm_call'",
            "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND details LIKE '%\"tool\":\"unknown\"%'",
        };

        [Fact]
        public void TheStreamJsonFolderGivesTheSameToolCallsFailuresAndTokensAsProjects()
        {
            using var t = TestPaths.NewTemp();
            var fromProjects = t.File("projects.db");
            Import(fromProjects, Projects);
            var r = Import(t.Db, Stream);
            Assert.Equal(3, r.Files);
            Assert.Equal(0, r.Quarantined);
            Assert.All(r.FileResults, f => Assert.Equal("ClaudeCodeStream", f.Format));
            Assert.Equal(ProjectToolCalls, Scalar(t.Db, Figures[0]));
            Assert.Equal(ProjectFailures, Scalar(t.Db, Figures[1]));
            Assert.Equal(ProjectResponses, Scalar(t.Db, Figures[3]));
            Assert.Equal(ProjectTokens, Scalar(t.Db, Figures[4]));
            foreach (var sql in Figures) Assert.True(Scalar(fromProjects, sql) == Scalar(t.Db, sql), sql);
            // Each run's result record is an event of its own, carrying no tokens (its usage repeats the responses').
            Assert.Equal(3, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'session_result'"));
            Assert.Equal(0, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'session_result' AND tokens_used IS NOT NULL"));
        }

        [Fact]
        public void StreamEventsTakeTheFileTimeAndSaySoWhenNoRecordHasATime()
        {
            using var t = TestPaths.NewTemp();
            Import(t.Db, Stream);
            var main = Directory.GetFiles(Stream, "*.jsonl", SearchOption.AllDirectories).Single(f => !f.Contains("subagents"));
            var fileTime = new DateTimeOffset(File.GetLastWriteTimeUtc(main)).ToUnixTimeMilliseconds();
            Assert.Equal(0, Scalar(t.Db, "SELECT count(*) FROM events WHERE details NOT LIKE '%\"timestamp_source\":\"file_time\"%'"));
            Assert.Equal(fileTime, Scalar(t.Db, "SELECT max(timestamp) FROM events WHERE agent_name = 'main'"));
            Assert.Equal(fileTime, Scalar(t.Db, "SELECT min(timestamp) FROM events WHERE agent_name = 'main'"));
            // Durations only where the tool reported one: never made up from substituted times.
            var known = Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND duration_ms IS NOT NULL");
            Assert.True(known > 0);
            Assert.True(known < ProjectToolCalls);
        }

        [Fact]
        public void TheChatJsonDumpGivesTheIndependentlyComputedCounts()
        {
            using var t = TestPaths.NewTemp();
            var r = Import(t.Db, ChatJson);
            Assert.Equal("ClaudeCodeJson", r.FileResults.Single().Format);
            Assert.Equal(0, r.Quarantined);
            Assert.Equal(869, r.LinesRead); // one per array element
            Assert.Equal(ChatToolCalls, Scalar(t.Db, Figures[0]));
            Assert.Equal(ChatFailures, Scalar(t.Db, Figures[1]));
            Assert.Equal(ChatResponses, Scalar(t.Db, Figures[3]));
            Assert.Equal(ChatTokens, Scalar(t.Db, Figures[4]));
            Assert.Equal(ChatInterruptions, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'human_interaction' AND category = 'interruption'"));
            // Sub-agents inline in the file (isSidechain) are attributed to the type their Task call asked for.
            Assert.Equal(ChatSidechainToolCalls, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND agent_name = 'general-purpose'"));
            Assert.Equal(0, Scalar(t.Db, "SELECT count(*) FROM events WHERE agent_name = 'subagent'"));
            // Two sessions in one file (the first only started hooks); the project is named from the records' cwd as projects/ names it.
            using var c = MadfDatabase.Open(t.Db);
            Assert.Equal(new[] { "263940d8-4431-44ba-9f77-4eb54b5f81f0" }, c.Query<string>("SELECT DISTINCT session_id FROM events").ToArray());
            Assert.Equal(new[] { "-Users-dug-linear-agent" }, c.Query<string>("SELECT DISTINCT workflow_id FROM events").ToArray());
            // Older transcripts: LS and MultiEdit stay themselves, ANSI colours are gone from stored messages.
            Assert.Equal(13, Scalar(t.Db, "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND details LIKE '%\"tool\":\"LS\"%'"));
            Assert.Equal(0, Scalar(t.Db, "SELECT count(*) FROM events WHERE details LIKE '%' || char(27) || '%'"));
            Assert.True(Scalar(t.Db, "SELECT count(*) FROM events WHERE success = 0 AND details LIKE '%TS2339: Property%'") > 0);
        }

        [Fact]
        public void ProjectsThenStreamThenChatJsonAndItsCopiesDoNotDouble()
        {
            using var t = TestPaths.NewTemp();
            Import(t.Db, Projects);
            var before = Figures.Select(sql => Scalar(t.Db, sql)).ToArray();
            var stream = Import(t.Db, Stream);
            Assert.Equal(3, stream.Imported); // only the three result records are new
            Assert.Equal(before, Figures.Select(sql => Scalar(t.Db, sql)).ToArray());

            var chat = Import(t.Db, ChatJson);
            var withChat = Figures.Select(sql => Scalar(t.Db, sql)).ToArray();
            Assert.Equal(ProjectToolCalls + ChatToolCalls, withChat[0]);
            Assert.Equal(ProjectTokens + ChatTokens, withChat[4]);

            // A committed copy elsewhere, a shorter earlier dump, and the file rewritten in place: nothing doubles.
            var records = ArrayElements(File.ReadAllText(ChatJson));
            var copy = Path.Combine(t.Path, "repo", "logs", "chat.json");
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.WriteAllText(copy, "[\n" + string.Join(",\n", records.Take(400)) + "\n]\n");
            var earlier = Import(t.Db, Path.Combine(t.Path, "repo"));
            Assert.Equal("ClaudeCodeJson", earlier.FileResults.Single().Format);
            Assert.Equal(0, earlier.Imported);
            File.WriteAllText(copy, "[" + string.Join(",", records) + "]"); // rewritten longer, compact this time
            File.SetLastWriteTimeUtc(copy, DateTime.UtcNow.AddMinutes(1));
            var rewritten = Import(t.Db, copy);
            Assert.Equal(0, rewritten.Imported);
            Assert.True(rewritten.Duplicates > 0);
            Assert.Equal(withChat, Figures.Select(sql => Scalar(t.Db, sql)).ToArray());
            Assert.Equal(0, Import(t.Db, copy).LinesRead); // unchanged since: not read again
        }

        [Fact]
        public void AChatJsonGrowingWithTheSessionAddsOnlyTheNewEvents()
        {
            using var t = TestPaths.NewTemp();
            var whole = t.File("whole.db");
            Import(whole, ChatJson);
            var records = ArrayElements(File.ReadAllText(ChatJson));
            var dump = Path.Combine(t.Path, "logs", "chat.json");
            Directory.CreateDirectory(Path.GetDirectoryName(dump)!);
            foreach (var n in new[] { 150, 500, records.Count })
            {
                File.WriteAllText(dump, JsonArray(records.Take(n)));
                File.SetLastWriteTimeUtc(dump, DateTime.UtcNow.AddSeconds(n));
                Import(t.Db, dump);
            }
            foreach (var sql in Figures) Assert.True(Scalar(whole, sql) == Scalar(t.Db, sql), sql);
            Assert.Equal(Scalar(whole, "SELECT count(*) FROM events"), Scalar(t.Db, "SELECT count(*) FROM events"));
        }

        [Fact]
        public void AFolderWalkReadsJsonArraysOfRecordsAndNothingElseThatEndsInJson()
        {
            using var t = TestPaths.NewTemp();
            var logs = Path.Combine(t.Path, "repo", "logs");
            Directory.CreateDirectory(logs);
            File.Copy(ChatJson, Path.Combine(logs, "chat.json"));
            File.WriteAllText(Path.Combine(t.Path, "repo", "package.json"), "{\"name\":\"x\",\"version\":\"1.0.0\"}");
            File.WriteAllText(Path.Combine(logs, "pre_tool_use.json"), "[{\"session_id\":\"s\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\"}]");
            File.WriteAllText(Path.Combine(logs, "agent-a1.meta.json"), "{\"agentType\":\"Explore\"}");
            var r = Import(t.Db, Path.Combine(t.Path, "repo"));
            Assert.Equal(1, r.Files);
            Assert.EndsWith("chat.json", r.FileResults.Single().Path);
        }

        [Fact]
        public void FilesAnEarlierVersionReadAsTheFallbackAreReadAgainAsTheShapeTheyAre()
        {
            using var t = TestPaths.NewTemp();
            var main = Directory.GetFiles(Stream, "*.jsonl", SearchOption.AllDirectories).Single(f => !f.Contains("subagents"));
            // What a version without these shapes did: read them as QuickLogger lines, quarantining every one.
            var old = new LogImporter(new ImportOptions { DatabasePath = t.Db, Format = "Madf" }).Import(new[] { main, ChatJson });
            Assert.Equal(0, old.Imported);
            Assert.True(Scalar(t.Db, "SELECT count(*) FROM quarantine") > 0);
            var now = Import(t.Db, main, ChatJson);
            Assert.Equal(0, Scalar(t.Db, "SELECT count(*) FROM quarantine")); // those lines are events now
            Assert.Equal(new[] { "ClaudeCodeStream", "ClaudeCodeJson" }, now.FileResults.Select(f => f.Format).ToArray());
            Assert.Equal(ProjectToolCalls - 2 + ChatToolCalls, Scalar(t.Db, Figures[0])); // the main session's calls (2 are the sub-agent's)
            Assert.Equal(0, Import(t.Db, main, ChatJson).Imported);
            // A format forced on a file that is recognised otherwise still sticks on later automatic runs.
            var forced = t.File("forced.db");
            new LogImporter(new ImportOptions { DatabasePath = forced, Format = "ClaudeCodeJson" }).Import(new[] { main });
            Assert.Equal("ClaudeCodeJson", Import(forced, main).FileResults.Single().Format);
        }

        [Fact]
        public void EachShapeCanBeNamedWithFormat()
        {
            using var t = TestPaths.NewTemp();
            Assert.Contains("ClaudeCodeStream", LogFormats.Names);
            Assert.Contains("ClaudeCodeJson", LogFormats.Names);
            var main = Directory.GetFiles(Stream, "*.jsonl", SearchOption.AllDirectories).Single(f => !f.Contains("subagents"));
            var forced = new LogImporter(new ImportOptions { DatabasePath = t.Db, Format = "claudecodestream" }).Import(new[] { main });
            Assert.Equal("ClaudeCodeStream", forced.FileResults.Single().Format);
            Assert.Equal(0, forced.Quarantined);
            // A JSONL transcript forced through the array reader still reads each record (objects one after another).
            var jsonl = new LogImporter(new ImportOptions { DatabasePath = t.File("j.db"), Format = "ClaudeCodeJson" })
                .Import(new[] { Path.Combine(TestPaths.Shared, "data", "claude-code", "short.jsonl") });
            Assert.Equal(15, jsonl.LinesRead);
            Assert.Equal(0, jsonl.Quarantined);
        }

        private static string Q(string json) => json.Replace('\'', '"');

        [Fact]
        public void AStreamAttributesInlineSubAgentsTimesEventsFromTheNearestRecordAndKeepsTheResultsCost()
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("ci-run.jsonl");
            var usage = "'usage':{'input_tokens':{0},'output_tokens':{1}}";
            string Asst(string id, string content, string parent, int input, int output) =>
                "{'type':'assistant','message':{'id':'" + id + "','model':'m','content':[" + content + "]," + usage.Replace("{0}", input.ToString()).Replace("{1}", output.ToString()) + "},'session_id':'s9','parent_tool_use_id':" + parent + "}";
            File.WriteAllLines(path, new[]
            {
                "{'type':'system','subtype':'init','session_id':'s9','cwd':'/ci/app','model':'m','tools':[]}",                                                // 1
                Asst("msg_a", "{'type':'tool_use','id':'tu_task','name':'Task','input':{'description':'d','prompt':'look','subagent_type':'Explore'}}", "null", 10, 5), // 2
                Asst("msg_b", "{'type':'tool_use','id':'tu_grep','name':'Grep','input':{'pattern':'x'}}", "'tu_task'", 7, 3),                               // 3: the sub-agent
                "{'type':'user','message':{'role':'user','content':[{'type':'tool_result','tool_use_id':'tu_grep','is_error':true,'content':'\\u001b[31mPermission denied\\u001b[0m'}]},'session_id':'s9','parent_tool_use_id':'tu_task','tool_use_result':'Error: Permission denied'}", // 4
                "{'type':'system','subtype':'hook_response','session_id':'s9','timestamp':'2026-11-20T10:00:00Z'}",                                            // 5: a record with a time
                "{'type':'user','message':{'role':'user','content':[{'type':'tool_result','tool_use_id':'tu_task','content':[{'type':'text','text':'done'}]}]},'session_id':'s9','parent_tool_use_id':null,'tool_use_result':{'status':'completed','agentId':'a1','totalDurationMs':4200}}", // 6
                Asst("msg_c", "{'type':'text','text':'one'}", "null", 100, 50),                                                                             // 7
                "{'type':'system','subtype':'hook_response','session_id':'s9','timestamp':'2026-11-20T10:05:00Z'}",                                            // 8
                Asst("msg_c", "{'type':'text','text':'two'}", "null", 100, 80),                                                                             // 9: same response, final usage
                "{'type':'result','subtype':'error_max_turns','is_error':true,'duration_ms':60000,'duration_api_ms':50000,'num_turns':3,'total_cost_usd':0.125,'session_id':'s9','uuid':'r-1'}", // 10
            }.Select(Q));
            var r = Import(t.Db, path);
            Assert.Equal("ClaudeCodeStream", r.FileResults.Single().Format);
            Assert.Equal(0, r.Quarantined);
            using var c = MadfDatabase.Open(t.Db);
            var rows = c.Query<(string type, string agent, long ts, long? duration, long? tokens, long? success, string details)>(
                "SELECT event_type, agent_name, timestamp, duration_ms, tokens_used, success, details FROM events").ToList();
            long At(string hhmm) => DateTimeOffset.Parse("2026-11-20T" + hhmm + ":00Z").ToUnixTimeMilliseconds();
            var grep = rows.Single(x => x.details.Contains("tu_grep"));
            Assert.Equal("Explore", grep.agent);
            Assert.Equal(0, grep.success);
            Assert.Equal("Permission denied", MadfLog.Engine.Events.EventDetails.Message(grep.details));
            Assert.Null(grep.duration); // no time of its own and none reported by the tool
            Assert.Equal(At("10:00"), grep.ts);
            Assert.Contains("\"timestamp_source\":\"nearest_record\"", grep.details);
            var task = rows.Single(x => x.details.Contains("tu_task"));
            Assert.Equal(("main", 4200L, At("10:00")), (task.agent, task.duration!.Value, task.ts));
            Assert.Equal("Explore", rows.Single(x => x.details.Contains("msg_b")).agent);
            // Record 7 is nearer the 10:05 record than the 10:00 one; record 9 has only the 10:05 one before it.
            Assert.Equal(At("10:05"), rows.Single(x => x.details.Contains("msg_c")).ts);
            Assert.Equal(180, rows.Single(x => x.details.Contains("msg_c")).tokens);
            Assert.Equal(15 + 10 + 180, rows.Where(x => x.type == "llm_call").Sum(x => x.tokens));
            var result = rows.Single(x => x.type == "session_result");
            Assert.Equal((0L, 60000L, (long?)null), (result.success!.Value, result.duration!.Value, result.tokens));
            Assert.Contains("\"cost_usd\":0.125", result.details);
            Assert.Equal("error_max_turns", MadfLog.Engine.Events.EventDetails.Message(result.details));
            Assert.Equal(new[] { "-ci-app" }, c.Query<string>("SELECT DISTINCT workflow_id FROM events").ToArray());
            Assert.Equal(0, Import(t.Db, path).Imported);
        }

        [Fact]
        public void ACostTooLargeForADoubleIsLeftOutAndTheImportGoesOn()
        {
            // 1e400 is valid JSON but no double: it used to reach the details' writer as Infinity, which threw and
            // aborted the whole import. A number that does not fit is treated as absent, as an integer that does not
            // fit in 64 bits already is (num_turns below).
            using var t = TestPaths.NewTemp();
            var path = t.File("ci-run.jsonl");
            File.WriteAllLines(path, new[]
            {
                "{'type':'system','subtype':'init','session_id':'s9','cwd':'/ci/app','model':'m','tools':[],'timestamp':'2026-11-20T10:00:00Z'}",
                "{'type':'result','subtype':'success','is_error':false,'session_id':'s9','total_cost_usd':1e400,'num_turns':99999999999999999999}",
                "{'type':'result','subtype':'success','is_error':false,'session_id':'s9','uuid':'r-2','total_cost_usd':-1e400,'cost_usd':0.5}",
            }.Select(Q));
            var r = Import(t.Db, path);
            Assert.Equal(0, r.Quarantined);
            using var c = MadfDatabase.Open(t.Db);
            var details = c.Query<string>("SELECT details FROM events WHERE event_type = 'session_result' ORDER BY id").ToList();
            Assert.Equal(2, details.Count);
            Assert.DoesNotContain("cost_usd\":", details[0].Replace("\"cost_usd\":null", ""));
            Assert.Contains("\"cost_usd\":0.5", details[1]); // the finite one of the two is kept
        }

        [Fact]
        public void AStreamImportedWhileItIsWrittenEndsWithTheSameTotals()
        {
            using var t = TestPaths.NewTemp();
            var source = Directory.GetFiles(Stream, "*.jsonl", SearchOption.AllDirectories).Single(f => !f.Contains("subagents"));
            var whole = t.File("whole.db");
            Import(whole, source);
            var lines = File.ReadAllLines(source);
            var live = t.File("run.jsonl");
            File.WriteAllText(live, string.Join("\n", lines.Take(200)) + "\n");
            Import(t.Db, live);
            File.AppendAllText(live, string.Join("\n", lines.Skip(200).Take(200)) + "\n" + lines[400].Substring(0, 30));
            Import(t.Db, live);
            File.AppendAllText(live, lines[400].Substring(30) + "\n" + string.Join("\n", lines.Skip(401)) + "\n");
            Import(t.Db, live);
            foreach (var sql in Figures.Concat(new[] { "SELECT count(*) FROM events", "SELECT count(DISTINCT workflow_id) FROM events" }))
                Assert.True(Scalar(whole, sql) == Scalar(t.Db, sql), sql);
            using var a = MadfDatabase.Open(whole);
            using var b = MadfDatabase.Open(t.Db);
            Assert.Equal(a.ExecuteScalar<string>("SELECT DISTINCT workflow_id FROM events"), b.ExecuteScalar<string>("SELECT DISTINCT workflow_id FROM events"));
        }

        [Fact]
        public void ALongStreamWithoutTimesLosesNothingPastTheHeldEventsBound()
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("long.jsonl");
            const int responses = 25_000; // more than the parser holds at once
            File.WriteAllLines(path, new[] { "{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s\"}" }.Concat(Enumerable.Range(0, responses).Select(i =>
                "{\"type\":\"assistant\",\"message\":{\"id\":\"msg_" + i + "\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}},\"session_id\":\"s\",\"parent_tool_use_id\":null}")));
            var r = Import(t.Db, path);
            Assert.Equal(responses, r.Imported);
            Assert.Equal(2L * responses, Scalar(t.Db, "SELECT sum(tokens_used) FROM events"));
            Assert.Equal(responses, Scalar(t.Db, "SELECT count(*) FROM events WHERE details LIKE '%\"timestamp_source\":\"file_time\"%'"));
        }

        [Fact]
        public void OlderTranscriptQuirksAreReadAsTheirNewerForms()
        {
            using var t = TestPaths.NewTemp();
            var path = Path.Combine(t.Path, "projects", "-old-app", "s1.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string Env(string uuid, string? parent, bool side, string time) =>
                "'sessionId':'s1','uuid':'" + uuid + "','parentUuid':" + (parent == null ? "null" : "'" + parent + "'") + ",'isSidechain':" + (side ? "true" : "false") + ",'timestamp':'2025-06-01T10:00:" + time + "Z'";
            File.WriteAllLines(path, new[]
            {
                // One response written one content block per line, its usage growing.
                "{'type':'assistant'," + Env("a1", null, false, "00") + ",'requestId':'r1','message':{'id':'m1','content':[{'type':'tool_use','id':'t1','name':'exit_plan_mode','input':{'plan':'p'}}],'usage':{'input_tokens':10,'output_tokens':1}}}",
                "{'type':'assistant'," + Env("a2", "a1", false, "01") + ",'requestId':'r1','message':{'id':'m1','content':[{'type':'tool_use','id':'t2','name':'KillBash','input':{'shell_id':'12'}}],'usage':{'input_tokens':10,'output_tokens':40}}}",
                "{'type':'assistant'," + Env("a3", "a2", false, "02") + ",'requestId':'r1','message':{'id':'m1','content':[{'type':'tool_use','id':'t3','name':'Task','input':{'description':'find','prompt':'Find the config file','subagent_type':'Explore'}}],'usage':{'input_tokens':10,'output_tokens':40}}}",
                // is_error absent: a success; toolUseResult a list.
                "{'type':'user'," + Env("u1", "a3", false, "03") + ",'message':{'role':'user','content':[{'type':'tool_result','tool_use_id':'t1','content':'User approved the plan'}]},'toolUseResult':[{'type':'text','text':'User approved'}]}",
                // An error whose text is only in toolUseResult (a string).
                "{'type':'user'," + Env("u2", "u1", false, "04") + ",'message':{'role':'user','content':[{'type':'tool_result','tool_use_id':'t2','is_error':true}]},'toolUseResult':'Error: Shell 12 not found'}",
                // The sub-agent inline: its root is the Task prompt, the rest follow parentUuid.
                "{'type':'user'," + Env("s1", null, true, "05") + ",'message':{'role':'user','content':'Find the config file'}}",
                "{'type':'assistant'," + Env("s2", "s1", true, "06") + ",'requestId':'r2','message':{'id':'m2','content':[{'type':'tool_use','id':'t4','name':'LS','input':{'path':'/etc'}}],'usage':{'input_tokens':5,'output_tokens':5}}}",
                "{'type':'user'," + Env("s3", "s2", true, "07") + ",'message':{'role':'user','content':[{'type':'tool_result','tool_use_id':'t4','is_error':true,'content':'ls: /etc/app: No such file or directory'}]},'toolUseResult':'Error: ls: /etc/app: No such file or directory'}",
                "{'type':'user'," + Env("u3", "u2", false, "09") + ",'message':{'role':'user','content':[{'type':'tool_result','tool_use_id':'t3','content':[{'type':'text','text':'It is in /srv'}]}]},'toolUseResult':{'totalDurationMs':3000}}",
            }.Select(Q));
            var r = Import(t.Db, path);
            Assert.Equal(0, r.Quarantined);
            using var c = MadfDatabase.Open(t.Db);
            string Tool(string id) => c.ExecuteScalar<string?>("SELECT details FROM events WHERE event_type = 'tool_call' AND details LIKE '%\"tool_use_id\":\"" + id + "\"%'") ?? "";
            Assert.Contains("\"tool\":\"ExitPlanMode\"", Tool("t1"));
            Assert.Contains("\"tool\":\"KillShell\"", Tool("t2"));
            Assert.Equal(1, c.ExecuteScalar<long>("SELECT success FROM events WHERE details LIKE '%\"tool_use_id\":\"t1\"%' AND event_type = 'tool_call'"));
            Assert.Equal("Error: Shell 12 not found", MadfLog.Engine.Events.EventDetails.Message(Tool("t2")));
            Assert.Equal("Explore", c.ExecuteScalar<string>("SELECT agent_name FROM events WHERE details LIKE '%\"tool_use_id\":\"t4\"%'"));
            Assert.Equal("Explore", c.ExecuteScalar<string>("SELECT agent_name FROM events WHERE event_type = 'llm_call' AND details LIKE '%\"m2\"%'"));
            Assert.Equal("main", c.ExecuteScalar<string>("SELECT agent_name FROM events WHERE details LIKE '%\"tool_use_id\":\"t3\"%'"));
            Assert.Equal(3000, c.ExecuteScalar<long>("SELECT duration_ms FROM events WHERE details LIKE '%\"tool_use_id\":\"t3\"%'"));
            // The split response counts once, with its final usage.
            Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE event_type = 'llm_call' AND details LIKE '%\"m1\"%'"));
            Assert.Equal(50, c.ExecuteScalar<long>("SELECT tokens_used FROM events WHERE event_type = 'llm_call' AND details LIKE '%\"m1\"%'"));
        }

        [Fact]
        public void TheArrayReaderReturnsEachElementWithItsLineAndLeavesACutElementPending()
        {
            var text = "\uFEFF[\n  {\"a\": \"x ] } , [ \\\" {\"},\n  {\"b\": [1, {\"c\": 2}]},\n  42,\n  {\"d\":\n    \"cut";
            var reader = new JsonArrayReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), 0, bufferSize: 8);
            var got = new List<(string text, long line, bool terminated)>();
            while (reader.TryReadLine(out var seg, out _, out var terminated, out var tooLong))
            {
                Assert.False(tooLong);
                got.Add((Encoding.UTF8.GetString(seg.Array!, seg.Offset, seg.Count), reader.RecordLine, terminated));
            }
            Assert.Equal(new[]
            {
                ("{\"a\": \"x ] } , [ \\\" {\"}", 2L, true),
                ("{\"b\": [1, {\"c\": 2}]}", 3L, true),
                ("42", 4L, true),
                ("{\"d\":\n    \"cut", 5L, false),
            }, got);
            Assert.False(reader.Closed);

            var whole = new JsonArrayReader(new MemoryStream(Encoding.UTF8.GetBytes("[{\"a\":1},{\"b\":2}]\n")), 0);
            var n = 0;
            while (whole.TryReadLine(out _, out _, out var terminated, out _)) { Assert.True(terminated); n++; }
            Assert.Equal(2, n);
            Assert.True(whole.Closed);
        }

        [Fact]
        public void ABadElementIsQuarantinedWithItsLineAndTheRestIsRead()
        {
            using var t = TestPaths.NewTemp();
            var records = ArrayElements(File.ReadAllText(ChatJson)).Take(40).ToList();
            var lines = new List<string> { "[" };
            for (var i = 0; i < records.Count; i++) lines.Add(records[i] + ",");
            lines.Add("{\"type\": \"user\", \"sessionId\": \"s\", \"message\": {\"content\": \"no time\"}},");
            lines.Add("{\"type\": \"assistant\", oops},");
            lines.Add("{\"type\": \"summary\", \"summary\": \"last\"}");
            lines.Add("]");
            var path = t.File("chat.json");
            File.WriteAllLines(path, lines);
            var issues = new List<ImportIssue>();
            var r = new LogImporter(new ImportOptions { DatabasePath = t.Db, OnIssue = issues.Add }).Import(new[] { path });
            Assert.Equal(records.Count + 3, r.LinesRead);
            Assert.Equal(2, r.Quarantined);
            var badLine = 2 + records.Sum(e => e.Count(ch => ch == '\n') + 1L); // the elements keep chat.json's pretty-printing
            Assert.Equal(new[] { badLine, badLine + 1 }, issues.Select(i => i.LineNumber).ToArray());
            Assert.Contains("timestamp", issues[0].Reason);
            Assert.Contains("invalid JSON", issues[1].Reason);
        }

        /// <summary>The elements of a JSON array, each as its text (the array is the shared chat.json, whose elements are objects).</summary>
        internal static List<string> ArrayElements(string json)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            return doc.RootElement.EnumerateArray().Select(e => e.GetRawText()).ToList();
        }

        private static string JsonArray(IEnumerable<string> elements) => "[\n  " + string.Join(",\n  ", elements) + "\n]";
    }
}

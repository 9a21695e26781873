using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Patterns;
using MadfLog.TestSupport;
using MadfLog.Engine.Store;
using Xunit;
using Xunit.Abstractions;

namespace MadfLog.Engine.Tests.Patterns
{
    public class TemplateMinerTests
    {
        private readonly ITestOutputHelper _out;
        public TemplateMinerTests(ITestOutputHelper output) { _out = output; }

        private static long[] Group(params string[] messages)
        {
            var miner = new TemplateMiner();
            var assigned = messages.Select(miner.Add).ToList();
            return assigned.Select(p => miner.Resolve(p).Id).ToArray();
        }

        [Theory]
        // Neighbouring variables are one wildcard, but a bracket between them is kept: the template reads as balanced.
        [InlineData(new[] { "connect to db01 (10.0.0.1) failed", "connect to web3 (10.0.0.3) failed" }, "connect to <*> (<*>) failed")]
        [InlineData(new[] { "reverse mapping for ns.a.com [1.2.3.4] failed", "reverse mapping for c.org [9.9.9.9] failed" }, "reverse mapping for <*> [<*>] failed")]
        // Without a bracket they stay one wildcard: a number and its unit, a quoted value with spaces.
        [InlineData(new[] { "took 1.2 KB in 3 secs", "took 7 MB in 1 secs" }, "took <*> in <*>")]
        [InlineData(new[] { "no file 'a (1).txt' here", "no file 'b (2).txt' here" }, "no file <*> here")]
        public void ATemplateShowsTheBracketsBetweenItsVariables(string[] messages, string display)
        {
            var miner = new TemplateMiner();
            var id = messages.Select(miner.Add).Last();
            var p = miner.Resolve(id);
            Assert.Equal(display, TemplateMiner.Display(messages[0], p.Tokens));
        }

        [Fact]
        public void VariablePartsDoNotSplitAPattern()
        {
            var ids = Group(
                "File does not exist: src/a.py",
                "File does not exist: tests/b.cs",
                "File does not exist: src/My Project/legacy/main.py", // a path with spaces: more tokens
                "File does not exist: C:\\Users\\dev\\New Folder\\x.txt");
            Assert.Single(ids.Distinct());
            Assert.Single(Group("pytest failed: 3 failed, 40 passed in 12s", "pytest failed: 1 failed, 2 passed in 3s", "pytest failed: 12 failed, 0 passed in 0.5s").Distinct());
            Assert.Single(Group("Cannot open \"a.txt\" now", "Cannot open \"My Documents/long name with spaces.txt\" now").Distinct());
            Assert.Single(Group("Request 7f3e9a1c-0b2d-4e5f-9a8b-1c2d3e4f5a6b failed after 250ms at https://api.example.com/v1/x?id=3",
                                "Request 00000000-0000-0000-0000-000000000001 failed after 3s at https://api.example.com/v2").Distinct());
        }

        [Fact]
        public void ErrorsThatDifferInConstantWordsStayApart()
        {
            var ids = Group(
                "Connection to database server failed: permission denied for user admin on host db1",
                "Connection to database server failed: timeout while waiting for user admin on host db1",
                "File does not exist: src/a.py",
                "File does not open: src/a.py");
            Assert.Equal(4, ids.Distinct().Count());
        }

        [Fact]
        public void AWordSlotWithManyValuesBecomesAVariableAndKeepsTheOldestId()
        {
            var miner = new TemplateMiner();
            var first = miner.Add("Invalid user admin from host");
            var users = new[] { "oracle", "test", "guest", "pi", "ubnt" }.Select(u => miner.Add($"Invalid user {u} from host")).ToList();
            Assert.All(users, p => Assert.Equal(first.Id, miner.Resolve(p).Id));
            Assert.Equal("Invalid user <*> from host", miner.Resolve(first).Template);
            Assert.Equal(first.Id, miner.Add("Invalid user root from host").Id); // new values join directly
        }

        [Fact]
        public void OneConfigurationGroupsLoghubAtLeastAsWellAsTheTarget()
        {
            var systems = new[] { "BGL", "HDFS", "HPC", "HealthApp", "Linux", "Mac", "OpenSSH", "Spark" };
            var scores = new Dictionary<string, double>();
            foreach (var s in systems)
            {
                var (messages, truth) = GroupingAccuracy.LoadLoghub(Path.Combine(TestPaths.Shared, "data", "loghub-2k", s, s + "_2k.log_structured.csv"));
                Assert.Equal(2000, messages.Count);
                var miner = new TemplateMiner();
                var assigned = messages.Select(miner.Add).ToList();
                scores[s] = GroupingAccuracy.Score(assigned.Select(p => miner.Resolve(p).Id).ToList(), truth);
                _out.WriteLine($"{s}: {scores[s]:F3}");
            }
            // Measured 0.971 average, Linux lowest at 0.937 (issue #12 target: >= 0.95, none below 0.80).
            Assert.True(scores.Values.Average() >= 0.95, $"average GA {scores.Values.Average():F3} < 0.95");
            Assert.All(scores, kv => Assert.True(kv.Value >= 0.80, $"{kv.Key} GA {kv.Value:F3} < 0.80"));
        }

        [Fact]
        public void TheGeneratedSampleErrorsAreGroupedByTheirTrueTemplates()
        {
            var errors = new SampleLogGenerator(new SampleOptions()).Generate().Where(e => e.TrueTemplate.HasValue).ToList();
            var miner = new TemplateMiner();
            var assigned = errors.Select(e => miner.Add(e.Row.Message)).ToList();
            var ga = GroupingAccuracy.Score(assigned.Select(p => miner.Resolve(p).Id).ToList(), errors.Select(e => e.TrueTemplate!.Value).ToList());
            _out.WriteLine($"sample GA {ga:F3}");
            Assert.Equal(1.0, ga); // one pattern per true template: commands of 1-3 words and a file name with a space included
        }

        [Fact]
        public void APlaceThatHoldsMaskedValuesTakesInTheEarlierPlainWord()
        {
            // The first user name has no digit; the next one does, so that place is a variable for both.
            var ids = Group("Invalid user webmaster from 173.234.31.186", "Invalid user test9 from 52.80.34.196", "Invalid user webmaster from 1.2.3.4");
            Assert.Single(ids.Distinct());
        }

        [Fact]
        public void AValueWithASpaceDoesNotSplitAPatternInEitherOrder()
        {
            Assert.Single(Group("SyntaxError: invalid syntax (auth.py, line 3)", "SyntaxError: invalid syntax (payment gateway.py, line 9)", "SyntaxError: invalid syntax (cart.py, line 12)").Distinct());
            Assert.Single(Group("SyntaxError: invalid syntax (payment gateway.py, line 9)", "SyntaxError: invalid syntax (auth.py, line 3)", "SyntaxError: invalid syntax (cart.py, line 12)").Distinct());
            // Two extra words are not one value with a space: "for invalid user X" is not "for X".
            var ids = Group("Failed password for root from 1.1.1.1 port 22", "Failed password for invalid user bob from 1.1.1.3 port 22");
            Assert.NotEqual(ids[0], ids[1]);
        }

        [Fact]
        public void AUnitAfterANumberIsPartOfTheValue()
        {
            var ids = Group("Block rdd_42 stored as bytes in memory (estimated size 1.2 KB, free 300.1 MB)",
                "Block rdd_43 stored as bytes in memory (estimated size 500 B, free 299.9 MB)");
            Assert.Single(ids.Distinct());
        }

        [Fact]
        public void HardwareAndIpv6AddressesAreOneVariable()
        {
            var ids = Group("en0: BSSID changed to e0:ac:cb:bc:12:34", "en0: BSSID changed to 3c:91:80:aa:c9:4b", "en0: BSSID changed to fe80::1c3d:ea:ff:fe0b");
            Assert.Single(ids.Distinct());
        }

        [Fact]
        public void ValuesOfDifferentWordCountJoinOneVariable()
        {
            var ids = Group(
                "Command timed out after 30000ms: npm test",
                "Command timed out after 60000ms: pytest -q",
                "Command timed out after 120000ms: docker compose up",
                "Command timed out after 5000ms: npm run lint",
                "Command timed out after 9000ms: make",
                "Command timed out after 7000ms: go test ./...",
                "Command timed out after 3000ms: cargo build --release");
            Assert.Single(ids.Distinct());
        }

        [Fact]
        public void AFieldThatIsThereOrNotStaysItsOwnPattern()
        {
            // Every extra value starts with the same word: that word is a field name, not part of a variable.
            var withUser = new[] { "root", "guest", "admin", "test", "oracle" }.Select(u => $"authentication failure; rhost=10.0.0.{u.Length} user={u}");
            var without = Enumerable.Range(1, 5).Select(i => $"authentication failure; rhost=10.0.0.{i}");
            var ids = Group(withUser.Concat(without).ToArray());
            Assert.Equal(2, ids.Distinct().Count());
            Assert.Single(ids.Take(5).Distinct());
            Assert.Single(ids.Skip(5).Distinct());
        }

        [Fact]
        public void AnOddValueOfAnotherWordCountDoesNotPullAPatternIn()
        {
            // "invalid user X" is one value of three words among one-word values: too little evidence of a variable.
            var ids = Group("Failed password for root from 1.1.1.1 port 22", "Failed password for ftp from 1.1.1.2 port 22",
                "Failed password for invalid user bob from 1.1.1.3 port 22", "Failed password for uucp from 1.1.1.4 port 22",
                "Failed password for sshd from 1.1.1.5 port 22", "Failed password for news from 1.1.1.6 port 22");
            Assert.NotEqual(ids[0], ids[2]);
            Assert.Equal(5, ids.Where((id, i) => i != 2 && id == ids[0]).Count());
        }

        [Fact]
        public void AVariableLengthTemplateSurvivesARestart()
        {
            var miner = new TemplateMiner();
            foreach (var c in new[] { "npm test", "pytest -q", "docker compose up", "npm run lint" }) miner.Add("Command timed out after 30s: " + c);
            var first = miner.Patterns.Single();
            var restored = new TemplateMiner();
            foreach (var p in miner.AllPatterns) restored.Restore(p.Id, p.Template, p.MergedInto);
            foreach (var sig in miner.TakeNewSignatures()) restored.RestoreSignature(sig, miner.ForSignature(sig).Id);
            Assert.Equal(first.Id, restored.Add("Command timed out after 45s: dotnet test --no-build").Id);
        }

        [Fact]
        public void GroupingAccuracyIsComputedAsDefined()
        {
            // Truth: {0,1},{2}; predicted {0},{1,2}: nobody is right. Predicted {0,1},{2}: everybody.
            Assert.Equal(0, GroupingAccuracy.Score(new[] { 1, 2, 2 }, new[] { "a", "a", "b" }));
            Assert.Equal(1, GroupingAccuracy.Score(new[] { 5, 5, 9 }, new[] { "a", "a", "b" }));
            Assert.Equal(1.0 / 3, GroupingAccuracy.Score(new[] { 1, 1, 1 }, new[] { "a", "a", "b" }) + 1.0 / 3, 6);
        }

        [Theory]
        [InlineData("File has not been read yet. Read it first before writing to it.", "FileNotRead")]
        [InlineData("<tool_use_error>File does not exist.</tool_use_error>", "FileNotFound")]
        [InlineData("String to replace not found in file.", "ContentNotFound")]
        [InlineData("<tool_use_error>Found 3 matches of the string to replace, but replace_all is false. To replace all occurrences, set replace_all to true. To replace only one occurrence, please provide more context to uniquely identify the instance.\nString: foo</tool_use_error>", "ContentNotUnique")]
        [InlineData("bash: line 1: jq: command not found", "CommandNotFound")] // its own class since error signatures (#12): a CLI, not a library
        [InlineData("ModuleNotFoundError: No module named 'x'", "DependencyMissing")]
        [InlineData("Command timed out after 2m 0.0s", "Timeout")]
        [InlineData("EACCES: permission denied, open '/etc/x'", "Permission")]
        [InlineData("SyntaxError: Unexpected token '}'", "Syntax")]
        [InlineData("pytest failed: 3 failed, 40 passed in 12s", "TestFailure")]
        [InlineData("The user doesn't want to proceed with this tool use.", "UserRejection")]
        [InlineData("429 Too Many Requests: rate limit reached", "RateLimit")]
        [InlineData("Something odd happened", "Other")]
        public void ErrorClassesFollowTheDocumentedRules(string message, string expected) =>
            Assert.Equal(expected, ErrorSignature.OfMessage(message).ErrorClass);

        [Fact]
        public void PatternIdsAreStableAcrossImportsAndMergesRepointEarlierEvents()
        {
            using var t = TestPaths.NewTemp();
            string Err(int i, string msg) => "{\"timestamp\":\"2026-11-20T10:00:" + (i % 60).ToString("00") + "Z\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"s\",\"success\":false,\"details\":{\"message\":\"" + msg + "\"}}";
            File.WriteAllLines(t.File("a.jsonl"), new[] { Err(1, "File does not exist: a.py"), Err(2, "Invalid user admin from host"), Err(3, "Invalid user guest from host") });
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("a.jsonl") });
            long fileId, adminId;
            using (var c = MadfDatabase.Open(t.Db))
            {
                fileId = c.ExecuteScalar<long>("SELECT pattern_id FROM events WHERE details LIKE '%a.py%'");
                adminId = c.ExecuteScalar<long>("SELECT pattern_id FROM events WHERE details LIKE '%admin%'");
                Assert.Equal(3, c.ExecuteScalar<long>("SELECT count(DISTINCT pattern_id) FROM events"));
                Assert.Equal(3, c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE pattern_detected = 1"));
            }
            // A later day: the same error again, and two more user names complete the family (4 distinct words).
            File.WriteAllLines(t.File("b.jsonl"), new[] { Err(4, "File does not exist: other/b.py"), Err(5, "Invalid user oracle from host"), Err(6, "Invalid user pi from host") });
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("b.jsonl") });
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE pattern_id = @fileId", new { fileId }));
                Assert.Equal(4, c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE pattern_id = @adminId", new { adminId })); // the oldest id survives
                Assert.Equal("Invalid user <*> from host", c.ExecuteScalar<string>("SELECT display FROM patterns WHERE id = @adminId", new { adminId }));
                Assert.Equal(4, c.ExecuteScalar<long>("SELECT event_count FROM patterns WHERE id = @adminId", new { adminId }));
                Assert.Equal(2, c.ExecuteScalar<long>("SELECT event_count FROM patterns WHERE id = @fileId", new { fileId }));
                Assert.Equal("FileNotFound", c.ExecuteScalar<string>("SELECT error_class FROM patterns WHERE id = @fileId", new { fileId }));
                Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM patterns WHERE merged_into IS NULL"));
            }
        }
    }
}

using System;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Patterns
{
    /// <summary>Stores mined before error signatures are re-keyed once: one mistake split over patterns merges into the oldest.</summary>
    public class PatternRekeyTests
    {
        [Fact]
        public void PatternsSplitByTheOldMinerMergeIntoTheOldestWithTheirEventsSummariesAndRules()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { Path.Combine(TestPaths.RepoRoot, "examples", "logs") });
            long original, legacy, total;
            using (var c = MadfDatabase.Open(t.Db))
            {
                // What the old miner did: one mistake in two patterns ("File does not exist" split by a path with a space).
                original = c.ExecuteScalar<long>("SELECT id FROM patterns WHERE display LIKE 'File does not exist%' AND merged_into IS NULL");
                total = c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE pattern_id = @original", new { original });
                legacy = c.ExecuteScalar<long>("SELECT max(id) + 1 FROM patterns");
                using var tx = c.BeginTransaction();
                c.Execute("INSERT INTO patterns(id, template, token_count, error_class, event_count, example, created, display) SELECT @legacy, 'File does not exist <*> legacy', 5, 'FileNotFound', 0, example, created, 'File does not exist: <*> legacy' FROM patterns WHERE id = @original", new { legacy, original }, tx);
                var moved = c.Execute("UPDATE event_rows SET pattern_id = @legacy WHERE pattern_id = @original AND id % 2 = 0", new { legacy, original }, tx);
                c.Execute("UPDATE patterns SET event_count = event_count - @moved WHERE id = @original", new { moved, original }, tx);
                c.Execute("UPDATE patterns SET event_count = @moved WHERE id = @legacy", new { moved, legacy }, tx);
                c.Execute("INSERT INTO pattern_stories(pattern_id, story_id, errors) SELECT @legacy, story_id, 0 FROM pattern_stories WHERE pattern_id = @original", new { legacy, original }, tx);
                c.Execute("INSERT INTO rules(pattern_id, text, status, created, evidence) VALUES (@legacy, 'Check paths.', 'Active', 0, '{}')", new { legacy }, tx);
                c.Execute("DELETE FROM rules WHERE pattern_id = @original", new { original }, tx);
                c.Execute("INSERT INTO pattern_rekey VALUES (1)", transaction: tx);
                tx.Commit();
                Assert.True(moved > 0);
            }

            // The next import re-keys.
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { Path.Combine(TestPaths.RepoRoot, "examples", "logs") });

            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.False(PatternRekey.IsPending(c));
                Assert.Equal(original, c.ExecuteScalar<long>("SELECT merged_into FROM patterns WHERE id = @legacy", new { legacy }));
                Assert.Equal(total, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE pattern_id = @original", new { original }));
                Assert.Equal(total, c.ExecuteScalar<long>("SELECT event_count FROM patterns WHERE id = @original", new { original }));
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE pattern_id = @legacy", new { legacy }));
                Assert.Equal(original, c.ExecuteScalar<long>("SELECT pattern_id FROM rules WHERE text = 'Check paths.'"));
                // The summaries agree with a scan of the events for the survivor.
                var summary = Analysis.ErrorSummary(c, new QueryFilter(), 50).Single(r => r.PatternId == original).Count;
                var scan = Analysis.ErrorSummary(c, new QueryFilter { Since = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero) }, 50).Single(r => r.PatternId == original).Count;
                Assert.Equal(total, scan);
                Assert.Equal(scan, summary);
            }
        }

        [Fact]
        public void AStoreAt66HasItsPatternsClassedAgainForCurlsExitCodes()
        {
            using var t = TestPaths.NewTemp();
            // curl's exit 7 after an earlier step's log lines: what a build before schema 71 classed by the log (Authentication).
            File.WriteAllText(t.File("a.jsonl"), "{\"timestamp\":\"2026-11-02T08:20:01Z\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"s1\",\"story_id\":\"1.1\",\"agent_name\":\"dev\",\"success\":false," +
                "\"details\":{\"tool\":\"Bash\",\"command\":\"docker logs api 2>&1; curl -s http://127.0.0.1:3030/health\",\"message\":\"Exit code 7\\nDatabase init failed: error: password authentication failed for user app\"}}\n");
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("a.jsonl") });
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal("Network", c.ExecuteScalar<string>("SELECT error_class FROM patterns"));
                Assert.False(PatternRekey.IsPending(c));
                c.Execute("UPDATE patterns SET error_class = 'Authentication'; DELETE FROM schema_version WHERE version >= 71;");
            }
            using (var c = MadfDatabase.Open(t.Db)) Assert.True(PatternRekey.IsPending(c));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("a.jsonl") });
            using (var c = MadfDatabase.Open(t.Db)) Assert.Equal("Network", c.ExecuteScalar<string>("SELECT error_class FROM patterns"));
        }

        [Fact]
        public void AStoreAt71HasItsPipelinesKeyedByTheStageThatFailed()
        {
            using var t = TestPaths.NewTemp();
            File.WriteAllText(t.File("a.jsonl"), "{\"timestamp\":\"2026-11-02T08:20:01Z\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"s1\",\"story_id\":\"1.1\",\"agent_name\":\"dev\",\"success\":false," +
                "\"details\":{\"tool\":\"Bash\",\"command\":\"cat package.json | jq .scripts.test\",\"message\":\"Exit code 5\\njq: error (at <stdin>:20): Cannot index string with string \\\"test\\\"\"}}\n");
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("a.jsonl") });
            string template;
            using (var c = MadfDatabase.Open(t.Db))
            {
                template = c.ExecuteScalar<string>("SELECT template FROM patterns")!;
                Assert.StartsWith("Bash jq error", template);
                // What a build before schema 76 stored: the pipeline keyed by its first stage.
                c.Execute(@"UPDATE patterns SET template = 'Bash cat jq error', display = 'Bash cat: jq: error';
                            UPDATE pattern_signatures SET signature = 'Bash cat: jq: error';
                            DELETE FROM schema_version WHERE version >= 76;");
            }
            using (var c = MadfDatabase.Open(t.Db)) Assert.True(PatternRekey.IsPending(c));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("a.jsonl") });
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(template, c.ExecuteScalar<string>("SELECT template FROM patterns WHERE merged_into IS NULL"));
                Assert.Equal(1L, c.ExecuteScalar<long>("SELECT count(*) FROM patterns WHERE merged_into IS NULL"));
            }
        }

        [Fact]
        public void AStoreUpgradedAfterTheClassesChangedTakesTheNewClassAtItsNextImport()
        {
            using var t = TestPaths.NewTemp();
            static string Line(int second) =>
                "{\"timestamp\":\"2026-11-02T08:20:" + second.ToString("00") + "Z\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"s1\",\"story_id\":\"1.1\",\"agent_name\":\"dev\",\"success\":false," +
                "\"details\":{\"tool\":\"Bash\",\"command\":\"./scripts/deploy.sh\",\"message\":\"Exit code 126\\n/bin/bash: line 1: ./scripts/deploy.sh: Permission denied\"}}";
            // And a pattern whose template generalises over the errors' values, which the re-key must keep.
            static string Helper(int second, string name) =>
                "{\"timestamp\":\"2026-11-02T08:21:" + second.ToString("00") + "Z\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"s2\",\"story_id\":\"1.1\",\"agent_name\":\"dev\",\"success\":false," +
                "\"details\":{\"tool\":\"Task\",\"message\":\"Use the existing " + name + " helper in src/" + name + ".ts instead of a new one\"}}";
            var names = new[] { "auth", "cart", "auth", "checkout", "auth", "inventory", "cart", "auth", "search", "auth", "orders", "auth" };
            File.WriteAllLines(t.File("a.jsonl"), new[] { Line(1), Line(2), Line(3) }.Concat(names.Select((n, i) => Helper(i, n))));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("a.jsonl") });
            long id;
            string helperTemplate;
            using (var c = MadfDatabase.Open(t.Db))
            {
                helperTemplate = c.ExecuteScalar<string>("SELECT group_concat(template, ' | ') FROM patterns WHERE template LIKE 'Use the existing%' AND merged_into IS NULL")!;
                Assert.Contains("existing <*> helper", helperTemplate);
                id = c.ExecuteScalar<long>("SELECT id FROM patterns WHERE error_class = 'NotExecutable'");
                // What a build before schema 55 stored: the errors classed as a permission to write.
                c.Execute(@"UPDATE patterns SET error_class = 'Permission', template = 'Bash permission denied', display = 'Bash permission denied' WHERE id = @id;
                            UPDATE pattern_signatures SET signature = 'Bash permission denied' WHERE pattern_id = @id;
                            DELETE FROM schema_version WHERE version >= 55;", new { id });
            }
            using (var c = MadfDatabase.Open(t.Db)) Assert.True(PatternRekey.IsPending(c));

            // A revision that imports nothing re-keys before it writes rules from the classes.
            var copy = t.File("copy.db");
            File.Copy(t.Db, copy);
            var revised = new MadfLog.Engine.Revisions.Revision(new MadfLog.Engine.Revisions.RevisionOptions
                { DatabasePath = copy, Import = false, Since = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), Until = new DateTimeOffset(2026, 11, 3, 0, 0, 0, TimeSpan.Zero) }).Run();
            Assert.Contains(revised.RulesProposed, r => r.Text.Contains("chmod +x"));

            File.WriteAllLines(t.File("b.jsonl"), new[] { Line(4) });
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("b.jsonl") });
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.False(PatternRekey.IsPending(c));
                Assert.Equal("NotExecutable", c.ExecuteScalar<string>("SELECT error_class FROM patterns WHERE id = @id", new { id }));
                // The new error joins the pattern it always belonged to.
                Assert.Equal(4L, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE pattern_id = @id", new { id }));
                Assert.Equal(2L, c.ExecuteScalar<long>("SELECT count(*) FROM patterns WHERE merged_into IS NULL"));
                Assert.Equal(helperTemplate, c.ExecuteScalar<string>("SELECT group_concat(template, ' | ') FROM patterns WHERE template LIKE 'Use the existing%' AND merged_into IS NULL"));
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using MadfLog.Engine.Tests.Import;
using MadfLog.Engine.Tests.Query;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>
    /// Migration 33 counts the moved rejections again in the summaries (SummaryTables.Recount), not every event: after it
    /// every summary table, the error sequences' cells and the answers are what a fresh import of the same logs gives.
    /// </summary>
    public class RejectionsOnceMigrationTests
    {
        private const string Env = "\"isSidechain\":false,\"gitBranch\":\"story-2.3\"";

        // A transcript of one session: each step a Bash call and its result at its minute ("ok", "fail": an error,
        // "reject": the user rejected it, which the import writes as the failed call and the human's rejection).
        private static void Transcript(string root, string session, int hour, params string[] steps)
        {
            var path = Path.Combine(root, "projects", "-work-app", session + ".jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var env = $"\"sessionId\":\"{session}\"," + Env;
            var lines = new List<string>();
            for (var i = 0; i < steps.Length; i++)
            {
                var id = $"{session}-{i}";
                var at = $"2026-11-20T{hour:00}:{i:00}";
                lines.Add("{\"type\":\"assistant\"," + env + $",\"uuid\":\"a{id}\",\"timestamp\":\"{at}:00Z\",\"message\":{{\"id\":\"msg{id}\",\"model\":\"claude\",\"content\":[{{\"type\":\"tool_use\",\"id\":\"t{id}\",\"name\":\"Bash\",\"input\":{{\"command\":\"make target{i % 3}\"}}}}],\"usage\":{{\"input_tokens\":10,\"output_tokens\":5}}}}}}");
                var result = steps[i] switch
                {
                    "ok" => "\"content\":\"built\"",
                    "fail" => "\"is_error\":true,\"content\":\"make: *** No rule to make target 'x'. Stop.\"",
                    _ => "\"is_error\":true,\"content\":\"The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.\"",
                };
                lines.Add("{\"type\":\"user\"," + env + $",\"uuid\":\"u{id}\",\"timestamp\":\"{at}:09Z\",\"message\":{{\"role\":\"user\",\"content\":[{{\"type\":\"tool_result\",\"tool_use_id\":\"t{id}\",{result}}}]}}}}");
            }
            File.WriteAllLines(path, lines);
        }

        internal static string Dump(SqliteConnection c, string table, SqliteTransaction? tx = null) => string.Join("\n", c.Query($"SELECT * FROM {table}", transaction: tx)
            .Select(r => string.Join("|", ((IDictionary<string, object>)r).Values.Select(v => v is byte[] b ? Convert.ToBase64String(b) : v))).OrderBy(x => x, StringComparer.Ordinal));

        // Every summary table (the cells by the names of their leads, which are numbered as met) and the answers.
        private static Dictionary<string, string> Summaries(SqliteConnection c)
        {
            // The rollups' cells and keys are numbered as met: compared through their views, by text.
            var all = Query.SummaryConsistencyTests.ComparedByText(SummaryTables.Names.Except(SequenceCells.Tables)).ToDictionary(t => t, t => Dump(c, t));
            // No key left that no cell uses.
            all["keys"] = c.ExecuteScalar<long>("SELECT count(*) FROM rollup_keys k WHERE NOT EXISTS (SELECT 1 FROM day_rollup_cells x WHERE x.key = k.id)").ToString(System.Globalization.CultureInfo.InvariantCulture);
            all["cells"] = ErrorSequenceSummaryTests.DumpCells(c);
            var week = new MadfLog.Engine.Query.QueryFilter { Since = new DateTimeOffset(2026, 11, 20, 9, 30, 0, TimeSpan.Zero) };
            foreach (var (name, f) in new[] { ("whole", new MadfLog.Engine.Query.QueryFilter()), ("window", week) })
            {
                all["errors " + name] = string.Join(";", MadfLog.Engine.Query.Analysis.ErrorSummary(c, f).Select(e => $"{e.PatternId}:{e.Count}:{e.Share}"));
                all["human " + name] = string.Join(";", MadfLog.Engine.Query.Analysis.HumanInteractions(c, f).Select(h => $"{h.Category}:{h.Count}"));
                all["sequences " + name] = string.Join(";", MadfLog.Engine.Query.PatternAnalysis.ErrorSequences(c, f, 100, 1).Select(s => string.Join(",", s.GetType().GetProperties().Select(p => p.GetValue(s)))));
            }
            return all;
        }

        [Fact]
        public void TheMovedRejectionsAreCountedAgainAsAFreshImportCountsThem()
        {
            using var t = TestPaths.NewTemp();
            var logs = t.File("logs");
            // Rejections between errors (so the sessions' runs and leads change when they stop being errors), a session with
            // only a rejection, one without any, and a session over two hours.
            Transcript(logs, "s1", 10, "ok", "fail", "reject", "fail", "fail", "ok", "reject", "ok", "fail");
            Transcript(logs, "s2", 11, "reject", "ok");
            Transcript(logs, "s3", 12, "ok", "fail", "fail", "ok");
            Transcript(logs, "s4", 13, "ok", "ok", "ok", "reject", "fail", "fail", "reject", "reject", "ok", "fail", "ok");
            // Rejections logged on their own stay errors: one in the same key as a transcript's (agent, project, message),
            // after it, so that key's first time moves once the transcript's leaves it; one earlier in another key.
            var own = Path.Combine(logs, "own.jsonl");
            File.WriteAllLines(own, new[]
            {
                "{\"timestamp\":\"2026-11-20T11:30:00Z\",\"event_type\":\"human_interaction\",\"category\":\"rejection\",\"session_id\":\"s9\",\"story_id\":\"2.3\",\"workflow_id\":\"-work-app\"," +
                    "\"agent_name\":\"main\",\"success\":false,\"details\":{\"message\":\"Rejected Bash on make target0\"}}",
                "{\"timestamp\":\"2026-11-20T09:00:00Z\",\"event_type\":\"human_interaction\",\"category\":\"rejection\",\"session_id\":\"s1\",\"story_id\":\"2.3\"," +
                    "\"agent_name\":\"main\",\"success\":false,\"details\":{\"message\":\"The user doesn't want to proceed with this tool use.\"}}",
            });
            ImportTests.Import(t.Db, logs);
            Dictionary<string, string> expected;
            using (var c = MadfDatabase.Open(t.Db)) expected = Summaries(c);
            Assert.NotEmpty(expected["errors whole"]);

            // As a store before schema 33 holds it: the transcripts' rejections errors as well, in the rows and the summaries.
            int moved;
            using (var c = MadfDatabase.Open(t.Db))
            {
                using var tx = c.BeginTransaction();
                c.Execute(@"INSERT OR IGNORE INTO kinds(event_type, category, success, pattern_detected, needs_review, details_shape)
                            SELECT event_type, category, 0, pattern_detected, needs_review, details_shape FROM kinds WHERE success = 1 AND category = (SELECT id FROM names WHERE text = 'rejection')", transaction: tx);
                moved = c.Execute(@"UPDATE event_rows SET kind = (SELECT k2.id FROM kinds k JOIN kinds k2 ON k2.event_type = k.event_type AND k2.category = k.category
                                AND k2.pattern_detected IS k.pattern_detected AND k2.needs_review IS k.needs_review AND k2.details_shape = k.details_shape AND k2.success = 0 WHERE k.id = event_rows.kind)
                            WHERE kind IN (SELECT id FROM kinds WHERE success = 1 AND category = (SELECT id FROM names WHERE text = 'rejection'))", transaction: tx);
                SummaryTables.Rebuild(c, tx);
                c.Execute("DELETE FROM schema_version WHERE version >= 33", transaction: tx);
                tx.Commit();
                Assert.Equal(6, moved);
                Assert.NotEqual(expected["errors whole"], Summaries(c)["errors whole"]);
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                var after = Summaries(c);
                foreach (var kv in expected) Assert.True(kv.Value == after[kv.Key], $"{kv.Key}:\nexpected\n{kv.Value}\nafter the migration\n{after[kv.Key]}");
            }
        }

        [Fact]
        public void AFigureGainedIsCountedWithoutARebuild()
        {
            // Migration 39's change: calls without a context figure get one (some above 80 %, some below, in two hours and
            // sessions); their counts and maxima follow the rows alone, as a rebuild would count them.
            using var t = TestPaths.NewTemp();
            Transcript(t.Path, "s1", 10, "ok", "fail", "reject", "ok", "fail");
            Transcript(t.Path, "s2", 11, "fail", "ok", "ok");
            ImportTests.Import(t.Db, Path.Combine(t.Path, "projects"));
            using var c = MadfDatabase.Open(t.Db);
            using var tx = c.BeginTransaction();
            const string calls = "SELECT id FROM event_rows WHERE kind IN (SELECT k.id FROM kinds k JOIN names n ON n.id = k.event_type WHERE n.text IN ('tool_call', 'human_interaction'))";
            c.Execute($"UPDATE event_rows SET context_percent = NULL WHERE id IN ({calls})", transaction: tx);
            SummaryTables.Rebuild(c, tx);
            // A count no event gives, in a table neither change touches: a rebuild would drop it.
            Assert.Equal(1, c.Execute("UPDATE duration_hist SET n = n + 1000 WHERE (scope, key, bucket) = (SELECT scope, key, bucket FROM duration_hist ORDER BY 1, 2, 3 LIMIT 1)", transaction: tx));
            var changed = SummaryTables.Recount(c, tx, calls,
                rows => c.Execute($"UPDATE event_rows SET context_percent = CASE WHEN id % 3 = 0 THEN 9150 ELSE 4000 + id END WHERE {rows}", transaction: tx));
            Assert.True(changed > 8, $"{changed} rows changed");
            c.Execute("UPDATE duration_hist SET n = n - 1000 WHERE (scope, key, bucket) = (SELECT scope, key, bucket FROM duration_hist ORDER BY 1, 2, 3 LIMIT 1)", transaction: tx);
            var tables = Query.SummaryConsistencyTests.ComparedByText(SummaryTables.Names.Except(SequenceCells.Tables));
            var recounted = tables.ToDictionary(x => x, x => Dump(c, x, tx));
            var cells = ErrorSequenceSummaryTests.DumpCells(c, tx);
            Assert.Contains("91.5", Dump(c, "session_rollup", tx));
            SummaryTables.Rebuild(c, tx);
            foreach (var x in recounted) Assert.True(x.Value == Dump(c, x.Key, tx), $"{x.Key}:\nrecounted\n{x.Value}\nrebuilt\n{Dump(c, x.Key, tx)}");
            Assert.Equal(cells, ErrorSequenceSummaryTests.DumpCells(c, tx));
            tx.Rollback();
        }

        [Fact]
        public void AChangeOfMoreThanTheOutcomeIsCountedByARebuild()
        {
            // Recount follows an outcome alone; a change that moves events between other keys rebuilds, so the summaries still
            // equal the events'.
            using var t = TestPaths.NewTemp();
            Transcript(t.Path, "s1", 10, "ok", "fail", "reject", "ok");
            ImportTests.Import(t.Db, Path.Combine(t.Path, "projects"));
            using var c = MadfDatabase.Open(t.Db);
            using var tx = c.BeginTransaction();
            var changed = SummaryTables.Recount(c, tx, "SELECT id FROM event_rows WHERE id <= 2",
                moved => c.Execute($"UPDATE event_rows SET ts = ts + 7200000 WHERE {moved}", transaction: tx));
            Assert.Equal(2, changed);
            var tables = Query.SummaryConsistencyTests.ComparedByText(SummaryTables.Names.Except(SequenceCells.Tables));
            var recounted = tables.ToDictionary(x => x, x => Dump(c, x, tx));
            var cells = ErrorSequenceSummaryTests.DumpCells(c, tx);
            SummaryTables.Rebuild(c, tx);
            foreach (var x in recounted) Assert.Equal(x.Value, Dump(c, x.Key, tx));
            Assert.Equal(cells, ErrorSequenceSummaryTests.DumpCells(c, tx));
            tx.Rollback();
        }
    }
}

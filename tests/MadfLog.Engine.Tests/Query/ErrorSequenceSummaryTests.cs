using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>The per-session summaries of error sequences (SequenceStage) answer as a scan of the events does.</summary>
    public class ErrorSequenceSummaryTests
    {
        /// <summary>Takes a store back to before the sequence summaries' migration (with the version rows deleted by the caller).</summary>
        internal const string DropSequenceTables = "DROP TABLE session_sequences; DROP TABLE session_runs; DROP TABLE session_leads;";

        private static readonly QueryFilter Scan = SummaryConsistencyTests.Scan;

        private static IEnumerable<string> Logs => Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f);

        private static string Dump(SqliteConnection c, string table) => string.Join("\n", c.Query($"SELECT * FROM {table}")
            .Select(r => string.Join("|", ((IDictionary<string, object>)r).Values)).OrderBy(x => x, StringComparer.Ordinal));

        private static void AssertMatchesScan(SqliteConnection c)
        {
            SummaryConsistencyTests.AssertSequencesMatch(c, Scan, new QueryFilter());
            var story = c.Query<string>("SELECT story_id FROM story_rollup ORDER BY story_id").First();
            SummaryConsistencyTests.AssertSequencesMatch(c, new QueryFilter { Stories = new[] { story }, ScanEvents = true }, new QueryFilter { Stories = new[] { story } });
            var (first, last) = c.QuerySingle<(long, long)>("SELECT min(timestamp), max(timestamp) FROM event_rows");
            var window = new QueryFilter { Since = DateTimeOffset.FromUnixTimeMilliseconds(first + (last - first) / 4), Until = DateTimeOffset.FromUnixTimeMilliseconds(last - (last - first) / 4) };
            SummaryConsistencyTests.AssertSequencesMatch(c, new QueryFilter { Since = window.Since, Until = window.Until, ScanEvents = true }, window);
        }

        [Fact]
        public void UpgradingFillsTheSequenceSummariesAsTheImportKeepsThem()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs.Take(3));
            Dictionary<string, string> imported;
            using (var c = MadfDatabase.Open(t.Db))
            {
                imported = Summaries.SequenceStage.Tables.ToDictionary(x => x, x => Dump(c, x));
                Assert.All(imported.Values, Assert.NotEmpty);
                // A store from before the sequence summaries' migration (12).
                Store.EventKeysTests.UnpackKeys(c);
                Store.CompactStorageTests.UndoEightDetailsValues(c);
                c.Execute("DELETE FROM schema_version WHERE version >= 12; " + DropSequenceTables + BlockDayTests.DropBlockDays);
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                foreach (var x in Summaries.SequenceStage.Tables) Assert.Equal(imported[x], Dump(c, x));
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void ASessionWhoseEventsArriveOutOfOrderIsReadFromItsEvents()
        {
            using var t = TestPaths.NewTemp();
            var logs = Logs.ToList();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(logs);
            string session;
            using (var c = MadfDatabase.Open(t.Db))
            {
                // A later file holds earlier events of a session with errors: an error and a success before its first event.
                var s = c.QueryFirst<(string session, long first, string? story)>(
                    "SELECT session_id, first_ts, story_id FROM session_sequences WHERE session_id IN (SELECT session_id FROM session_runs WHERE length >= 2) ORDER BY session_id");
                session = s.session;
                var at = DateTimeOffset.FromUnixTimeMilliseconds(s.first - 60_000).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
                var at2 = DateTimeOffset.FromUnixTimeMilliseconds(s.first - 30_000).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
                File.WriteAllLines(t.File("late.jsonl"), new[]
                {
                    $"{{\"timestamp\":\"{at}\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"{session}\",\"story_id\":\"{s.story}\",\"agent_name\":\"dev\",\"success\":false,\"details\":{{\"tool\":\"Bash\",\"error\":\"npm ERR! missing script: lint\"}}}}",
                    $"{{\"timestamp\":\"{at2}\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"{session}\",\"story_id\":\"{s.story}\",\"agent_name\":\"dev\",\"success\":true,\"details\":{{\"tool\":\"Read\"}}}}",
                });
            }
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("late.jsonl") });
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT in_order FROM session_sequences WHERE session_id = @session", new { session }));
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void PatternsMergedAfterImportJoinRunsAndTakeTheSurvivorsClass()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs);
            using var c = MadfDatabase.Open(t.Db);
            // The two patterns most often next to each other in a session's errors merge (as the miner merges templates).
            var (from, into) = c.QueryFirst<(long, long)>(
                @"SELECT a.pattern_id, b.pattern_id FROM session_runs a JOIN session_runs b ON b.session_id = a.session_id AND b.seq = a.seq + 1
                  WHERE a.pattern_id <> 0 AND b.pattern_id <> 0 AND a.pattern_id <> b.pattern_id GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2");
            var before = PatternAnalysis.ErrorSequences(c, new QueryFilter(), 100_000, 1);
            using (var tx = c.BeginTransaction())
            {
                c.Execute("UPDATE patterns SET error_class = 'Merged' WHERE id = @into", new { into }, tx);
                PatternStore.MergeInto(c, tx, from, into, MadfLog.Engine.Rules.RuleStore.MovePattern);
                tx.Commit();
            }
            AssertMatchesScan(c);
            var after = PatternAnalysis.ErrorSequences(c, new QueryFilter(), 100_000, 1);
            Assert.NotEqual(before.Select(x => (x.Sequence, x.Occurrences)), after.Select(x => (x.Sequence, x.Occurrences)));
            Assert.Contains(after, x => x.Kind == "LeadsToError" && x.Sequence.Contains("✗Merged"));
        }
    }
}

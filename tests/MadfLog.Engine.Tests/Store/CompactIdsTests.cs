using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>Kinds and contexts take the free id of the fewest bytes (EventStorage.Combinations.NextId): 1..127, then -1..-128, then 128...</summary>
    public class CompactIdsTests
    {
        [Theory]
        [InlineData(0, 0, 1)]
        [InlineData(126, 0, 127)]
        [InlineData(127, 0, -1)]
        [InlineData(127, -127, -128)]
        [InlineData(127, -128, 128)]
        [InlineData(32766, -128, 32767)]
        [InlineData(32767, -128, -129)]
        [InlineData(32767, -32768, 32768)]
        [InlineData(8388607, -8388608, 8388608)]
        [InlineData(459, 0, -1)] // a store whose ids were handed out in order only: its next ones take a byte again
        [InlineData(0, -5, 1)]
        public void ANewCombinationTakesTheFreeIdOfTheFewestBytesPositiveFirst(long greatest, long least, long next) =>
            Assert.Equal(next, EventStorage.Combinations.NextId(greatest, least));

        // An event whose details have a key of their own: each line a shape, so a kind, of its own.
        private static string Line(int i, bool success = true) =>
            "{\"timestamp\":\"2026-11-20T10:" + (i / 60 % 60).ToString("00") + ":" + (i % 60).ToString("00") + "Z\",\"event_type\":\"tool_call\"," +
            "\"category\":\"execution\",\"session_id\":\"s" + (i % 7) + "\",\"story_id\":\"1.1\",\"agent_name\":\"dev\",\"duration_ms\":" + (100 + i) +
            ",\"success\":" + (success ? "true" : "false") + ",\"details\":{\"tool\":\"Bash\",\"k" + i + "\":" + i + (success ? "" : ",\"error\":\"exit 1: boom\"") + "}}";

        [Fact]
        public void AStoreOfManyKindsHandsOutOneByteIdsFirstAndReadsEveryEventBack()
        {
            using var t = TestPaths.NewTemp();
            var first = t.File("a.jsonl");
            var second = t.File("b.jsonl");
            File.WriteAllLines(first, Enumerable.Range(0, 200).Select(i => Line(i, i % 9 != 0)));
            File.WriteAllLines(second, Enumerable.Range(200, 100).Select(i => Line(i, i % 9 != 0)));
            // Two imports: the second goes on from the ids the first left.
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { first });
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { second });
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var kinds = c.Query<long>("SELECT id FROM kinds").OrderBy(id => id).ToList();
            Assert.Equal(300, c.ExecuteScalar<long>("SELECT count(DISTINCT kind) FROM event_rows"));
            var expected = Enumerable.Range(-128, 128).Concat(Enumerable.Range(1, 127)).Concat(Enumerable.Range(128, kinds.Count - 255)).Select(i => (long)i).ToList();
            Assert.Equal(expected, kinds);
            // Every event as logged, through the view plain SQLite reads and through the cmdlets' reader.
            var logged = Enumerable.Range(0, 300).Select(i => "{\"tool\":\"Bash\",\"k" + i + "\":" + i + (i % 9 != 0 ? "" : ",\"error\":\"exit 1: boom\"") + "}").ToList();
            Assert.Equal(logged, c.Query<string>("SELECT details FROM events ORDER BY id").ToList());
            Assert.Equal(Enumerable.Repeat("tool_call", 300), c.Query<string>("SELECT event_type FROM events ORDER BY id"));
            Assert.Equal(logged, Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter()).OrderBy(e => e.Timestamp).Select(e => e.Details ?? "").ToList());
            Assert.Equal(34, Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter { Success = false }).Count());
            // The summaries answer as a scan of the rows does.
            var scan = Query.SummaryConsistencyTests.Scan;
            string Answers(QueryFilter f) =>
                string.Join(";", Analysis.ToolFailures(c, f).Select(x => $"{x.Tool}:{x.Agent}:{x.Calls}:{x.Failures}:{x.TopError}")) + "|" +
                string.Join(";", Analysis.AgentPerformance(c, f).Select(x => $"{x.Agent}:{x.Events}:{x.Tokens}")) + "|" +
                string.Join(";", Analysis.Bottlenecks(c, f, 50).Select(x => $"{x.Kind}:{x.Name}:{x.Count}:{x.TotalMs}"));
            Assert.Equal(Answers(scan), Answers(new QueryFilter()));
            Assert.Contains("Bash:dev:300:34", Answers(new QueryFilter()));
        }
    }
}

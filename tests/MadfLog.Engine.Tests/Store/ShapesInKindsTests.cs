using System;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>Schema 49: a row's details shape is part of its kind (kinds.details_shape), not a column of event_rows.</summary>
    public class ShapesInKindsTests
    {
        private static readonly QueryFilter Whole = new QueryFilter();
        private static readonly QueryFilter Cut = new QueryFilter { Since = new DateTimeOffset(2026, 11, 3, 13, 27, 42, TimeSpan.Zero) };

        // What the questions answer, from the summaries, from the events of cut hours (the steps' names through the
        // kinds' shapes) and from a scan; and the events themselves as the cmdlets read them.
        internal static string Answers(Microsoft.Data.Sqlite.SqliteConnection c) => string.Join("\n", new[] { Whole, Cut, Query.SummaryConsistencyTests.Scan }.Select(f =>
            string.Join(";", Analysis.Bottlenecks(c, f, 50).Select(x => $"{x.Kind}:{x.Name}:{x.Count}:{x.TotalMs}:{x.TimeWastedMs}")) + "|" +
            string.Join(";", Analysis.ToolFailures(c, f).Select(x => $"{x.Tool}:{x.Agent}:{x.Calls}:{x.Failures}:{x.TopError}")) + "|" +
            string.Join(";", Analysis.ErrorSummary(c, f, 100).Select(x => $"{x.PatternId}:{x.Count}")) + "|" +
            string.Join(";", Analysis.AgentPerformance(c, f).Select(x => $"{x.Agent}:{x.Events}:{x.Tokens}"))))
            + "\n" + string.Join("\n", Analysis.Events(c, Whole, new Analysis.EventFilter()).Select(e => $"{e.Timestamp:O}|{e.EventType}|{e.Category}|{e.SessionId}|{e.Success}|{e.TokensUsed}|{e.Details}"));

        [Fact]
        public void AStoreOfSchema48AnswersTheSameOnceItsShapesAreInItsKindsAndImportsOnAsAFreshOne()
        {
            long pairs = 0;
            TurnedBackStore.Check(
                before: c => pairs = c.ExecuteScalar<long>("SELECT count(*) FROM (SELECT DISTINCT kind FROM event_rows)"),
                turnBack: c =>
                {
                    // As schema 48 held it: the shape a column of each row, kinds by type, category and flags only.
                    CompactStorageTests.UndoShapesInKinds(c);
                    Assert.Contains("details_shape", c.Query<string>("SELECT name FROM pragma_table_info('event_rows')"));
                    Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM kinds") < pairs);
                },
                upgraded: c =>
                {
                    Assert.DoesNotContain("details_shape", c.Query<string>("SELECT name FROM pragma_table_info('event_rows')"));
                    Assert.Equal(pairs, c.ExecuteScalar<long>("SELECT count(*) FROM (SELECT DISTINCT kind FROM event_rows)"));
                    // The most frequent pair of kind and shape is kind 1.
                    Assert.Equal(1, c.ExecuteScalar<long>("SELECT kind FROM event_rows GROUP BY kind ORDER BY count(*) DESC, kind LIMIT 1"));
                    Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'ix_event_rows_pattern'"));
                });
        }

        [Fact]
        public void AGrownResponseTakesTheKindOfItsNewShapeAndKeepsItsReviewFlag()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            // Claude Code responses; the second one's line is written again (another uuid, the same message) with grown
            // usage. Within an import the model is written into the shape from its second sighting on (DetailsShape's
            // splitter), so the second response's stored shape holds it, and its grown line, the next import's first
            // sighting, has it in a slot: another shape, so another kind.
            static string Response(string uuid, string message, string usage) =>
                "{\"type\":\"assistant\",\"sessionId\":\"s1\",\"isSidechain\":false,\"uuid\":\"" + uuid + "\",\"timestamp\":\"2026-11-20T10:00:00Z\",\"requestId\":\"r" + message + "\"," +
                "\"message\":{\"id\":\"msg" + message + "\",\"model\":\"claude\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],\"usage\":{" + usage + "}}}";
            File.WriteAllLines(file, new[] { Response("a0", "0", "\"input_tokens\":10,\"output_tokens\":5"), Response("a1", "1", "\"input_tokens\":10,\"output_tokens\":5") });
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            const string second = "SELECT k.details_shape, e.needs_review, e.details FROM events e JOIN kinds k ON k.id = e.kind WHERE e.details LIKE '%\"msg1\"%'";
            long shapeBefore;
            using (var c = MadfDatabase.Open(t.Db))
            {
                shapeBefore = c.QuerySingle<(long shape, long review, string details)>(second).shape;
                using var tx = c.BeginTransaction();
                EventStorage.SetNeedsReview(c, tx, "1", true, new { });
                tx.Commit();
            }
            File.AppendAllLines(file, new[] { Response("a2", "1", "\"input_tokens\":10,\"output_tokens\":9,\"cache_read_input_tokens\":70") });
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using (var c = MadfDatabase.Open(t.Db, forWrite: false))
            {
                Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM events"));
                var (shape, review, details) = c.QuerySingle<(long, long, string)>(second);
                Assert.Contains("\"cache_read_input_tokens\":70", details);
                Assert.Contains("\"model\":\"claude\"", details);
                Assert.NotEqual(shapeBefore, shape);
                Assert.Equal(1, review);
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Query.Questions;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>
    /// A window cut at minutes reads the parts of hours at its ends from event_rows and names a tool call's or step's step
    /// from the slots of its details its shape says the name depends on (DayParts.StepSlots): every way details can hold
    /// the name must give the scan's steps.
    /// </summary>
    public class CutHourStepsTests
    {
        private static readonly DateTimeOffset Hour = new DateTimeOffset(2026, 11, 3, 9, 0, 0, TimeSpan.Zero);

        // The same details for a tool call and a step, both names among the members of the last slot: the same shape and
        // values, a different name for each (the tool for the tool call, the step for the step).
        private const string Both = "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"tool\":\"Both\",\"step\":\"deploy\"}";

        // Tool calls and steps in one hour, their names held every way the store keeps details.
        internal static List<string> Lines()
        {
            var lines = new List<string>();
            var longName = "mcp__server__" + new string('x', 300); // over names' longest: a literal
            var longDetails = new string('y', 5000);                // over the shaped size: the details stored whole
            var details = new List<string>
            {
                "{\"tool\":\"Read\",\"target\":\"a.cs\"}",                     // a names id
                "{\"target\":\"a.cs\",\"tool\":\"Read\"}",                     // in another slot, the shape and the first value shared
                "{\"target\":\"a.cs\",\"tool\":\"Edit\"}",
                "{\"target\":\"a.cs\",\"tool\":\"" + longName + "1\"}",       // literals sharing a start (kept in the shape)
                "{\"target\":\"a.cs\",\"tool\":\"" + longName + "2\"}",
                "{\"tool\":null,\"target\":\"a.cs\"}",                          // JSON null: unknown
                "{\"target\":\"a.cs\"}",                                        // no tool: unknown
                "{\"tool\":{\"name\":\"Edit\",\"n\":1}}",                       // nested JSON
                "{\"tool\":7,\"target\":\"a.cs\"}",                           // not a string: unknown, as the import names it
                "{\"tool\":true}",
                "{\"tool\":\"Grep\",\"note\":\"" + longDetails + "\"}",         // stored whole
                "{\"tool\":\"Glob\",\"note\":\"" + longDetails + "\"}",
                "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"tool\":\"Late\"}", // among the members of the last slot
                "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"tool\":\"Later\"}",
                "{\"tool\":\"Wr\\u0069te\",\"target\":\"a.cs\"}",               // an escape
                Both,                                                            // a step's details too: the tool is named here
            };
            var i = 0;
            foreach (var minute in new[] { 5, 12, 25, 31, 40, 48, 55 })
                foreach (var d in details)
                {
                    i++;
                    lines.Add($"{{\"timestamp\":{Hour.AddMinutes(minute).AddSeconds(i % 50).ToUnixTimeMilliseconds()},\"event_type\":\"tool_call\",\"category\":\"tool\"," +
                              $"\"session_id\":\"s{i % 3}\",\"agent_name\":\"dev\",\"story_id\":\"1.1\",\"success\":{(i % 5 == 0 ? "false" : "true")},\"duration_ms\":{100 + i * 37},\"details\":{d}}}");
                }
            foreach (var minute in new[] { 7, 33, 52 })
                foreach (var d in new[] { "{\"step\":\"plan\"}", "{\"step\":\"review\",\"by\":\"qa\"}", "{\"by\":\"qa\"}", Both })
                    lines.Add($"{{\"timestamp\":{Hour.AddMinutes(minute).ToUnixTimeMilliseconds()},\"event_type\":\"step\",\"category\":\"workflow\"," +
                              $"\"session_id\":\"s1\",\"agent_name\":\"qa\",\"story_id\":\"1.1\",\"success\":true,\"duration_ms\":{500 + minute},\"details\":{d}}}");
            return lines;
        }

        // Imports Lines() whole and opens the store to read.
        private static Microsoft.Data.Sqlite.SqliteConnection ImportLines(TempFolder t)
        {
            var logs = t.File("logs");
            Directory.CreateDirectory(logs);
            var lines = Lines();
            File.WriteAllLines(Path.Combine(logs, "events.jsonl"), lines);
            var imported = new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs });
            Assert.True(lines.Count == imported.Imported, $"imported {imported.Imported}, duplicates {imported.Duplicates}, quarantined {imported.Quarantined}");
            return MadfDatabase.Open(t.Db, forWrite: false);
        }

        [Fact]
        public void StepsOfThePartsOfHoursMatchAScanHoweverTheDetailsHoldThem()
        {
            using var t = TestPaths.NewTemp();
            using var c = ImportLines(t);
            // The store keeps them as meant: a tool as a names id and as a literal, and details without a shape.
            Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " WHERE details_shape IS NULL") > 0);
            Assert.True(c.ExecuteScalar<long>("SELECT count(DISTINCT typeof(d1)) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " WHERE details_shape IS NOT NULL") > 1);
            foreach (var window in new[]
                     {
                         new QueryFilter { Since = Hour.AddMinutes(10).AddSeconds(13), Until = Hour.AddMinutes(50) }, // within the hour
                         new QueryFilter { Since = Hour.AddMinutes(27).AddSeconds(42) },                               // open end
                         new QueryFilter { Until = Hour.AddMinutes(45), Agents = new[] { "dev" } },
                     })
            {
                Assert.True(Analysis.FromDaySummaries(window));
                var scan = new QueryFilter { Since = window.Since ?? SummaryConsistencyTests.Scan.Since, Until = window.Until, Agents = window.Agents, ScanEvents = true };
                var bottlenecks = Analysis.Bottlenecks(c, scan, 100);
                Assert.Contains(bottlenecks, b => b.Name == "unknown");
                Assert.Contains(bottlenecks, b => b.Name.StartsWith("mcp__server__", StringComparison.Ordinal));
                var cut = Analysis.Bottlenecks(c, window, 100);
                Assert.Equal(bottlenecks.Select(x => (x.Kind, x.Name, x.Count, x.TotalMs, x.TimeWastedMs)), cut.Select(x => (x.Kind, x.Name, x.Count, x.TotalMs, x.TimeWastedMs)));
                // Percentiles from the histograms' buckets (the step scope included), within a bucket of the scan's.
                foreach (var (exact, approx) in bottlenecks.Zip(cut, (x, y) => (x, y)))
                    Assert.InRange(approx.P95Ms, exact.P95Ms * 0.99, exact.P95Ms * 1.1);
                Assert.Equal(Analysis.ToolFailures(c, scan).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures, x.TopError)),
                             Analysis.ToolFailures(c, window).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures, x.TopError)));
            }
        }

        [Fact]
        public void AToolOrStepThatIsNoStringIsUnknownInTheSummariesAndInTheScanAlike()
        {
            // The import names a tool call's step from a string "tool" only (else "unknown"); the scan's SQL took any JSON
            // value, so a numeric tool failed the scan (an integer where a name was read) and a nested one was named by
            // its JSON text while the summaries said "unknown".
            using var t = TestPaths.NewTemp();
            using var c = ImportLines(t);
            var scan = new QueryFilter { Since = SummaryConsistencyTests.Scan.Since, ScanEvents = true };
            var scanned = Analysis.Bottlenecks(c, scan, 100);
            Assert.DoesNotContain(scanned, b => b.Name == "7" || b.Name == "true" || b.Name.StartsWith('{'));
            // The whole store (the import's summaries) and the event's whole day (the day summaries).
            var day = new QueryFilter { Since = Hour.Date, Until = Hour.Date.AddDays(1) };
            Assert.True(Analysis.FromDaySummaries(day));
            foreach (var summarised in new[] { new QueryFilter(), day })
            {
                Assert.Equal(scanned.Select(x => (x.Kind, x.Name, x.Count, x.TotalMs)), Analysis.Bottlenecks(c, summarised, 100).Select(x => (x.Kind, x.Name, x.Count, x.TotalMs)));
                Assert.Equal(Analysis.ToolFailures(c, scan).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures)),
                             Analysis.ToolFailures(c, summarised).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures)));
            }
        }

        [Fact]
        public void AShapesStepDependsOnTheSlotsThatHoldIt()
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            char P(int k, bool name) => MadfLog.Engine.Events.DetailsShape.Placeholder(k, name);
            long Shape(string text) => c.ExecuteScalar<long>("INSERT INTO names(text) VALUES (@text) RETURNING id", new { text });
            Assert.Equal(new[] { 1 }, DayParts.StepSlots(c, "tool_call", Shape($"{{\"tool\":{P(1, true)},\"id\":{P(2, false)}}}")));          // a names id
            Assert.Equal(new[] { 2 }, DayParts.StepSlots(c, "tool_call", Shape($"{{\"id\":{P(1, false)},\"tool\":\"mcp__{P(2, false)}\"}}"))); // a literal after a kept start
            Assert.Empty(DayParts.StepSlots(c, "tool_call", Shape($"{{\"target\":{P(1, true)}}}")));                                             // no tool
            Assert.Empty(DayParts.StepSlots(c, "tool_call", Shape($"{{\"tool\":\"Read\",\"target\":{P(1, true)}}}")));                          // in the shape itself
            Assert.Equal(new[] { 1 }, DayParts.StepSlots(c, "step", Shape($"{{\"step\":{P(1, false)},\"tool\":{P(2, true)}}}")));               // a step's key
            Assert.Equal(new[] { 3 }, DayParts.StepSlots(c, "tool_call", Shape($"{{\"a\":{P(1, false)},\"b\":{P(2, false)},{P(3, false)}}}")));  // members of the last slot
            char Packed(int j) => MadfLog.Engine.Events.DetailsShape.PackedPart(j, 2);
            Assert.Empty(DayParts.StepSlots(c, "tool_call", Shape($"{{\"tool\":\"Read\",\"a\":{P(1, false)},\"b\":{Packed(0)},\"c\":{Packed(1)}}}")));  // packed integers are no tool
            Assert.Equal(new[] { 3 }, DayParts.StepSlots(c, "tool_call", Shape($"{{\"a\":{P(1, false)},\"tool\":{Packed(0)},\"c\":{Packed(1)}}}")));     // but a tool's number depends on them
            Assert.Equal(new[] { 1 }, DayParts.StepSlots(c, "tool_call", -1));                                                                    // stored whole
        }
    }
}

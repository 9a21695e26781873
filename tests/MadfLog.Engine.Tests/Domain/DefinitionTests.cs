using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Insights;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Domain
{
    /// <summary>Each domain definition's C# predicate and SQL fragment agree, and every question uses the same one.</summary>
    public class DefinitionTests
    {
        private static void Write(string db, List<EventRow> rows)
        {
            using var c = MadfDatabase.Open(db);
            using var tx = c.BeginTransaction();
            ImportStages.Write(c, tx, rows);
            tx.Commit();
        }

        [Fact]
        public void AnErrorIsTheSameInCSharpInTheEventsAndInTheSummaries()
        {
            using var t = TestPaths.NewTemp();
            var rows = new List<EventRow>();
            var k = 0L;
            foreach (var success in new bool?[] { true, false, null })
                foreach (var category in new[] { "tool", Errors.CascadeCategory, "workflow" })
                    for (var i = 0; i < 3; i++)
                        rows.Add(new EventRow { Timestamp = 1_760_000_000_000 + k, EventType = "tool_call", Category = category, Success = success, DedupKey = ++k, Details = "{\"tool\":\"Bash\"}" });
            var expected = rows.Count(Errors.IsError);
            Assert.Equal(6, expected); // success false, tool or workflow: not cascades, not unknown outcomes
            Write(t.Db, rows);
            using var c = MadfDatabase.Open(t.Db);
            Assert.Equal(expected, c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {Errors.InEvents}"));
            Assert.Equal(expected, c.ExecuteScalar<long>($"SELECT sum(events) FROM event_rollup r WHERE {Errors.InRollup("r")}"));
            Assert.Equal(expected, c.ExecuteScalar<long>($"SELECT sum(events) FROM event_rollup WHERE {Errors.InRollup()}"));
        }

        [Fact]
        public void ErrorsAndHumanInteractionsAreMinedAndNothingElse()
        {
            Assert.True(Mining.IsMinable(new EventRow { EventType = "tool_call", Category = "tool", Success = false }));
            Assert.True(Mining.IsMinable(new EventRow { EventType = Mining.HumanInteraction, Category = "approval", Success = true }));
            Assert.False(Mining.IsMinable(new EventRow { EventType = "tool_call", Category = Errors.CascadeCategory, Success = false }));
            Assert.False(Mining.IsMinable(new EventRow { EventType = "tool_call", Category = "tool", Success = null }));
        }

        [Fact]
        public void HighContextIsTheSameInCSharpAndSql()
        {
            using var t = TestPaths.NewTemp();
            var values = new double?[] { null, 0, 79.99, HighContext.Percent, 80.01, 99.5 };
            Write(t.Db, values.Select((v, i) => new EventRow { Timestamp = 1_760_000_000_000 + i, EventType = "llm_call", Category = "model", ContextPercent = v, Success = true, DedupKey = i + 1 }).ToList());
            using var c = MadfDatabase.Open(t.Db);
            Assert.Equal(values.Count(HighContext.IsHigh), c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE {HighContext.Sql("e.context_percent")}"));
            Assert.Equal(2, values.Count(HighContext.IsHigh)); // exactly at the threshold is not above it
            Assert.Equal(2, c.ExecuteScalar<long>("SELECT sum(ctx_hot) FROM event_rollup"));
        }

        [Fact]
        public void TimeWastedIsTheSameInCSharpInSqlInTheSummariesTheirRebuildAndACutDay()
        {
            using var t = TestPaths.NewTemp();
            var noon = 20_400L * IsoWeeks.DayMs + 12 * 3_600_000;
            var rows = new List<EventRow>();
            foreach (var success in new bool?[] { true, false, null })
                foreach (var duration in new long?[] { null, 0, 700 })
                    foreach (var saved in new long?[] { null, -300, 0, 250 })
                        rows.Add(new EventRow { Timestamp = noon + rows.Count, EventType = "llm_call", Category = "model", AgentName = "dev", Success = success,
                                                DurationMs = duration, TimeSavedOrWastedMs = saved, DedupKey = rows.Count + 1 });
            var expected = rows.Sum(e => TimeWasted.Ms(e.Success, e.DurationMs, e.TimeSavedOrWastedMs));
            Assert.Equal(4 * 700 + 9 * 300, expected); // the failed durations, plus each reported waste
            Write(t.Db, rows);
            using var c = MadfDatabase.Open(t.Db);
            Assert.Equal(expected, c.ExecuteScalar<long>($"SELECT sum({TimeWasted.Sql("e.success", "e.duration_ms", "e.time_saved_or_wasted_ms")}) FROM events e"));
            Assert.Equal(expected, c.ExecuteScalar<long>("SELECT sum(wasted_ms) FROM event_rollup"));
            Assert.Equal(expected, c.ExecuteScalar<long>("SELECT sum(wasted_ms) FROM day_rollup"));
            // A window that cuts the events' day is summed from the day's groups; a scan reads the events.
            var since = DateTimeOffset.FromUnixTimeMilliseconds(noon - 3_600_000);
            Assert.Equal(expected, Analysis.AgentPerformance(c, new QueryFilter { Since = since }).Single().TimeWastedMs);
            Assert.Equal(expected, Analysis.AgentPerformance(c, new QueryFilter { Since = since, ScanEvents = true }).Single().TimeWastedMs);
            using var tx = c.BeginTransaction();
            c.Execute("UPDATE event_rollup SET wasted_ms = 0", transaction: tx);
            c.Execute("UPDATE day_rollup_cells SET wasted_ms = 0", transaction: tx);
            SummaryTables.Rebuild(c, tx);
            Assert.Equal(expected, c.ExecuteScalar<long>("SELECT sum(wasted_ms) FROM event_rollup", transaction: tx));
            Assert.Equal(expected, c.ExecuteScalar<long>("SELECT sum(wasted_ms) FROM day_rollup", transaction: tx));
            tx.Rollback();
        }

        [Fact]
        public void ATimestampsWeekIsTheSameAsItsDatesWeek()
        {
            // Every day from 1969 to 2031: the summaries' week key (days) and the week's Monday (a date) agree.
            for (var day = -400L; day < 22_700; day += 1)
            {
                var ms = day * IsoWeeks.DayMs + 12 * 3_600_000;
                var date = DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
                var monday = IsoWeeks.Monday(date);
                Assert.Equal(DayOfWeek.Monday, monday.DayOfWeek);
                Assert.Equal(new DateTime(1970, 1, 1).AddDays(IsoWeeks.MondayDay(ms)), monday);
                Assert.Equal(IsoWeeks.Name(monday), IsoWeeks.Name(ms));
            }
            Assert.Equal("2026-W53", IsoWeeks.Name(new DateTime(2026, 12, 28)));
            Assert.Equal("2026-W53", IsoWeeks.Name(new DateTime(2027, 1, 3)));
            Assert.Equal("2027-W01", IsoWeeks.Name(new DateTime(2027, 1, 4)));
            Assert.Equal("2025-W01", IsoWeeks.Name(new DateTime(2024, 12, 30)));
        }

        [Fact]
        public void AToolCallWithoutAToolHasOneNameInSequencesToolFailuresAndBottlenecks()
        {
            using var t = TestPaths.NewTemp();
            var rows = new List<EventRow>();
            var k = 0L;
            void Add(string session, string? tool, bool ok) => rows.Add(new EventRow
            {
                Timestamp = 1_760_000_000_000 + k * 1000, EventType = "tool_call", Category = "tool", SessionId = session, Success = ok, DurationMs = 100,
                DedupKey = ++k, Details = tool == null ? "{\"message\":\"it broke\"}" : "{\"tool\":\"" + tool + "\"}",
            });
            foreach (var s in new[] { "a", "b" })
            {
                Add(s, "Edit", true); Add(s, "Read", true); Add(s, "Write", true); Add(s, null, false);
            }
            Write(t.Db, rows);
            using var c = MadfDatabase.Open(t.Db);
            var lead = Assert.Single(PatternAnalysis.ErrorSequences(c, new QueryFilter(), minSupport: 2), s => s.Kind == "LeadsToError");
            Assert.StartsWith($"Edit → Read → Write → {Steps.UnnamedTool} ✗", lead.Sequence);
            Assert.Contains(Analysis.ToolFailures(c, new QueryFilter()), f => f.Tool == Steps.UnnamedTool && f.Failures == 2);
            Assert.Contains(Analysis.ToolFailures(c, new QueryFilter { Since = DateTimeOffset.FromUnixTimeMilliseconds(0) }), f => f.Tool == Steps.UnnamedTool && f.Failures == 2);
            Assert.Contains(Analysis.Bottlenecks(c, new QueryFilter()), b => b.Name == Steps.UnnamedTool);
        }

        [Fact]
        public void TheReportsWeeklyErrorCountsUseIsoWeeksAcrossNewYear()
        {
            using var t = TestPaths.NewTemp();
            using (var c = MadfDatabase.Open(t.Db))
                c.Execute("INSERT INTO patterns(id, template, token_count, error_class, created, display) VALUES (1, 'x', 1, 'TestFailure', 0, 'pytest failed: <*>')");
            // Monday 28 December 2026 and Friday 1 January 2027 are one ISO week (2026-W53); Tuesday 5 January is the next.
            var days = new[] { new DateTime(2026, 12, 28, 10, 0, 0), new DateTime(2027, 1, 1, 10, 0, 0), new DateTime(2027, 1, 5, 10, 0, 0) };
            Write(t.Db, days.Select((d, i) => new EventRow
            {
                Timestamp = new DateTimeOffset(d, TimeSpan.Zero).ToUnixTimeMilliseconds(), EventType = "tool_call", Category = "tool", Success = false, PatternId = 1,
                DedupKey = i + 1, Details = "{\"tool\":\"Bash\"}", // no message: nothing to mine, the pattern stays 1
            }).ToList());
            var html = HtmlReport.Build(t.Db, new QueryFilter(), new DateTimeOffset(2027, 1, 6, 0, 0, 0, TimeSpan.Zero));
            var spark = Regex.Match(html, "aria-label=\"P1 errors per week\".*?points=\"([^\"]*)\"").Groups[1].Value;
            Assert.Equal(2, spark.Split(' ').Length);
        }
    }
}

using System;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Import;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Store;
using MadfLog.Engine.Tests.Query;
using Xunit;

namespace MadfLog.Engine.Tests.Rules
{
    /// <summary>
    /// Rule effectiveness counts a window's events by session, error pattern and step from event_rows, naming each step
    /// once per key of its details' shape and values: the counts must be the events view's, however details hold the name.
    /// </summary>
    public class WindowRowsTests
    {
        [Fact]
        public void AWindowsCountsBySessionPatternAndStepAreTheViews()
        {
            using var t = TestPaths.NewTemp();
            var logs = t.File("logs");
            Directory.CreateDirectory(logs);
            // Every way details hold a tool's or step's name (CutHourStepsTests), and errors with patterns, without a
            // session, of other event types.
            var lines = CutHourStepsTests.Lines();
            var at = new DateTimeOffset(2026, 11, 3, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
            for (var i = 0; i < 40; i++)
                lines.Add($"{{\"timestamp\":{at + 1000 * i},\"event_type\":\"{(i % 4 == 3 ? "llm_call" : "tool_call")}\",\"category\":\"tool\"," +
                          (i % 3 == 0 ? "" : $"\"session_id\":\"e{i % 2}\",") + $"\"agent_name\":\"a{i % 3}\",\"success\":{(i % 2 == 0 ? "false" : "true")}," +
                          $"\"details\":{{\"tool\":\"{(i % 5 == 0 ? "Bash" : "Read")}\",\"message\":\"{(i % 4 == 0 ? "File does not exist: x" + i + ".py" : "Permission denied: /etc/p" + i)}\"}}}}");
            File.WriteAllLines(Path.Combine(logs, "events.jsonl"), lines);
            var imported = new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs });
            Assert.Equal(lines.Count, imported.Imported);

            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var (from, to) = (at - 3_600_000, at + 3_600_000);
            var view = c.Query<(string? session, long pattern, string? step, long n)>(
                    $@"SELECT e.session_id, CASE WHEN {Errors.InEvents} THEN coalesce(e.pattern_id, 0) ELSE {WindowRows.NotAnError} END,
                              CASE WHEN e.event_type IN ('tool_call', 'step') THEN {Steps.KindSql} || char(31) || {Steps.NameSql} END, count(*)
                       FROM events e WHERE e.timestamp >= @from AND e.timestamp < @to GROUP BY 1, 2, 3", new { from, to })
                .Select(r => $"{r.session}|{r.pattern}|{r.step}|{r.n}").OrderBy(x => x, StringComparer.Ordinal).ToList();
            var read = WindowRows.Read(c, from, to).Select(r => $"{r.Session}|{r.Pattern}|{r.Step}|{r.N}").OrderBy(x => x, StringComparer.Ordinal).ToList();

            Assert.Equal(view, read);
            // The case is not trivial: patterned errors, events without a session, and tools named in every way are there.
            Assert.Contains(read, r => r[0] == '|');
            Assert.True(read.Select(r => r.Split('|')[1]).Distinct().Count() >= 3);
            Assert.True(read.Select(r => r.Split('|')[2]).Distinct().Count() >= 12);
        }
    }
}

using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Xunit;

namespace MadfLog.Module.Tests
{
    /// <summary>-IncludeArchive as a user calls it: after retention, every question answers as it did before the events were archived.</summary>
    [Collection("module")]
    public class IncludeArchiveModuleTests : IDisposable
    {
        private readonly ModuleFixture _m;
        private readonly Temp _t = new Temp();
        private readonly Hashtable _vars;

        // Every question cmdlet, with the filters a user gives: the whole store, a story and a week.
        private static readonly string[] Questions =
        {
            "Get-MadfErrorSummary", "Get-MadfErrorSummary -Story 1.1", "Get-MadfAgentPerformance", "Get-MadfAgentPerformance -Since 2026-11-02 -Until 2026-11-05",
            "Get-MadfBottleneck", "Get-MadfBottleneck -Story 1.1", "Get-MadfTrend", "Get-MadfHumanInteraction", "Get-MadfToolFailure -Story 1.1",
            "Get-MadfSession", "Get-MadfSession -Since 2026-11-02 -Until 2026-11-05", "Get-MadfContextPressure", "Get-MadfErrorPattern", "Get-MadfErrorPattern -Story 1.1",
            "Get-MadfErrorSequence", "Compare-MadfStory 1.1 1.2", "Get-MadfEvent -First 200", "Get-MadfEvent -Story 1.1 -First 50",
        };

        public IncludeArchiveModuleTests(ModuleFixture m)
        {
            _m = m;
            // Keep from about 2026-11-05 (the sample logs cover 2026-11-02..07), whatever today is: story 1.1 is archived whole.
            var days = (int)(DateTime.UtcNow.Date - new DateTime(2026, 11, 5)).TotalDays;
            _vars = new Hashtable { ["db"] = _t.Db, ["logs"] = Path.Combine(ModuleFixture.RepoRoot, "examples", "logs"), ["live"] = _t.File("live"), ["arch"] = _t.File("archive"), ["days"] = days };
            Directory.CreateDirectory(_t.File("live"));
            Assert.Empty(_m.Run("Import-MadfLog $logs -Database $db | Out-Null", _vars).AllErrors);
        }

        public void Dispose() => _t.Dispose();

        private string Answer(string cmd, string switches = "")
        {
            var r = _m.Run($"{cmd} -Database $db {switches}", _vars);
            Assert.True(!r.AllErrors.Any(), cmd + ": " + string.Join("; ", r.AllErrors));
            return string.Join("\n", r.Output.Select(o => Text(o, 3)));
        }

        // An object with every property, nested objects and lists too, as text.
        private static string Text(object? value, int depth)
        {
            if (value is PSObject ps) value = ps.BaseObject;
            if (value == null) return "null";
            if (value is string || value.GetType().IsPrimitive || value is DateTime || value is decimal || depth == 0) return Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!;
            if (value is IDictionary d) return "{" + string.Join(",", d.Keys.Cast<object>().Select(k => k + "=" + Text(d[k], depth - 1)).OrderBy(x => x, StringComparer.Ordinal)) + "}";
            if (value is IEnumerable e) return "[" + string.Join(",", e.Cast<object>().Select(x => Text(x, depth - 1))) + "]";
            return "{" + string.Join(",", PSObject.AsPSObject(value).Properties.Select(p => p.Name + "=" + Text(p.Value, depth - 1))) + "}";
        }

        private void Rotate()
        {
            var rotation = _m.Run("Invoke-MadfRotation -Database $db -LogPath $live -ArchivePath $arch -RetentionDays $days -Confirm:$false", _vars);
            Assert.Empty(rotation.AllErrors);
            Assert.True((long)rotation.Output[0].Properties["EventsMoved"].Value > 0);
        }

        [Fact]
        public void AfterRetentionEveryQuestionWithIncludeArchiveAnswersAsBeforeAndItsBriefSaysSo()
        {
            var before = Questions.ToDictionary(q => q, q => Answer(q));
            var briefs = Questions.Where(q => !q.StartsWith("Get-MadfEvent", StringComparison.Ordinal)).ToDictionary(q => q, q => (string)_m.Run(q + " -Database $db -Brief", _vars).Output.Single().BaseObject);
            Rotate();
            foreach (var q in Questions)
            {
                Assert.True(before[q].Length > 10, q);
                Assert.Equal(before[q], Answer(q, "-IncludeArchive"));
            }
            foreach (var (q, brief) in briefs)
            {
                var r = _m.Run(q + " -Database $db -Brief -IncludeArchive", _vars);
                Assert.True(!r.AllErrors.Any(), q + ": " + string.Join("; ", r.AllErrors));
                var text = (string)r.Output.Single().BaseObject;
                Assert.StartsWith("All events: the active store and ", text);
                Assert.EndsWith("\n" + brief, text);
            }
            // Without it, the active window only: story 1.1 is not found, and the error says why.
            var archived = _m.Run("Get-MadfErrorSummary -Story 1.1 -Database $db", _vars);
            Assert.Contains("Active window from ", Assert.Single(archived.AllErrors).ToString());
            Assert.NotEqual(before["Get-MadfTrend"], Answer("Get-MadfTrend"));
            // The report too.
            _vars["report"] = _t.File("report.html");
            var report = _m.Run("Export-MadfReport $report -Database $db -IncludeArchive", _vars);
            Assert.Empty(report.AllErrors);
            Assert.Contains("story 1.2 vs 1.1", File.ReadAllText(_t.File("report.html"))); // with the story archived whole
            Assert.Empty(_m.Run("Get-MadfRuleEffectiveness -Database $db -IncludeArchive", _vars).AllErrors);
            // Get-MadfStorage counts the cache.
            var storage = _m.Run("Get-MadfStorage -Database $db", _vars);
            Assert.True((long)storage.Output[0].Properties["CombinedCacheBytes"].Value > 0);
        }

        [Fact]
        public void WithIncludeArchiveStoriesCompleteFromTheArchivesToo()
        {
            Rotate();
            string[] Complete(string switches)
            {
                var script = "Get-MadfErrorSummary -Database '" + _t.Db.Replace("'", "''") + "' " + switches + "-Story ";
                var r = _m.Run("(TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches | ForEach-Object CompletionText", new Hashtable { ["s"] = script });
                Assert.Empty(r.AllErrors);
                return r.Output.Select(o => o.ToString()).ToArray();
            }
            Assert.Equal(new[] { "1.2" }, Complete("")); // 1.1 is archived whole
            Assert.Equal(new[] { "1.1", "1.2" }, Complete("-IncludeArchive "));
        }

        [Fact]
        public void AMissingOrDamagedArchiveIsAnErrorNamingTheFile()
        {
            Rotate();
            var archive = Directory.GetFiles(_t.File("archive"), "madflog-*.db").Single();
            File.WriteAllText(archive, new string('x', 5000));
            var damaged = Assert.Single(_m.Run("Get-MadfAgentPerformance -Database $db -IncludeArchive", _vars).AllErrors);
            Assert.Equal("ArchiveUnreadable,MadfLog.Commands.Query.GetMadfAgentPerformanceCommand", damaged.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidData, damaged.CategoryInfo.Category);
            Assert.Contains(archive, damaged.ToString());
            File.Delete(archive);
            var missing = Assert.Single(_m.Run("Compare-MadfStory 1.1 1.2 -Database $db -IncludeArchive", _vars).AllErrors);
            Assert.Equal("ArchiveNotFound,MadfLog.Commands.Query.CompareMadfStoryCommand", missing.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, missing.CategoryInfo.Category);
            Assert.Contains(archive, missing.ToString());
            // The active window is still answered.
            Assert.Empty(_m.Run("Get-MadfAgentPerformance -Database $db", _vars).AllErrors);
        }
    }
}

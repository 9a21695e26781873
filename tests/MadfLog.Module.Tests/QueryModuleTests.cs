using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Xunit;

namespace MadfLog.Module.Tests
{
    /// <summary>The analysis cmdlets on the bundled sample logs, imported once.</summary>
    [Collection("module")]
    public class QueryModuleTests : IDisposable
    {
        private readonly ModuleFixture _m;
        private readonly Temp _t = new Temp();
        private Hashtable Vars => new Hashtable { ["db"] = _t.Db };

        public QueryModuleTests(ModuleFixture m)
        {
            _m = m;
            var r = _m.Run("Import-MadfLog $logs -Database $db | Out-Null", new Hashtable { ["logs"] = Path.Combine(ModuleFixture.RepoRoot, "examples", "logs"), ["db"] = _t.Db });
            Assert.Empty(r.AllErrors);
        }

        public void Dispose() => _t.Dispose();

        [Fact]
        public void ErrorSummaryObjectsFilterInThePipeline()
        {
            var r = _m.Run("Get-MadfErrorSummary -Database $db | Where-Object Count -gt 50", Vars);
            Assert.Empty(r.AllErrors);
            Assert.InRange(r.Output.Count, 3, 10);
            Assert.All(r.Output, o => Assert.True((long)o.Properties["Count"].Value > 50));
            Assert.Equal("MadfLog.Engine.Query.ErrorSummaryItem", r.Output[0].TypeNames[0]);
        }

        [Fact]
        public void StoryBindsFromThePipelineByPropertyName()
        {
            var r = _m.Run("[pscustomobject]@{ Story = '1.2' }, [pscustomobject]@{ StoryId = '1.1' } | Get-MadfTrend -Database $db | Where-Object Kind -eq Story", Vars);
            Assert.Empty(r.AllErrors);
            Assert.Equal(new[] { "1.2", "1.1" }, r.Output.Select(o => (string)o.Properties["Period"].Value));
            var sessions = _m.Run("Get-MadfSession -Database $db -Story 1.2 | Get-MadfEvent -Database $db -First 1", Vars);
            Assert.Empty(sessions.AllErrors);
            Assert.All(sessions.Output, o => Assert.Equal("1.2", o.Properties["StoryId"].Value));
        }

        [Fact]
        public void BriefsAreOneStringEach()
        {
            foreach (var cmd in new[] { "Get-MadfErrorSummary", "Get-MadfAgentPerformance", "Get-MadfBottleneck", "Get-MadfTrend", "Get-MadfHumanInteraction",
                                        "Get-MadfToolFailure", "Get-MadfSession", "Get-MadfContextPressure", "Compare-MadfStory 1.1 1.2" })
            {
                var r = _m.Run(cmd + " -Database $db -Brief", Vars);
                Assert.Empty(r.AllErrors);
                var text = Assert.IsType<string>(Assert.Single(r.Output).BaseObject);
                Assert.Matches(@"\d", text);
            }
            var compare = (string)_m.Run("Compare-MadfStory -ReferenceStory 1.1 -DifferenceStory 1.2 -Database $db -Brief", Vars).Output[0].BaseObject;
            Assert.StartsWith("Repeated errors changed by -", compare);
        }

        [Fact]
        public void AfterRetentionEveryBriefSaysItCoversTheActiveWindowAndItsCountsAgree()
        {
            // Keep from about 2026-11-05 (the sample logs cover 2026-11-02..07), whatever today is.
            var days = (int)(DateTime.UtcNow.Date - new DateTime(2026, 11, 5)).TotalDays;
            var vars = new Hashtable { ["db"] = _t.Db, ["live"] = Path.Combine(Path.GetDirectoryName(_t.Db)!, "live"), ["arch"] = Path.Combine(Path.GetDirectoryName(_t.Db)!, "arch"), ["days"] = days };
            Directory.CreateDirectory((string)vars["live"]!);
            var rotation = _m.Run("Invoke-MadfRotation -Database $db -LogPath $live -ArchivePath $arch -RetentionDays $days -Confirm:$false", vars);
            Assert.Empty(rotation.AllErrors);
            Assert.True((long)rotation.Output[0].Properties["EventsMoved"].Value > 0);
            foreach (var cmd in new[] { "Get-MadfErrorSummary", "Get-MadfErrorSummary -Story 1.2", "Get-MadfAgentPerformance", "Get-MadfBottleneck", "Get-MadfTrend",
                                        "Get-MadfToolFailure", "Get-MadfSession", "Get-MadfContextPressure", "Get-MadfErrorPattern", "Compare-MadfStory 1.1 1.2" })
            {
                var r = _m.Run(cmd + " -Database $db -Brief", vars);
                Assert.True(r.Output.Count == 1, cmd + ": " + string.Join("; ", r.AllErrors));
                Assert.StartsWith("Active window from ", Assert.IsType<string>(r.Output[0].BaseObject));
            }
            // A story whose events were all archived is not found, and the error says the window.
            var archived = _m.Run("Get-MadfErrorSummary -Story 1.1 -Database $db -Brief", vars);
            Assert.Empty(archived.Output);
            Assert.Contains("Active window from ", Assert.Single(archived.AllErrors).ToString());
            // The headline's errors are the patterns' counts: "N in M events", then each pattern's "share (count)".
            var summary = (string)_m.Run("Get-MadfErrorSummary -Database $db -Brief", vars).Output[0].BaseObject;
            var errors = long.Parse(System.Text.RegularExpressions.Regex.Match(summary, @"\): (\d+) in \d+ events").Groups[1].Value);
            var objects = _m.Run("Get-MadfErrorSummary -Database $db -Top 100000", vars);
            Assert.Empty(objects.AllErrors);
            Assert.True(errors > 0);
            Assert.Equal(errors, objects.Output.Sum(o => (long)o.Properties["Count"].Value));
        }

        [Fact]
        public void StoriesAndAgentsCompleteFromTheDatabase()
        {
            var script = "Get-MadfErrorSummary -Database '" + _t.Db.Replace("'", "''") + "' -Story ";
            var r = _m.Run("(TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches | ForEach-Object CompletionText", new Hashtable { ["s"] = script });
            Assert.Empty(r.AllErrors);
            Assert.Equal(new[] { "1.1", "1.2" }, r.Output.Select(o => o.ToString()));
            var agents = "Get-MadfAgentPerformance -Database '" + _t.Db.Replace("'", "''") + "' -Agent d";
            var a = _m.Run("(TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches | ForEach-Object CompletionText", new Hashtable { ["s"] = agents });
            Assert.Equal(new[] { "dev" }, a.Output.Select(o => o.ToString()));
        }

        [Fact]
        public void UnknownStoriesWarn()
        {
            var r = _m.Run("Compare-MadfStory 1.1 9.9 -Database $db", Vars);
            Assert.Contains(r.Warnings, w => w.Contains("9.9"));
        }
    }
}

using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using Xunit;

namespace MadfLog.Module.Tests
{
    /// <summary>
    /// The one plumbing path of the long cmdlets (issue #17 item 8): Import-MadfLog, Invoke-MadfRevision and
    /// Invoke-MadfRotation run the engine off the pipeline thread through MadfCmdlet.RunInBackground, which writes their
    /// progress and issues and turns Ctrl+C (PowerShell.Stop) into cancellation.
    /// </summary>
    [Collection("module")]
    public class BackgroundWorkModuleTests
    {
        private readonly ModuleFixture _m;
        public BackgroundWorkModuleTests(ModuleFixture m) { _m = m; }

        private static string Line(int i) =>
            "{\"timestamp\":\"2026-11-20T" + (i / 3600 % 24).ToString("00") + ":" + (i / 60 % 60).ToString("00") + ":" + (i % 60).ToString("00") +
            "Z\",\"event_type\":\"tool_call\",\"category\":\"execution\",\"story_id\":\"1.1\",\"agent_name\":\"dev\",\"session_id\":\"s" + (i / 1000) +
            "\",\"success\":" + (i % 7 == 0 ? "false" : "true") + ",\"details\":{\"message\":\"step " + i + " of the long run\"}}";

        [Fact]
        public void CtrlCStopsAnImportWithProgressShownAndTheNextRunImportsTheRestExactlyOnce()
        {
            using var t = new Temp();
            const int files = 6, perFile = 60_000;
            for (var f = 0; f < files; f++)
                File.WriteAllLines(t.File($"big-{f}.jsonl"), Enumerable.Range(f * perFile, perFile).Select(Line));

            using var ps = PowerShell.Create();
            ps.Runspace = _m.Runspace;
            ps.AddScript("Import-MadfLog -Path $args[0] -Database $args[1]").AddArgument(t.Path).AddArgument(t.Db);
            var progressed = new ManualResetEventSlim();
            ps.Streams.Progress.DataAdded += (s, e) => progressed.Set();
            var running = ps.BeginInvoke();
            Assert.True(progressed.Wait(TimeSpan.FromSeconds(60)), "no progress was written");
            ps.Stop();
            Assert.True(running.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "the import did not stop");
            Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
            Assert.All(ps.Streams.Progress, p => Assert.Equal("Import-MadfLog", p.Activity));

            // Whatever was committed stays; the next run imports the rest, and nothing twice.
            var before = Count(t.Db);
            Assert.True(before < files * perFile, $"the stopped import had already imported everything ({before})");
            // Nothing goes on writing after the cmdlet returned.
            Thread.Sleep(1500);
            Assert.Equal(before, Count(t.Db));
            var again = _m.Run("Import-MadfLog -Path $dir -Database $db", new Hashtable { ["dir"] = t.Path, ["db"] = t.Db });
            Assert.Empty(again.AllErrors);
            Assert.Equal((long)files * perFile, Count(t.Db));
        }

        [Fact]
        public void RotationAndRevisionAskShouldProcessOnThePipelineThreadAndChangeNothingUnderWhatIf()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("madf-2026-11-02.jsonl"), Enumerable.Range(0, 50).Select(Line));
            var vars = new Hashtable { ["dir"] = t.Path, ["db"] = t.Db, ["archive"] = t.File("archive") };
            Assert.Empty(_m.Run("Import-MadfLog -Path $dir -Database $db", vars).AllErrors);
            var bytes = File.ReadAllBytes(t.Db);
            // -WhatIf answers come from the pipeline thread (a worker thread asking would throw); the engine's steps ask
            // them from its own thread through RunInBackground.
            var rotation = _m.Run("Invoke-MadfRotation -Database $db -LogPath $dir -ArchivePath $archive -RetentionDays 1 -WhatIf", vars);
            Assert.Empty(rotation.AllErrors);
            var revision = _m.Run("Invoke-MadfRevision -Database $db -Since 2026-11-01 -NoImport -WhatIf -WarningAction SilentlyContinue", vars);
            Assert.Empty(revision.AllErrors);
            Assert.True(File.Exists(t.File("madf-2026-11-02.jsonl")));
            Assert.False(Directory.Exists(t.File("archive")));
            Assert.Equal(bytes.Length, File.ReadAllBytes(t.Db).Length);
        }

        [Fact]
        public void AQuestionOpensTheDatabaseOncePerPipelineNotPerRecord()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("a.jsonl"), Enumerable.Range(0, 70).Select(Line));
            var vars = new Hashtable { ["dir"] = t.Path, ["db"] = t.Db };
            Assert.Empty(_m.Run("Import-MadfLog -Path $dir -Database $db", vars).AllErrors);
            var once = _m.Run("Get-MadfErrorSummary -Database $db -Story 1.1", vars);
            Assert.NotEmpty(once.Output);

            // The second record arrives after the file is gone: only a connection kept from the first can answer it
            // (opening per record would be DatabaseNotFound). Linux lets an open file be deleted.
            var piped = _m.Run("'1.1', '1.1' | ForEach-Object -Begin { $n = 0 } -Process { if ($n++ -eq 1) { [IO.File]::Delete($db) }; [pscustomobject]@{ Story = $_ } } | Get-MadfErrorSummary -Database $db", vars);
            Assert.False(File.Exists(t.Db));
            Assert.Empty(piped.AllErrors);
            Assert.Equal(2 * once.Output.Count, piped.Output.Count);
        }

        /// <summary>Events in the store (0 when the stopped run committed nothing yet).</summary>
        private long Count(string db) =>
            _m.Run("Get-MadfAgentPerformance -Database $db", new Hashtable { ["db"] = db }).Output.Sum(o => Convert.ToInt64(o.Properties["Events"].Value));
    }
}

using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Collections.Generic;
using Xunit;

namespace MadfLog.Module.Tests
{
    [Collection("module")]
    public class ImportModuleTests
    {
        private readonly ModuleFixture _m;
        public ImportModuleTests(ModuleFixture m) { _m = m; }

        private static string Line(int i, bool success = true) =>
            "{\"timestamp\":\"2026-11-20T10:00:" + (i % 60).ToString("00") + "Z\",\"event_type\":\"tool_call\",\"category\":\"execution\",\"story_id\":\"1.1\",\"agent_name\":\"dev\",\"success\":" +
            (success ? "true" : "false") + ",\"details\":{\"message\":\"m" + i + "\"}}";

        [Fact]
        public void TheTestHostDoesNotCarryItsOwnSqlite()
        {
            // Otherwise a broken native layout in out/MadfLog would be hidden by this host's copy.
            var deps = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "MadfLog.Module.Tests.deps.json"));
            Assert.DoesNotContain("Microsoft.Data.Sqlite", deps);
            Assert.DoesNotContain("SQLitePCLRaw", deps);
            Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "MadfLog.Engine.dll")));
        }

        [Fact]
        public void TheBuiltManifestIsValidAndExportsExplicitCmdlets()
        {
            var r = _m.Run("Test-ModuleManifest -Path $p", new Hashtable { ["p"] = _m.ManifestPath });
            Assert.Empty(r.AllErrors);
            var info = (PSModuleInfo)r.Output.Single().BaseObject;
            Assert.Equal("MadfLog", info.Name);
            Assert.Contains("Desktop", info.CompatiblePSEditions);
            Assert.Contains("Core", info.CompatiblePSEditions);
            Assert.Equal(new Version(5, 1), info.PowerShellVersion);
            var manifest = File.ReadAllText(_m.ManifestPath);
            Assert.DoesNotContain("'*'", manifest);
            foreach (var name in new[] { "Import-MadfLog", "Write-MadfEvent", "Get-MadfQuarantine" })
                Assert.Contains(name, _m.Module.ExportedCmdlets.Keys);
            // Every exported cmdlet is listed explicitly, and every listed one exists.
            Assert.Equal(info.ExportedCmdlets.Keys.OrderBy(k => k), _m.Module.ExportedCmdlets.Keys.OrderBy(k => k));
        }

        [Fact]
        public void ImportResultsFlowThroughWhereObject()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("good.jsonl"), Enumerable.Range(0, 5).Select(i => Line(i)));
            File.WriteAllLines(t.File("bad.jsonl"), new[] { Line(10), "{broken", Line(11) });
            var r = _m.Run("Import-MadfLog -Path $dir -Database $db -ErrorAction SilentlyContinue | Where-Object Quarantined -gt 0",
                new Hashtable { ["dir"] = t.Path, ["db"] = t.Db });
            var result = Assert.Single(r.Output);
            Assert.Equal(7L, result.Properties["Imported"].Value);
            Assert.Equal(1L, result.Properties["Quarantined"].Value);
            Assert.Equal("MadfLog.Engine.Import.ImportResult", result.TypeNames[0]);
        }

        [Fact]
        public void AQuarantinedLineIsANonTerminatingErrorNamingFileAndLine()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("bad.jsonl"), new[] { Line(1), "{broken", Line(2) });
            var r = _m.Run("Import-MadfLog -LiteralPath $f -Database $db", new Hashtable { ["f"] = t.File("bad.jsonl"), ["db"] = t.Db });
            var error = Assert.Single(r.Errors);
            Assert.Equal("LineQuarantined,MadfLog.Commands.Import.ImportMadfLogCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
            Assert.Contains("bad.jsonl:2:", error.Exception.Message);
            Assert.Single(r.Output); // the run still returns its result

            var q = _m.Run("Get-MadfQuarantine -Database $db", new Hashtable { ["db"] = t.Db });
            var line = Assert.Single(q.Output);
            Assert.Equal("{broken", line.Properties["Raw"].Value);
            Assert.Equal(2L, line.Properties["Line"].Value);
        }

        [Fact]
        public void PathsBindFromThePipelineByPropertyName()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("a.jsonl"), new[] { Line(1) });
            File.WriteAllLines(t.File("b.jsonl"), new[] { Line(2) });
            var r = _m.Run(@"@([pscustomobject]@{ PSPath = $a }, [pscustomobject]@{ PSPath = $b }) | Import-MadfLog -Database $db",
                new Hashtable { ["a"] = t.File("a.jsonl"), ["b"] = t.File("b.jsonl"), ["db"] = t.Db });
            Assert.Empty(r.AllErrors);
            var result = Assert.Single(r.Output); // one run for the whole pipeline
            Assert.Equal(2, result.Properties["Files"].Value);
            Assert.Equal(2L, result.Properties["Imported"].Value);
        }

        [Fact]
        public void WildcardsAndRelativePathsResolveAgainstThePowerShellLocation()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("madf-1.jsonl"), new[] { Line(1) });
            File.WriteAllLines(t.File("madf-2.jsonl"), new[] { Line(2) });
            File.WriteAllLines(t.File("other.jsonl"), new[] { Line(3) });
            var r = _m.Run("$here = $PWD.Path; $ExecutionContext.SessionState.Path.SetLocation($dir) | Out-Null; try { Import-MadfLog madf-*.jsonl -Database ./rel.db } finally { $ExecutionContext.SessionState.Path.SetLocation($here) | Out-Null }",
                new Hashtable { ["dir"] = t.Path });
            Assert.Empty(r.AllErrors);
            Assert.Equal(2L, Assert.Single(r.Output).Properties["Imported"].Value);
            Assert.True(File.Exists(t.File("rel.db")));
        }

        [Fact]
        public void WhatIfReadsAndWritesNothing()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("a.jsonl"), new[] { Line(1) });
            var r = _m.Run("Import-MadfLog $f -Database $db -WhatIf", new Hashtable { ["f"] = t.File("a.jsonl"), ["db"] = t.Db });
            Assert.Empty(r.AllErrors);
            Assert.Empty(r.Output);
            var after = _m.Run("Import-MadfLog $f -Database $db", new Hashtable { ["f"] = t.File("a.jsonl"), ["db"] = t.Db });
            Assert.Equal(1L, Assert.Single(after.Output).Properties["Imported"].Value);
        }

        [Fact]
        public void AMissingPathIsAnObjectNotFoundError()
        {
            using var t = new Temp();
            var r = _m.Run("Import-MadfLog -Path $f -Database $db", new Hashtable { ["f"] = t.File("nope.jsonl"), ["db"] = t.Db });
            var e = Assert.Single(r.Errors);
            Assert.Equal("PathNotFound,MadfLog.Commands.Import.ImportMadfLogCommand", e.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
            Assert.Empty(r.Output);
        }

        [Fact]
        public void ADatabaseThatIsNotADatabaseIsATerminatingErrorWithItsOwnId()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("a.jsonl"), new[] { Line(1) });
            File.WriteAllText(t.Db, new string('x', 4096));
            var r = _m.Run("Import-MadfLog $f -Database $db", new Hashtable { ["f"] = t.File("a.jsonl"), ["db"] = t.Db });
            var e = Assert.Single(r.AllErrors);
            Assert.Equal("DatabaseNotMadfLog,MadfLog.Commands.Import.ImportMadfLogCommand", e.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);
            Assert.Contains(t.Db, e.Exception.Message);
        }

        [Fact]
        public void ADatabaseDamagedPastItsSchemaFailsAQueryWithItsOwnErrorId()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("a.jsonl"), Enumerable.Range(0, 20000).Select(i => Line(i, i % 3 != 0)));
            Assert.Empty(_m.Run("Import-MadfLog $f -Database $db | Out-Null", new Hashtable { ["f"] = t.File("a.jsonl"), ["db"] = t.Db }).AllErrors);
            // The schema is at the front of the file (migrations ran first): damage the pages after it, which hold the events
            // and summaries, so the database opens and the query is what meets the damage.
            using (var fs = new FileStream(t.Db, FileMode.Open, FileAccess.Write))
            {
                var junk = Enumerable.Repeat((byte)0xA5, (int)(fs.Length / 2)).ToArray();
                fs.Position = fs.Length / 3;
                fs.Write(junk, 0, junk.Length);
            }
            var r = _m.Run("Get-MadfErrorSummary -Database $db -Since ([datetime]'2026-11-01')", new Hashtable { ["db"] = t.Db });
            var e = Assert.Single(r.AllErrors);
            Assert.Equal("DatabaseCorrupt,MadfLog.Commands.Query.GetMadfErrorSummaryCommand", e.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);
            Assert.Contains(t.Db, e.Exception.Message);
        }

        [Fact]
        public void AReadOnlyDatabaseIsAPermissionDeniedError()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("a.jsonl"), new[] { Line(1) });
            _m.Run("Import-MadfLog $f -Database $db", new Hashtable { ["f"] = t.File("a.jsonl"), ["db"] = t.Db });
            File.WriteAllLines(t.File("b.jsonl"), new[] { Line(2) });
            File.SetAttributes(t.Db, FileAttributes.ReadOnly);
            try
            {
                var r = _m.Run("Import-MadfLog $f -Database $db", new Hashtable { ["f"] = t.File("b.jsonl"), ["db"] = t.Db });
                var e = Assert.Single(r.AllErrors);
                Assert.StartsWith("DatabaseReadOnly,", e.FullyQualifiedErrorId);
                Assert.Equal(ErrorCategory.PermissionDenied, e.CategoryInfo.Category);
            }
            finally { File.SetAttributes(t.Db, FileAttributes.Normal); }
        }

        [Fact]
        public void WriteMadfEventAppendsLinesThatImportBack()
        {
            using var t = new Temp();
            var r = _m.Run(@"
                Write-MadfEvent -EventType tool_call -Category error -Message 'File does not exist: src/a.py' -Agent dev -Story 1.2 -Success $false -DurationMs 40 -Details @{ tool = 'Read'; attempt = 2 } -LogPath $logs
                [pscustomobject]@{ EventType = 'step'; Category = 'workflow'; AgentName = 'sm'; StoryId = '1.2'; Success = $true } | Write-MadfEvent -LogPath $logs -PassThru
                Import-MadfLog -Path $logs -Database $db",
                new Hashtable { ["logs"] = t.File("logs"), ["db"] = t.Db });
            Assert.Empty(r.AllErrors);
            var file = Assert.IsType<FileInfo>(r.Output[0].BaseObject);
            Assert.Matches(@"^madf-\d{4}-\d{2}-\d{2}\.jsonl$", file.Name);
            var lines = File.ReadAllLines(file.FullName);
            Assert.Equal(2, lines.Length);
            using (var doc = System.Text.Json.JsonDocument.Parse(lines[0]))
            {
                var details = doc.RootElement.GetProperty("details");
                Assert.Equal("Read", details.GetProperty("tool").GetString());
                Assert.Equal(2, details.GetProperty("attempt").GetInt32());
                Assert.Equal("File does not exist: src/a.py", details.GetProperty("message").GetString());
                Assert.False(doc.RootElement.GetProperty("success").GetBoolean());
            }
            Assert.Equal(2L, r.Output[1].Properties["Imported"].Value);
            Assert.Equal(0L, r.Output[1].Properties["Quarantined"].Value);
        }

        [Fact]
        public void WriteMadfEventRefusesALogPathThatNamesAFile()
        {
            using var t = new Temp();
            File.WriteAllText(t.File("events.jsonl"), "");
            foreach (var name in new[] { "events.jsonl", "new.jsonl" })
            {
                var r = _m.Run("Write-MadfEvent -EventType step -Category workflow -LogPath $p -Database $db",
                    new Hashtable { ["p"] = t.File(name), ["db"] = t.Db });
                var e = Assert.Single(r.AllErrors);
                Assert.StartsWith("LogPathIsFile,", e.FullyQualifiedErrorId);
                Assert.Equal(ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
                Assert.Contains(name, e.Exception.Message);
            }
            Assert.Equal("", File.ReadAllText(t.File("events.jsonl")));
            Assert.False(Directory.Exists(t.File("new.jsonl")));
            Assert.False(File.Exists(t.File("new.jsonl")));
        }

        [Fact]
        public void TheMadflogHostRendersTheDefaultViewAndReportsFailureInItsExitCode()
        {
            using var t = new Temp();
            File.WriteAllLines(t.File("a.jsonl"), new[] { Line(1), "{oops" });
            var ok = ModuleFixture.RunHost(t.Path, "-NoProfile", "-Command", "Import-MadfLog ./a.jsonl -Database ./m.db -ErrorAction SilentlyContinue");
            Assert.Equal(1, ok.ExitCode); // as in pwsh: the last command wrote an error (the quarantined line), even a silenced one
            Assert.DoesNotContain("{oops", ok.StdErr);
            Assert.Matches(@"Files\s+LinesRead\s+Imported\s+Duplicates\s+Quarantined", ok.StdOut);
            Assert.DoesNotContain("\u001b[", ok.StdOut);

            var failed = ModuleFixture.RunHost(t.Path, "-Command", "Import-MadfLog ./missing.jsonl -Database ./m.db");
            Assert.Equal(1, failed.ExitCode);
            Assert.Contains("missing.jsonl", failed.StdErr);

            var exit = ModuleFixture.RunHost(t.Path, "-Command", "Get-MadfQuarantine -Database ./m.db; exit 7");
            Assert.Equal(7, exit.ExitCode);
            Assert.Contains("{oops", exit.StdOut + string.Join("", File.ReadAllLines(t.File("a.jsonl"))));
            Assert.Matches(@"a\.jsonl\s+2\s+invalid JSON", exit.StdOut);

            File.WriteAllText(t.File("script.ps1"), "param($Name) \"hello $Name\"; exit 4");
            var script = ModuleFixture.RunHost(t.Path, "-File", "script.ps1", "world");
            Assert.Equal(4, script.ExitCode);
            Assert.Contains("hello world", script.StdOut);
        }
    }
}

namespace MadfLog.Module.Tests
{
    [Collection("module")]
    public class HelpTests
    {
        private readonly ModuleFixture _m;
        public HelpTests(ModuleFixture m) { _m = m; }

        [Fact]
        public void EveryCmdletHasHelpWithSynopsisParameterDescriptionsAndAnExample()
        {
            foreach (var name in _m.Module.ExportedCmdlets.Keys)
            {
                var r = _m.Run("Get-Help $n -Full", new Hashtable { ["n"] = name });
                Assert.Empty(r.AllErrors);
                var help = Assert.Single(r.Output);
                var synopsis = help.Properties["Synopsis"].Value?.ToString() ?? "";
                Assert.False(synopsis.StartsWith(name, StringComparison.Ordinal) || synopsis.Length < 20, $"{name} has no synopsis: '{synopsis}'");
                var examples = r.Output[0].Properties["examples"].Value as PSObject;
                Assert.True(examples != null, $"{name} has no examples");
                var parameters = (PSObject)help.Properties["parameters"].Value;
                var list = ((PSObject)parameters).Properties["parameter"].Value;
                foreach (var p in (list is object[] arr ? arr.Cast<PSObject>() : new[] { (PSObject)list }))
                {
                    var pname = p.Properties["name"].Value?.ToString();
                    var desc = p.Properties["description"]?.Value;
                    Assert.True(desc != null, $"{name} -{pname} has no description");
                }
            }
        }
    }
}

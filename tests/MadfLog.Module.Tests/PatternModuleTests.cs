using System;
using System.Collections;
using System.Linq;
using Xunit;

namespace MadfLog.Module.Tests
{
    [Collection("module")]
    public class PatternModuleTests
    {
        private readonly ModuleFixture _m;
        public PatternModuleTests(ModuleFixture m) { _m = m; }

        [Fact]
        public void ConvertToMadfPatternGivesOneObjectPerInputInOrder()
        {
            var r = _m.Run(@"
                'File does not exist: a.py', [pscustomobject]@{ Message = 'File does not exist: b/c.py' }, 'Permission denied: /etc/x', 'File does not exist: d.py' |
                    ConvertTo-MadfPattern");
            Assert.Empty(r.AllErrors);
            Assert.Equal(4, r.Output.Count);
            Assert.Equal("File does not exist: b/c.py", r.Output[1].Properties["Message"].Value);
            var ids = r.Output.Select(o => (long)o.Properties["PatternId"].Value).ToList();
            Assert.Equal(ids[0], ids[1]);
            Assert.Equal(ids[0], ids[3]);
            Assert.NotEqual(ids[0], ids[2]);
            Assert.Equal("File does not exist: <*>", r.Output[0].Properties["Template"].Value);
        }

        [Fact]
        public void ConvertToMadfPatternGroupsShellErrorsByTheProgramThatFailed()
        {
            var r = _m.Run(@"
                @(
                    [pscustomobject]@{ Tool = 'Bash'; Command = 'uv run ruff check src/a.py'; Message = ""Exit code 1`nF401 'os' imported but unused"" }
                    [pscustomobject]@{ Tool = 'Bash'; Input = 'cd /w && uv run ruff check --fix'; Message = ""Exit code 1`nE501 Line too long (120 > 100)"" }
                    [pscustomobject]@{ Tool = 'Bash'; Command = 'npm test'; Message = ""FAIL src/a.test.ts`n  expect(received).toBe(1)"" }
                ) | ConvertTo-MadfPattern");
            Assert.Empty(r.AllErrors);
            Assert.Equal(3, r.Output.Count);
            var ids = r.Output.Select(o => (long)o.Properties["PatternId"].Value).ToList();
            Assert.Equal(ids[0], ids[1]);
            Assert.NotEqual(ids[0], ids[2]);
            Assert.Equal("LintFailure", r.Output[0].Properties["ErrorClass"].Value);
            Assert.Equal("TestFailure", r.Output[2].Properties["ErrorClass"].Value);
            Assert.Equal("Bash ruff check lint or format check failed", r.Output[0].Properties["Template"].Value);
        }

        [Fact]
        public void ImportedErrorsFeedARevisionThatWritesRulesIntoClaudeMd()
        {
            using var t = new Temp();
            var vars = new Hashtable { ["logs"] = System.IO.Path.Combine(ModuleFixture.RepoRoot, "examples", "logs"), ["db"] = t.Db, ["claude"] = t.File("CLAUDE.md") };
            var r = _m.Run(@"
                Import-MadfLog $logs -Database $db | Out-Null
                $rev = Invoke-MadfRevision -Database $db -Since ([datetime]'2026-01-01') -ClaudeMdPath $claude -NoImport -WarningAction SilentlyContinue
                Get-MadfRule -Database $db -Status Proposed | Where-Object { $_.Evidence.Share -ge 0.10 } | Approve-MadfRule -Database $db -ClaudeMdPath $claude | Out-Null
                $rev", vars);
            Assert.Empty(r.AllErrors);
            var revision = Assert.Single(r.Output);
            Assert.True((int)revision.Properties["Patterns"].Value >= 10);
            var lines = System.IO.File.ReadAllLines(t.File("CLAUDE.md")).Where(l => l.StartsWith("- **", StringComparison.Ordinal)).ToList();
            Assert.InRange(lines.Count, 1, 6);
            Assert.Contains(lines, l => l.Contains("`File does not exist: <*>`"));
        }

        [Fact]
        public void ApproveMadfRuleRecordsWhenARuleReallyTookEffect()
        {
            using var t = new Temp();
            var vars = new Hashtable { ["logs"] = System.IO.Path.Combine(ModuleFixture.RepoRoot, "examples", "logs"), ["db"] = t.Db, ["claude"] = t.File("CLAUDE.md") };
            var r = _m.Run(@"
                Import-MadfLog $logs -Database $db | Out-Null
                Invoke-MadfRevision -Database $db -Since ([datetime]'2026-01-01') -ClaudeMdPath $claude -NoImport -WarningAction SilentlyContinue | Out-Null
                $rule = @(Get-MadfRule -Database $db -Status Proposed)[0]
                $rule | Approve-MadfRule -Database $db -ClaudeMdPath $claude -EffectiveFrom ([DateTimeOffset]'2026-11-05T00:00:00Z').UtcDateTime -Confirm:$false | Out-Null
                Get-MadfRule -Database $db -Id $rule.Id
                Get-MadfRuleEffectiveness -Database $db", vars);
            Assert.Empty(r.AllErrors);
            Assert.Equal(new System.DateTime(2026, 11, 5, 0, 0, 0, System.DateTimeKind.Utc), (System.DateTime)r.Output[0].Properties["Activated"].Value);
            var effect = r.Output[1];
            Assert.Contains((string)effect.Properties["VerdictText"].Value, new[] { "Effective", "No clear change", "Worse", "Too early", "No control" });
            Assert.NotNull(effect.Properties["RelativeChangeLow"].Value);
            var future = _m.Run("@(Get-MadfRule -Database $db)[0] | Approve-MadfRule -Database $db -ClaudeMdPath $claude -EffectiveFrom ([datetime]::UtcNow.AddDays(2)) -Confirm:$false", vars);
            Assert.Contains(future.AllErrors, e => e.FullyQualifiedErrorId.StartsWith("RuleEffectiveInFuture", StringComparison.Ordinal));
        }
    }
}

using System.IO;
using System.Linq;
using Xunit;

namespace MadfLog.Module.Tests
{
    /// <summary>The README's main command and the weekly-cycle example run through the madflog host and leave the bundled logs alone.</summary>
    public class ExampleScriptTests
    {
        private static string Logs => Path.Combine(ModuleFixture.RepoRoot, "examples", "logs");
        private static (int, long) Fingerprint() => (Directory.GetFiles(Logs).Length, Directory.GetFiles(Logs).Sum(f => new FileInfo(f).Length));

        [Theory]
        [InlineData("quickstart.ps1", "Import the sample logs")]
        [InlineData("weekly-revision.ps1", "CLAUDE.md now")]
        public void ExampleRunsCleanly(string script, string expected)
        {
            var before = Fingerprint();
            using var t = new Temp();
            var r = ModuleFixture.RunHost(t.Path, "-File", Path.Combine(ModuleFixture.RepoRoot, "examples", script));
            Assert.True(r.ExitCode == 0, $"{script} exited {r.ExitCode}: {r.StdErr}");
            Assert.Contains(expected, r.StdOut);
            Assert.DoesNotContain("Exception", r.StdErr);
            Assert.Equal(before, Fingerprint());
        }
    }
}

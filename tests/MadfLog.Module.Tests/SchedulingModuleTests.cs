using System.Collections;
using Xunit;

namespace MadfLog.Module.Tests
{
    [Collection("module")]
    public class SchedulingModuleTests
    {
        private readonly ModuleFixture _m;
        public SchedulingModuleTests(ModuleFixture m) { _m = m; }

        [Fact]
        public void RegisterUnderWhatIfChangesNothingAndUnknownJobsAreReportedClearly()
        {
            var name = "MadfLogTest" + System.Guid.NewGuid().ToString("N").Substring(0, 6);
            var vars = new Hashtable { ["n"] = name };
            var r = _m.Run("Register-MadfRevisionJob -Name $n -Scheduler Cron -At 22:30 -WhatIf; Get-MadfRevisionJob -Name $n -Scheduler Systemd", vars);
            Assert.Empty(r.AllErrors);
            Assert.Empty(r.Output);
            var missing = _m.Run("Unregister-MadfRevisionJob -Name $n -Scheduler Systemd -Confirm:$false", vars);
            var e = Assert.Single(missing.Errors);
            Assert.Equal("RevisionJobNotFound,MadfLog.Commands.Scheduling.UnregisterMadfRevisionJobCommand", e.FullyQualifiedErrorId);
            var wrongEdition = _m.Run("Register-MadfRevisionJob -Name $n -Scheduler ScheduledJob", vars);
            Assert.Contains(wrongEdition.AllErrors, x => x.FullyQualifiedErrorId.StartsWith("ScheduledJobNotAvailable"));
        }

        [Fact]
        public void TheRegisteredCommandNamesTheDatabaseEvenWhenItCameFromMADFLOG_DB()
        {
            using var t = new Temp();
            using var s = new StandInSchedulers(t.Path);
            var db = t.File("from-env.db");
            System.Environment.SetEnvironmentVariable("MADFLOG_DB", db);
            ScriptResult r;
            try { r = _m.Run("Register-MadfRevisionJob -Scheduler Systemd -Confirm:$false"); }
            finally { System.Environment.SetEnvironmentVariable("MADFLOG_DB", null); }
            Assert.Empty(r.AllErrors);
            // systemd does not inherit the shell's environment: the unit itself must say which database.
            var service = System.IO.File.ReadAllText(System.IO.Path.Combine(s.SystemdUser, "madflog-madflogrevision.service"));
            Assert.Contains("-Database '" + db + "'", service);
        }
    }
}

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Dapper;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Reliability
{
    /// <summary>Issue #14: imports that create the same new database at once all succeed, and it is created once.</summary>
    public class NewDatabaseRaceTests
    {
        [Fact]
        public void OpeningANewDatabaseFromSeveralThreadsAtOnceCreatesItOnce()
        {
            using var t = TestPaths.NewTemp();
            for (var trial = 0; trial < 12; trial++)
            {
                var db = t.File($"new-{trial}.db");
                using var start = new Barrier(3);
                var opens = Enumerable.Range(0, 3).Select(_ => Task.Factory.StartNew(() =>
                {
                    start.SignalAndWait();
                    using var c = MadfDatabase.Open(db);
                    return MadfDatabase.SchemaVersion(c);
                }, TaskCreationOptions.LongRunning)).ToArray();
                Task.WaitAll(opens);
                Assert.All(opens, o => Assert.Equal(Schema.CurrentVersion, o.Result));
                using var check = MadfDatabase.Open(db);
                // Each migration ran once.
                Assert.Equal(check.ExecuteScalar<long>("SELECT count(DISTINCT version) FROM schema_version"), check.ExecuteScalar<long>("SELECT count(*) FROM schema_version"));
            }
        }
    }
}

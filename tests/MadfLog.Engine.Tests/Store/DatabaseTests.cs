using System.IO;
using Dapper;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    public class DatabaseTests
    {
        [Fact]
        public void ANewDatabaseIsCreatedInWalModeAtTheCurrentSchema()
        {
            using var t = TestPaths.NewTemp();
            var db = Path.Combine(t.Path, "deep", "er", "m.db");
            using var c = MadfDatabase.Open(db);
            Assert.Equal("wal", c.ExecuteScalar<string>("PRAGMA journal_mode"));
            Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
            Assert.True(c.ExecuteScalar<long>("PRAGMA busy_timeout") >= 5000);
        }

        [Fact]
        public void AFileThatIsNotADatabaseIsRefusedClearly()
        {
            using var t = TestPaths.NewTemp();
            File.WriteAllText(t.Db, "this is a text file, not SQLite, and it is long enough to have a header........");
            var ex = Assert.Throws<MadfException>(() => MadfDatabase.Open(t.Db));
            Assert.Equal("DatabaseNotMadfLog", ex.ErrorId);
            Assert.Contains(t.Db, ex.Message);
        }

        [Fact]
        public void AnotherApplicationsSqliteDatabaseIsRefused()
        {
            using var t = TestPaths.NewTemp();
            using (var c = new SqliteConnection("Data Source=" + t.Db)) { c.Open(); c.Execute("CREATE TABLE other(x)"); }
            Assert.Equal("DatabaseNotMadfLog", Assert.Throws<MadfException>(() => MadfDatabase.Open(t.Db)).ErrorId);
        }

        [Fact]
        public void ANewerSchemaIsRefusedAndAnOlderOneIsMigrated()
        {
            using var t = TestPaths.NewTemp();
            using (var c = MadfDatabase.Open(t.Db)) c.Execute("INSERT INTO schema_version VALUES (999, 0)");
            var ex = Assert.Throws<MadfException>(() => MadfDatabase.Open(t.Db));
            Assert.Equal("DatabaseTooNew", ex.ErrorId);
            Assert.Contains("999", ex.Message);

            // A version-1 database (only the foundation script applied) is brought forward.
            var old = Path.Combine(t.Path, "old.db");
            using (var c = new SqliteConnection("Data Source=" + old))
            {
                c.Open();
                c.Execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied INTEGER NOT NULL)");
                foreach (var m in Schema.MigrationsAfter(0)) { c.Execute(m.Value); c.Execute("INSERT INTO schema_version VALUES (@v, 0)", new { v = m.Key }); break; }
            }
            using (var c = MadfDatabase.Open(old)) Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
        }

        [Fact]
        public void AnUpgradeReportsEachMigrationBeforeAndAfterItRuns()
        {
            using var t = TestPaths.NewTemp();
            var created = new System.Collections.Generic.List<SchemaUpgradeStep>();
            using (var c = MadfDatabase.Open(t.Db, upgrading: created.Add)) c.Execute("DELETE FROM schema_version WHERE version >= 33");
            Assert.Empty(created); // a new store is not an upgrade
            var steps = new System.Collections.Generic.List<SchemaUpgradeStep>();
            using (var c = MadfDatabase.Open(t.Db, forWrite: false, upgrading: steps.Add)) Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
            var versions = System.Linq.Enumerable.ToList(System.Linq.Enumerable.Select(Schema.MigrationsAfter(32), m => m.Key));
            // Each migration before it runs (no time yet) and once it ran (its time), then the commit of them all.
            Assert.Equal(versions.Count * 2 + 1, steps.Count);
            for (var i = 0; i < versions.Count; i++)
            {
                Assert.Equal((versions[i], i, versions.Count, false), (steps[2 * i].Version, steps[2 * i].Index, steps[2 * i].Count, steps[2 * i].Elapsed.HasValue));
                Assert.Equal((versions[i], i, true), (steps[2 * i + 1].Version, steps[2 * i + 1].Index, steps[2 * i + 1].Elapsed.HasValue));
            }
            var commit = steps[steps.Count - 1];
            Assert.True(commit.IsCommit && commit.Elapsed.HasValue && commit.Version == Schema.CurrentVersion);
            Assert.All(steps, s => Assert.Equal((32, Path.GetFullPath(t.Db)), (s.From, s.Path)));
            steps.Clear();
            using (MadfDatabase.Open(t.Db, upgrading: steps.Add)) { }
            Assert.Empty(steps); // nothing left to upgrade
        }

        [Fact]
        public void AStoreMadeBeforeIncrementalAutoVacuumTakesItAtItsUpgrade()
        {
            using var t = TestPaths.NewTemp();
            MadfLog.Engine.Tests.Import.ImportTests.Import(t.Db, Path.Combine(TestPaths.RepoRoot, "examples", "logs"));
            // As a store made before: no auto-vacuum, free pages left behind (a dropped table, as migrations drop them).
            using (var c = new SqliteConnection($"Data Source={t.Db};Pooling=False"))
            {
                c.Open();
                c.Execute("PRAGMA auto_vacuum = NONE; VACUUM; CREATE TABLE filler AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT i, printf('%0200d', i) AS t FROM n;");
                c.Execute("DROP TABLE filler; DELETE FROM schema_version WHERE version >= 39;");
                Assert.Equal((0L, true), (c.ExecuteScalar<long>("PRAGMA auto_vacuum"), c.ExecuteScalar<long>("PRAGMA freelist_count") > 500));
            }
            var events = EventExtrasTests.PlainRead(t.Db);
            var steps = new System.Collections.Generic.List<SchemaUpgradeStep>();
            using (var c = MadfDatabase.Open(t.Db, upgrading: steps.Add))
            {
                Assert.Equal((2L, 0L), (c.ExecuteScalar<long>("PRAGMA auto_vacuum"), c.ExecuteScalar<long>("PRAGMA freelist_count")));
                Assert.Equal("wal", c.ExecuteScalar<string>("PRAGMA journal_mode"));
                Assert.Equal(2, c.ExecuteScalar<long>("PRAGMA temp_store")); // memory again for the questions
            }
            // Reported after the commit, before and once done.
            Assert.Equal(new[] { false, true }, System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(System.Linq.Enumerable.Where(steps, s => s.IsVacuum), s => s.Elapsed.HasValue)));
            Assert.True(steps[steps.Count - 3].IsCommit);
            Assert.Equal(events, EventExtrasTests.PlainRead(t.Db));
            // An upgrade of a store already in the mode leaves the file as it is.
            using (var c = MadfDatabase.Open(t.Db)) c.Execute("DELETE FROM schema_version WHERE version >= 39");
            steps.Clear();
            using (MadfDatabase.Open(t.Db, upgrading: steps.Add)) { }
            Assert.DoesNotContain(steps, s => s.IsVacuum);
        }

        [Fact]
        public void AReadOnlyDatabaseCanBeReadButNotWritten()
        {
            using var t = TestPaths.NewTemp();
            using (MadfDatabase.Open(t.Db)) { }
            File.SetAttributes(t.Db, FileAttributes.ReadOnly);
            try
            {
                var ex = Assert.Throws<MadfException>(() => MadfDatabase.Open(t.Db));
                Assert.Equal("DatabaseReadOnly", ex.ErrorId);
                using var reader = MadfDatabase.Open(t.Db, forWrite: false);
                Assert.Equal(0, reader.ExecuteScalar<long>("SELECT count(*) FROM events"));
            }
            finally { File.SetAttributes(t.Db, FileAttributes.Normal); }
        }

        [Fact]
        public void AMissingDatabaseIsNotCreatedByReaders()
        {
            using var t = TestPaths.NewTemp();
            Assert.Equal("DatabaseNotFound", Assert.Throws<MadfException>(() => MadfDatabase.Open(t.Db, forWrite: false)).ErrorId);
            Assert.False(File.Exists(t.Db));
        }
    }
}

namespace MadfLog.Engine.Tests.Store
{
    public class ConcurrencyTests
    {
        [Fact]
        public void QuestionsCanBeAskedWhileAnImportWrites()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("big.jsonl");
            using (var w = new System.IO.StreamWriter(file))
                for (var i = 0; i < 60_000; i++)
                    w.WriteLine(MadfLog.Engine.Tests.Import.ImportTests.Line(i, success: i % 7 != 0));
            using (MadfDatabase.Open(t.Db)) { }
            var import = System.Threading.Tasks.Task.Run(() =>
                new MadfLog.Engine.Import.LogImporter(new MadfLog.Engine.Import.ImportOptions { DatabasePath = t.Db, BatchSize = 2000 }).Import(new[] { file }));
            var reads = 0;
            long last = -1;
            while (!import.IsCompleted)
            {
                using var c = MadfDatabase.Open(t.Db, forWrite: false);
                var n = Dapper.SqlMapper.ExecuteScalar<long>(c, "SELECT count(*) FROM events");
                Assert.True(n >= last, "a reader saw the store go backwards");
                last = n;
                MadfLog.Engine.Query.Analysis.AgentPerformance(c, new MadfLog.Engine.Query.QueryFilter());
                reads++;
            }
            Assert.Equal(60_000, import.Result.Imported);
            Assert.True(reads > 1, "the import finished before any read overlapped it");
        }
    }
}

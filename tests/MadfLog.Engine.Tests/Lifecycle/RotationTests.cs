using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Dapper;
using MadfLog.Engine.Config;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Lifecycle
{
    public class RotationTests
    {
        private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero); // Tuesday of 2026-W48

        /// <summary>A log folder with one file per day for the given number of days before Now (and today), imported.</summary>
        private static (string logs, int events) Setup(TempFolder t, int days, int perDay = 50)
        {
            var logs = t.File("logs");
            var n = 0;
            for (var d = days; d >= 0; d--)
                for (var i = 0; i < perDay; i++)
                {
                    var ts = Now.AddDays(-d).Date.AddMinutes(i * 7);
                    EventLogWriter.Append(logs, new EventRow
                    {
                        Timestamp = new DateTimeOffset(ts, TimeSpan.Zero).ToUnixTimeMilliseconds(), EventType = "tool_call", Category = "execution",
                        AgentName = "dev", StoryId = "1.1", Success = i % 5 != 0,
                    }, i % 4 == 0
                        // Every fourth event has more values than slots: the members after the last slot's as one literal,
                        // or small integers packed into it, or a short string (a names id) in it; and strings written
                        // into the shape (a few of each key's), so archives translate every kind of value.
                        ? i % 12 == 0
                            ? new Hashtable { ["message"] = $"event {d}/{i}", ["tool"] = "Bash", ["target"] = $"src/f{i}-{d}.ts", ["exit_code"] = $"code {i}",
                                ["model"] = "m1", ["stop_reason"] = i % 8 == 0 ? "end" : "tool_use", ["attempt"] = $"try {d}-{i}", ["step"] = $"build {d}-{i}" }
                            : i % 8 == 0
                                ? new System.Collections.Specialized.OrderedDictionary { ["message"] = $"event {d}/{i}", ["tool"] = "Bash", ["target"] = $"src/f{i}-{d}.ts", ["exit_code"] = $"code {i % 40}" }
                                : new System.Collections.Specialized.OrderedDictionary { ["message"] = $"event {d}/{i}", ["tool"] = "Bash", ["target"] = $"src/f{i}-{d}.ts", ["lines"] = i, ["attempt"] = d, ["size"] = i * d + 1 }
                        : new Hashtable { ["message"] = $"event {d}/{i}" });
                    n++;
                }
            var r = new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs });
            Assert.Equal(n, r.Imported);
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " r JOIN names sh ON sh.id = r.details_shape WHERE " +
                    EventStorage.ValueIsName(DetailsShape.Slots, "sh")) > 0);
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " r JOIN names sh ON sh.id = r.details_shape WHERE " +
                    $"instr(sh.text, char({(int)DetailsShape.PackedPart(0, DetailsShape.MostPacked)}))") > 0);
            }
            return (logs, n);
        }

        private static RotationOptions Options(TempFolder t, string logs, int retention = 365, Action<string>? checkpoint = null, int? maxMb = null) => new RotationOptions
        {
            DatabasePath = t.Db, LogPaths = new[] { logs }, ArchivePath = t.File("archive"), RetentionDays = retention, Now = Now,
            Checkpoint = checkpoint, MaxActiveMB = maxMb,
        };

        /// <summary>Distinct events (ids are kept by archives) across the active and archive databases; by default an event may live in only one.</summary>
        private static long DistinctEventsEverywhere(TempFolder t, bool allowInTwoStores = false)
        {
            var keys = new HashSet<long>();
            foreach (var db in new[] { t.Db }.Concat(Directory.Exists(t.File("archive")) ? Directory.GetFiles(t.File("archive"), "madflog-*.db") : Array.Empty<string>()))
            {
                using var c = new SqliteConnection("Data Source=" + db + ";Mode=ReadOnly");
                c.Open();
                foreach (var k in c.Query<long>("SELECT id FROM events")) Assert.True(keys.Add(k) || allowInTwoStores, "an event is in two stores");
            }
            return keys.Count;
        }

        // An event as the events view shows it, as one text.
        private const string EventColumns = @"SELECT timestamp || '|' || event_type || '|' || category || '|' || coalesce(session_id, '-') || '|' || coalesce(story_id, '-') || '|' ||
                    coalesce(workflow_id, '-') || '|' || coalesce(agent_name, '-') || '|' || coalesce(success, '-') || '|' || coalesce(details, '-')";

        /// <summary>Every event as the events view shows it, across the active and archive databases, in a stable order.</summary>
        private static List<string> EventsEverywhere(TempFolder t)
        {
            var all = new List<string>();
            foreach (var db in new[] { t.Db }.Concat(Directory.Exists(t.File("archive")) ? Directory.GetFiles(t.File("archive"), "madflog-*.db") : Array.Empty<string>()))
            {
                using var c = new SqliteConnection("Data Source=" + db + ";Mode=ReadOnly");
                c.Open();
                all.AddRange(c.Query<string>(EventColumns + " FROM events"));
            }
            all.Sort(StringComparer.Ordinal);
            return all;
        }

        /// <summary>Every log line, wherever it now lives (live folder, closed/, weekly gzip archives), counted.</summary>
        private static Dictionary<string, int> LinesEverywhere(TempFolder t, string logs)
        {
            var lines = new Dictionary<string, int>();
            void Add(IEnumerable<string> ls) { foreach (var l in ls.Where(l => l.Length > 0)) lines[l] = lines.TryGetValue(l, out var n) ? n + 1 : 1; }
            foreach (var f in Directory.GetFiles(logs, "*.jsonl")) Add(File.ReadAllLines(f));
            var archive = t.File("archive");
            if (Directory.Exists(Path.Combine(archive, "closed")))
                foreach (var f in Directory.GetFiles(Path.Combine(archive, "closed"), "*.jsonl")) Add(File.ReadAllLines(f));
            if (Directory.Exists(archive))
                foreach (var f in Directory.GetFiles(archive, "*.jsonl.gz"))
                {
                    using var gz = new GZipStream(File.OpenRead(f), CompressionMode.Decompress);
                    using var reader = new StreamReader(gz);
                    Add(reader.ReadToEnd().Split('\n'));
                }
            return lines;
        }

        [Fact]
        public void ClosesImportedDaysCompressesPastWeeksAndNeverMovesUnimportedFiles()
        {
            using var t = TestPaths.NewTemp();
            var (logs, events) = Setup(t, days: 16);
            var before = LinesEverywhere(t, logs);
            // A day whose file grew after the import is not fully imported: it must stay.
            var yesterday = Path.Combine(logs, EventLogWriter.FileNameFor(Now.AddDays(-1)));
            File.AppendAllText(yesterday, ImportTestsLine() + "\n");

            var r = new Rotation(Options(t, logs)).Run();
            Assert.Equal(15, r.FilesClosed);          // 16 earlier days minus the one not fully imported
            Assert.Equal(1, r.FilesNotImported);
            Assert.True(File.Exists(yesterday));
            Assert.True(File.Exists(Path.Combine(logs, EventLogWriter.FileNameFor(Now)))); // today stays live
            // Weeks W45 (from Sunday 8 Nov) to W47 are complete; W48 (this week) stays as closed daily files.
            Assert.Equal(new[] { "madf-2026-W45.jsonl.gz", "madf-2026-W46.jsonl.gz", "madf-2026-W47.jsonl.gz" }, Directory.GetFiles(t.File("archive"), "*.gz").Select(Path.GetFileName).OrderBy(x => x));
            Assert.True(r.ArchiveBytesAfter * 3 < r.ArchiveBytesBefore, "gzip should compress JSONL at least 3x");
            var after = LinesEverywhere(t, logs);
            foreach (var kv in before) Assert.Equal(kv.Value, after[kv.Key]);

            // Archives re-import as duplicates only; a second rotation changes nothing.
            var again = new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("archive") });
            Assert.Equal(0, again.Imported);
            Assert.Equal(0, again.Quarantined);
            var second = new Rotation(Options(t, logs)).Run();
            Assert.Equal(0, second.FilesClosed + second.ArchivesWritten);
            Assert.Equal(events, DistinctEventsEverywhere(t));
        }

        [Theory]
        [InlineData("closed")]
        [InlineData("archive-written")]
        [InlineData("archive-recorded")]
        [InlineData("source-removed")]
        [InlineData("events-copied")]
        [InlineData("before-vacuum")]
        public void ACrashAtAnyStepLosesNothingAndTheNextRunFinishes(string step)
        {
            using var t = TestPaths.NewTemp();
            var (logs, events) = Setup(t, days: 40, perDay: 20);
            var lines = LinesEverywhere(t, logs);
            var crashed = false;
            var ex = Record.Exception(() => new Rotation(Options(t, logs, retention: 14, checkpoint: s =>
            {
                if (s == step && !crashed) { crashed = true; throw new IOException("simulated crash at " + s); }
            })).Run());
            Assert.True(crashed, "the step was reached");
            Assert.IsType<IOException>(ex);
            // Nothing lost right after the crash (a crash between copy and delete leaves both copies)...
            Assert.Equal(events, DistinctEventsEverywhere(t, allowInTwoStores: true));
            Assert.All(lines, kv => Assert.True(LinesEverywhere(t, logs).GetValueOrDefault(kv.Key) >= 1, "a log line was lost"));

            // ...and the next run completes the job.
            new Rotation(Options(t, logs, retention: 14)).Run();
            Assert.Equal(events, DistinctEventsEverywhere(t));
            var final = LinesEverywhere(t, logs);
            foreach (var kv in lines) Assert.Equal(kv.Value, final[kv.Key]);
            using var c = MadfDatabase.Open(t.Db);
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM log_archives WHERE state <> 'done'"));
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE timestamp < @cut",
                new { cut = Now.AddDays(-14).ToUnixTimeMilliseconds() }));
        }

        [Fact]
        public void RetentionMovesEventsOfKindsAndContextsWithNegativeIdsAndTheyReadBackTheSame()
        {
            // Every event of its own details shape (so kind) and session (so context): beyond 127 of each, ids run
            // negative (EventStorage.Combinations.NextId); the archives number their own.
            using var t = TestPaths.NewTemp();
            var logs = t.File("logs");
            var n = 0;
            for (var d = 70; d >= 0; d--)
                for (var i = 0; i < 5; i++, n++)
                    EventLogWriter.Append(logs, new EventRow
                    {
                        Timestamp = new DateTimeOffset(Now.AddDays(-d).Date.AddMinutes(i * 7), TimeSpan.Zero).ToUnixTimeMilliseconds(), EventType = "tool_call",
                        Category = "execution", AgentName = "dev", StoryId = "1.1", SessionId = "s" + n, Success = i % 3 != 0,
                    }, new Hashtable { ["tool"] = "Bash", ["k" + n] = n });
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs });
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(128, c.ExecuteScalar<long>("SELECT count(*) FROM kinds WHERE id < 0"));
                Assert.Equal(128, c.ExecuteScalar<long>("SELECT count(*) FROM contexts WHERE id < 0"));
            }
            var before = EventsEverywhere(t);
            var r = new Rotation(Options(t, logs, retention: 30)).Run();
            Assert.True(r.EventsMoved > 0);
            Assert.Equal(n, DistinctEventsEverywhere(t));
            Assert.Equal(before, EventsEverywhere(t));
            // And the combined store of -IncludeArchive holds them all as imported.
            using var store = Facade.MadfStore.OpenWithArchives(t.Db);
            Assert.True(store.IncludesArchives);
            using var combined = MadfDatabase.Open(store.Path, forWrite: false);
            var all = combined.Query<string>(EventColumns + " FROM events").ToList();
            all.Sort(StringComparer.Ordinal);
            Assert.Equal(before, all);
        }

        [Fact]
        public void RetentionMovesOldMonthsToArchiveDatabasesAndAReimportCannotBringThemBack()
        {
            using var t = TestPaths.NewTemp();
            var (logs, events) = Setup(t, days: 70, perDay: 10);
            var before = EventsEverywhere(t);
            // Keep a copy of the logs before rotation moves them, to re-import later.
            var copy = t.File("copy");
            Directory.CreateDirectory(copy);
            foreach (var f in Directory.GetFiles(logs)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));

            var r = new Rotation(Options(t, logs, retention: 30)).Run();
            var cutoff = Now.AddDays(-30).ToUnixTimeMilliseconds();
            using (var c = MadfDatabase.Open(t.Db))
            {
                var oldLeft = c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE timestamp < @cutoff", new { cutoff });
                Assert.Equal(0, oldLeft);
                Assert.Equal(events - r.EventsMoved, c.ExecuteScalar<long>("SELECT count(*) FROM events"));
            }
            Assert.True(r.EventsMoved > 0);
            Assert.Equal(events, DistinctEventsEverywhere(t));
            // Archives have their own name ids: every column, details included, reads back the same from them.
            Assert.Equal(before, EventsEverywhere(t));
            using (var c = MadfDatabase.Open(t.Db))
            {
                // Keys left with their months' last events: the active store keeps only keys of months it still has events of.
                var rowMonths = c.Query<long>("SELECT timestamp FROM events").Select(EventKeys.MonthOf).ToHashSet();
                using (var keys = new EventKeys(c))
                using (var responses = EventKeys.Responses(c))
                {
                    var all = keys.All();
                    var responseKeys = responses.All();
                    Assert.Subset(rowMonths, all.Concat(responseKeys).Select(k => k.month).ToHashSet());
                    Assert.True(all.Count + responseKeys.Count >= c.ExecuteScalar<long>("SELECT count(*) FROM events"));
                }
                Assert.Equal(0, c.ExecuteScalar<long>($"SELECT count(*) FROM names WHERE id NOT IN ({EventStorage.NameIdsUsed("main", "1")})"));
            }

            var reimport = new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { copy });
            Assert.Equal(0, reimport.Imported);
            Assert.Equal(events, DistinctEventsEverywhere(t));

            var storage = StorageReport.Get(t.Db);
            Assert.Equal(r.EventsMoved, storage.ArchivedEvents);
            Assert.Equal(events, storage.Periods.Sum(p => p.ActiveEvents + p.ArchivedEvents));
        }

        [Fact]
        public void AnUpgradeWhoseVacuumFailsOpensTheStoreWithAWarningAndTheRotationGivesThePagesBack()
        {
            using var t = TestPaths.NewTemp();
            var (logs, events) = Setup(t, days: 3);
            // A store made before incremental auto-vacuum, one schema back.
            using (var c = new SqliteConnection($"Data Source={t.Db};Pooling=False"))
            {
                c.Open();
                c.Execute("PRAGMA auto_vacuum = NONE; VACUUM; DELETE FROM schema_version WHERE version >= 39;");
            }
            // The VACUUM after the upgrade's commit fails as on a full disk.
            var steps = new List<SchemaUpgradeStep>();
            MadfDatabase.BeforeVacuum = _ => throw new SqliteException("database or disk is full", 13);
            try
            {
                using var c = MadfDatabase.Open(t.Db, upgrading: steps.Add);
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                Assert.Equal(events, c.ExecuteScalar<long>("SELECT count(*) FROM events"));
                Assert.Equal(0, c.ExecuteScalar<long>("PRAGMA auto_vacuum"));
                Assert.Equal(2, c.ExecuteScalar<long>("PRAGMA temp_store")); // memory again for the questions
            }
            finally { MadfDatabase.BeforeVacuum = null; }
            var vacuum = steps.Last();
            Assert.True(vacuum.IsVacuum && vacuum.Elapsed.HasValue);
            Assert.Contains("database or disk is full", vacuum.Problem);
            Assert.Contains("Invoke-MadfRotation", vacuum.Problem);
            // The store works on: an import, then a rotation that moves nothing gives the pages back (the mode set).
            EventLogWriter.Append(logs, new EventRow { Timestamp = Now.ToUnixTimeMilliseconds(), EventType = "tool_call", Category = "execution", AgentName = "dev" }, new Hashtable());
            Assert.Equal(1, new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs }).Imported);
            var r = new Rotation(Options(t, logs)).Run();
            Assert.Equal(0, r.EventsMoved);
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(2, c.ExecuteScalar<long>("PRAGMA auto_vacuum"));
                Assert.Equal(events + 1, c.ExecuteScalar<long>("SELECT count(*) FROM events"));
            }
        }

        [Fact]
        public void AnImportGivesFreePagesBackAndAStoreFromBeforeTakesThatModeAtItsRotation()
        {
            // A new store is in incremental auto-vacuum mode: free pages (here a dropped table's) are given back by the next import.
            using (var n = TestPaths.NewTemp())
            {
                var (newLogs, _) = Setup(n, days: 2);
                using (var c = MadfDatabase.Open(n.Db))
                {
                    Assert.Equal(2, c.ExecuteScalar<long>("PRAGMA auto_vacuum"));
                    c.Execute("CREATE TABLE junk AS SELECT randomblob(4000) AS b FROM events; DROP TABLE junk;");
                    Assert.True(c.ExecuteScalar<long>("PRAGMA freelist_count") > 0);
                }
                EventLogWriter.Append(newLogs, new EventRow { Timestamp = Now.ToUnixTimeMilliseconds(), EventType = "tool_call", Category = "execution", AgentName = "dev" }, new Hashtable());
                Assert.Equal(1, new LogImporter(new ImportOptions { DatabasePath = n.Db }).Import(new[] { newLogs }).Imported);
                using (var c = MadfDatabase.Open(n.Db)) Assert.Equal(0, c.ExecuteScalar<long>("PRAGMA freelist_count"));
            }
            // A store created before (its file existed, empty, when it was first opened: no mode set) takes it at the rotation's VACUUM.
            using var t = TestPaths.NewTemp();
            File.WriteAllBytes(t.Db, Array.Empty<byte>());
            var (logs, events) = Setup(t, days: 40, perDay: 10);
            using (var c = MadfDatabase.Open(t.Db)) Assert.Equal(0, c.ExecuteScalar<long>("PRAGMA auto_vacuum"));
            var r = new Rotation(Options(t, logs, retention: 30)).Run();
            Assert.True(r.EventsMoved > 0);
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(2, c.ExecuteScalar<long>("PRAGMA auto_vacuum"));
                Assert.Equal(events - r.EventsMoved, c.ExecuteScalar<long>("SELECT count(*) FROM events"));
            }
            Assert.Equal(events, DistinctEventsEverywhere(t));
        }

        [Fact]
        public void AnActiveDatabaseOverItsBudgetShrinksTheWindowAndSaysSo()
        {
            using var t = TestPaths.NewTemp();
            var (logs, events) = Setup(t, days: 20, perDay: 400);
            var r = new Rotation(Options(t, logs, retention: 365, maxMb: 1)).Run();
            Assert.NotNull(r.WindowShrunkToDays);
            Assert.Contains(r.Notes, n => n.Contains("budget"));
            Assert.True(r.EventsMoved > 0);
            Assert.True(r.DatabaseBytesAfter <= 1024 * 1024 * 1.05, $"active database is {r.DatabaseBytesAfter} bytes");
            Assert.Equal(events, DistinctEventsEverywhere(t));
        }

        [Fact]
        public void ConfigurationRoundTripsAndRejectsNonsense()
        {
            using var t = TestPaths.NewTemp();
            var config = MadfConfig.Load(t.Db);
            Assert.Equal(90, config.RetentionDays);
            config.RetentionDays = 45;
            config.LogPaths = new[] { "/a", "/b" };
            config.Save();
            var again = MadfConfig.Load(t.Db);
            Assert.Equal(45, again.RetentionDays);
            Assert.Equal(new[] { "/a", "/b" }, again.LogPaths);
            File.WriteAllText(again.Path, "{ \"retentionDays\": 0 }");
            Assert.Equal("ConfigInvalid", Assert.Throws<MadfException>(() => MadfConfig.Load(t.Db)).ErrorId);
            File.WriteAllText(again.Path, "{ nope");
            Assert.Equal("ConfigInvalid", Assert.Throws<MadfException>(() => MadfConfig.Load(t.Db)).ErrorId);
        }

        private static string ImportTestsLine() =>
            "{\"timestamp\":\"2026-11-23T23:59:00Z\",\"event_type\":\"late\",\"category\":\"x\"}";
    }
}

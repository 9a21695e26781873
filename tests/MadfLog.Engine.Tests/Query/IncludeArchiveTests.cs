using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Facade;
using MadfLog.Engine.Import;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Query;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Store;
using MadfLog.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>
    /// -IncludeArchive: after retention moved two and a half months to archives, every question answers over the active
    /// and the archived events exactly as a scan of all of them does (a copy of the same logs imported and never
    /// rotated holds all of them), for the whole store, a story and a week; without it, over the active window only.
    /// </summary>
    public class IncludeArchiveTests : IClassFixture<IncludeArchiveTests.Stores>
    {
        public sealed class Stores : IDisposable
        {
            public TempFolder Temp { get; } = TestPaths.NewTemp();
            public string Rotated => Temp.File("rotated.db");
            public string Reference => Temp.File("reference.db");
            public string Archive => Temp.File("archive");
            public List<string> Logs { get; }
            public RotationResult Rotation { get; }

            // Four stories of 18 days from 2026-08-20 (to 2026-10-26); 30 days kept on 2026-11-01 12:00 moves August,
            // September and 2026-10-01..02 12:00: stories 1.1 and 1.2 are archived whole, 1.3 is cut, 1.4 stays active.
            public static readonly DateTimeOffset Now = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

            public Stores()
            {
                var events = new SampleLogGenerator(new SampleOptions
                {
                    Seed = 7, Stories = new[] { "1.1", "1.2", "1.3", "1.4" }, DaysPerStory = 18, SessionsPerAgentPerDay = 1, StepsPerSession = 16,
                    Start = new DateTimeOffset(2026, 8, 20, 8, 0, 0, TimeSpan.Zero),
                }).Generate();
                Logs = SampleLogGenerator.WriteDailyFiles(events, Temp.File("logs"));
                foreach (var db in new[] { Rotated, Reference })
                {
                    new LogImporter(new ImportOptions { DatabasePath = db, BatchSize = 900 }).Import(Logs.Take(40));
                    new LogImporter(new ImportOptions { DatabasePath = db, BatchSize = 900 }).Import(Logs.Skip(40));
                }
                Directory.CreateDirectory(Temp.File("live")); // no live logs: only retention acts
                Rotation = new Rotation(new RotationOptions { DatabasePath = Rotated, LogPaths = new[] { Temp.File("live") }, ArchivePath = Archive, RetentionDays = 30, Now = Now }).Run();
            }

            public void Dispose() => Temp.Dispose();
        }

        private readonly Stores _s;
        public IncludeArchiveTests(Stores s) { _s = s; }

        private static readonly DateTimeOffset Sep28 = new DateTimeOffset(2026, 9, 28, 0, 0, 0, TimeSpan.Zero);

        // The whole store, a story archived whole, a story the cut falls in, the week of the cut (whole days, and cutting
        // days), a week long archived.
        public static IEnumerable<object[]> Filters() => new[]
        {
            new object[] { "whole store", new QueryFilter() },
            new object[] { "story 1.1", new QueryFilter { Stories = new[] { "1.1" } } },
            new object[] { "story 1.3", new QueryFilter { Stories = new[] { "1.3" } } },
            new object[] { "week of the cut", new QueryFilter { Since = Sep28, Until = Sep28.AddDays(7) } },
            new object[] { "week of the cut, 13:00", new QueryFilter { Since = Sep28.AddHours(13), Until = Sep28.AddDays(7).AddHours(13) } },
            new object[] { "archived week", new QueryFilter { Since = Sep28.AddDays(-28), Until = Sep28.AddDays(-21) } },
        };

        [Fact]
        public void RetentionArchivedSeveralMonthsAndTheCombinedStoreHoldsEveryEventAsImported()
        {
            using var active = MadfDatabase.Open(_s.Rotated, forWrite: false);
            Assert.Equal(new[] { "2026-08", "2026-09", "2026-10" }, CombinedStore.Archives(active).Select(a => a.Period));
            using var store = MadfStore.OpenWithArchives(_s.Rotated);
            Assert.True(store.IncludesArchives);
            Assert.StartsWith(CombinedStore.Folder(_s.Archive), store.Path);
            using var reference = MadfDatabase.Open(_s.Reference, forWrite: false);
            using var combined = MadfDatabase.Open(store.Path, forWrite: false);
            Assert.Equal(Dump(reference), Dump(combined));
            Assert.Contains("archived events", store.ActiveWindowNote());
            Assert.Contains(_s.Rotation.EventsMoved.ToString(System.Globalization.CultureInfo.InvariantCulture), store.ActiveWindowNote());
        }

        [Theory]
        [MemberData(nameof(Filters))]
        public void IncludeArchiveAnswersEqualAScanOfActiveAndArchivedEvents(string what, QueryFilter filter)
        {
            using var store = MadfStore.OpenWithArchives(_s.Rotated);
            using var reference = MadfDatabase.Open(_s.Reference, forWrite: false);
            var scan = new QueryFilter { Stories = filter.Stories, Since = filter.Since ?? SummaryConsistencyTests.Scan.Since, Until = filter.Until, ScanEvents = true };
            Assert.True(store.CountEvents(filter) > 0, what);
            AssertSameAnswers(what, reference, scan, store, filter);
        }

        [Theory]
        [MemberData(nameof(Filters))]
        public void DefaultAnswersEqualAScanOfTheActiveEventsOnly(string what, QueryFilter filter)
        {
            using var store = MadfStore.OpenRead(_s.Rotated);
            using var active = MadfDatabase.Open(_s.Rotated, forWrite: false);
            Assert.False(store.IncludesArchives);
            var scan = new QueryFilter { Stories = filter.Stories, Since = filter.Since ?? SummaryConsistencyTests.Scan.Since, Until = filter.Until, ScanEvents = true };
            if (what == "story 1.1" || what == "archived week")
            {
                Assert.Equal(0, store.CountEvents(filter)); // archived whole: in no default answer
                return;
            }
            AssertSameAnswers(what, active, scan, store, filter);
            // And fewer events than with the archives wherever the archives hold some.
            using var all = MadfStore.OpenWithArchives(_s.Rotated);
            if (what != "whole store" || _s.Rotation.EventsMoved > 0) Assert.True(all.CountEvents(filter) > store.CountEvents(filter), what);
        }

        // Every event of a store, with its id and every column of the view (but the kind and context ids, which are each
        // database's own): review flags, created rules, pattern ids and tokens included.
        private static string Dump(SqliteConnection c) => string.Join("\n", c.Query("SELECT * FROM events ORDER BY id")
            .Select(r => string.Join("|", ((IDictionary<string, object>)r).Where(kv => kv.Key != "kind" && kv.Key != "context").Select(kv => kv.Value))));

        /// <summary>Every question through the store (as the cmdlets ask) against the same question scanning the reference's events.</summary>
        private static void AssertSameAnswers(string what, SqliteConnection reference, QueryFilter scan, MadfStore store, QueryFilter filter)
        {
            Assert.Equal(Analysis.CountEvents(reference, scan), store.CountEvents(filter));
            Assert.Equal(Analysis.CountErrors(reference, scan), store.CountErrors(filter));
            Assert.Equal(Analysis.ErrorSummary(reference, scan, 1000).Select(x => (x.PatternId, x.Template, x.Count, x.Share, string.Join(",", x.Agents), string.Join(",", x.Stories))),
                         store.ErrorSummary(filter, 1000).Select(x => (x.PatternId, x.Template, x.Count, x.Share, string.Join(",", x.Agents), string.Join(",", x.Stories))));
            var agents = Analysis.AgentPerformance(reference, scan).OrderBy(x => x.Agent).ToList();
            var answered = store.AgentPerformance(filter).OrderBy(x => x.Agent).ToList();
            Assert.NotEmpty(agents);
            Assert.Equal(agents.Select(x => (x.Agent, x.Events, x.Errors, x.SuccessRate, x.Tokens, x.ContextPressure, x.TimeWastedMs)),
                         answered.Select(x => (x.Agent, x.Events, x.Errors, x.SuccessRate, x.Tokens, x.ContextPressure, x.TimeWastedMs)));
            foreach (var (exact, approx) in agents.Zip(answered, (x, y) => (x, y)))
                Assert.InRange(approx.MedianDurationMs, exact.MedianDurationMs * 0.99, exact.MedianDurationMs * 1.1); // from duration histograms
            Assert.Equal(Analysis.Bottlenecks(reference, scan, 50).Select(x => (x.Kind, x.Name, x.Count, x.TotalMs, x.TimeWastedMs)),
                         store.Bottlenecks(filter, 50).Select(x => (x.Kind, x.Name, x.Count, x.TotalMs, x.TimeWastedMs)));
            Assert.Equal(Analysis.ToolFailures(reference, scan).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures, x.TopError)),
                         store.ToolFailures(filter).Select(x => (x.Tool, x.Agent, x.Calls, x.Failures, x.TopError)));
            Assert.Equal(Analysis.Sessions(reference, scan, null).Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)),
                         store.Sessions(filter, null).Select(x => (x.SessionId, x.Story, string.Join(",", x.Agents), x.Start, x.End, x.Events, x.Errors, x.Tokens, x.MaxContextPercent, x.HumanInteractions)));
            Assert.Equal(Analysis.ContextPressure(reference, scan, top: 1000).Select(x => (x.SessionId, x.Agent, x.Story, x.MaxContextPercent, x.Events, x.EventsAbove80, x.ErrorRateAbove80, x.ErrorRateBelow80)).OrderBy(x => x.SessionId + x.Agent),
                         store.ContextPressure(filter, 1000).Select(x => (x.SessionId, x.Agent, x.Story, x.MaxContextPercent, x.Events, x.EventsAbove80, x.ErrorRateAbove80, x.ErrorRateBelow80)).OrderBy(x => x.SessionId + x.Agent));
            Assert.Equal(Analysis.HumanInteractions(reference, scan, 1000).Select(x => (x.Category, x.Agent, x.Story, x.Count)).OrderBy(x => x),
                         store.HumanInteractions(filter, 1000).Select(x => (x.Category, x.Agent, x.Story, x.Count)).OrderBy(x => x));
            Assert.Equal(Analysis.Trend(reference, scan).Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)),
                         store.Trend(filter).Select(x => (x.Kind, x.Period, x.Events, x.ErrorRate, x.RepeatedErrorRate, x.TokensPerEvent, x.HumanInteractions)));
            static string Dump(Dictionary<string, long> d) => string.Join(",", d.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
            Assert.Equal(PatternAnalysis.ErrorPatterns(reference, scan, 100).Select(x => (x.PatternId, x.Count, x.Share, Dump(x.ByStory), Dump(x.ByAgent), string.Join("|", x.Examples))),
                         store.ErrorPatterns(filter, 100).Select(x => (x.PatternId, x.Count, x.Share, Dump(x.ByStory), Dump(x.ByAgent), string.Join("|", x.Examples))));
            Assert.Equal(PatternAnalysis.ErrorSequences(reference, scan, 100_000, 1, null).Select(x => (x.Kind, x.Sequence, x.Occurrences, x.Sessions, x.PatternId, x.LongestRun)),
                         store.ErrorSequences(filter, 100_000, 1, null).Select(x => (x.Kind, x.Sequence, x.Occurrences, x.Sessions, x.PatternId, x.LongestRun)));
            var first = Analysis.Events(reference, scan, new Analysis.EventFilter()).Take(50).Select(e => (e.Id, e.Timestamp, e.EventType, e.Message)).ToList();
            Assert.Equal(first, store.Events(filter, new Analysis.EventFilter { First = 50 }).Select(e => (e.Id, e.Timestamp, e.EventType, e.Message)));
            var a = Analysis.CompareStories(reference, "1.1", "1.4", scan);
            var b = store.CompareStories("1.1", "1.4", filter);
            Assert.Equal(new[] { a.Reference, a.Difference }.Select(x => (x.Story, x.Events, x.Errors, x.RepeatedErrors, x.Tokens, x.HumanInteractions)),
                         new[] { b.Reference, b.Difference }.Select(x => (x.Story, x.Events, x.Errors, x.RepeatedErrors, x.Tokens, x.HumanInteractions)));
        }

        [Fact]
        public void RetentionCarriesTheCombinedStoreAcrossTheMoveAndItAnswersAsTheBuiltOne()
        {
            using var t = TestPaths.NewTemp();
            var db = t.Db;
            var reference = t.File("reference.db");
            var archive = t.File("archive");
            // Imported as the fixture's reference was (the same files per import: the same ids and patterns).
            foreach (var store in new[] { db, reference })
            {
                new LogImporter(new ImportOptions { DatabasePath = store, BatchSize = 900 }).Import(_s.Logs.Take(40));
                new LogImporter(new ImportOptions { DatabasePath = store, BatchSize = 900 }).Import(_s.Logs.Skip(40));
            }
            Directory.CreateDirectory(t.File("live"));
            Rotation Rotate(int days) => new Rotation(new RotationOptions { DatabasePath = db, LogPaths = new[] { t.File("live") }, ArchivePath = archive, RetentionDays = days, Now = Stores.Now });

            // The first move (nothing archived before): the active store as it was is the combined store, up to date as
            // the move left it: the first call reads no event back.
            Assert.True(Rotate(45).Run().EventsMoved > 0);
            Assert.Single(Directory.GetFiles(CombinedStore.Folder(archive)));
            Assert.Contains("added:0", NotBuilt(db));
            AssertUpToDate("carried by the first move", db, reference);

            // Built from the archives instead (no cache): the same events and answers.
            CombinedStore.Remove(archive);
            Assert.Contains("snapshot", Prepare(db));
            AssertUpToDate("built", db, reference, incremental: false);

            // A second move, with a cache of the archives before: carried to the new archives' name.
            string before;
            using (var s = MadfStore.OpenWithArchives(db)) before = s.Path;
            Assert.True(Rotate(20).Run().EventsMoved > 0);
            var after = Assert.Single(Directory.GetFiles(CombinedStore.Folder(archive)));
            Assert.NotEqual(before, after);
            Assert.Contains("added:0", NotBuilt(db));
            AssertUpToDate("carried by a second move", db, reference);

            // A move with no cache of the archives before carries none: the first call builds it.
            CombinedStore.Remove(archive);
            new LogImporter(new ImportOptions { DatabasePath = db }).Import(new[] { Late(t, "late.jsonl", Stores.Now.AddDays(-25)) });
            new LogImporter(new ImportOptions { DatabasePath = reference }).Import(new[] { Late(t, "late.jsonl", Stores.Now.AddDays(-25)) });
            Assert.True(Rotate(20).Run().EventsMoved > 0);
            Assert.Empty(Directory.GetFiles(CombinedStore.Folder(archive)));
            Assert.Contains("snapshot", Prepare(db));
            AssertUpToDate("built after a move with no cache", db, reference, incremental: false);
        }

        // A daily log of one event at a time (an event imported late, older than the active window).
        private static string Late(TempFolder t, string name, DateTimeOffset at)
        {
            var file = t.File(name);
            if (!File.Exists(file))
                File.WriteAllText(file, $"{{\"timestamp\":\"{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"late-1\",\"story_id\":\"1.3\",\"agent_name\":\"dev\",\"success\":false,\"details\":{{\"tool\":\"Bash\",\"error\":\"npm ERR! missing script: lint\"}}}}\n");
            return file;
        }

        [Fact]
        public void TheCombinedStoreIsReusedUntilTheActiveStoreChangesAndRetentionCarriesIt()
        {
            using var t = TestPaths.NewTemp();
            var db = t.Db;
            var archive = t.File("archive");
            new LogImporter(new ImportOptions { DatabasePath = db }).Import(_s.Logs.Take(60));
            Directory.CreateDirectory(t.File("live"));
            Rotation Rotate(int days) => new Rotation(new RotationOptions { DatabasePath = db, LogPaths = new[] { t.File("live") }, ArchivePath = archive, RetentionDays = days, Now = Stores.Now });
            Assert.True(Rotate(45).Run().EventsMoved > 0);

            string first;
            long events;
            using (var s = MadfStore.OpenWithArchives(db)) { first = s.Path; events = s.CountEvents(new QueryFilter()); }
            var written = File.GetLastWriteTimeUtc(first);
            using (var s = MadfStore.OpenWithArchives(db)) Assert.Equal(first, s.Path); // the same sources: the same cache, not rebuilt
            Assert.Equal(written, File.GetLastWriteTimeUtc(first));
            Assert.Single(Directory.GetFiles(CombinedStore.Folder(archive), "*.db"));

            // New events in the active store: the same cache, brought up to date (not built again), counts them.
            var added = new LogImporter(new ImportOptions { DatabasePath = db }).Import(_s.Logs.Skip(60)).Imported;
            Assert.True(added > 0);
            var steps = Prepare(db);
            Assert.Contains("added:" + added, steps);
            Assert.DoesNotContain("snapshot", steps);
            using (var s = MadfStore.OpenWithArchives(db))
            {
                Assert.Equal(first, s.Path);
                Assert.Equal(events + added, s.CountEvents(new QueryFilter()));
            }
            Assert.Single(Directory.GetFiles(CombinedStore.Folder(archive), "*.db"));

            // Retention moving more events carries the cache to the new archives (active plus archived events are the same).
            Assert.True(Rotate(20).Run().EventsMoved > 0);
            Assert.NotEqual(first, Assert.Single(Directory.GetFiles(CombinedStore.Folder(archive))));
            Assert.Contains("added:0", NotBuilt(db));
            using (var s = MadfStore.OpenWithArchives(db)) Assert.Equal(events + added, s.CountEvents(new QueryFilter()));
            var report = StorageReport.Get(db);
            Assert.True(report.CombinedCacheBytes > 0);
            Assert.Equal(Directory.GetFiles(CombinedStore.Folder(archive)).Sum(f => new FileInfo(f).Length), report.CombinedCacheBytes);
        }

        // The parts of bringing the combined store up to date (Prepare), which was no build: no snapshot taken.
        private static List<string> NotBuilt(string db)
        {
            var steps = Prepare(db);
            Assert.DoesNotContain("snapshot", steps);
            return steps;
        }

        // Brings the combined store of a store up to date as -IncludeArchive does; returns the parts it did (CombinedStore.Prepare's steps).
        private static List<string> Prepare(string db)
        {
            var steps = new List<string>();
            using var c = MadfDatabase.Open(db, forWrite: false);
            CombinedStore.Prepare(c, db, CombinedStore.Archives(c), steps.Add);
            return steps;
        }

        // The combined store of a rotated store (brought up to date incrementally: no snapshot taken) answers every
        // question under every filter as a scan of the reference does, and holds the reference's events column for column.
        private static void AssertUpToDate(string what, string db, string reference, bool incremental = true)
        {
            var steps = Prepare(db);
            if (incremental) Assert.DoesNotContain("snapshot", steps);
            using var store = MadfStore.OpenWithArchives(db);
            using var r = MadfDatabase.Open(reference, forWrite: false);
            using (var combined = MadfDatabase.Open(store.Path, forWrite: false)) Assert.Equal(Dump(r), Dump(combined));
            foreach (var f in Filters())
            {
                var filter = (QueryFilter)f[1];
                var scan = new QueryFilter { Stories = filter.Stories, Since = filter.Since ?? SummaryConsistencyTests.Scan.Since, Until = filter.Until, ScanEvents = true };
                AssertSameAnswers(what + ", " + f[0], r, scan, store, filter);
            }
        }

        [Fact]
        public void AfterNewEventsReviewFlagsRulesAndMergesTheCombinedStoreIsBroughtUpToDateAndAnswersAsAScan()
        {
            using var t = TestPaths.NewTemp();
            var db = t.Db;
            var reference = t.File("reference.db");
            // Imported as the fixture's reference was (the same files per import: the same ids and patterns).
            foreach (var store in new[] { db, reference }) new LogImporter(new ImportOptions { DatabasePath = store, BatchSize = 900 }).Import(_s.Logs.Take(40));
            Directory.CreateDirectory(t.File("live"));
            Rotation Rotate(int days) => new Rotation(new RotationOptions { DatabasePath = db, LogPaths = new[] { t.File("live") }, ArchivePath = t.File("archive"), RetentionDays = days, Now = Stores.Now });
            Assert.True(Rotate(45).Run().EventsMoved > 0);
            CombinedStore.Remove(t.File("archive")); // what follows is brought up to date from a build, not the store the move carried
            Assert.Contains("snapshot", Prepare(db)); // built

            // New events (the rest of the logs): taken and counted.
            foreach (var store in new[] { db, reference }) new LogImporter(new ImportOptions { DatabasePath = store, BatchSize = 900 }).Import(_s.Logs.Skip(40));
            AssertUpToDate("new events", db, reference);

            // A transcript's response written over two lines, imported in between: its usage grows in place.
            var transcript = Path.Combine(t.Path, "projects", "-app", "s9.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(transcript)!);
            string Response(string uuid, string? parent, string time, int output) => ("{'type':'assistant','sessionId':'s9','uuid':'" + uuid + "','parentUuid':"
                + (parent == null ? "null" : "'" + parent + "'") + ",'isSidechain':false,'timestamp':'2026-10-20T10:00:" + time + "Z','requestId':'r1','message':{'id':'m1',"
                + "'content':[{'type':'text','text':'part " + uuid + "'}],'usage':{'input_tokens':10,'output_tokens':" + output + "}}}").Replace('\'', '"');
            File.WriteAllLines(transcript, new[] { Response("a1", null, "00", 1) });
            foreach (var store in new[] { db, reference }) new LogImporter(new ImportOptions { DatabasePath = store }).Import(new[] { transcript });
            AssertUpToDate("a transcript's first line", db, reference);
            File.AppendAllLines(transcript, new[] { Response("a2", "a1", "01", 40) });
            foreach (var store in new[] { db, reference }) new LogImporter(new ImportOptions { DatabasePath = store }).Import(new[] { transcript });
            using (var c = MadfDatabase.Open(db, forWrite: false)) Assert.Equal(50, c.ExecuteScalar<long>("SELECT max(tokens_used) FROM events WHERE session_id = 's9'"));
            AssertUpToDate("a response's usage grown", db, reference);

            // The same changes in place to both stores, on events the active store holds.
            List<long> ids;
            using (var c = MadfDatabase.Open(db, forWrite: false)) ids = c.Query<long>("SELECT id FROM event_rows WHERE id % 5 = 0 ORDER BY id LIMIT 300").ToList();
            void Change(Action<SqliteConnection, SqliteTransaction> change)
            {
                foreach (var store in new[] { db, reference })
                {
                    using var c = MadfDatabase.Open(store);
                    using var tx = c.BeginTransaction();
                    change(c, tx);
                    tx.Commit();
                }
            }
            Change((c, tx) => EventStorage.SetNeedsReview(c, tx, "id IN @ids", true, new { ids }));
            AssertUpToDate("review flags", db, reference);
            Change((c, tx) => EventStorage.SetCreatedRule(c, tx, "id IN @ids", new { Id = 7L, ids = ids.Take(40) }));
            AssertUpToDate("created rule", db, reference);

            // Two patterns merged, each with archived and active errors: the archived ones follow in the combined store.
            List<long> merged;
            using (var c = MadfDatabase.Open(reference, forWrite: false))
                merged = c.Query<long>(@"SELECT pattern_id FROM events WHERE pattern_id IS NOT NULL GROUP BY pattern_id
                    HAVING min(timestamp) < @cut AND max(timestamp) >= @cut ORDER BY count(*) DESC LIMIT 3",
                    new { cut = Stores.Now.AddDays(-45).ToUnixTimeMilliseconds() }).ToList();
            Assert.Equal(3, merged.Count);
            Change((c, tx) => PatternStore.MergeInto(c, tx, merged[1], merged[0], RuleStore.MovePattern));
            AssertUpToDate("merged patterns", db, reference);
            Change((c, tx) => PatternStore.MergeInto(c, tx, merged[0], merged[2], RuleStore.MovePattern)); // a survivor merged on
            AssertUpToDate("a survivor merged on", db, reference);

            // Retention moving more events: built again from the new archives.
            Assert.True(Rotate(20).Run().EventsMoved > 0);
            AssertUpToDate("rotated again", db, reference, incremental: false);
        }

        [Fact]
        public void NewEventsAfterRetentionArchivedEveryEventAreCountedOnce()
        {
            // Retention moved every event, so the active store held none when the combined store was built; the newest id
            // it held must still be the archived one (ids are never reused), or the next call counts the archived events
            // again as new.
            using var t = TestPaths.NewTemp();
            var db = t.Db;
            var reference = t.File("reference.db");
            foreach (var store in new[] { db, reference }) new LogImporter(new ImportOptions { DatabasePath = store, BatchSize = 900 }).Import(_s.Logs.Take(40));
            Directory.CreateDirectory(t.File("live"));
            Assert.True(new Rotation(new RotationOptions { DatabasePath = db, LogPaths = new[] { t.File("live") }, ArchivePath = t.File("archive"), RetentionDays = 30, Now = Stores.Now }).Run().EventsMoved > 0);
            using (var c = MadfDatabase.Open(db, forWrite: false)) Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows"));
            // Both the store the move carried (kept aside) and the one built from the archives are brought up to date.
            string carried;
            using (var c = MadfDatabase.Open(db, forWrite: false)) carried = CombinedStore.Prepare(c, db, CombinedStore.Archives(c));
            File.Copy(carried, t.File("carried.db"));
            CombinedStore.Remove(t.File("archive"));
            Assert.Contains("snapshot", Prepare(db)); // built
            foreach (var store in new[] { db, reference }) new LogImporter(new ImportOptions { DatabasePath = store, BatchSize = 900 }).Import(_s.Logs.Skip(40));
            AssertUpToDate("new events after every event was archived", db, reference);
            File.Copy(t.File("carried.db"), carried, overwrite: true);
            AssertUpToDate("new events after every event was archived, to the store the move carried", db, reference);
        }

        [Fact]
        public void AMissingOrDamagedArchiveIsAnErrorNamingTheFile()
        {
            using var t = TestPaths.NewTemp();
            var db = t.Db;
            new LogImporter(new ImportOptions { DatabasePath = db }).Import(_s.Logs);
            Directory.CreateDirectory(t.File("live"));
            new Rotation(new RotationOptions { DatabasePath = db, LogPaths = new[] { t.File("live") }, ArchivePath = t.File("archive"), RetentionDays = 30, Now = Stores.Now }).Run();
            var september = Path.Combine(t.File("archive"), "madflog-2026-09.db");
            Assert.True(File.Exists(september));

            File.WriteAllBytes(september, Enumerable.Repeat((byte)'x', 8192).ToArray()); // not a database any more
            var damaged = Assert.Throws<MadfException>(() => MadfStore.OpenWithArchives(db).Dispose());
            Assert.Equal("ArchiveUnreadable", damaged.ErrorId);
            Assert.Equal(MadfErrorKind.InvalidData, damaged.Kind);
            Assert.Contains(september, damaged.Message);
            Assert.Contains("2026-09", damaged.Message);

            File.Delete(september);
            var missing = Assert.Throws<MadfException>(() => MadfStore.OpenWithArchives(db).Dispose());
            Assert.Equal("ArchiveNotFound", missing.ErrorId);
            Assert.Equal(MadfErrorKind.NotFound, missing.Kind);
            Assert.Contains(september, missing.Message);
            Assert.Equal(september, missing.Target);
            // The active window is still answered without the archives.
            using var active = MadfStore.OpenRead(db);
            Assert.True(active.CountEvents(new QueryFilter()) > 0);
        }
    }
}

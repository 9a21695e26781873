using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>The rarely set values (schema 22) live in event_extras, and every reader sees them as before.</summary>
    public class EventExtrasTests
    {
        private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

        private static readonly string[] Rare = { "confidence_score", "impact_score", "user_satisfaction_delta", "created_rule", "time_saved_or_wasted_ms" };

        /// <summary>A log of events over <paramref name="days"/> days before Now (and today), a third with some rare value.</summary>
        private static int WriteLogs(string folder, int days, int perDay = 12)
        {
            Directory.CreateDirectory(folder);
            var lines = new List<string>();
            static string Num(string name, object? v) => v == null ? "" : $",\"{name}\":{Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)}";
            for (var d = days; d >= 0; d--)
                for (var i = 0; i < perDay; i++)
                    lines.Add($"{{\"timestamp\":{Now.AddDays(-d).AddMinutes(i * 11).ToUnixTimeMilliseconds()},\"event_type\":\"tool_call\",\"category\":\"execution\"," +
                        $"\"agent_name\":\"dev\",\"story_id\":\"1.1\",\"success\":{(i % 4 != 0 ? "true" : "false")}" +
                        Num("time_saved_or_wasted_ms", i % 2 == 0 ? i * 100 : (int?)null) +
                        Num("confidence_score", i % 3 == 0 ? 0.25 * (i % 5) : (double?)null) +
                        Num("impact_score", i % 6 == 0 ? -3.5 + d : (double?)null) +
                        Num("user_satisfaction_delta", i % 9 == 0 ? 0.125 : (double?)null) +
                        Num("created_rule", i % 12 == 3 ? 7 : (int?)null) +
                        $",\"details\":{{\"message\":\"event {d}/{i}\"}}}}");
            File.WriteAllLines(Path.Combine(folder, "events.jsonl"), lines);
            return lines.Count;
        }

        /// <summary>Every column of every event, as a plain SQLite connection reads the view.</summary>
        internal static List<string> PlainRead(string db)
        {
            using var plain = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            plain.Open();
            // Every column but kind, an id whose meaning the other columns give (migration 49 numbers kinds again).
            return plain.Query("SELECT * FROM events ORDER BY id").Select(r => string.Join("|",
                ((IDictionary<string, object?>)r).Where(v => v.Key != "kind").Select(v => v.Value))).ToList();
        }

        [Fact]
        public void OnlyEventsWithARareValueHaveAnExtrasRowAndTheViewShowsThemAll()
        {
            using var t = TestPaths.NewTemp();
            var logs = t.File("logs");
            var n = WriteLogs(logs, 2);
            Assert.Equal(n, new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs }).Imported);
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var columns = c.Query<string>("SELECT name FROM pragma_table_info('event_rows')").ToList();
            Assert.Empty(columns.Intersect(Rare));
            var withValue = c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE " + string.Join(" OR ", Rare.Select(col => col + " IS NOT NULL")));
            Assert.True(withValue > 0 && withValue < n);
            Assert.Equal(withValue, c.ExecuteScalar<long>("SELECT count(*) FROM event_extras"));
            // The values as logged, through the view (the first day's i = 0, 3, 6, 9: 0.25 * (i % 5)).
            Assert.Equal(new double?[] { 0, 0.75, 0.25, 1.0 }, c.Query<double?>(
                "SELECT confidence_score FROM events WHERE confidence_score IS NOT NULL AND timestamp < @end ORDER BY id", new { end = Now.AddDays(-2).AddHours(3).ToUnixTimeMilliseconds() }));
            Assert.Equal(3, c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE created_rule = 7")); // i = 3 of each day
            Assert.Equal(0 + 200 + 400 + 600 + 800 + 1000, c.ExecuteScalar<long>("SELECT sum(time_saved_or_wasted_ms) FROM events WHERE time_saved_or_wasted_ms IS NOT NULL AND timestamp < @end",
                new { end = Now.AddDays(-2).AddHours(3).ToUnixTimeMilliseconds() }));
        }

        [Fact]
        public void AVersion19StoreReadsTheSameEventsAfterTheRareValuesMoveApart()
        {
            using var t = TestPaths.NewTemp();
            var logs = t.File("logs");
            WriteLogs(logs, 2);
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs });
            var expected = PlainRead(t.Db);
            using (var c = MadfDatabase.Open(t.Db))
            {
                CompactStorageTests.UndoRareColumnsApart(c);
                // As a version-19 store holds them: in the rows themselves.
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE confidence_score IS NOT NULL") > 0);
                Assert.Equal(expected, PlainRead(t.Db));
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                Assert.Empty(c.Query<string>("SELECT name FROM pragma_table_info('event_rows')").Intersect(Rare));
                Assert.Equal(c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE " + string.Join(" OR ", Rare.Select(col => col + " IS NOT NULL"))),
                    c.ExecuteScalar<long>("SELECT count(*) FROM event_extras"));
                // AUTOINCREMENT's counter survives the rewrite: the next event gets a new id.
                var last = c.ExecuteScalar<long>("SELECT max(id) FROM event_rows");
                using var tx = c.BeginTransaction();
                var fresh = new List<EventRow> { new EventRow { Timestamp = Now.ToUnixTimeMilliseconds(), EventType = "step", Category = "workflow", DedupKey = 42, ImpactScore = 2 } };
                Assert.Equal(1, ImportStages.Write(c, tx, fresh));
                tx.Commit();
                Assert.True(fresh[0].Id > last);
                Assert.Equal(2.0, c.ExecuteScalar<double>("SELECT impact_score FROM events WHERE id = @Id", fresh[0]));
            }
            Assert.Equal(expected, PlainRead(t.Db).Take(expected.Count));
        }

        [Fact]
        public void ReplayingTheMigrationOnAStoreItAlreadyMovedChangesNothing()
        {
            // As a test that replays earlier migrations does: the version rows go, the tables stay.
            using var t = TestPaths.NewTemp();
            var logs = t.File("logs");
            WriteLogs(logs, 2);
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs });
            var expected = PlainRead(t.Db);
            using (var c = MadfDatabase.Open(t.Db)) c.Execute("DELETE FROM schema_version WHERE version >= 22");
            using (var c = MadfDatabase.Open(t.Db)) Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
            Assert.Equal(expected, PlainRead(t.Db));
        }

        [Fact]
        public void RotationMovesTheRareValuesWithTheirEvents()
        {
            using var t = TestPaths.NewTemp();
            var logs = t.File("logs");
            WriteLogs(logs, 80);
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs });
            var before = PlainRead(t.Db);
            var archive = t.File("archive");
            var r = new Rotation(new RotationOptions { DatabasePath = t.Db, LogPaths = new[] { logs }, ArchivePath = archive, RetentionDays = 30, Now = Now }).Run();
            var archives = Directory.GetFiles(archive, "madflog-*.db");
            Assert.NotEmpty(archives);
            var after = archives.SelectMany(PlainRead).Concat(PlainRead(t.Db)).OrderBy(line => long.Parse(line.Split('|')[0])).ToList();
            Assert.Equal(before, after);
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            // No extras row is left behind for an event that moved out.
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_extras WHERE id NOT IN (SELECT id FROM event_rows)"));
            Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_extras") > 0);
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using MadfLog.Engine.Tests.Import;
using Xunit;

namespace MadfLog.Engine.Tests.Reliability
{
    /// <summary>
    /// A daily log that grows all day, imported after each piece: read from its cursor (the identical lines' numbering
    /// continues from the state saved with the cursor), it gives exactly the events and keys of the file read whole.
    /// </summary>
    public class GrownFileTests
    {
        private static string WithId(int i)
        {
            var row = new EventRow
            {
                Timestamp = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() + i * 1000L,
                EventType = "step", Category = "workflow", AgentName = "dev", StoryId = "1.1", Success = true,
            };
            return Encoding.UTF8.GetString(EventLogWriter.Serialize(row, null, i.ToString("x32"))).TrimEnd('\n');
        }

        // Lines with their own id, identical lines without one (a few kinds, repeated all through), distinct ones, blank
        // lines and lines that are not events: what reaches the numbering and what does not.
        private static byte[] DailyLog(int lines, int seed)
        {
            var random = new Random(seed);
            var sb = new StringBuilder();
            for (var i = 0; i < lines; i++)
            {
                var x = random.Next(100);
                sb.Append(x < 35 ? WithId(i) : x < 75 ? ImportTests.Line(random.Next(4)) : x < 92 ? ImportTests.Line(1000 + i)
                    : x < 96 ? "" : "{\"not\": \"an event\"}").Append('\n');
            }
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        private static List<long> Keys(string db)
        {
            using var c = MadfDatabase.Open(db);
            using var keys = new EventKeys(c);
            return keys.All().Select(k => k.key).OrderBy(k => k).ToList();
        }

        private static void Append(string path, byte[] bytes, int from, int to)
        {
            using var f = new FileStream(path, FileMode.Append, FileAccess.Write);
            f.Write(bytes, from, to - from);
        }

        [Fact]
        public void AFileImportedInPiecesGivesTheEventsAndKeysOfTheFileImportedWhole()
        {
            using var t = TestPaths.NewTemp();
            var log = DailyLog(4000, 45);
            File.WriteAllBytes(t.File("whole.jsonl"), log);
            var whole = ImportTests.Import(t.File("whole.db"), t.File("whole.jsonl"));

            // Cut anywhere, mid-line too (the writer was inside a line): identical lines fall on both sides of the cuts.
            var random = new Random(18);
            var cuts = Enumerable.Range(0, 15).Select(_ => random.Next(1, log.Length)).Append(log.Length).Distinct().OrderBy(c => c).ToList();
            var pieces = t.File("madf-2026-11-20.jsonl");
            long imported = 0, quarantined = 0;
            var from = 0;
            foreach (var cut in cuts)
            {
                Append(pieces, log, from, cut);
                from = cut;
                var r = ImportTests.Import(t.Db, pieces);
                Assert.Equal(0, r.Duplicates);
                imported += r.Imported;
                quarantined += r.Quarantined;
            }
            Assert.Equal(whole.Imported, imported);
            Assert.Equal(whole.Quarantined, quarantined);
            Assert.Equal(Keys(t.File("whole.db")), Keys(t.Db));
            Assert.Equal(ImportTests.Count(t.File("whole.db"), "SELECT count(*) FROM events WHERE event_type = 'tool_call'"),
                ImportTests.Count(t.Db, "SELECT count(*) FROM events WHERE event_type = 'tool_call'"));
            // A copy read whole, and the file after a rotation moved it, add nothing.
            File.Copy(pieces, t.File("copy.jsonl"));
            var copy = ImportTests.Import(t.Db, t.File("copy.jsonl"));
            Assert.Equal(0, copy.Imported);
            Assert.Equal(whole.Imported, copy.Duplicates);
            Directory.CreateDirectory(t.File("archive"));
            File.Move(pieces, t.File("archive/madf-2026-11-20.jsonl"));
            File.AppendAllText(t.File("archive/madf-2026-11-20.jsonl"), ImportTests.Line(2) + "\n");
            var moved = ImportTests.Import(t.Db, t.File("archive/madf-2026-11-20.jsonl"));
            Assert.Equal(1, moved.Imported);
            Assert.Equal(1, moved.LinesRead);
        }

        [Fact]
        public void AGrownFileIsReadFromItsCursorWithoutTheLinesBefore()
        {
            using var t = TestPaths.NewTemp();
            var a = t.File("a.jsonl");
            // More than the 1 KB that identifies the file, then three identical lines.
            var head = string.Join("\n", Enumerable.Range(100, 10).Select(i => ImportTests.Line(i))) + "\n";
            File.WriteAllText(a, head + string.Join("\n", Enumerable.Repeat(ImportTests.Line(1), 3)) + "\n");
            Assert.Equal(13, ImportTests.Import(t.Db, a).Imported);
            // The lines before the cursor changed in place (same length, other content): a replay of them would number the
            // appended line as the first of its kind, a duplicate; the state saved with the cursor knows it is the fourth.
            File.WriteAllText(a, head + string.Join("\n", Enumerable.Repeat(ImportTests.Line(2), 3)) + "\n");
            File.AppendAllText(a, ImportTests.Line(1) + "\n");
            var more = ImportTests.Import(t.Db, a);
            Assert.Equal(1, more.LinesRead);
            Assert.Equal(1, more.Imported);
            Assert.Equal(0, more.Duplicates);
        }

        [Fact]
        public void AStoreUpgradedFromSchema42ContinuesAGrownFile()
        {
            using var t = TestPaths.NewTemp();
            var log = DailyLog(1500, 42);
            File.WriteAllBytes(t.File("whole.jsonl"), log);
            ImportTests.Import(t.File("whole.db"), t.File("whole.jsonl"));
            var a = t.File("a.jsonl");
            var third = log.Length / 3;
            Append(a, log, 0, third);
            ImportTests.Import(t.Db, a);
            // Back to schema 42: cursors without a numbering state.
            using (var c = MadfDatabase.Open(t.Db))
                c.Execute("ALTER TABLE import_files DROP COLUMN numbering; DELETE FROM schema_version WHERE version >= 45;");
            // The upgraded store replays the lines before the cursor once and saves the state; the next piece continues from it.
            Append(a, log, third, 2 * third);
            var second = ImportTests.Import(t.Db, a);
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM import_files WHERE numbering IS NOT NULL"));
            }
            Append(a, log, 2 * third, log.Length);
            var last = ImportTests.Import(t.Db, a);
            Assert.Equal(0, second.Duplicates + last.Duplicates);
            Assert.Equal(Keys(t.File("whole.db")), Keys(t.Db));
        }

        [Fact]
        public void NumberingContinuedFromASavedStateIsNumberingWithoutAStop()
        {
            // Cut at points before and after the window fills, and continued for more than a window: every occurrence agrees,
            // also of lines that left the window before they came back.
            var random = new Random(45);
            var stream = Enumerable.Range(0, IdenticalLines.Window * 3).Select(i =>
                random.Next(4) == 0 ? (long?)null : random.Next(2) == 0 ? random.Next(40) : 100L + random.Next(IdenticalLines.Window)).ToList();
            foreach (var cut in new[] { 0, 1, 777, IdenticalLines.Window - 1, IdenticalLines.Window + 12_345 })
            {
                var straight = new IdenticalLines();
                var resumed = new IdenticalLines();
                for (var i = 0; i < stream.Count; i++)
                {
                    if (i == cut)
                    {
                        var state = resumed.State();
                        resumed = IdenticalLines.FromState(state)!;
                        Assert.NotNull(resumed);
                        Assert.True(state.Length <= 3 + 20L * IdenticalLines.Window);
                    }
                    if (stream[i] is long line) Assert.Equal(straight.Next(line), resumed.Next(line));
                    else { straight.Pass(); resumed.Pass(); }
                }
            }
            Assert.Null(IdenticalLines.FromState(new byte[] { 99, 0, 0 })); // another version's state: replayed instead
        }
    }
}

using System;
using System.Collections;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Tests.Import;
using Xunit;

namespace MadfLog.Engine.Tests.Reliability
{
    /// <summary>Issue #14: exactly once means each real event once, not identical events once.</summary>
    public class IdenticalEventTests
    {
        private static EventRow Step() => new EventRow
        {
            Timestamp = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(),
            EventType = "step", Category = "workflow", AgentName = "dev", StoryId = "1.1", Success = true,
        };

        [Fact]
        public void RepeatedEventsWrittenByWriteMadfEventAllCount()
        {
            using var t = TestPaths.NewTemp();
            var logs = t.File("logs");
            string path = "";
            for (var i = 0; i < 200; i++) path = EventLogWriter.Append(logs, Step(), new Hashtable { ["step"] = "build" });
            var lines = File.ReadAllLines(path);
            Assert.Equal(200, lines.Distinct().Count()); // each carries its own id
            var r = ImportTests.Import(t.Db, logs);
            Assert.Equal(200, r.Imported);
            Assert.Equal(0, r.Duplicates);
            // A copy of the file, and the same file again, add nothing.
            File.Copy(path, t.File("copy.jsonl"));
            var again = ImportTests.Import(t.Db, logs, t.File("copy.jsonl"));
            Assert.Equal(0, again.Imported);
            Assert.Equal(200, again.Duplicates);
            Assert.Equal(200, ImportTests.Count(t.Db));
        }

        [Fact]
        public void IdenticalLinesWithoutAnIdAreKeyedByTheirOccurrenceInTheFile()
        {
            using var t = TestPaths.NewTemp();
            var line = ImportTests.Line(1);
            var a = t.File("a.jsonl");
            File.WriteAllText(a, string.Join("\n", Enumerable.Repeat(line, 5)) + "\n" + ImportTests.Line(2) + "\n");
            Assert.Equal(6, ImportTests.Import(t.Db, a).Imported);
            // Appended later: two more identical lines are new events, read after a resume.
            File.AppendAllText(a, line + "\n" + line + "\n");
            var more = ImportTests.Import(t.Db, a);
            Assert.Equal(2, more.Imported);
            Assert.Equal(0, more.Duplicates);
            // A copy, and a gzip copy, add nothing.
            File.Copy(a, t.File("copy.jsonl"));
            using (var gz = new GZipStream(File.Create(t.File("copy.jsonl.gz")), CompressionLevel.Fastest)) { var b = File.ReadAllBytes(a); gz.Write(b, 0, b.Length); }
            var copies = ImportTests.Import(t.Db, t.File("copy.jsonl"), t.File("copy.jsonl.gz"));
            Assert.Equal(0, copies.Imported);
            Assert.Equal(16, copies.Duplicates);
            Assert.Equal(8, ImportTests.Count(t.Db));
        }

        [Fact]
        public void LinesWithAnIdLeaveTheOccurrencesOfLinesWithoutOneAsCountingEveryLineDoes()
        {
            // The parser passes over lines with an id (Pass) and a resumed file's replay counts every line (Next): the lines
            // without an id must get the same occurrences either way, also once lines leave the window.
            var counted = new IdenticalLines();
            var passed = new IdenticalLines();
            var random = new Random(7);
            for (var i = 0; i < IdenticalLines.Window * 2 + 5000; i++)
            {
                if (random.Next(3) == 0)
                {
                    var idLine = 1_000_000L + i; // a line with an id: its own hash, never seen again
                    counted.Next(idLine);
                    passed.Pass();
                }
                else
                {
                    // Some lines repeat often, others about once a window, so some leave it before they come back.
                    var line = random.Next(2) == 0 ? random.Next(50) : 100L + random.Next(IdenticalLines.Window / 2);
                    Assert.Equal(counted.Next(line), passed.Next(line));
                }
            }
        }

        [Fact]
        public void IdenticalLinesBetweenLinesWithAnIdKeepTheirKeysWhenTheFileIsResumed()
        {
            using var t = TestPaths.NewTemp();
            var plain = ImportTests.Line(1);
            string WithId(int i) => Encoding.UTF8.GetString(EventLogWriter.Serialize(Step(), null, i.ToString("x32"))).TrimEnd('\n');
            var a = t.File("a.jsonl");
            File.WriteAllText(a, string.Join("\n", WithId(1), plain, WithId(2), plain, plain) + "\n");
            Assert.Equal(5, ImportTests.Import(t.Db, a).Imported);
            // Resumed: the earlier lines are replayed, so the appended copy of the plain line is its fourth occurrence.
            File.AppendAllText(a, WithId(3) + "\n" + plain + "\n" + WithId(1) + "\n");
            var more = ImportTests.Import(t.Db, a);
            Assert.Equal(2, more.Imported);
            Assert.Equal(1, more.Duplicates);
            // Read whole from the start (a copy), every line is a duplicate of what is stored.
            File.Copy(a, t.File("copy.jsonl"));
            var copy = ImportTests.Import(t.Db, t.File("copy.jsonl"));
            Assert.Equal(0, copy.Imported);
            Assert.Equal(8, copy.Duplicates);
            Assert.Equal(7, ImportTests.Count(t.Db));
        }

        [Fact]
        public void AnEventWrittenTwiceWithItsIdCountsOnce()
        {
            using var t = TestPaths.NewTemp();
            var line = Encoding.UTF8.GetString(EventLogWriter.Serialize(Step(), null, "0123456789abcdef0123456789abcdef")).TrimEnd('\n');
            Assert.Contains("\"event_id\":\"0123456789abcdef0123456789abcdef\"", line);
            File.WriteAllText(t.File("a.jsonl"), line + "\n" + line + "\n");
            var r = ImportTests.Import(t.Db, t.File("a.jsonl"));
            Assert.Equal(1, r.Imported);
            Assert.Equal(1, r.Duplicates);
            // The id is identity, not data: it is not folded into details.
            Assert.Equal(0, ImportTests.Count(t.Db, "SELECT count(*) FROM events WHERE details LIKE '%event_id%'"));
        }
    }
}

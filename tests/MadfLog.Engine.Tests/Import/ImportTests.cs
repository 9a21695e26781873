using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    public class ImportTests
    {
        internal static string Line(int i, string type = "tool_call", string category = "execution", bool success = true, string? extra = null) =>
            "{\"timestamp\":\"2026-11-20T10:" + (i / 60 % 60).ToString("00") + ":" + (i % 60).ToString("00") + "Z\",\"event_type\":\"" + type +
            "\",\"category\":\"" + category + "\",\"session_id\":\"s1\",\"story_id\":\"1.1\",\"agent_name\":\"dev\",\"duration_ms\":" + (100 + i) +
            ",\"success\":" + (success ? "true" : "false") + ",\"details\":{\"message\":\"m" + i + "\"}" + (extra ?? "") + "}";

        internal static ImportResult Import(string db, params string[] paths) =>
            new LogImporter(new ImportOptions { DatabasePath = db }).Import(paths);

        internal static ImportResult Import(string db, List<ImportIssue> issues, params string[] paths) =>
            new LogImporter(new ImportOptions { DatabasePath = db, OnIssue = issues.Add }).Import(paths);

        internal static long Count(string db, string sql = "SELECT count(*) FROM events")
        {
            using var c = MadfDatabase.Open(db);
            return c.ExecuteScalar<long>(sql);
        }

        [Fact]
        public void ImportsEveryColumnAndFoldsUnknownFieldsIntoDetails()
        {
            using var t = TestPaths.NewTemp();
            File.WriteAllText(t.File("a.jsonl"),
                "{\"timestamp\":\"2026-11-20T10:00:00+02:00\",\"eventType\":\"tool_call\",\"category\":\"error\",\"sessionId\":\"s\",\"storyId\":\"1.2\",\"workflowId\":\"w\",\"agentName\":\"dev\",\"durationMs\":\"250\",\"tokensUsed\":12,\"contextPercent\":81.5,\"success\":0,\"confidenceScore\":0.5,\"impactScore\":2,\"timeSavedOrWastedMs\":-40,\"userSatisfactionDelta\":0.1,\"needsReview\":1,\"details\":{\"message\":\"boom\"},\"tool\":\"Bash\",\"n\":[1,2]}\n");
            var r = Import(t.Db, t.File("a.jsonl"));
            Assert.Equal(1, r.Imported);
            using var c = MadfDatabase.Open(t.Db);
            var row = c.QuerySingle("SELECT * FROM events");
            var d = (IDictionary<string, object>)row;
            Assert.Equal(new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), (long)d["timestamp"]);
            Assert.Equal("tool_call", d["event_type"]);
            Assert.Equal("1.2", d["story_id"]);
            Assert.Equal(250L, (long)d["duration_ms"]);
            Assert.Equal(81.5, (double)d["context_percent"]);
            Assert.Equal(0L, (long)d["success"]);
            Assert.Equal(-40L, (long)d["time_saved_or_wasted_ms"]);
            Assert.Equal(1L, (long)d["needs_review"]);
            Assert.Equal("{\"message\":\"boom\",\"tool\":\"Bash\",\"n\":[1,2]}", d["details"]);
        }

        [Fact]
        public void EpochMillisecondsAndBooleansAsNumbersAreAccepted()
        {
            using var t = TestPaths.NewTemp();
            File.WriteAllText(t.File("a.jsonl"), "{\"timestamp\":1763632800000,\"event_type\":\"x\",\"category\":\"y\",\"success\":1}\n");
            Assert.Equal(1, Import(t.Db, t.File("a.jsonl")).Imported);
            Assert.Equal(1763632800000L, Count(t.Db, "SELECT timestamp FROM events"));
            Assert.Equal(1L, Count(t.Db, "SELECT success FROM events"));
        }

        [Theory]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\"", "invalid JSON")]
        [InlineData("not json at all", "invalid JSON")]
        [InlineData("[1,2,3]", "not a JSON object")]
        [InlineData("{\"event_type\":\"x\",\"category\":\"y\"}", "missing required field 'timestamp'")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"category\":\"y\"}", "missing required field 'event_type'")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\"}", "missing required field 'category'")]
        [InlineData("{\"timestamp\":\"yesterday\",\"event_type\":\"x\",\"category\":\"y\"}", "timestamp: 'yesterday' is not ISO-8601")]
        [InlineData("{\"timestamp\":1763632800,\"event_type\":\"x\",\"category\":\"y\"}", "seconds given?")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"duration_ms\":\"slow\"}", "duration_ms: expected a number")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"success\":\"maybe\"}", "success: expected true/false/0/1")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"details\":\"text\"}", "details: expected an object")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\"} trailing", "")]
        public void BadLinesAreQuarantinedWithFileLineAndReason(string bad, string reasonPart)
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("bad.jsonl");
            File.WriteAllText(path, Line(1) + "\n" + bad + "\n" + Line(2) + "\n");
            var issues = new List<ImportIssue>();
            var r = Import(t.Db, issues, path);
            Assert.Equal(2, r.Imported);
            Assert.Equal(1, r.Quarantined);
            var q = Assert.Single(issues);
            Assert.Equal("LineQuarantined", q.ErrorId);
            Assert.Equal(path, q.File);
            Assert.Equal(2, q.LineNumber);
            Assert.Contains(reasonPart, q.Reason);
            using var c = MadfDatabase.Open(t.Db);
            var stored = QuarantineStore.List(c).Single();
            Assert.Equal(bad, stored.Raw);
            Assert.Equal(2, stored.Line);
            Assert.Equal(path, stored.File);
        }

        // Reasons are stored with the quarantined line and matched by users' scripts: their text is a contract, whatever
        // holds it (Messages.resx).
        [Theory]
        [InlineData("[1,2,3]", "not a JSON object")]
        [InlineData("{\"event_type\":\"x\",\"category\":\"y\"}", "missing required field 'timestamp'")]
        [InlineData("{\"timestamp\":\"yesterday\",\"event_type\":\"x\",\"category\":\"y\"}", "timestamp: 'yesterday' is not ISO-8601 or epoch milliseconds")]
        [InlineData("{\"timestamp\":1763632800,\"event_type\":\"x\",\"category\":\"y\"}", "timestamp: 1763632800 is outside 2000-2100 as epoch milliseconds (seconds given?)")]
        [InlineData("{\"timestamp\":true,\"event_type\":\"x\",\"category\":\"y\"}", "timestamp: expected a string or a number, got a boolean")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"duration_ms\":\"slow\"}", "duration_ms: expected a number, got the string 'slow'")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"tokens_used\":[1]}", "tokens_used: expected a number, got an array")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"success\":\"maybe\"}", "success: expected true/false/0/1, got the string 'maybe'")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"details\":\"text\"}", "details: expected an object, got a string")]
        // Which of two values is the event's? Neither is taken: the line waits in quarantine for the logger's fix.
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"timestamp\":\"2026-11-21T00:00:00Z\"}", "timestamp: given more than once on the line (one column, one value)")]
        [InlineData("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\",\"success\":true,\"Success\":false}", "Success: given more than once on the line (one column, one value)")]
        public void QuarantineReasonsKeepTheirExactText(string bad, string reason)
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("bad.jsonl");
            File.WriteAllText(path, bad + "\n");
            Import(t.Db, new List<ImportIssue>(), path);
            using var c = MadfDatabase.Open(t.Db);
            Assert.Equal(reason, QuarantineStore.List(c).Single().Reason);
        }

        [Fact]
        public void BomCrlfAndBlankLinesAreHandled()
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("crlf.jsonl");
            var text = Line(1) + "\r\n\r\n   \r\n" + Line(2) + "\r\n";
            File.WriteAllBytes(path, new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(text)).ToArray());
            var r = Import(t.Db, path);
            Assert.Equal(2, r.Imported);
            Assert.Equal(0, r.Quarantined);
            Assert.Equal(2, r.BlankLines);
            Assert.Equal(4, r.LinesRead);
        }

        [Fact]
        public void TruncatedLastLineIsLeftForTheNextRun()
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("live.jsonl");
            var partial = Line(2);
            File.WriteAllText(path, Line(1) + "\n" + partial.Substring(0, 30));
            var first = Import(t.Db, path);
            Assert.Equal(1, first.Imported);
            Assert.Equal(0, first.Quarantined);
            Assert.Equal(30, first.PendingBytes);

            File.AppendAllText(path, partial.Substring(30) + "\n" + Line(3) + "\n");
            var second = Import(t.Db, path);
            Assert.Equal(2, second.Imported);
            Assert.Equal(0, second.Duplicates);
            Assert.Equal(3, Count(t.Db));
        }

        [Fact]
        public void ReimportingAFileOrACopyOfItsLinesAddsNothing()
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("a.jsonl");
            File.WriteAllLines(path, Enumerable.Range(0, 100).Select(i => Line(i)));
            Assert.Equal(100, Import(t.Db, path).Imported);

            var again = Import(t.Db, path);
            Assert.Equal(0, again.Imported);
            Assert.Equal(0, again.LinesRead); // cursor: nothing new was even read

            File.WriteAllLines(t.File("copy.jsonl"), File.ReadAllLines(path).Reverse());
            var copy = Import(t.Db, t.File("copy.jsonl"));
            Assert.Equal(0, copy.Imported);
            Assert.Equal(100, copy.Duplicates);
            Assert.Equal(100, Count(t.Db));
        }

        [Fact]
        public void IdenticalLinesInOneFileAreEachAnEvent()
        {
            // Issue #14.12: a repeated step logged twice happened twice; exactly once is about reading, not about content.
            using var t = TestPaths.NewTemp();
            File.WriteAllLines(t.File("a.jsonl"), new[] { Line(1), Line(1), Line(2) });
            var r = Import(t.Db, t.File("a.jsonl"));
            Assert.Equal(3, r.Imported);
            Assert.Equal(0, r.Duplicates);
        }

        [Fact]
        public void IncrementalRunsReadOnlyNewLinesAndKeepLineNumbers()
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("a.jsonl");
            File.WriteAllLines(path, Enumerable.Range(0, 10).Select(i => Line(i)));
            Import(t.Db, path);
            File.AppendAllText(path, "garbage\n" + Line(50) + "\n");
            var issues = new List<ImportIssue>();
            var r = Import(t.Db, issues, path);
            Assert.Equal(2, r.LinesRead);
            Assert.Equal(1, r.Imported);
            Assert.Equal(11, Assert.Single(issues).LineNumber);
        }

        [Fact]
        public void ARotatedFileIsRecognisedByContentAndATruncatedOneIsReadAgain()
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("madf-2026-11-20.jsonl");
            File.WriteAllLines(path, Enumerable.Range(0, 20).Select(i => Line(i)));
            Import(t.Db, path);

            // Rotation moves the file: same content, new name; only the new tail is read.
            Directory.CreateDirectory(t.File("closed"));
            var moved = Path.Combine(t.File("closed"), "madf-2026-11-20.jsonl");
            File.Move(path, moved);
            File.AppendAllText(moved, Line(99) + "\n");
            var r = Import(t.Db, moved);
            Assert.Equal(1, r.LinesRead);
            Assert.Equal(1, r.Imported);

            // Truncated and rewritten in place: read from the start; dedup keeps it exactly-once.
            File.WriteAllLines(moved, new[] { Line(0), Line(200) });
            var again = Import(t.Db, moved);
            Assert.Equal(2, again.LinesRead);
            Assert.Equal(1, again.Imported);
            Assert.Equal(22, Count(t.Db));
        }

        [Fact]
        public void FoldersAreWalkedForJsonlAndGzipFiles()
        {
            using var t = TestPaths.NewTemp();
            Directory.CreateDirectory(t.File("sub"));
            File.WriteAllLines(t.File("a.jsonl"), new[] { Line(1) });
            File.WriteAllLines(Path.Combine(t.File("sub"), "b.jsonl"), new[] { Line(2) });
            WriteGzip(Path.Combine(t.File("sub"), "c.jsonl.gz"), Line(3) + "\n" + Line(4) + "\n");
            File.WriteAllText(t.File("notes.txt"), "ignored");
            var r = Import(t.Db, t.Path);
            Assert.Equal(3, r.Files);
            Assert.Equal(4, r.Imported);
            Assert.Equal(0, Import(t.Db, t.Path).LinesRead);
        }

        [Fact]
        public void AGzipFileCutShortKeepsTheLinesBeforeTheCutAndReportsIt()
        {
            using var t = TestPaths.NewTemp();
            var lines = Enumerable.Range(0, 2000).Select(i => Line(i, extra: ",\"pad\":\"" + new string((char)('a' + i % 26), i % 50) + Guid.NewGuid() + "\"")).ToArray();
            var whole = t.File("whole.jsonl.gz");
            WriteGzip(whole, string.Join("\n", lines) + "\n");
            var bytes = File.ReadAllBytes(whole);
            var cut = t.File("cut.jsonl.gz");
            File.WriteAllBytes(cut, bytes.Take(bytes.Length * 2 / 3).ToArray());

            var issues = new List<ImportIssue>();
            var r = Import(t.Db, issues, cut);
            Assert.Contains(issues, i => i.ErrorId == "GzipTruncated" || i.ErrorId == "GzipCorrupt");
            Assert.NotNull(r.FileResults.Single().Problem);
            Assert.InRange(r.Imported, 1, lines.Length - 1);
            // Every line read is accounted for: imported or quarantined (the cut one).
            Assert.Equal(r.LinesRead, r.Imported + r.Quarantined);

            // The full archive later: the rest arrives, nothing twice.
            var full = Import(t.Db, whole);
            Assert.Equal(lines.Length, Count(t.Db));
            Assert.Equal(lines.Length - r.Imported, full.Imported);
        }

        [Fact]
        public void ATenMegabyteLineIsQuarantinedAndTheOthersImported()
        {
            // Issue #14.11: above the documented 1 MB limit a line is quarantined by its head and hash, never held whole.
            using var t = TestPaths.NewTemp();
            var big = Line(1, extra: ",\"blob\":\"" + new string('x', 10 * 1024 * 1024) + "\"");
            File.WriteAllText(t.File("big.jsonl"), Line(0) + "\n" + big + "\n" + Line(2) + "\n");
            var r = Import(t.Db, t.File("big.jsonl"));
            Assert.Equal(2, r.Imported);
            Assert.Equal(1, r.Quarantined);
            Assert.True(Count(t.Db, "SELECT max(length(raw)) FROM quarantine") <= 4096);
        }

        [Fact]
        public void AMissingFileIsReportedAndOthersStillImport()
        {
            using var t = TestPaths.NewTemp();
            File.WriteAllLines(t.File("a.jsonl"), new[] { Line(1) });
            var issues = new List<ImportIssue>();
            var r = Import(t.Db, issues, t.File("missing.jsonl"), t.File("a.jsonl"));
            Assert.Equal(1, r.Imported);
            Assert.Contains(issues, i => i.ErrorId == "FileUnreadable" && i.File.EndsWith("missing.jsonl", StringComparison.Ordinal));
        }

        [Fact]
        public void StoryOptionFillsOnlyEventsWithoutAStory()
        {
            using var t = TestPaths.NewTemp();
            File.WriteAllText(t.File("a.jsonl"), Line(1) + "\n{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\"}\n");
            new LogImporter(new ImportOptions { DatabasePath = t.Db, Story = "2.1" }).Import(new[] { t.File("a.jsonl") });
            Assert.Equal(1, Count(t.Db, "SELECT count(*) FROM events WHERE story_id='1.1'"));
            Assert.Equal(1, Count(t.Db, "SELECT count(*) FROM events WHERE story_id='2.1'"));
        }

        [Fact]
        public void AStoppedImportLeavesAConsistentStoreAndTheNextRunFinishes()
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("a.jsonl");
            File.WriteAllLines(path, Enumerable.Range(0, 5000).Select(i => Line(i)));
            using var cts = new System.Threading.CancellationTokenSource();
            var batches = 0;
            var options = new ImportOptions
            {
                DatabasePath = t.Db, BatchSize = 500, CommitEvents = 500, Cancellation = cts.Token, // a commit per batch
                Progress = new Progress(() => { if (++batches == 3) cts.Cancel(); }),
            };
            Assert.ThrowsAny<OperationCanceledException>(() => new LogImporter(options).Import(new[] { path }));
            var partial = Count(t.Db);
            Assert.InRange(partial, 500, 4999);
            Assert.Equal(0, partial % 500); // whole batches only

            var rest = Import(t.Db, path);
            Assert.Equal(5000 - partial, rest.Imported);
            Assert.Equal(0, rest.Duplicates);
            Assert.Equal(5000, Count(t.Db));
        }

        private sealed class Progress : IProgress<ImportProgress>
        {
            private readonly Action _on;
            public Progress(Action on) { _on = on; }
            public void Report(ImportProgress value) => _on();
        }

        internal static void WriteGzip(string path, string text)
        {
            using var fs = File.Create(path);
            using var gz = new GZipStream(fs, CompressionLevel.Optimal);
            var b = Encoding.UTF8.GetBytes(text);
            gz.Write(b, 0, b.Length);
        }
    }
}

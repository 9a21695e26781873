using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using MadfLog.Engine.Tests.Import;
using Xunit;

namespace MadfLog.Engine.Tests.Reliability
{
    /// <summary>Issue #14: hostile or broken input is quarantined with its reason and never stops an import.</summary>
    public class ImportReliabilityTests
    {
        private static void AssertAccounted(ImportResult r) =>
            Assert.Equal(r.LinesRead, r.Imported + r.Duplicates + r.Quarantined + r.Skipped + r.BlankLines);

        private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

        [Theory]
        [InlineData("\"duration_ms\":\"", "1\"")]          // bad byte inside a quoted number
        [InlineData("\"", "x\":1")]                        // bad byte inside a field name
        [InlineData("\"details\":{\"message\":\"", "\"}")] // bad byte inside a message
        [InlineData("\"agent_name\":\"", "\"")]            // bad byte inside a name read through the string cache
        public void InvalidUtf8IsQuarantinedAndTheRestImported(string before, string after)
        {
            using var t = TestPaths.NewTemp();
            var bad = new List<byte>();
            bad.AddRange(Bytes("{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"x\",\"category\":\"y\"," + before));
            bad.Add(0xFF);
            bad.AddRange(Bytes(after + "}\n"));
            using (var fs = File.Create(t.File("a.jsonl")))
            {
                var good = Bytes(ImportTests.Line(1) + "\n");
                fs.Write(good, 0, good.Length);
                fs.Write(bad.ToArray(), 0, bad.Count);
                good = Bytes(ImportTests.Line(2) + "\n");
                fs.Write(good, 0, good.Length);
            }
            File.WriteAllText(t.File("b.jsonl"), ImportTests.Line(3) + "\n");
            var issues = new List<ImportIssue>();
            var r = ImportTests.Import(t.Db, issues, t.Path);
            Assert.Equal(3, r.Imported);
            Assert.Equal(1, r.Quarantined);
            AssertAccounted(r);
            var q = Assert.Single(issues);
            Assert.Equal(2, q.LineNumber);
            Assert.Contains("UTF-8", q.Reason);
            // A second run has nothing to do and does not fail.
            var again = ImportTests.Import(t.Db, t.Path);
            Assert.Equal(0, again.Imported + again.Quarantined);
        }
    }
}

namespace MadfLog.Engine.Tests.Reliability
{
    public class NumericRangeTests
    {
        private const string Head = "{\"timestamp\":\"2026-11-20T10:00:00Z\",\"event_type\":\"tool_call\",\"category\":\"y\",\"agent_name\":\"dev\",\"success\":false,";

        [Theory]
        [InlineData("\"duration_ms\":\"9e18\"", "duration_ms", "0..2,592,000,000")]
        [InlineData("\"duration_ms\":-5", "duration_ms", "0..2,592,000,000")]
        [InlineData("\"duration_ms\":1e30", "duration_ms", "0..2,592,000,000")]
        [InlineData("\"duration_ms\":\"1e30\"", "duration_ms", "0..2,592,000,000")]
        [InlineData("\"tokens_used\":9223372036854775807", "tokens_used", "0..1,000,000,000")]
        [InlineData("\"tokens_used\":-1", "tokens_used", "0..1,000,000,000")]
        [InlineData("\"context_percent\":500", "context_percent", "0..100")]
        [InlineData("\"context_percent\":-20", "context_percent", "0..100")]
        [InlineData("\"context_percent\":\"NaN\"", "context_percent", "0..100")]
        [InlineData("\"confidence_score\":1e400", "confidence_score", "0..1")]
        [InlineData("\"time_saved_or_wasted_ms\":-9000000000000000000", "time_saved_or_wasted_ms", "-2,592,000,000..2,592,000,000")]
        [InlineData("\"impact_score\":\"Infinity\"", "impact_score", "-1,000,000..1,000,000")]
        public void OutOfRangeNumbersAreQuarantinedNamingFieldAndRange(string field, string name, string range)
        {
            using var t = TestPaths.NewTemp();
            File.WriteAllText(t.File("a.jsonl"), ImportTests.Line(1) + "\n" + Head + field + ",\"details\":{\"message\":\"x\"}}\n" + ImportTests.Line(2) + "\n");
            var issues = new List<ImportIssue>();
            var r = ImportTests.Import(t.Db, issues, t.File("a.jsonl"));
            Assert.Equal(2, r.Imported);
            Assert.Equal(1, r.Quarantined);
            var reason = Assert.Single(issues).Reason;
            Assert.StartsWith(name + ":", reason);
            Assert.Contains(range, reason);
        }

        [Fact]
        public void LargestValuesInRangeSumWithoutOverflow()
        {
            using var t = TestPaths.NewTemp();
            var lines = Enumerable.Range(0, 50).Select(i =>
                Head.Replace("10:00:00", "10:00:" + i.ToString("00")) + "\"duration_ms\":2592000000,\"tokens_used\":1000000000,\"time_saved_or_wasted_ms\":-2592000000,\"context_percent\":100,\"details\":{\"message\":\"m\"}}");
            File.WriteAllText(t.File("a.jsonl"), string.Join("\n", lines) + "\n");
            Assert.Equal(50, ImportTests.Import(t.Db, t.File("a.jsonl")).Imported);
            using var c = MadfDatabase.Open(t.Db);
            var perf = Assert.Single(Engine.Query.Analysis.AgentPerformance(c, new Engine.Query.QueryFilter()));
            Assert.Equal(50_000_000_000L, perf.Tokens);
            Assert.NotEmpty(Engine.Query.Analysis.Bottlenecks(c, new Engine.Query.QueryFilter()));
            Engine.Query.Analysis.Sessions(c, new Engine.Query.QueryFilter()); // must not throw
        }
    }
}

namespace MadfLog.Engine.Tests.Reliability
{
    public class GzipCompletionTests
    {
        [Fact]
        public void AGzipFileCutShortAndCompletedLaterLosesNoLine()
        {
            using var t = TestPaths.NewTemp();
            var lines = Enumerable.Range(0, 20_000).Select(i => ImportTests.Line(i, extra: ",\"n\":" + i)).ToArray();
            var path = t.File("week.jsonl.gz");
            using (var ms = new MemoryStream())
            {
                using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                {
                    var b = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
                    gz.Write(b, 0, b.Length);
                }
                var whole = ms.ToArray();
                foreach (var fraction in new[] { 0.37, 0.71 })
                {
                    // The file as a copy or a writer left it part-way, several times, then whole.
                    File.WriteAllBytes(path, whole.Take((int)(whole.Length * fraction)).ToArray());
                    var part = ImportTests.Import(t.Db, path);
                    Assert.Equal(part.LinesRead, part.Imported + part.Quarantined + part.Duplicates);
                    Assert.Equal(0, part.Quarantined);
                    Assert.NotNull(part.FileResults.Single().Problem);
                }
                File.WriteAllBytes(path, whole);
            }
            var rest = ImportTests.Import(t.Db, path);
            Assert.Equal(0, rest.Quarantined);
            Assert.Null(rest.FileResults.Single().Problem);
            Assert.Equal(lines.Length, ImportTests.Count(t.Db));
        }
    }
}

namespace MadfLog.Engine.Tests.Reliability
{
    public class HugeInputTests
    {
        [Fact]
        public void ALineAboveTheLimitIsQuarantinedByItsHeadAndHash()
        {
            using var t = TestPaths.NewTemp();
            var huge = ImportTests.Line(5).Replace("\"message\":\"m5\"", "\"message\":\"" + new string('x', 5 << 20) + "\"");
            File.WriteAllText(t.File("a.jsonl"), ImportTests.Line(1) + "\n" + huge + "\n" + ImportTests.Line(2) + "\n" + huge); // the last one still being written
            var issues = new List<ImportIssue>();
            var r = ImportTests.Import(t.Db, issues, t.File("a.jsonl"));
            Assert.Equal(2, r.Imported);
            Assert.Equal(1, r.Quarantined);
            Assert.Equal(3, r.LinesRead);
            Assert.True(r.PendingBytes > 5 << 20);
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(huge)));
            var reason = Assert.Single(issues).Reason;
            Assert.Contains("1 MB limit", reason);
            Assert.Contains(sha, reason);
            Assert.Contains(huge.Length.ToString("N0"), reason);
            using var c = MadfDatabase.Open(t.Db);
            Assert.InRange(c.ExecuteScalar<long>("SELECT length(raw) FROM quarantine"), 1, 4096);
        }

        [Fact]
        public void AGzipBombIsCappedAndReported()
        {
            using var t = TestPaths.NewTemp();
            var path = t.File("bomb.jsonl.gz");
            using (var fs = File.Create(path))
            using (var gz = new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionLevel.Optimal))
            {
                var first = Encoding.UTF8.GetBytes(ImportTests.Line(1) + "\n");
                gz.Write(first, 0, first.Length);
                var zeros = new byte[1 << 20];
                for (var i = 0; i < 512; i++) gz.Write(zeros, 0, zeros.Length); // 512 MiB of zeros in about 0.5 MB
            }
            var issues = new List<ImportIssue>();
            var r = ImportTests.Import(t.Db, issues, path);
            Assert.Equal(1, r.Imported);
            Assert.Contains(issues, i => i.ErrorId == "GzipTooLarge");
            Assert.Equal(r.LinesRead, r.Imported + r.Quarantined + r.BlankLines);
            // Not read again on the next run.
            Assert.Equal(0, ImportTests.Import(t.Db, path).LinesRead);
        }
    }
}

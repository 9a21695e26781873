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

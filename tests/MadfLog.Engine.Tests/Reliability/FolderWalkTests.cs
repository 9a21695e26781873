using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MadfLog.Engine.Import;
using MadfLog.Engine.Tests.Import;
using Xunit;

namespace MadfLog.Engine.Tests.Reliability
{
    /// <summary>Issue #14: a folder walk reads every real file once, survives link loops and folders it cannot list.</summary>
    public class FolderWalkTests
    {
        private static void Lines(string path, int from, int count) =>
            File.WriteAllText(path, string.Join("\n", Enumerable.Range(from, count).Select(i => ImportTests.Line(i))) + "\n");

        [Fact]
        public void ASelfLinkAndTwoLinksIntoEachOtherReadEachFileOnce()
        {
            using var t = TestPaths.NewTemp();
            var root = t.File("logs");
            Directory.CreateDirectory(Path.Combine(root, "a"));
            Directory.CreateDirectory(Path.Combine(root, "b"));
            Lines(Path.Combine(root, "top.jsonl"), 0, 10);
            Lines(Path.Combine(root, "a", "a.jsonl"), 100, 10);
            Lines(Path.Combine(root, "b", "b.jsonl"), 200, 10);
            Directory.CreateSymbolicLink(Path.Combine(root, "self"), root);
            Directory.CreateSymbolicLink(Path.Combine(root, "a", "to-b"), Path.Combine(root, "b"));
            Directory.CreateSymbolicLink(Path.Combine(root, "b", "to-a"), Path.Combine(root, "a"));
            File.CreateSymbolicLink(Path.Combine(root, "again.jsonl"), Path.Combine(root, "top.jsonl"));

            var issues = new List<ImportIssue>();
            var r = ImportTests.Import(t.Db, issues, root);
            Assert.Equal(3, r.Files);
            Assert.Equal(30, r.LinesRead);
            Assert.Equal(30, r.Imported);
            Assert.Contains(issues, i => i.ErrorId == "FolderLoop" && i.File.EndsWith("self", StringComparison.Ordinal));
        }

        [Fact]
        public void AFolderThatCannotBeListedIsReportedAndTheRestImported()
        {
            using var t = TestPaths.NewTemp();
            var root = t.File("logs");
            Directory.CreateDirectory(Path.Combine(root, "ok"));
            Lines(Path.Combine(root, "ok", "a.jsonl"), 0, 5);
            Lines(Path.Combine(root, "z.jsonl"), 10, 5);
            // A folder the system refuses to list, even to root: its path is longer than the system allows (PATH_MAX).
            var name = new string('d', 250);
            var deep = Path.Combine(root, "deep");
            Directory.CreateDirectory(deep);
            try
            {
                Run("sh", "-c", "cd '" + deep + "' && for i in $(seq 1 16); do mkdir " + name + " && cd " + name + " || exit 1; done && mkdir " + name);
                var issues = new List<ImportIssue>();
                var r = ImportTests.Import(t.Db, issues, root);
                Assert.Equal(10, r.Imported);
                Assert.Equal(r.LinesRead, r.Imported);
                Assert.Contains(issues, i => i.ErrorId == "FolderUnreadable");
            }
            finally { Run("rm", "-rf", deep); }
        }

        private static void Run(string file, params string[] args)
        {
            var start = new ProcessStartInfo(file) { UseShellExecute = false };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var p = Process.Start(start)!;
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }
    }
}

using System.IO;
using System.Linq;
using MadfLog.Engine.Import;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    /// <summary>
    /// A re-import of files already imported costs a look at each file and its cursor; a grown file is read from where
    /// the last run stopped. Files reached through symbolic links too: their size and time are the target's.
    /// </summary>
    public class ReimportTests
    {
        // A folder of links to the files of another folder, as a user links logs kept elsewhere (or a subset of them).
        private static string Links(TempFolder t, string target, string name)
        {
            var folder = t.File(name);
            Directory.CreateDirectory(folder);
            foreach (var f in Directory.GetFiles(target, "*", SearchOption.AllDirectories))
            {
                var link = Path.Combine(folder, Path.GetRelativePath(target, f));
                Directory.CreateDirectory(Path.GetDirectoryName(link)!);
                File.CreateSymbolicLink(link, f);
            }
            return folder;
        }

        private static string Logs(TempFolder t)
        {
            var logs = t.File("logs");
            Directory.CreateDirectory(logs);
            File.WriteAllLines(Path.Combine(logs, "madf-2026-11-20.jsonl"), Enumerable.Range(0, 50).Select(i => ImportTests.Line(i)));
            ImportTests.WriteGzip(Path.Combine(logs, "madf-2026-11-19.jsonl.gz"), string.Join("\n", Enumerable.Range(100, 20).Select(i => ImportTests.Line(i))) + "\n");
            ClaudeCodeImportTests.WriteRejectedCall(logs, flagged: true);
            return logs;
        }

        [Fact]
        public void LinkedFilesImportedOnceAreNotReadAgain()
        {
            using var t = TestPaths.NewTemp();
            var links = Links(t, Logs(t), "links");
            var first = ImportTests.Import(t.Db, links);
            Assert.Equal(3, first.Files);
            Assert.Equal(72, first.LinesRead);

            var again = ImportTests.Import(t.Db, links);
            Assert.Equal(0, again.LinesRead);
            Assert.Equal(0, again.Imported + again.Duplicates);
            Assert.All(again.FileResults, f => Assert.Equal(f.StartOffset, f.EndOffset));
            Assert.All(new LogImporter(new ImportOptions { DatabasePath = t.Db }).Plan(new[] { links }), p => Assert.True(p.NothingNew, p.Path));
        }

        [Fact]
        public void ALinkedFileThatGrewIsReadFromWhereTheLastRunStopped()
        {
            using var t = TestPaths.NewTemp();
            var logs = Logs(t);
            var links = Links(t, logs, "links");
            var first = ImportTests.Import(t.Db, links);
            var daily = first.FileResults.Single(f => f.Path.EndsWith("madf-2026-11-20.jsonl", System.StringComparison.Ordinal));

            File.AppendAllLines(Path.Combine(logs, "madf-2026-11-20.jsonl"), new[] { ImportTests.Line(60), ImportTests.Line(61) });
            var again = ImportTests.Import(t.Db, links);
            Assert.Equal(2, again.LinesRead);
            Assert.Equal(2, again.Imported);
            Assert.Equal(0, again.Duplicates);
            var grown = again.FileResults.Single(f => f.Path == daily.Path);
            Assert.Equal(daily.EndOffset, grown.StartOffset);
            Assert.Equal(new FileInfo(Path.Combine(logs, "madf-2026-11-20.jsonl")).Length, grown.EndOffset);
            Assert.Equal(first.Imported + 2, ImportTests.Count(t.Db));
        }
        [Fact]
        public void ATranscriptEndingInACallWithoutItsResultIsNotReadAgainUntilItGrows()
        {
            // The parser holds a call back until its result comes, so the cursor stays at the call's line; the file read to
            // its end and unchanged since has nothing new, and once the result is written only the call's line on is read.
            using var t = TestPaths.NewTemp();
            const string env = "\"sessionId\":\"s1\",\"isSidechain\":false,\"gitBranch\":\"story-2.3\"";
            string Call(string id, string at) => "{\"type\":\"assistant\"," + env + ",\"uuid\":\"a" + id + "\",\"timestamp\":\"2026-11-20T10:00:" + at + "Z\",\"message\":{\"id\":\"msg" + id +
                "\",\"model\":\"claude\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t" + id + "\",\"name\":\"Bash\",\"input\":{\"command\":\"make\"}}],\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}}";
            string Result(string id, string at) => "{\"type\":\"user\"," + env + ",\"uuid\":\"u" + id + "\",\"timestamp\":\"2026-11-20T10:00:" + at +
                "Z\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t" + id + "\",\"content\":\"ok\"}]}}";
            var path = Path.Combine(t.File("projects"), "-work-app", "s1.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllLines(path, new[] { Call("1", "00"), Result("1", "05"), Call("2", "10") });
            var first = ImportTests.Import(t.Db, path);
            Assert.Equal(3, first.LinesRead);
            var held = Assert.Single(first.FileResults).EndOffset;
            Assert.True(held < new FileInfo(path).Length); // the cursor waits at the call without a result

            var again = ImportTests.Import(t.Db, path);
            Assert.Equal(0, again.LinesRead);
            Assert.Equal(0, again.Imported + again.Duplicates);

            File.AppendAllLines(path, new[] { Result("2", "20") });
            var grown = ImportTests.Import(t.Db, path);
            Assert.Equal(held, Assert.Single(grown.FileResults).StartOffset);
            Assert.Equal(2, grown.LinesRead);
            Assert.Equal(1, ImportTests.Count(t.Db, "SELECT count(*) FROM events WHERE event_type = 'tool_call' AND details LIKE '%\"t2\"%'"));
            Assert.Equal(0, ImportTests.Import(t.Db, path).LinesRead);
        }
    }
}

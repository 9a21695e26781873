using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    public class EventLogWriterTests
    {
        private static EventRow Event(int i) => new EventRow
        {
            Timestamp = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() + i,
            EventType = "tool_call", Category = "execution", AgentName = "dev" + (i % 3), Success = i % 2 == 0, DurationMs = i,
        };

        [Fact]
        public void ConcurrentWritersNeverInterleaveLines()
        {
            using var t = TestPaths.NewTemp();
            const int writers = 8, each = 300;
            Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
            {
                for (var i = 0; i < each; i++)
                    EventLogWriter.Append(t.Path, Event(w * each + i), new Hashtable { ["message"] = new string('x', 5000 + w), ["writer"] = w });
            });
            var file = Assert.Single(Directory.GetFiles(t.Path));
            var lines = File.ReadAllLines(file);
            Assert.Equal(writers * each, lines.Length);
            foreach (var line in lines)
            {
                using var doc = JsonDocument.Parse(line); // throws if two appends were interleaved
                Assert.Equal(5000 + doc.RootElement.GetProperty("details").GetProperty("writer").GetInt32(),
                    doc.RootElement.GetProperty("details").GetProperty("message").GetString()!.Length);
            }
        }

        [Fact]
        public void WrittenLinesImportBackWithTheSameValues()
        {
            using var t = TestPaths.NewTemp();
            var e = Event(7);
            e.StoryId = "1.2"; e.ContextPercent = 85.5; e.TokensUsed = 1234; e.NeedsReview = true;
            var path = EventLogWriter.Append(t.File("logs"), e, new Hashtable { ["message"] = "Permission denied: /etc/x", ["nested"] = new Hashtable { ["a"] = new[] { 1, 2 } } });
            Assert.Equal("madf-2026-11-20.jsonl", Path.GetFileName(path));
            var r = new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { path });
            Assert.Equal(1, r.Imported);
            using var c = MadfLog.Engine.Store.MadfDatabase.Open(t.Db);
            var row = Dapper.SqlMapper.QuerySingle<(long ts, string story, double ctx, long tokens, long success, long review, string details)>(c,
                "SELECT timestamp, story_id, context_percent, tokens_used, success, needs_review, details FROM events");
            Assert.Equal(e.Timestamp, row.ts);
            Assert.Equal("1.2", row.story);
            Assert.Equal(85.5, row.ctx);
            Assert.Equal(1234, row.tokens);
            Assert.Equal(0, row.success); // 7 is odd
            Assert.Equal(1, row.review);
            Assert.Contains("\"nested\":{\"a\":[1,2]}", row.details);
            Assert.Equal("Permission denied: /etc/x", EventDetails.Message(row.details));
        }
    }
}

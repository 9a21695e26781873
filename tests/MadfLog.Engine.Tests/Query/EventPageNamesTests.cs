using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>
    /// Get-MadfEvent (EventsQuestion) looks up the names ids a row's details hold, whether stored as integers or, as
    /// older rows may hold them, as text digits: both give the details the events view gives.
    /// </summary>
    public class EventPageNamesTests
    {
        // Files of a key with many recurring strings (past the few written into the shape, each a names id), a number (an
        // integer literal, which may equal some names id but is no name) and a message.
        private static string Line(int i) =>
            "{\"timestamp\":\"2026-11-20T10:" + (i / 60 % 60).ToString("00") + ":" + (i % 60).ToString("00") + "Z\",\"event_type\":\"tool_call\"," +
            "\"category\":\"execution\",\"session_id\":\"s" + (i % 5) + "\",\"story_id\":\"1.1\",\"agent_name\":\"dev\",\"success\":" + (i % 7 != 0 ? "true" : "false") +
            ",\"details\":{\"tool\":\"Read\",\"file\":\"/src/f" + (i % 40) + ".cs\",\"n\":" + (i % 50) + (i % 7 != 0 ? "" : ",\"error\":\"exit " + i + "\"") + "}}";

        [Fact]
        public void APageGivesTheViewsDetailsWhetherANamesIdIsStoredAsAnIntegerOrAsText()
        {
            using var t = TestPaths.NewTemp();
            var log = t.File("a.jsonl");
            File.WriteAllLines(log, Enumerable.Range(0, 400).Select(Line));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { log });
            var isName = EventStorage.ValueIsName(1, "sh");
            using (var w = MadfDatabase.Open(t.Db))
            {
                // A third of the names ids of first values are held as text (as SQLite may give a value written so) by every row
                // that has them: ids no row holds as an integer.
                var named = $"SELECT r.id FROM event_rows r JOIN kinds k ON k.id = r.kind JOIN names sh ON sh.id = k.details_shape WHERE {isName}";
                Assert.True(w.ExecuteScalar<long>($"SELECT count(*) FROM ({named})") > 100);
                w.Execute($"UPDATE event_rows SET d1 = CAST(d1 AS TEXT) WHERE d1 % 3 = 0 AND id IN ({named})");
                Assert.True(w.ExecuteScalar<long>($"SELECT count(*) FROM event_rows WHERE typeof(d1) = 'text' AND id IN ({named})") > 30);
                Assert.True(w.ExecuteScalar<long>($"SELECT count(*) FROM event_rows WHERE typeof(d1) = 'integer' AND id IN ({named})") > 60);
            }
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var view = c.Query<(long id, string? details)>("SELECT id, details FROM events ORDER BY timestamp, id").ToList();
            Assert.Contains(view, v => v.details != null && v.details.Contains("\"file\":\"/src/f39.cs\""));
            string Of(System.Collections.Generic.IEnumerable<EventRecord> events) => string.Join("\n", events.Select(e => $"{e.Id}|{e.Details}|{e.Message}"));
            string Expected(int most) => string.Join("\n", view.Take(most).Select(v => $"{v.id}|{v.details}|{MadfLog.Engine.Events.EventDetails.Message(v.details)}"));
            Assert.Equal(Expected(400), Of(Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter())));
            Assert.Equal(Expected(100), Of(Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter { First = 100 })));
            Assert.Equal(Expected(400), Of(Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter { First = 1000 })));
        }
    }
}

using System;
using System.Collections;
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
    /// <summary>Details packed per block of ids (schema 20): what comes back through the events view is what rows gave.</summary>
    public class DetailsBlocksTests
    {
        private static readonly long T0 = new DateTimeOffset(2026, 10, 20, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

        // Every kind of details the splitter meets: shaped with names, integers and literals, more values than slots,
        // nested JSON, not an object, over 4 KB, escapes, non-ASCII, empty, none.
        private static readonly string?[] Cases =
        {
            "{\"tool\":\"Read\",\"target\":\"src/app.ts\"}",
            "{\"model\":\"claude-sonnet-4-5\",\"message_id\":\"msg_01qhRYfc0Pz9Hi7N6mQ4AYrh\",\"input_tokens\":3,\"output_tokens\":13,\"cache_creation_input_tokens\":2534,\"cache_read_input_tokens\":11515,\"stop_reason\":\"end_turn\"}",
            "{\"model\":\"m\",\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":\"x\",\"input_tokens\":3,\"flag\":true,\"output_tokens\":13,\"stop_reason\":\"end_turn\"}",
            "{\"n\":-42,\"zero\":0,\"big\":9007199254740993,\"huge\":123456789012345678901234567890,\"f\":1.5,\"e\":1e3,\"neg0\":-0}",
            "{\"ok\":true,\"bad\":false,\"none\":null,\"env\":{\"conn\":\"x\",\"list\":[1,2,{\"a\":\"b\"}]}}",
            "{\"message\":\"line1\\nline2 \\\"quoted\\\" \\u00e9 caf\u00e9 \u2603\",\"tool\":\"Bash\"}",
            "[1,2,3]",
            "\"just a string\"",
            "{}",
            "{\"message\":\"" + new string('x', 5000) + "\"}",
            null,
        };

        private static List<DetailsBlocks.Entry> Split(IEnumerable<string?> details, long first)
        {
            var splitter = new DetailsShape.Splitter();
            return details.Select((d, i) => DetailsBlocks.Entry.Of(first + i, splitter.Of(d), d)).ToList();
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void ABlockGivesBackEveryEntrysValuesAndText(bool seal)
        {
            // Many events, with gaps in the ids (duplicates leave them), in the block that starts at 3 * Size.
            var details = Enumerable.Range(0, 600).Select(i => Cases[i % Cases.Length]).ToList();
            var first = 3L * DetailsBlocks.Size + 5;
            var entries = Split(details, first).Where((e, i) => i % 7 != 3).ToList();
            var decoded = DetailsBlocks.Decode(3, DetailsBlocks.Encode(3, entries, seal));
            Assert.Equal(entries.Select(e => e.Id), decoded.Select(e => e.Id));
            Assert.Equal(entries.Select(e => e.Json()), decoded.Select(e => e.Json()));
            Assert.Equal(entries.Select(e => e.Shape), decoded.Select(e => e.Shape));
            for (var i = 0; i < entries.Count; i++)
                Assert.Equal(entries[i].Values?.Select(Text), decoded[i].Values?.Select(Text));
            // A block of the series of events with a pattern, which spans more ids.
            var errors = Split(details, (1L << DetailsBlocks.PatternShift) + 9).Where((e, i) => i % 3 == 0).ToList();
            Assert.Equal(-2, DetailsBlocks.BlockOf(errors[0].Id, patterned: true));
            Assert.Equal(errors.Select(e => e.Json()), DetailsBlocks.Decode(-2, DetailsBlocks.Encode(-2, errors, seal)).Select(e => e.Json()));
            // The texts are the details as written, but for whitespace the shape does not keep.
            Assert.Equal(Cases.Take(9), Split(Cases.Take(9), 0).Select(e => e.Json()));
        }

        private static string? Text(object? v) => v switch { null => null, DetailsShape.Name n => "name:" + n.Text, long l => "long:" + l, _ => "text:" + v };

        [Fact]
        public void ABlocksDetailsComeBackThroughTheViewAsTheRowsOfSchema16GaveThem()
        {
            using var t = TestPaths.NewTemp();
            var rows = Enumerable.Range(0, 2 * DetailsBlocks.Size + 100).Select(i => new EventRow
            {
                Timestamp = T0 + i * 1000L, EventType = i % 3 == 0 ? "tool_call" : "llm_call", Category = "tool", SessionId = "s" + i % 9, StoryId = "1." + i % 4,
                AgentName = "dev", Success = i % 5 != 0, Details = Cases[i % Cases.Length], DedupKey = 1000 + i,
                ConfidenceScore = i % 50 == 0 ? 0.5 : (double?)null, TimeSavedOrWastedMs = i % 70 == 0 ? -300 : (long?)null, CreatedRule = i % 90 == 0 ? 4 : (long?)null,
            }).ToList();
            using (var c = MadfDatabase.Open(t.Db))
            using (var tx = c.BeginTransaction())
            {
                ImportStages.Write(c, tx, rows);
                tx.Commit();
            }
            var packed = Dump(t.Db);
            Assert.Equal(rows.Select(r => r.Details), packed.Select(r => r.details));
            using (var c = MadfDatabase.Open(t.Db, forWrite: false))
                Assert.Equal(0, c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE ({MadfLog.Engine.Domain.Steps.NameSql}) IS NOT ({MadfLog.Engine.Domain.Steps.NameSqlFromDetails})"));
            // Get-MadfEvent gives every field, those now kept apart from the row included.
            using (var c = MadfDatabase.Open(t.Db, forWrite: false))
            {
                var events = MadfLog.Engine.Query.Analysis.Events(c, new MadfLog.Engine.Query.QueryFilter(), new MadfLog.Engine.Query.Analysis.EventFilter()).OrderBy(e => e.Id).ToList();
                Assert.Equal(rows.Select(r => (r.Details, r.ConfidenceScore, r.TimeSavedOrWastedMs, r.CreatedRule)),
                    events.Select(e => (e.Details, e.ConfidenceScore, e.TimeSavedOrWastedMs, e.CreatedRule)));
            }
            Assert.Equal(rows.Select(r => r.TimeSavedOrWastedMs), packed.Select(r => r.wasted));
            Assert.Equal(rows.Select(r => r.CreatedRule), packed.Select(r => r.rule));
            // The same store as schema 16 wrote it (shapes and values in the row) reads the same through its view,
            // and migration 20 packs it back into the same events.
            using (var c = MadfDatabase.Open(t.Db))
            {
                var seq = c.ExecuteScalar<long>("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'");
                c.Execute("DELETE FROM event_rows WHERE id = (SELECT max(id) FROM event_rows)"); // the high-water mark must survive the rebuild
                packed.RemoveAt(packed.Count - 1);
                CompactStorageTests.UndoPackedDetails(c);
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE details_shape IS NOT NULL") > 2000);
                Assert.Equal(seq, c.ExecuteScalar<long>("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'"));
            }
            Assert.Equal(packed, Dump(t.Db, register: false));
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM pragma_table_info('event_rows') WHERE name LIKE 'd_' OR name = 'details_shape'"));
                Assert.Equal(3, c.ExecuteScalar<long>("SELECT count(*) FROM event_details WHERE block >= 0"));
                // Mined errors' details sit in their own series of blocks.
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_details WHERE block < 0") > 0);
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE pattern_id IS NOT NULL") > 0);
                Assert.Equal(rows.Count, c.ExecuteScalar<long>("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'"));
                // Shapes and the strings in details no longer sit in names; a tool does, as the step of its events' kind,
                // which names each event's step as its details do.
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM names WHERE text IN ('src/app.ts', 'end_turn') OR text LIKE '{%'"));
                Assert.True(c.ExecuteScalar<long>("SELECT count(DISTINCT k.id) FROM kinds k JOIN names n ON n.id = k.step WHERE n.text = 'Read'") > 0);
                Assert.Equal(0, c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE ({MadfLog.Engine.Domain.Steps.NameSql}) IS NOT ({MadfLog.Engine.Domain.Steps.NameSqlFromDetails})"));
                Assert.True(c.ExecuteScalar<long>($"SELECT count(*) FROM events e WHERE ({MadfLog.Engine.Domain.Steps.NameSql}) = 'Read'") > 100);
            }
            Assert.Equal(packed, Dump(t.Db));
        }

        [Fact]
        public void AResponseThatGrowsInASealedBlockRewritesThatBlock()
        {
            using var t = TestPaths.NewTemp();
            const string before = "{\"model\":\"m\",\"message_id\":\"msg_1\",\"input_tokens\":3,\"output_tokens\":10,\"stop_reason\":null}";
            const string after = "{\"model\":\"m\",\"message_id\":\"msg_1\",\"input_tokens\":3,\"output_tokens\":250,\"stop_reason\":\"end_turn\"}";
            EventRow Response(string details, long tokens) => new EventRow
            {
                Timestamp = T0, EventType = "llm_call", Category = "model", SessionId = "s1", Details = details, TokensUsed = tokens, DedupKey = 77, KeepLargestTokens = true,
            };
            var others = Enumerable.Range(1, DetailsBlocks.Size + 10).Select(i => new EventRow
            {
                Timestamp = T0 + i, EventType = "tool_call", Category = "tool", SessionId = "s1", Details = Cases[i % Cases.Length], DedupKey = 100 + i,
            }).ToList();
            using (var c = MadfDatabase.Open(t.Db))
            {
                using (var tx = c.BeginTransaction())
                {
                    ImportStages.Write(c, tx, new List<EventRow> { Response(before, 13) }.Concat(others).ToList());
                    tx.Commit();
                }
                var id = c.ExecuteScalar<long>("SELECT id FROM events WHERE event_type = 'llm_call'");
                Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM event_details WHERE block = @b AND substr(data, 1, 1) = x'01'", new { b = DetailsBlocks.BlockOf(id) }));
                var othersBefore = c.Query<string?>("SELECT details FROM events WHERE id <> @id ORDER BY id", new { id }).ToList();
                Assert.Equal(before, c.ExecuteScalar<string>("SELECT details FROM events WHERE id = @id", new { id }));
                using (var tx = c.BeginTransaction())
                {
                    ImportStages.Write(c, tx, new List<EventRow> { Response(after, 253) });
                    tx.Commit();
                }
                // The same connection sees the rewritten block (its cached one is stale), and so does a new one.
                Assert.Equal(after, c.ExecuteScalar<string>("SELECT details FROM events WHERE id = @id", new { id }));
                Assert.Equal(253, c.ExecuteScalar<long>("SELECT tokens_used FROM events WHERE id = @id", new { id }));
                Assert.Equal(othersBefore, c.Query<string?>("SELECT details FROM events WHERE id <> @id ORDER BY id", new { id }));
            }
            using (var c = MadfDatabase.Open(t.Db, forWrite: false))
                Assert.Equal(after, c.ExecuteScalar<string>("SELECT details FROM events WHERE event_type = 'llm_call'"));
        }

        [Fact]
        public void RotationSplitsABlockThatStraddlesTheCut()
        {
            using var t = TestPaths.NewTemp();
            var now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
            var logs = t.File("logs");
            // 60 days of events, ids in time order, with a details value unique to each event.
            for (var d = 60; d >= 0; d--)
                for (var i = 0; i < 60; i++)
                    EventLogWriter.Append(logs, new EventRow
                    {
                        Timestamp = new DateTimeOffset(now.AddDays(-d).Date.AddMinutes(i * 11), TimeSpan.Zero).ToUnixTimeMilliseconds(), EventType = "tool_call", Category = "execution", AgentName = "dev",
                        StoryId = "1.1", Success = true, ConfidenceScore = i % 10 == 0 ? 0.25 : (double?)null,
                    }, new Hashtable { ["tool"] = "Bash", ["target"] = $"src/{d}/{i}.ts", ["exit_code"] = i });
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { logs });
            var all = Everything(t.Db);
            var r = new Rotation(new RotationOptions { DatabasePath = t.Db, LogPaths = new[] { logs }, ArchivePath = t.File("archive"), RetentionDays = 20, Now = now }).Run();
            Assert.True(r.EventsMoved > 0);
            var archives = Directory.GetFiles(t.File("archive"), "madflog-*.db");
            var active = Everything(t.Db);
            var archived = archives.SelectMany(Everything).ToList();
            // Some block holds events on both sides of the cut, and each side has exactly its own events' details.
            Assert.Contains(active.Keys.Select(k => DetailsBlocks.BlockOf(k)), b => archived.Any(a => DetailsBlocks.BlockOf(a.Key) == b));
            Assert.Equal(all.Count, active.Count + archived.Count);
            Assert.All(active.Concat(archived), e => Assert.Equal(all[e.Key], e.Value));
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.Equal(active.Count, CompactStorageTests.Entries(c).Count);
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_extras WHERE id NOT IN (SELECT id FROM event_rows)"));
        }

        private static Dictionary<long, string> Everything(string db)
        {
            using var c = MadfDatabase.Open(db, forWrite: false);
            return c.Query<(long id, string row)>("SELECT id, timestamp || '|' || coalesce(confidence_score, '-') || '|' || coalesce(details, '-') FROM events")
                .ToDictionary(x => x.id, x => x.row);
        }

        private static List<(long id, long ts, string type, string? session, string? story, long? success, string? details, double? confidence, long? wasted, long? rule, long? review)> Dump(
            string db, bool register = true)
        {
            using var c = new SqliteConnection("Data Source=" + db + ";Mode=ReadOnly;Pooling=False"); // a pooled one would keep the schema it read first
            c.Open();
            if (register) DetailsBlocks.Register(c);
            return c.Query<(long, long, string, string?, string?, long?, string?, double?, long?, long?, long?)>(
                @"SELECT id, timestamp, event_type, session_id, story_id, success, details, confidence_score, time_saved_or_wasted_ms, created_rule, needs_review
                  FROM events ORDER BY id").ToList();
        }
    }
}

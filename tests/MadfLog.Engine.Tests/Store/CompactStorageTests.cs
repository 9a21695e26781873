using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>The compact store (schema 7) gives back exactly what was imported, through the events view.</summary>
    public class CompactStorageTests
    {
        private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

        private static string Line(long ts, string details, string story = "1.1", string session = "s1") =>
            $"{{\"timestamp\":{ts},\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"{session}\",\"story_id\":\"{story}\",\"agent_name\":\"dev\",\"success\":true,\"details\":{details}}}";

        public static IEnumerable<object[]> DetailsCases() => new[]
        {
            "{\"tool\":\"Read\",\"target\":\"src/app.ts\"}",
            "{\"output_tokens\":309,\"model\":\"claude-sonnet-4\",\"input_tokens\":927}",
            "{\"n\":-42,\"zero\":0,\"big\":9007199254740993,\"huge\":123456789012345678901234567890,\"f\":1.5}",
            "{\"e\":1e3,\"neg0\":-0,\"lead\":0.25,\"x\":1.0}",
            "{\"ok\":true,\"bad\":false,\"none\":null,\"tool\":\"Bash\"}",
            "{\"message\":\"a \\\"quoted\\\" \\\\ back\\\\slash \\u00e9 \\n newline and a long tail to pass the short-string limit\"}",
            "{\"short\":\"\\u00e9t\\u00e9\",\"uni\":\"日本語のパス/ファイル.ts\"}",
            "{\"nested\":{\"a\":[1,2,{\"b\":null}]},\"list\":[\"x\",\"y\"]}",
            "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5}",
            "{\"a\":\"x\",\"a\":\"y\"}",
            "{}",
            "{\"weird\":\"\\u0001\\u0002 control chars escaped\",\"k\":\"\\u0005\"}",
            "{\"model\":\"claude-sonnet-4-5\",\"message_id\":\"msg_01MKH1ccEGrZGNPvu8pYiiQa\",\"input_tokens\":3,\"output_tokens\":13,\"cache_creation_input_tokens\":13835,\"cache_read_input_tokens\":11515,\"stop_reason\":null}",
            "{\"ok\":true,\"a\":1,\"b\":\"two\",\"none\":null,\"c\":[3],\"d\":{\"e\":4},\"f\":false,\"g\":\"a string long enough to be a literal, not a name\",\"h\":8.5}",
            "{\"s1\":\"a\",\"s2\":\"b\",\"s3\":\"c\",\"s4\":\"d\",\"s5\":\"e\",\"s6\":\"f\",\"s7\":\"g\",\"s8\":\"h\"}",
            "{\"n1\":1,\"s2\":\"b\",\"n3\":3,\"s4\":\"d\",\"n5\":5.5,\"s6\":\"f\",\"x\":null,\"l7\":[7],\"s8\":\"h\",\"n9\":9,\"s10\":\"j\"}",
        }.Select(d => new object[] { d });

        [Theory]
        [MemberData(nameof(DetailsCases))]
        public void DetailsComeBackAsTheSameJson(string details)
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            File.WriteAllText(file, Line(T0, details) + "\n");
            Assert.Equal(1, new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file }).Imported);
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var stored = c.ExecuteScalar<string>("SELECT details FROM events");
            // Minified input without redundant escapes comes back byte for byte; in any case the JSON is the same.
            Assert.Equal(details, stored);
            Assert.True(JsonEqual(details, stored!), stored);
        }

        [Fact]
        public void EachValueHasItsOwnPlaceholdersAndNoneIsJsonWhitespace()
        {
            var all = Enumerable.Range(1, DetailsShape.Slots).SelectMany(k => new[] { DetailsShape.Placeholder(k, false), DetailsShape.Placeholder(k, true) }).ToList();
            Assert.Equal(all.Count, all.Distinct().Count());
            Assert.All(all, ch => Assert.InRange(ch, '\u0001', '\u001f'));
            Assert.DoesNotContain(all, ch => ch == '\t' || ch == '\n' || ch == '\r');
            // Stores written with four values used 1-4 (literal) and 5-8 (names id): those keep their meaning.
            Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7, 8 }, Enumerable.Range(1, 4).Select(k => (int)DetailsShape.Placeholder(k, false))
                .Concat(Enumerable.Range(1, 4).Select(k => (int)DetailsShape.Placeholder(k, true))));
        }

        [Fact]
        public void RepeatedTextIsStoredOnceAndSmallDetailsAreShaped()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            File.WriteAllLines(file, Enumerable.Range(0, 500).Select(i =>
                Line(T0 + i * 1000, $"{{\"output_tokens\":{i},\"model\":\"claude-sonnet-4\",\"input_tokens\":{i * 3}}}", session: "session-" + (i % 5))));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            // 5 sessions + type, category, story, agent + model + one shape: the dictionary does not grow per event.
            Assert.InRange(c.ExecuteScalar<long>("SELECT count(*) FROM names"), 10, 12);
            Assert.Equal(500, c.ExecuteScalar<long>("SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " WHERE details_shape IS NOT NULL AND typeof(d1) = 'integer'"));
            Assert.Equal("{\"output_tokens\":7,\"model\":\"claude-sonnet-4\",\"input_tokens\":21}",
                c.ExecuteScalar<string>("SELECT details FROM events WHERE session_id = 'session-2' ORDER BY id LIMIT 1 OFFSET 1"));
        }

        [Fact]
        public void AClaudeCodeResponsesModelAndStopReasonAreInTheShapeAndItsFiveOtherMembersValuesInTheRow()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            static string Details(int i) => "{\"model\":\"claude-sonnet-4-5\",\"message_id\":\"msg_01qhRYfc0Pz9Hi7N6mQ4A" + i.ToString("D3") + "\",\"input_tokens\":3,\"output_tokens\":13," +
                "\"cache_creation_input_tokens\":2534,\"cache_read_input_tokens\":" + (11515 + i) + ",\"stop_reason\":\"end_turn\"}";
            // More responses than a key's strings that go into the shape (its first InShape different ones).
            var n = DetailsShape.Splitter.InShape + 10;
            File.WriteAllLines(file, Enumerable.Range(0, n).Select(i => Line(T0 + i, Details(i))));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.Equal(new[] { "d1", "d2", "d3" }, c.Query<string>("SELECT name FROM pragma_table_info('event_rows') WHERE name LIKE 'd_'"));
            // The last: its message id in d1 (a names id or a literal), its input tokens in d2, and the other three usage
            // numbers packed into d3 (not one literal with their keys), the model and stop reason written into its shape.
            var last = c.QuerySingle<(string shape, string? d1, long d2, long d3)>(
                "SELECT n.text, CAST(r.d1 AS TEXT), r.d2, r.d3 FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " r JOIN names n ON n.id = r.details_shape ORDER BY r.id DESC LIMIT 1");
            Assert.Equal(3L, last.d2);
            Assert.Equal((13L << 42) | (2534L << 21) | (11515L + n - 1), last.d3);
            Assert.NotNull(last.d1);
            Assert.Contains("\"model\":\"claude-sonnet-4-5\"", last.shape);
            Assert.Contains("\"stop_reason\":\"end_turn\"", last.shape);
            Assert.Equal(Enumerable.Range(0, n).Select(Details), c.Query<string>("SELECT details FROM events ORDER BY id"));
        }

        [Theory]
        // Up to three small integers from the last slot on are packed into it, each from 0 to 2^21 - 1.
        [InlineData("{\"a\":\"x\",\"b\":\"y\",\"c\":0,\"d\":2097151}", true)]
        [InlineData("{\"a\":\"x\",\"b\":\"y\",\"c\":2097151,\"d\":0,\"e\":2097151,\"f\":true,\"g\":null}", true)]
        // Otherwise the members from the last slot's on are one literal: a fourth integer, one too large, a negative one,
        // a fraction, a string or an object after the integers, or a string in the last slot.
        [InlineData("{\"a\":\"x\",\"b\":\"y\",\"c\":1,\"d\":2,\"e\":3,\"f\":4}", false)]
        [InlineData("{\"a\":\"x\",\"b\":\"y\",\"c\":1,\"d\":2097152}", false)]
        [InlineData("{\"a\":\"x\",\"b\":\"y\",\"c\":-1,\"d\":2}", false)]
        [InlineData("{\"a\":\"x\",\"b\":\"y\",\"c\":1,\"d\":2.5}", false)]
        [InlineData("{\"a\":\"x\",\"b\":\"y\",\"c\":1,\"d\":2,\"e\":\"a long enough string\"}", false)]
        [InlineData("{\"a\":\"x\",\"b\":\"y\",\"c\":1,\"d\":{\"e\":2}}", false)]
        [InlineData("{\"a\":\"x\",\"b\":\"y\",\"c\":\"z\",\"d\":2}", false)]
        public void TheLastSlotPacksSmallIntegersAndOtherwiseHoldsTheRestAsOneLiteral(string details, bool packed)
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            File.WriteAllText(file, Line(T0, details) + "\n");
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.Equal(details, c.ExecuteScalar<string>("SELECT details FROM events"));
            Assert.Equal(packed ? "integer" : "text", c.ExecuteScalar<string>("SELECT typeof(d3) FROM event_rows"));
            var shape = c.ExecuteScalar<string>("SELECT sh.text FROM event_rows r JOIN kinds k ON k.id = r.kind JOIN names sh ON sh.id = k.details_shape");
            Assert.Equal(packed, shape!.Contains(DetailsShape.PackedPart(0, 1)));
            // The cmdlets' reader puts the details back as the view does.
            Assert.Equal(details, Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter()).Single().Details);
        }

        [Fact]
        public void DetailsWithMoreThanFiveValuesKeepTheirFirstFourInPlaceAndTheRestAsOneLiteral()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            const string details = "{\"model\":\"claude-sonnet-4-5\",\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":\"x\",\"input_tokens\":3,\"flag\":true,\"output_tokens\":13,\"stop_reason\":\"end_turn\"}";
            File.WriteAllText(file, Line(T0, details) + "\n");
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            // The model, seen once, is a names id in d1; a is d2, and b on is one literal in d3 (c, d and e are integers,
            // but more than the slot packs).
            Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " WHERE details_shape IS NOT NULL AND typeof(d1) = 'integer' AND d2 = 1"));
            Assert.Equal("\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":\"x\",\"input_tokens\":3,\"flag\":true,\"output_tokens\":13,\"stop_reason\":\"end_turn\"", c.ExecuteScalar<string>("SELECT d3 FROM event_rows"));
            Assert.Equal(details, c.ExecuteScalar<string>("SELECT details FROM events"));
        }

        [Fact]
        public void AKeysFirstFewDifferentStringsGoIntoTheShapeAndLaterOnesToNames()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            // 40 different targets, each on 5 events: from their second sighting the first InShape are written into
            // shapes; the others, and every first sighting, are names ids.
            var details = Enumerable.Range(0, 200).Select(i => $"{{\"tool\":\"Read\",\"target\":\"src/f{i % 40}.cs\"}}").ToList();
            File.WriteAllLines(file, details.Select((d, i) => Line(T0 + i, d)));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.Equal(details, c.Query<string>("SELECT details FROM events ORDER BY id"));
            Assert.Equal(DetailsShape.Splitter.InShape * 4, c.ExecuteScalar<long>("SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " WHERE details_shape IS NOT NULL AND d1 IS NULL"));
            // Shapes: the first event's (tool and target names), the tool's from its second sighting, and one per target in it.
            Assert.Equal(DetailsShape.Splitter.InShape + 2, c.ExecuteScalar<long>("SELECT count(DISTINCT details_shape) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + ""));
            Assert.Equal(40, c.ExecuteScalar<long>("SELECT count(DISTINCT d1) FROM event_rows"));
            Assert.Equal(40 * 5 - DetailsShape.Splitter.InShape * 4, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE d1 IS NOT NULL"));
        }

        [Fact]
        public void ShortStringsOfAKeyThatRarelyRepeatsAreNotKeptInNames()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            // Tool names repeat; tool_use_ids never do: after a sample of them, ids are stored in the row, not in names.
            File.WriteAllLines(file, Enumerable.Range(0, 2000).Select(i =>
                Line(T0 + i * 1000, $"{{\"tool\":\"{(i % 3 == 0 ? "Read" : "Bash")}\",\"tool_use_id\":\"toolu_01{i:D20}\"}}")));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.InRange(c.ExecuteScalar<long>("SELECT count(*) FROM names"), 1, 300);
            Assert.Equal(2000, c.ExecuteScalar<long>("SELECT count(DISTINCT json_extract(details, '$.tool_use_id')) FROM events"));
            Assert.Equal("{\"tool\":\"Bash\",\"tool_use_id\":\"toolu_0100000000000000001999\"}", c.ExecuteScalar<string>("SELECT details FROM events ORDER BY id DESC LIMIT 1"));
            // The two tools are written into the shapes; the ids, past the first few, are literals in d1.
            var literal = c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE typeof(d1) = 'text'");
            Assert.InRange(literal, 2000 - 256, 2000);
            Assert.Equal(literal, c.ExecuteScalar<long>("SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " r JOIN names n ON n.id = r.details_shape " +
                "WHERE typeof(r.d1) = 'text' AND r.d2 IS NULL AND (n.text LIKE '{\"tool\":\"Read\",%' OR n.text LIKE '{\"tool\":\"Bash\",%')"));
        }

        [Fact]
        public void ALongerStringIsKeptInNamesOnceItRecursAndAOneOffMessageIsNot()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            // Two absolute paths over 32 bytes, each on 300 events; 600 messages with a number in each.
            File.WriteAllLines(file, Enumerable.Range(0, 600).Select(i =>
                Line(T0 + i * 1000, $"{{\"target\":\"/work/shop/src/core/pricing/{(i % 2 == 0 ? "discount" : "payment")}.ts\",\"message\":\"pytest failed: {i} failed, 12 passed in the unit suite\"}}")));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM names WHERE text LIKE '/work/shop/%'"));
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM names WHERE text LIKE 'pytest failed%'"));
            Assert.Equal(598, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE typeof(d1) = 'integer'"));
            Assert.Equal("{\"target\":\"/work/shop/src/core/pricing/payment.ts\",\"message\":\"pytest failed: 599 failed, 12 passed in the unit suite\"}",
                c.ExecuteScalar<string>("SELECT details FROM events ORDER BY id DESC LIMIT 1"));
        }

        [Theory]
        [InlineData(13.6)]
        [InlineData(0.1)]
        [InlineData(99.99)]
        [InlineData(1.0 / 3)]
        [InlineData(-5.25)]
        [InlineData(1e-7)]
        public void ContextPercentIsExact(double value)
        {
            using var t = TestPaths.NewTemp();
            using (var c = MadfDatabase.Open(t.Db))
            using (var tx = c.BeginTransaction())
            {
                ImportStages.Write(c, tx, new List<EventRow> { new EventRow { Timestamp = T0, EventType = "llm_call", Category = "model", ContextPercent = value, DedupKey = 1 } });
                tx.Commit();
            }
            using var r = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.Equal(value, r.ExecuteScalar<double>("SELECT context_percent FROM events"));
        }

        [Fact]
        public void TimeAndStoryFiltersFindEveryEventWhenFilesArriveOutOfOrder()
        {
            using var t = TestPaths.NewTemp();
            // Later days imported first, then earlier ones, then a late file for day 3: ids no longer follow time.
            var days = new[] { 5, 6, 1, 2, 4, 3 };
            var n = 0;
            foreach (var d in days)
            {
                var file = t.File($"day{d}.jsonl");
                File.WriteAllLines(file, Enumerable.Range(0, 700).Select(i =>
                    Line(T0 + d * 86_400_000L + i * 60_000L, $"{{\"tool\":\"Edit\",\"n\":{n++}}}", story: $"{d % 3}.{i % 2}")));
                new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            }
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_blocks") > 1);
            var all = c.Query<(long id, long ts, string story)>("SELECT id, timestamp, story_id FROM events").ToList();
            foreach (var (from, to) in new[] { (1, 2), (3, 4), (2, 6), (6, 7), (0, 1), (4, 5) })
            {
                var f = new QueryFilter { Since = DateTimeOffset.FromUnixTimeMilliseconds(T0 + from * 86_400_000L + 3_600_000), Until = DateTimeOffset.FromUnixTimeMilliseconds(T0 + to * 86_400_000L) };
                var p = new DynamicParameters();
                var got = c.ExecuteScalar<long>("SELECT count(*) FROM events e WHERE 1=1" + f.Where(p), p);
                Assert.Equal(all.Count(e => e.ts >= f.Since.Value.ToUnixTimeMilliseconds() && e.ts < f.Until.Value.ToUnixTimeMilliseconds()), got);
            }
            foreach (var story in new[] { "0.0", "1.1", "2.0", "9.9" })
            {
                var f = new QueryFilter { Stories = new[] { story } };
                var p = new DynamicParameters();
                Assert.Equal(all.Count(e => e.story == story), c.ExecuteScalar<long>("SELECT count(*) FROM events e WHERE 1=1" + f.Where(p), p));
            }
        }

        [Fact]
        public void ReimportingACopyLeavesTheSummariesEqualToTheEvents()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            File.WriteAllLines(file, Enumerable.Range(0, 3000).Select(i =>
                Line(T0 + i * 1000, i % 7 == 0 ? $"{{\"tool\":\"Bash\",\"message\":\"pytest failed: {i % 5} failed\"}}" : "{\"tool\":\"Read\"}", story: "1." + (i % 3))
                    .Replace("\"success\":true", i % 7 == 0 ? "\"success\":false" : "\"success\":true")));
            var copy = t.File("copy.jsonl");
            File.Copy(file, copy);
            var first = new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 700 }).Import(new[] { file });
            var second = new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 700 }).Import(new[] { copy });
            Assert.Equal(3000, first.Imported);
            Assert.Equal(0, second.Imported);
            Assert.Equal(3000, second.Duplicates);
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            Assert.Equal(3000, c.ExecuteScalar<long>("SELECT sum(events) FROM event_rollup"));
            Assert.Equal(3000, c.ExecuteScalar<long>("SELECT sum(events) FROM story_rollup"));
            Assert.Equal(3000, c.ExecuteScalar<long>("SELECT sum(events) FROM week_rollup"));
            Assert.Equal(c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE success = 0"), c.ExecuteScalar<long>("SELECT sum(errors) FROM story_rollup"));
            Assert.Equal(c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE duration_ms IS NOT NULL"), c.ExecuteScalar<long>("SELECT coalesce(sum(timed), 0) FROM event_rollup"));
        }

        /// <summary>
        /// Tools outside MadfLog (the sqlite3 shell, Python's sqlite3, the grouping scorer in ../shared/tools) read the store
        /// through the events view on a connection without MadfLog's functions: every column, details included, must read
        /// there as on MadfLog's own connection. A view needing a registered function (packed details) failed this way.
        /// </summary>
        [Fact]
        public void APlainSqliteConnectionReadsEveryColumnOfTheEventsView()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            File.WriteAllLines(file, DetailsCases().Select((d, i) => Line(T0 + i * 1000, (string)d[0])));
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using var ours = MadfDatabase.Open(t.Db, forWrite: false);
            var expected = ours.Query("SELECT * FROM events ORDER BY id").Select(r => string.Join("|", ((IDictionary<string, object?>)r).Values)).ToList();
            using var plain = new SqliteConnection($"Data Source={t.Db};Mode=ReadOnly;Pooling=False");
            plain.Open();
            var read = plain.Query("SELECT * FROM events ORDER BY id").Select(r => string.Join("|", ((IDictionary<string, object?>)r).Values)).ToList();
            Assert.Equal(DetailsCases().Count(), read.Count);
            Assert.Equal(expected, read);
            Assert.Equal("Read", plain.ExecuteScalar<string>("SELECT json_extract(details, '$.tool') FROM events ORDER BY id LIMIT 1"));
        }

        /// <summary>
        /// Get-MadfEvent joins the details in C# (DetailsShape.Join) rather than through the view's replace(): every column
        /// of every event, and of a first page, reads as the view gives it, whatever the shape, including the view's edges
        /// (a row of four values whose shape holds a later placeholder, a names id that names nothing).
        /// </summary>
        [Fact]
        public void TheEventsQuestionReadsEveryColumnAsTheEventsViewGivesIt()
        {
            using var t = TestPaths.NewTemp();
            var file = t.File("a.jsonl");
            var details = DetailsCases().Select(d => (string)d[0])
                .Concat(new[] { "{\"big\":\"" + new string('x', 5000) + "\"}", "null", "{\"message\":\"failed: exit 1\",\"tool\":\"Bash\"}" });
            File.WriteAllLines(file, details.Select((d, i) => Line(T0 + i * 1000, d)));
            var imported = new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            Assert.Equal((details.Count(), 0L), (imported.Imported, imported.Quarantined));
            using (var w = MadfDatabase.Open(t.Db))
            {
                // Written by hand: a shape holding placeholders of values 4 and 5 (of rows before schema 84) and packed
                // parts, with the last slot empty or not an integer, and a names id that names nothing.
                w.Execute(@"INSERT INTO names(text) VALUES ('{""a"":' || char(5) || ',""b"":' || char(1) || ',""c"":' || char(4) || ',""d"":' || char(14) || ',""e"":' || char(6) || ',""f"":' || char(23) || ',""g"":' || char(24) || ',""h"":' || char(18) || '}');
                            INSERT INTO kinds(event_type, category, success, pattern_detected, needs_review, details_shape)
                                SELECT event_type, category, success, pattern_detected, needs_review, (SELECT max(id) FROM names) FROM kinds WHERE id = (SELECT kind FROM event_rows LIMIT 1);
                            INSERT INTO event_rows(ts, kind, context, d1, d2, d3)
                                SELECT @t - (SELECT base_ts FROM event_blocks ORDER BY block DESC LIMIT 1), (SELECT max(id) FROM kinds), context, (SELECT min(id) FROM names), (SELECT id FROM names WHERE text = 'dev'), NULL FROM event_rows LIMIT 1;
                            INSERT INTO event_rows(ts, kind, context, d1, d2, d3)
                                SELECT @t + 1 - (SELECT base_ts FROM event_blocks ORDER BY block DESC LIMIT 1), (SELECT max(id) FROM kinds), context, 99999999, 'lit', ' 12abc' FROM event_rows LIMIT 1;
                            INSERT INTO event_extras(id, created_rule) SELECT min(id), 42 FROM event_rows;", new { t = T0 + 100_000 });
            }
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var view = c.Query<(long id, string details, string type, string? session, string? story, long? pattern, double? ctx, long? success)>(
                "SELECT id, details, event_type, session_id, story_id, pattern_id, context_percent, success FROM events ORDER BY timestamp, id").ToList();
            Assert.Equal(details.Count() + 2, view.Count);
            Assert.Contains(view, v => v.details != null && v.details.Contains((char)14)); // the view's edge is met
            static (long, string?, string, string?, string?, long?, double?, long?) Of(EventRecord e) =>
                (e.Id, e.Details, e.EventType, e.SessionId, e.StoryId, e.PatternId, e.ContextPercent, e.Success.HasValue ? (e.Success.Value ? 1 : 0) : (long?)null);
            Assert.Equal(view.Select(v => ((long, string?, string, string?, string?, long?, double?, long?))v), Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter()).Select(Of));
            Assert.Equal(view.Take(7).Select(v => ((long, string?, string, string?, string?, long?, double?, long?))v),
                         Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter { First = 7 }).Select(Of));
            Assert.Equal(c.Query<long?>("SELECT created_rule FROM events ORDER BY timestamp, id"), Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter()).Select(e => e.CreatedRule));
            Assert.Contains(42L, Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter()).Select(e => e.CreatedRule));
            Assert.Equal("failed: exit 1", Analysis.Events(c, new QueryFilter(), new Analysis.EventFilter()).Single(e => e.Details?.Contains("exit 1") == true).Message);
        }

        [Fact]
        public void AVersion6DatabaseIsMigratedWithItsEventsAndArchivedKeys()
        {
            using var t = TestPaths.NewTemp();
            using (var c = new SqliteConnection("Data Source=" + t.Db))
            {
                c.Open();
                c.Execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied INTEGER NOT NULL)");
                foreach (var m in Schema.MigrationsAfter(0).Where(m => m.Key <= 6))
                {
                    c.Execute(m.Value);
                    c.Execute("INSERT INTO schema_version VALUES (@v, 0)", new { v = m.Key });
                }
                c.Execute(@"INSERT INTO events(id, timestamp, event_type, category, session_id, story_id, workflow_id, agent_name, duration_ms, tokens_used,
                              context_percent, success, details, pattern_detected, needs_review, dedup_key)
                            VALUES (7, @t, 'tool_call', 'tool', 's1', '1.1', 'wf', 'dev', 120, NULL, 42.5, 1, '{""tool"": ""Read""}', 0, 0, 111),
                                   (8, @t2, 'llm_call', 'model', 's1', '1.1', 'wf', 'dev', 900, 1234, NULL, 1, NULL, 0, 1, 222)", new { t = T0, t2 = T0 + 1000 });
                c.Execute("INSERT INTO archived_keys VALUES (333)");
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                var rows = c.Query<(long id, string type, string? story, double? ctx, string? details, long review)>(
                    "SELECT id, event_type, story_id, context_percent, details, needs_review FROM events ORDER BY id").ToList();
                Assert.Equal(new[] { 7L, 8L }, rows.Select(r => r.id));
                Assert.Equal("tool_call", rows[0].type);
                Assert.Equal("1.1", rows[0].story);
                Assert.Equal(42.5, rows[0].ctx);
                Assert.Equal("{\"tool\": \"Read\"}", rows[0].details); // kept whole, as it was
                Assert.Null(rows[1].details);
                Assert.Equal(1, rows[1].review);
                // Every key packed under its event's month (the archived one's event is unknown); the response's also with its id.
                using (var packed = new EventKeys(c))
                    Assert.Equal(new[] { (111L, EventKeys.MonthOf(T0)), (222L, EventKeys.MonthOf(T0 + 1000)), (333L, EventKeys.UnknownMonth) }, packed.All());
                using (var responses = EventKeys.Responses(c))
                    Assert.Equal(new[] { (222L, EventKeys.MonthOf(T0 + 1000), 8L) }, responses.Entries());
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'legacy_event_keys'"));
                Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM event_blocks"));
                // New events get ids after the migrated ones, and a migrated or archived key still counts as imported.
                using var tx = c.BeginTransaction();
                var fresh = new List<EventRow>
                {
                    new EventRow { Timestamp = T0 + 5, EventType = "step", Category = "workflow", DedupKey = 444 },
                    new EventRow { Timestamp = T0 + 6, EventType = "step", Category = "workflow", DedupKey = 111 },
                    new EventRow { Timestamp = T0 + 7, EventType = "step", Category = "workflow", DedupKey = 333 },
                };
                Assert.Equal(1, ImportStages.Write(c, tx, fresh));
                Assert.True(fresh[0].Id > 8);
                tx.Commit();
            }
        }

        /// <summary>
        /// Takes a store back to before migration 22: the rarely set values back in event_rows' own columns (at its end)
        /// and migration 13's view, for a test that replays earlier migrations; the caller deletes the version rows.
        /// </summary>
        /// <summary>
        /// event_rows with each row's details shape (a names id, NULL for none) as a column details_shape, in either layout:
        /// in the row before schema 49, in its kind since.
        /// </summary>
        internal static string RowsWithShapes(SqliteConnection c) =>
            c.Query<string>("SELECT name FROM pragma_table_info('event_rows')").Contains("details_shape") ? "event_rows"
                : "(SELECT r.*, nullif(k.details_shape, 0) AS details_shape FROM event_rows r JOIN kinds k ON k.id = r.kind)";

        /// <summary>
        /// Takes a store back to before migration 49: the details shape a column of event_rows again, the kinds without it
        /// (each row given the kind of its type, category and flags), the view of schema 32; and the version rows from 49 deleted.
        /// </summary>
        internal static void UndoShapesInKinds(SqliteConnection c)
        {
            UndoWastedApart(c);
            if (c.Query<string>("SELECT name FROM pragma_table_info('event_rows')").Contains("details_shape")) return;
            const string flags = "event_type, category, success, pattern_detected, needs_review";
            var triggers = c.Query<(string name, string sql)>("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_rows'").ToList();
            foreach (var (name, _) in triggers) c.Execute($"DROP TRIGGER {name}");
            c.Execute($@"DROP VIEW events;
                ALTER TABLE event_rows ADD COLUMN details_shape INTEGER;
                UPDATE event_rows SET details_shape = nullif((SELECT details_shape FROM kinds WHERE id = event_rows.kind), 0);
                CREATE TABLE kinds_48 (id INTEGER PRIMARY KEY, event_type INTEGER NOT NULL, category INTEGER NOT NULL, success INTEGER NOT NULL,
                    pattern_detected INTEGER NOT NULL, needs_review INTEGER NOT NULL, UNIQUE ({flags}));
                INSERT OR IGNORE INTO kinds_48({flags}) SELECT {flags} FROM kinds ORDER BY id;
                UPDATE event_rows SET kind = (SELECT n.id FROM kinds k JOIN kinds_48 n ON n.event_type = k.event_type AND n.category = k.category
                    AND n.success = k.success AND n.pattern_detected = k.pattern_detected AND n.needs_review = k.needs_review WHERE k.id = event_rows.kind);
                DROP TABLE kinds; ALTER TABLE kinds_48 RENAME TO kinds;
                DELETE FROM schema_version WHERE version >= 49;" + Schema.EventsViewOf32);
            foreach (var (_, sql) in triggers) c.Execute(sql);
        }

        /// <summary>
        /// Takes a store back to before migration 56: the time saved or wasted a column at the end of event_rows again,
        /// event_extras without it (its rows that held only that deleted), schema 25's triggers, schema 49's view; and the
        /// version rows from 56 deleted. The events are not listed as changed.
        /// </summary>
        internal static void UndoWastedApart(SqliteConnection c)
        {
            UndoTimesFromBlocks(c);
            if (c.Query<string>("SELECT name FROM pragma_table_info('event_rows')").Contains("time_saved_or_wasted_ms")) return;
            var triggers = c.Query<(string name, string sql)>("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_rows'").ToList();
            foreach (var (name, _) in triggers) c.Execute($"DROP TRIGGER {name}");
            var changes = Schema.MigrationsAfter(24).First(m => m.Key == 25).Value;
            c.Execute(@"DROP VIEW events; DROP TRIGGER event_extras_inserted; DROP TRIGGER event_extras_updated;
                ALTER TABLE event_rows ADD COLUMN time_saved_or_wasted_ms INTEGER;
                UPDATE event_rows SET time_saved_or_wasted_ms = x.time_saved_or_wasted_ms FROM event_extras x WHERE x.id = event_rows.id;
                DELETE FROM event_extras WHERE confidence_score IS NULL AND impact_score IS NULL AND user_satisfaction_delta IS NULL AND created_rule IS NULL;
                ALTER TABLE event_extras DROP COLUMN time_saved_or_wasted_ms;
                DELETE FROM schema_version WHERE version >= 56;" + Schema.EventsViewOf49);
            foreach (var (_, sql) in triggers) c.Execute(sql);
            c.Execute(changes); // the extras' triggers (the rest exists)
        }

        /// <summary>
        /// Takes a store back to before migration 61: each row's time whole in event_rows.timestamp, event_blocks without
        /// bases, the pattern index on (pattern_id, timestamp), schema 56's view; the version rows from 61 deleted. The
        /// events are not listed as changed; AUTOINCREMENT's counter is kept.
        /// </summary>
        /// <summary>
        /// As schema 83 held the rows: d4 and d5 again (at the end of the row), each row's packed integers in d3..d5 as
        /// 83's import split them (its shape's packed parts the placeholders of values 3..5, in order), 83's view; the
        /// version rows from 84 deleted. The events are not listed as changed.
        /// </summary>
        internal static void UndoThreeSlots(SqliteConnection c)
        {
            if (c.Query<string>("SELECT name FROM pragma_table_info('event_rows')").Contains("d4")) return;
            var triggers = c.Query<(string name, string sql)>("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_rows'").ToList();
            foreach (var (name, _) in triggers) c.Execute($"DROP TRIGGER {name}");
            c.Execute("DROP VIEW events; ALTER TABLE event_rows ADD COLUMN d4; ALTER TABLE event_rows ADD COLUMN d5;");
            var packed = c.Query<(long kind, string shape)>($"SELECT k.id, sh.text FROM kinds k JOIN names sh ON sh.id = k.details_shape WHERE instr(sh.text, char({(int)DetailsShape.PackedPart(0, 1)}))").ToList();
            foreach (var (kind, shape) in packed)
            {
                var parts = Enumerable.Range(0, DetailsShape.MostPacked).Select(j => DetailsShape.PackedPart(j, DetailsShape.MostPacked)).Where(part => shape.Contains(part)).ToList();
                var old = shape;
                var values = new List<string>();
                for (var j = 0; j < parts.Count; j++)
                {
                    var slot = DetailsShape.Slots + j;
                    old = old.Replace(parts[j], DetailsShape.Placeholder(slot, name: false));
                    values.Add($"d{slot} = (@d3 >> {DetailsShape.PackedShift(parts[j])}) & {DetailsShape.PackedMask}");
                }
                c.Execute("INSERT OR IGNORE INTO names(text) VALUES (@old); UPDATE kinds SET details_shape = (SELECT id FROM names WHERE text = @old) WHERE id = @kind;", new { old, kind });
                c.Execute($"UPDATE event_rows SET {string.Join(", ", values).Replace("@d3", "d3")} WHERE kind = @kind", new { kind });
            }
            c.Execute("DELETE FROM schema_version WHERE version >= 84;" + Schema.EventsViewOf83);
            foreach (var (_, sql) in triggers) c.Execute(sql);
        }

        /// <summary>As schema 80 held the rows: every packed id as its text (Text.PackedId), the view that reads text only.</summary>
        internal static void UndoPackedIds(SqliteConnection c)
        {
            UndoThreeSlots(c);
            var triggers = c.Query<(string name, string sql)>("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_rows'").ToList();
            foreach (var (name, _) in triggers) c.Execute($"DROP TRIGGER {name}");
            c.CreateFunction("unpacked", (byte[] b) => Text.PackedId.Unpack(b));
            foreach (var col in EventStorage.ValueColumns) c.Execute($"UPDATE event_rows SET {col} = unpacked({col}) WHERE typeof({col}) = 'blob'");
            c.Execute("DROP VIEW events; DELETE FROM schema_version WHERE version >= 81;" + Schema.EventsViewOf61);
            foreach (var (_, sql) in triggers) c.Execute(sql);
        }

        internal static void UndoTimesFromBlocks(SqliteConnection c)
        {
            UndoPackedIds(c);
            if (!c.Query<string>("SELECT name FROM pragma_table_info('event_rows')").Contains("ts")) return;
            var triggers = c.Query<(string name, string sql)>("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_rows'").ToList();
            foreach (var (name, _) in triggers) c.Execute($"DROP TRIGGER {name}");
            var seq = c.ExecuteScalar<long>("SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'");
            var columns = string.Join(", ", c.Query<string>("SELECT name FROM pragma_table_info('event_rows') ORDER BY cid").Where(col => col != "id" && col != "ts"));
            c.Execute($@"DROP VIEW events; DROP INDEX ix_event_rows_pattern;
                ALTER TABLE event_rows RENAME TO event_rows_61;
                {Schema.RowsTableOf56}
                INSERT INTO event_rows(id, timestamp, {columns}) SELECT r.id, {EventStorage.TimeOf("r", "b")}, {columns} FROM event_rows_61 r {EventStorage.BlockJoin("r", "b")} ORDER BY r.id;
                DROP TABLE event_rows_61;
                UPDATE sqlite_sequence SET seq = {seq} WHERE name = 'event_rows';
                ALTER TABLE event_blocks RENAME TO event_blocks_61;
                CREATE TABLE event_blocks (block INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL);
                INSERT INTO event_blocks SELECT block, min_ts, max_ts FROM event_blocks_61;
                DROP TABLE event_blocks_61;
                CREATE INDEX ix_event_rows_pattern ON event_rows(pattern_id, timestamp) WHERE pattern_id IS NOT NULL;
                DELETE FROM schema_version WHERE version >= 61;" + Schema.EventsViewOf56);
            foreach (var (_, sql) in triggers) c.Execute(sql);
        }

        internal static void UndoRareColumnsApart(SqliteConnection c)
        {
            UndoFiveSlots(c);
            if (c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'event_extras'") == 0) return;
            var eight = Schema.MigrationsAfter(12).First(m => m.Key == 13).Value;
            c.Execute(@"DROP VIEW events;
                ALTER TABLE event_rows ADD COLUMN confidence_score REAL; ALTER TABLE event_rows ADD COLUMN impact_score REAL;
                ALTER TABLE event_rows ADD COLUMN user_satisfaction_delta REAL; ALTER TABLE event_rows ADD COLUMN created_rule INTEGER;
                UPDATE event_rows SET confidence_score = x.confidence_score, impact_score = x.impact_score,
                    user_satisfaction_delta = x.user_satisfaction_delta, created_rule = x.created_rule
                    FROM event_extras x WHERE x.id = event_rows.id;
                DROP TABLE event_extras;
                DELETE FROM schema_version WHERE version >= 22;" + eight.Substring(eight.IndexOf("CREATE VIEW events AS", StringComparison.Ordinal)));
        }

        /// <summary>
        /// Takes a store back to schema 25 (eight details values): d6..d8 come back, empty, at the end of the row, with
        /// schema 22's view; the caller reopens it (migration 32 runs again) or takes it back further.
        /// </summary>
        internal static void UndoFiveSlots(SqliteConnection c)
        {
            UndoShapesInKinds(c);
            if (c.Query<string>("SELECT name FROM pragma_table_info('event_rows')").Contains("d6")) return;
            c.Execute("DROP VIEW events; ALTER TABLE event_rows ADD COLUMN d6; ALTER TABLE event_rows ADD COLUMN d7; ALTER TABLE event_rows ADD COLUMN d8; " +
                      "DELETE FROM schema_version WHERE version >= 32; " + Schema.EventsViewOf22);
        }

        /// <summary>
        /// Takes a store back to before migration 13 (values 5-8 of details), so a test can roll it back further and
        /// reopen it; the caller deletes the version rows. Its rows must not use values 5-8 (they would be lost).
        /// </summary>
        internal static void UndoEightDetailsValues(SqliteConnection c)
        {
            UndoRareColumnsApart(c);
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE coalesce(d5, d6, d7, d8) IS NOT NULL"));
            var compact = Schema.MigrationsAfter(6).First(m => m.Key == 7).Value;
            c.Execute("DROP VIEW events; ALTER TABLE event_rows DROP COLUMN d5; ALTER TABLE event_rows DROP COLUMN d6; " +
                      "ALTER TABLE event_rows DROP COLUMN d7; ALTER TABLE event_rows DROP COLUMN d8; " + compact.Substring(compact.IndexOf("CREATE VIEW events AS", StringComparison.Ordinal)));
        }

        [Fact]
        public void AVersion25StoresRowsWithSixToEightValuesReadTheSameInFiveSlots()
        {
            using var t = TestPaths.NewTemp();
            using (var c = MadfDatabase.Open(t.Db))
            {
                UndoFiveSlots(c);
                // As schema 25 wrote them: a response's seven members (names in slots 1 and 7, literals 5 and 6), an object
                // whose members from the eighth on are one literal (d8), six values with a name in the sixth and nested
                // JSON in the fifth, and rows of five and four values (left as they are).
                static string P(int code) => "' || char(" + code + ") || '";
                c.Execute($@"INSERT INTO names(id, text) VALUES (1, 'llm_call'), (2, 'model'), (3, 'claude-opus-4'), (4, 'tool_use'), (5, 'zz'),
                                (10, '{{""model"":{P(5)},""message_id"":""msg_01{P(2)}"",""input_tokens"":{P(3)},""output_tokens"":{P(4)},""cache_creation_input_tokens"":{P(14)},""cache_read_input_tokens"":{P(15)},""stop_reason"":{P(20)}}}'),
                                (11, '{{""a"":{P(1)},""b"":{P(2)},""c"":{P(3)},""d"":{P(4)},""e"":{P(18)},""f"":{P(15)},""g"":{P(16)},{P(17)}}}'),
                                (12, '{{""p"":{P(1)},""q"":{P(2)},""r"":{P(3)},""s"":true,""s2"":{P(4)},""t"":{P(14)},""u"":{P(19)}}}'),
                                (13, '{{""a"":{P(1)},""b"":{P(6)},""c"":{P(3)},""d"":{P(4)},""e"":{P(14)}}}'),
                                (14, '{{""a"":{P(1)},""b"":{P(2)}}}');
                            INSERT INTO kinds(id, event_type, category, success, pattern_detected, needs_review) VALUES (1, 1, 2, 1, 0, 0);
                            INSERT INTO contexts(id, session_id, story_id, workflow_id, agent_name) VALUES (1, 0, 0, 0, 0);
                            INSERT INTO event_rows(id, timestamp, kind, context, details_shape, d1, d2, d3, d4, d5, d6, d7, d8) VALUES
                                (1, @t, 1, 1, 10, 3, 'abc' || char(233), 5, 9, 0, 70, 4, NULL),
                                (2, @t, 1, 1, 11, '1.50', '""str\""q""', '{{""x"":[1,2]}}', -3, 5, 12, '""a b""', '""h"":[1,2],""i"":""x\""y"",""j"":null'),
                                (3, @t, 1, 1, 12, 1, 2, 3, 4, '[1,{{""z"":2}}]', 5, NULL, NULL),
                                (4, @t, 1, 1, 13, 1, 4, 3, 4, 5, NULL, NULL, NULL),
                                (5, @t, 1, 1, 14, 7, 8, NULL, NULL, NULL, NULL, NULL, NULL);", new { t = T0 });
            }
            var expected = EventExtrasTests.PlainRead(t.Db);
            Assert.Equal(5, expected.Count);
            using (var c = new SqliteConnection($"Data Source={t.Db};Mode=ReadOnly;Pooling=False"))
                Assert.Equal(new[]
                {
                    "{\"model\":\"claude-opus-4\",\"message_id\":\"msg_01abc\u00e9\",\"input_tokens\":5,\"output_tokens\":9,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":70,\"stop_reason\":\"tool_use\"}",
                    "{\"a\":1.50,\"b\":\"str\\\"q\",\"c\":{\"x\":[1,2]},\"d\":-3,\"e\":\"zz\",\"f\":12,\"g\":\"a b\",\"h\":[1,2],\"i\":\"x\\\"y\",\"j\":null}",
                    "{\"p\":1,\"q\":2,\"r\":3,\"s\":true,\"s2\":4,\"t\":[1,{\"z\":2}],\"u\":\"zz\"}",
                    "{\"a\":1,\"b\":\"tool_use\",\"c\":3,\"d\":4,\"e\":5}",
                    "{\"a\":7,\"b\":8}",
                }, c.Query<string>("SELECT details FROM events ORDER BY id"));
            // Rows of up to three values are left as they are (five values are three since schema 84).
            var untouched = new[] { 5L }.Select(id => ReadRow(t.Db, id)).ToList();
            long changes;
            using (var c = MadfDatabase.Open(t.Db, forWrite: false)) changes = c.ExecuteScalar<long>("SELECT seq FROM event_changes WHERE id = -1");
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                Assert.Empty(c.Query<string>("SELECT name FROM pragma_table_info('event_rows')").Intersect(new[] { "d6", "d7", "d8" }));
                // No shape of a row names a value past the fifth; the rewrite is no change of the events.
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " r JOIN names n ON n.id = r.details_shape WHERE " +
                    string.Join(" OR ", new[] { 15, 16, 17, 19, 20, 21 }.Select(code => $"instr(n.text, char({code}))"))));
                Assert.Equal(changes, c.ExecuteScalar<long>("SELECT seq FROM event_changes WHERE id = -1"));
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_changes WHERE id > 0"));
            }
            Assert.Equal(expected, EventExtrasTests.PlainRead(t.Db));
            Assert.Equal(untouched, new[] { 5L }.Select(id => ReadRow(t.Db, id)).ToList());
        }

        // A row's stored columns as text, its details shape and the values this schema keeps (d1..d3).
        private static string ReadRow(string db, long id)
        {
            using var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            c.Open();
            return string.Join("|", ((IDictionary<string, object?>)c.QuerySingle(
                $"SELECT id, details_shape, {string.Join(", ", EventStorage.ValueColumns.Select(col => $"CAST({col} AS TEXT)"))} FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " WHERE id = @id", new { id })).Values);
        }

        [Fact]
        public void AVersion12StoresRowsReadTheSameAfterEightValuesAndNewRowsUseThem()
        {
            using var t = TestPaths.NewTemp();
            const string response = "{\"model\":\"claude-opus-4\",\"message_id\":\"msg_1\",\"input_tokens\":5,\"output_tokens\":9,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":70,\"stop_reason\":\"tool_use\"}";
            using (var c = MadfDatabase.Open(t.Db))
            {
                EventKeysTests.UnpackKeys(c);
                UndoEightDetailsValues(c);
                c.Execute(Query.ErrorSequenceSummaryTests.UndoKeyedSessions + Query.SummaryConsistencyTests.UndoKeyedRollups + "DELETE FROM schema_version WHERE version >= 13;" + Query.BlockDayTests.DropBlockDays);
                // As version 12 wrote a response: model and message id as names (placeholders 5, 6), input tokens in
                // place (3), the members from the fourth on as one literal (4).
                c.Execute(@"INSERT INTO names(id, text) VALUES (1, 'llm_call'), (2, 'model'), (3, 'claude-opus-4'), (4, 'msg_1'),
                                (5, '{""model"":' || char(5) || ',""message_id"":' || char(6) || ',""input_tokens"":' || char(3) || ',' || char(4) || '}');
                            INSERT INTO kinds(id, event_type, category, success, pattern_detected, needs_review) VALUES (1, 1, 2, 1, 0, 0);
                            INSERT INTO contexts(id, session_id, story_id, workflow_id, agent_name) VALUES (1, 0, 0, 0, 0);
                            INSERT INTO event_rows(id, timestamp, kind, context, details_shape, d1, d2, d3, d4)
                                VALUES (1, @t, 1, 1, 5, 3, 4, 5, '""output_tokens"":9,""cache_creation_input_tokens"":0,""cache_read_input_tokens"":70,""stop_reason"":""tool_use""');",
                    new { t = T0 });
                Assert.Equal(response, c.ExecuteScalar<string>("SELECT details FROM events"));
            }
            var file = t.File("a.jsonl");
            // Two new responses: the second's model and stop reason, seen before, are written into its shape.
            File.WriteAllLines(file, new[] { Line(T0 + 1, response.Replace("msg_1", "msg_2")), Line(T0 + 2, response.Replace("msg_1", "msg_3")) });
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file });
            using (var c = MadfDatabase.Open(t.Db, forWrite: false))
            {
                Assert.Equal(Schema.CurrentVersion, MadfDatabase.SchemaVersion(c));
                Assert.Equal(new[] { response, response.Replace("msg_1", "msg_2"), response.Replace("msg_1", "msg_3") }, c.Query<string>("SELECT details FROM events ORDER BY id"));
                // Its last usage count an integer in the row (packed into the last slot), not in a literal with its key.
                Assert.Equal(1, c.ExecuteScalar<long>($"SELECT count(*) FROM event_rows WHERE id = 3 AND typeof(d3) = 'integer' AND (d3 & {DetailsShape.PackedMask}) = 70"));
            }
        }

        [Fact]
        public void SecretsAreRedactedInWhicheverPartOfTheSplitTheyLand()
        {
            using var t = TestPaths.NewTemp();
            var secrets = new[] { "AKIAIOSFODNN7EXAMPLE", "abcd1234efgh5678", "pw12345x", "abcdefghijklmnop1234567890", "Sup3rS3cret!" };
            var details = new[]
            {
                "{\"tool\":\"Bash\",\"key\":\"AKIAIOSFODNN7EXAMPLE\"}",                        // a short value (a name)
                "{\"api_key\":\"abcd1234efgh5678\",\"n\":1}",                                       // the key is in the shape
                "{\"url\":\"https://bob:pw12345x@h.io\"}",                                           // a short value again
                "{\"message\":\"curl -H 'Authorization: Bearer abcdefghijklmnop1234567890' failed\"}", // a long literal
                "{\"env\":{\"conn\":\"Server=db;Password=Sup3rS3cret!;\"}}",                        // nested JSON
            };
            var file = t.File("a.jsonl");
            // Each line twice with other timestamps, so the second time the shape and names are remembered ones.
            File.WriteAllLines(file, details.Concat(details).Select((d, i) => Line(T0 + i, d)));
            Assert.Equal(10, new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file }).Imported);
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            var stored = string.Join("\n", c.Query<string>("SELECT details FROM events"));
            foreach (var secret in secrets) Assert.DoesNotContain(secret, stored);
            Assert.Equal(10, c.Query<string>("SELECT details FROM events").Count(d => d.Contains("[REDACTED]")));
            Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM events WHERE details = '{\"tool\":\"Bash\",\"key\":\"[REDACTED]\"}'"));
        }

        private static bool JsonEqual(string a, string b)
        {
            using var x = JsonDocument.Parse(a);
            using var y = JsonDocument.Parse(b);
            return Canonical(x.RootElement) == Canonical(y.RootElement);
        }

        // Objects compare by their last value per key (what a JSON reader keeps), numbers by their text.
        private static string Canonical(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Object => "{" + string.Join(",", e.EnumerateObject().GroupBy(p => p.Name).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => JsonSerializer.Serialize(g.Key) + ":" + Canonical(g.Last().Value))) + "}",
            JsonValueKind.Array => "[" + string.Join(",", e.EnumerateArray().Select(Canonical)) + "]",
            JsonValueKind.String => JsonSerializer.Serialize(e.GetString()),
            _ => e.GetRawText(),
        };
    }
}

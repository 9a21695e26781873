using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>Schema 84: rows hold three details values, the last slot's small integers packed into one.</summary>
    public class ThreeSlotsTests
    {
        // Responses (four usage counts: packed), objects whose fourth or fifth value is a names id, a string, nested JSON or a
        // number out of range (split again from their details: their members from the third on as one literal), and
        // objects of three values (left as they are).
        private static List<string> Details()
        {
            var details = new List<string>();
            for (var i = 0; i < 600; i++)
                details.Add((i % 6) switch
                {
                    0 or 1 => "{\"model\":\"claude-sonnet-4-5\",\"message_id\":\"msg_01" + i.ToString("D22") + "\",\"input_tokens\":" + (i % 7) + ",\"output_tokens\":" + (100 + i) +
                              ",\"cache_creation_input_tokens\":" + (i * 13) + ",\"cache_read_input_tokens\":" + (20000 + i * 977) + ",\"stop_reason\":\"tool_use\"}",
                    2 => "{\"tool\":\"Bash\",\"target\":\"src/f" + (i % 50) + ".cs\",\"lines\":" + i + ",\"cwd\":" + (i % 9) + ",\"exit_code\":\"code " + (i % 90) + "\"}",
                    3 => "{\"tool\":\"Grep\",\"a\":\"x" + i + "\",\"b\":" + i + ",\"c\":" + (i % 2 == 0 ? "4194304" : "-1") + ",\"d\":[" + i + "]}",
                    4 => "{\"tool\":\"Read\",\"target\":\"src/g" + i + ".cs\",\"offset\":" + i + ",\"limit\":" + (i * 3) + "}",
                    _ => "{\"tool\":\"Edit\",\"target\":\"src/h" + (i % 40) + ".cs\",\"lines\":" + i + "}",
                });
            return details;
        }

        private static string WriteLogs(TempFolder t, List<string> details)
        {
            var file = t.File("slots.jsonl");
            File.WriteAllLines(file, details.Select((d, i) => LiteralPrefixTests.Line(LiteralPrefixTests.T0 + i * 1000, d)));
            return file;
        }

        private static long PackedRows(SqliteConnection c) =>
            c.ExecuteScalar<long>($"SELECT count(*) FROM event_rows r JOIN kinds k ON k.id = r.kind JOIN names sh ON sh.id = k.details_shape WHERE instr(sh.text, char({(int)DetailsShape.PackedPart(0, 1)}))");

        [Fact]
        public void AStoreOfSchema83AnswersTheSameOnceItsRowsHoldThreeValuesAndImportsOnAsAFreshOne()
        {
            long packed = 0, rows = 0;
            TurnedBackStore.Check(
                before: c => { packed = PackedRows(c); rows = c.ExecuteScalar<long>("SELECT count(*) FROM event_rows"); },
                turnBack: c =>
                {
                    CompactStorageTests.UndoThreeSlots(c);
                    Assert.Contains("d5", c.Query<string>("SELECT name FROM pragma_table_info('event_rows')"));
                    Assert.Equal(0, PackedRows(c));
                },
                upgraded: c =>
                {
                    Assert.Equal(new[] { "d1", "d2", "d3" }, c.Query<string>("SELECT name FROM pragma_table_info('event_rows') WHERE name LIKE 'd_'"));
                    Assert.Equal(packed, PackedRows(c));
                    Assert.True(packed >= 200, $"{packed} packed");
                    // No row's shape names a value past the third.
                    Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM event_rows r JOIN kinds k ON k.id = r.kind JOIN names sh ON sh.id = k.details_shape WHERE " +
                        string.Join(" OR ", new[] { 4, 8, 14, 18 }.Select(code => $"instr(sh.text, char({code}))"))));
                },
                importedOn: (c, f) =>
                {
                    // The upgraded store's rows are the fresh store's: each event's details in the same shape, its values of the
                    // same types, the packed integers the same (names ids differ between stores).
                    var rows = $"SELECT e.details || '|' || coalesce(sh.text, '') || '|' || typeof(r.d1) || typeof(r.d2) || typeof(r.d3) || '|' || " +
                        $"CASE WHEN instr(sh.text, char({(int)DetailsShape.PackedPart(0, 1)})) THEN r.d3 ELSE '' END FROM event_rows r JOIN events e ON e.id = r.id JOIN kinds k ON k.id = r.kind LEFT JOIN names sh ON sh.id = k.details_shape";
                    Assert.Equal(f.Query<string>(rows).OrderBy(r => r, System.StringComparer.Ordinal), c.Query<string>(rows).OrderBy(r => r, System.StringComparer.Ordinal));
                },
                firstLogs: t => new[] { WriteLogs(t, Details()) });
            Assert.True(rows > 0);
        }

        [Fact]
        public void RowsOf83WhoseLaterValuesAreNoSmallIntegersAreSplitAgainFromTheirDetails()
        {
            using var t = TestPaths.NewTemp();
            var details = Details();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { WriteLogs(t, details) });
            using (var c = MadfDatabase.Open(t.Db))
            {
                CompactStorageTests.UndoThreeSlots(c);
                // As 83 split them: the Bash calls' fourth value a names id (placeholder 8), the Grep calls' fourth an
                // integer out of range or negative and the fifth nested JSON; written here from the details, by 83's rule.
                var splitter = new DetailsShape.Splitter(DetailsShape.SlotsOf32);
                foreach (var (id, text) in c.Query<(long, string)>("SELECT id, details FROM events WHERE json_extract(details, '$.tool') IN ('Bash', 'Grep')").ToList())
                {
                    var split = splitter.Of(text);
                    Assert.NotNull(split.Shape);
                    c.Execute("INSERT OR IGNORE INTO names(text) VALUES (@shape)", new { shape = split.Shape });
                    foreach (var name in split.Values.OfType<DetailsShape.Name>()) c.Execute("INSERT OR IGNORE INTO names(text) VALUES (@name)", new { name = name.Text });
                    object? Value(object? v) => v switch
                    {
                        DetailsShape.Name n => c.ExecuteScalar<long>("SELECT id FROM names WHERE text = @t", new { t = n.Text }),
                        DetailsShape.Quoted q => q.Stored,
                        _ => v,
                    };
                    c.Execute(@"INSERT OR IGNORE INTO kinds(event_type, category, success, pattern_detected, needs_review, details_shape)
                                    SELECT event_type, category, success, pattern_detected, needs_review, (SELECT id FROM names WHERE text = @shape) FROM kinds WHERE id = (SELECT kind FROM event_rows WHERE id = @id);
                                UPDATE event_rows SET kind = (SELECT k2.id FROM kinds k JOIN kinds k2 ON k2.event_type = k.event_type AND k2.category = k.category AND k2.success = k.success
                                        AND k2.pattern_detected = k.pattern_detected AND k2.needs_review = k.needs_review AND k2.details_shape = (SELECT id FROM names WHERE text = @shape) WHERE k.id = event_rows.kind),
                                    d1 = @d1, d2 = @d2, d3 = @d3, d4 = @d4, d5 = @d5 WHERE id = @id",
                        new { id, shape = split.Shape, d1 = Value(split.Values[0]), d2 = Value(split.Values[1]), d3 = Value(split.Values[2]), d4 = Value(split.Values[3]), d5 = Value(split.Values[4]) });
                }
                // Rows whose later values are a names id, or no small integer.
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE d4 IS NOT NULL AND (typeof(d4) <> 'integer' OR d4 < 0 OR d4 > 2097151 OR typeof(d3) <> 'integer' OR d3 < 0 OR d3 > 2097151 OR d5 IS NOT NULL AND typeof(d5) <> 'integer' " +
                    "OR (SELECT instr(sh.text, char(8)) FROM kinds k JOIN names sh ON sh.id = k.details_shape WHERE k.id = event_rows.kind))") >= 100);
                Assert.Equal(details, c.Query<string>("SELECT details FROM events ORDER BY id"));
            }
            using (var c = MadfDatabase.Open(t.Db, forWrite: false))
            {
                Assert.Equal(details, c.Query<string>("SELECT details FROM events ORDER BY id"));
                // Their members from the third value on are one literal, as this build's import writes them.
                Assert.Equal(details.Count(d => d.Contains("Grep")), c.ExecuteScalar<long>("SELECT count(*) FROM events e JOIN event_rows r ON r.id = e.id WHERE json_extract(e.details, '$.tool') = 'Grep' AND typeof(r.d3) = 'text' AND r.d3 LIKE '\"_\":%'"));
            }
        }
    }
}

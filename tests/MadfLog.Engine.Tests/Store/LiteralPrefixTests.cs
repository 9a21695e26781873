using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Events;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>A literal string's quotes and the start its key's strings share live in the shape; the row keeps the rest.</summary>
    public class LiteralPrefixTests
    {
        internal static readonly long T0 = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

        internal static string Line(long ts, string details) =>
            $"{{\"timestamp\":{ts},\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"s1\",\"agent_name\":\"dev\",\"success\":true,\"details\":{details}}}";

        internal static string Random(Random r, int n) => new string(Enumerable.Range(0, n).Select(_ => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[r.Next(62)]).ToArray());

        // Every event's details through the view, read by plain SQLite (no function of ours registered).
        internal static List<string> Read(string db)
        {
            using var plain = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            plain.Open();
            return plain.Query<string>("SELECT details FROM events ORDER BY id").ToList();
        }

        [Fact]
        public void EveryStringReadsBackAsWrittenWhileIdsAreStoredWithoutTheirSharedStart()
        {
            using var t = TestPaths.NewTemp();
            var r = new Random(7);
            var details = new List<string>();
            for (var i = 0; i < 600; i++)
                details.Add("{\"tool\":\"Read\",\"tool_use_id\":\"toolu_01" + Random(r, 22) + "\"" +
                    // a shared start with a character outside ASCII, and one with an escape: only what lies before them is shared
                    ",\"note\":\"ab\u00e9" + Random(r, 40) + "\",\"esc\":\"x\\n\\u00e9" + Random(r, 40) + "\"" +
                    // strings that share a start until they stop doing so, and an empty one
                    ",\"run\":\"" + (i < 400 ? "run-" : "other-") + Random(r, 40) + "\",\"empty\":\"\"}");
            var file = t.File("a.jsonl");
            File.WriteAllLines(file, details.Select((d, i) => Line(T0 + i, d)));
            Assert.Equal(details.Count, new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file }).Imported);
            Assert.Equal(details, Read(t.Db));
            using var c = MadfDatabase.Open(t.Db, forWrite: false);
            // Ids (whose values do not repeat) are literals: once their start is learned, the row holds neither it nor the quotes.
            var withoutStart = c.ExecuteScalar<long>(
                "SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " r JOIN names sh ON sh.id = r.details_shape WHERE instr(sh.text, '\"tool_use_id\":\"toolu_01') > 0");
            Assert.True(withoutStart > 200, $"{withoutStart} rows");
            // (The last slot may hold the members from the fifth on, keys and all: the first event's, whose tool and empty
            // string, seen once, take a slot each. Such a slot stands where a member would, after a comma.)
            var tail = $"instr(sh.text, ',' || char({(int)DetailsShape.Placeholder(DetailsShape.Slots, name: false)})) > 0";
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM " + Store.CompactStorageTests.RowsWithShapes(c) + " r JOIN names sh ON sh.id = r.details_shape WHERE " +
                string.Join(" OR ", EventStorage.ValueColumns.Select(col => $"(typeof({col}) = 'text' AND {col} LIKE '\"%'{(col == EventStorage.ValueColumns.Last() ? $" AND NOT {tail}" : "")})"))));
            // Nothing past an escape or a character outside ASCII is shared.
            Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM names WHERE instr(text, '\"ab\u00e9') > 0 OR instr(text, '\"x\\n') > 0"));
        }

        [Fact]
        public void ASecretWhoseStartIsSharedIsStillRedacted()
        {
            using var t = TestPaths.NewTemp();
            var r = new Random(11);
            var keys = Enumerable.Range(0, 200).Select(_ => "sk-ant-api03-" + Random(r, 30)).ToList();
            var file = t.File("a.jsonl");
            File.WriteAllLines(file, keys.Select((k, i) => Line(T0 + i, "{\"tool\":\"Bash\",\"command\":\"" + k + "\"}")));
            Assert.Equal(keys.Count, new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file }).Imported);
            var stored = Read(t.Db);
            Assert.All(stored, d => Assert.Contains("[REDACTED]", d));
            foreach (var k in keys) Assert.DoesNotContain(k.Substring(13), string.Join("\n", stored));
        }
    }
}

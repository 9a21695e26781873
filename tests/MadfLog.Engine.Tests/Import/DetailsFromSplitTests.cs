using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using System.Text;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    /// <summary>
    /// A parsed event's details text is made from its split only when read (DetailsShape.Splitter.Into): it must be the
    /// text of the line, byte for byte, whatever the split made of it.
    /// </summary>
    public class DetailsFromSplitTests
    {
        public static readonly string[] Details =
        {
            "{\"step\":\"qa-gate\",\"message\":\"session started\"}",
            "{\"model\":\"claude-opus-4-1\",\"input_tokens\":2648,\"output_tokens\":662}",
            // numbers kept as written (not canonical integers), negatives, zero, large ones
            "{\"a\":-0,\"b\":1.0,\"c\":1.50,\"d\":1e3,\"e\":-12}",
            "{\"a\":0,\"b\":-7,\"c\":123456789012345678,\"d\":1234567890123456789}",
            // true, false, null, nested objects and arrays, an empty object and string
            "{\"ok\":true,\"bad\":false,\"none\":null,\"nested\":{\"x\":[1,2,{\"y\":\"z\"}]},\"list\":[],\"empty\":\"\"}",
            "{}",
            // escapes and characters outside ASCII, in keys, values and the shape
            "{\"msg\":\"line1\\nline2 \\\"quoted\\\" \\u00e9\",\"k\\u00e9y\":\"h\u00e9llo \u2713\",\"path\":\"C:\\\\work\\\\a b\"}",
            // more values than slots: the last slot holds the members from its own on, as written
            "{\"a\":1,\"b\":\"two\",\"c\":[3],\"d\":{\"e\":4},\"f\":\"six\",\"g\":7,\"h\":\"eight\",\"i\":null}",
            // ids sharing a start (stored without it once learned), short and long strings
            "{\"tool\":\"Read\",\"tool_use_id\":\"toolu_01AAAAAAAAAAAAAAAAAAAAAA\",\"file\":\"/work/shop/src/" + new string('x', 300) + "\"}",
            // whitespace between tokens (a split drops it: the text is kept as decoded)
            "{ \"step\": \"dev\", \"n\" : 1 }",
            "{\"step\":\"dev\",\n\"n\":1}",
            // whitespace after a string ending in an escaped backslash, and only inside strings (with escaped quotes)
            "{\"path\":\"C:\\\\\", \"n\":1}",
            "{\"msg\":\"a \\\" b\",\"cmd\":\"x \\\\\"}",
        };

        [Fact]
        public void EveryParsedEventsDetailsReadBackAsTheLineHasThem()
        {
            var parser = new MadfFormat().CreateParser(new LogFileContext("log.jsonl", new ImportOptions()));
            var rows = new List<EventRow>();
            var expected = new List<string?>();
            // Each text three times, among the others: the splitter learns names and prefixes from what it saw before.
            for (var round = 0; round < 3; round++)
                for (var i = 0; i < Details.Length; i++)
                {
                    var details = round == 2 ? Details[i].Replace("AAAA", "BBBB") : Details[i];
                    var line = Encoding.UTF8.GetBytes($"{{\"timestamp\":{1_790_000_000_000 + i},\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"s{round}\",\"details\":{details}}}");
                    Assert.True(parser.Parse(line, rows.Count + 1, 0, rows, out var reason) == LineOutcome.Parsed, reason);
                    expected.Add(details);
                }
            Assert.Equal(expected, rows.Select(r => r.Details).ToList());
            Assert.All(rows, r => Assert.True(r.HasDetails));
            // Most of them were never made as text until read: their split has a shape.
            Assert.True(rows.Count(r => r.StoredDetails?.Shape != null) >= rows.Count - 6, string.Join(", ", rows.Select(r => r.StoredDetails?.Shape != null)));
        }

        [Fact]
        public void AnEmptyStringAmongIdsIsStoredAsAnEmptyStringNotNull()
        {
            // Ids never repeat, so their key's strings are stored as literals in the row; an empty one among them is an
            // empty text (bound with no characters, it would have been NULL, and the details read back without it).
            using var t = TestPaths.NewTemp();
            var r = new System.Random(3);
            var details = Enumerable.Range(0, 300).Select(i => "{\"tool\":\"Bash\",\"run_id\":\"" +
                (i % 10 == 9 ? "" : new string(Enumerable.Range(0, 30).Select(_ => (char)('a' + r.Next(26))).ToArray())) + "\"}").ToList();
            var file = t.File("a.jsonl");
            File.WriteAllLines(file, details.Select((d, i) =>
                $"{{\"timestamp\":{1_790_000_000_000 + i},\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"s1\",\"details\":{d}}}"));
            Assert.Equal(details.Count, new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { file }).Imported);
            using var plain = new SqliteConnection($"Data Source={t.Db};Mode=ReadOnly;Pooling=False");
            plain.Open();
            Assert.Equal(details, plain.Query<string>("SELECT details FROM events ORDER BY id").ToList());
            // (and the empty ones were literals: a row holds an empty text value)
            Assert.True(plain.ExecuteScalar<long>("SELECT count(*) FROM event_rows WHERE " +
                string.Join(" OR ", MadfLog.Engine.Store.EventStorage.ValueColumns.Select(c => $"({c} = '')"))) > 0);
        }

        [Fact]
        public void ReplacingTheSplitKeepsTheTextItWasMadeFrom()
        {
            var parser = new MadfFormat().CreateParser(new LogFileContext("log.jsonl", new ImportOptions()));
            var rows = new List<EventRow>();
            var line = Encoding.UTF8.GetBytes("{\"timestamp\":1790000000000,\"event_type\":\"step\",\"category\":\"workflow\",\"details\":" + Details[1] + "}");
            Assert.Equal(LineOutcome.Parsed, parser.Parse(line, 1, 0, rows, out _));
            var row = Assert.Single(rows);
            row.StoredDetails = null; // as a stage may, to have it split again
            Assert.Equal(Details[1], row.Details);
            row.Details = "{\"x\":1}";
            Assert.Null(row.StoredDetails);
            Assert.Equal("{\"x\":1}", row.Details);
        }
    }
}

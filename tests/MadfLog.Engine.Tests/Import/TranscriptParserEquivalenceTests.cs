using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Import.ClaudeCode;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    /// <summary>
    /// The transcript parser reads records in one forward pass (Utf8JsonReader) instead of a JsonDocument per line; nothing
    /// it imports may change. Both parsers read the same lines, the shared real transcripts in every shape and those
    /// lines damaged at random (fields removed, retyped, duplicated, escaped, non-ASCII, cut short, extra text), and must
    /// give the same outcome, reason, events (every field), pending offset and failure, line by line.
    /// </summary>
    public class TranscriptParserEquivalenceTests
    {
        private static string Shared => TestPaths.Shared;

        private static IEnumerable<(string path, Shape shape, List<string> lines)> RealFiles()
        {
            foreach (var f in Directory.EnumerateFiles(Path.Combine(Shared, "data", "claude-code"), "*.jsonl", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
                yield return (f, Shape.Transcript, File.ReadAllLines(f).ToList());
            foreach (var f in Directory.EnumerateFiles(Path.Combine(Shared, "data", "claude-code-shapes", "stream-json"), "*.jsonl", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
                yield return (f, Shape.Stream, File.ReadAllLines(f).ToList());
            var chat = Path.Combine(Shared, "data", "claude-code-shapes", "chat-json", "chat.json");
            using var doc = JsonDocument.Parse(File.ReadAllText(chat));
            yield return (chat, Shape.Array, doc.RootElement.EnumerateArray().Select(e => e.GetRawText()).ToList());
        }

        [Fact]
        public void TheSharedTranscriptsParseAsTheJsonDocumentParserDidInEveryShape()
        {
            var lines = 0;
            foreach (var (path, shape, content) in RealFiles())
            {
                Compare(path, shape, content);
                lines += content.Count;
            }
            Assert.True(lines > 1000, $"only {lines} lines compared");
        }

        [Fact]
        public void DamagedAndUnusualRecordsParseAsTheJsonDocumentParserDid()
        {
            foreach (var (path, shape, content) in RealFiles())
            {
                for (var seed = 1; seed <= 12; seed++)
                {
                    var random = new Random(seed * 7919 + content.Count);
                    Compare(path, shape, content.Select(l => random.NextDouble() < 0.35 ? Damage(l, random) : l).ToList());
                }
            }
        }

        [Fact]
        public void WrittenRecordsOfEveryKindParseAsTheJsonDocumentParserDid()
        {
            const string env = "\"sessionId\":\"s-é1\",\"gitBranch\":\"feature/story_3-4\",\"cwd\":\"/w/ä\",";
            var lines = new List<string>
            {
                "{" + env + "\"type\":\"assistant\",\"uuid\":\"u1\",\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"message\":{\"id\":\"m1\",\"model\":\"claude-ö\",\"stop_reason\":null,\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"AskUserQuestion\",\"input\":{\"questions\":[{\"question\":\"Which one?\"},{\"question\":7},{\"q\":1},\"x\"]}},{\"type\":\"tool_use\",\"id\":\"t2\",\"name\":\"Task\",\"input\":{\"prompt\":\"  Do the thing\\n\",\"subagent_type\":\"reviewer\",\"description\":\"d\"}},{\"type\":\"tool_use\",\"id\":\"t3\",\"name\":\"KillBash\",\"input\":{\"url\":\"http://x\"}},{\"type\":\"tool_use\",\"name\":\"NoId\"},7,null],\"usage\":{\"input_tokens\":10,\"output_tokens\":2.5,\"cache_creation_input_tokens\":\"9\",\"cache_read_input_tokens\":1e3}}}",
                "{" + env + "\"type\":\"assistant\",\"uuid\":\"u2\",\"timestamp\":\"2026-01-02T03:04:06Z\",\"message\":{\"id\":\"m1\",\"content\":[],\"usage\":{\"input_tokens\":100000,\"output_tokens\":5,\"cache_creation_input_tokens\":200000,\"cache_read_input_tokens\":0}}}",
                "{" + env + "\"type\":\"user\",\"uuid\":\"u3\",\"timestamp\":\"2026-01-02T05:04:06+02:00\",\"toolUseResult\":{\"durationMs\":1234,\"agentId\":\"ag1\"},\"message\":{\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":[{\"type\":\"text\",\"text\":\"Answer: \\u00e9 \\ud83d\\ude00\"},{\"type\":\"image\"},{\"type\":\"text\",\"text\":\"second\"}]},{\"type\":\"tool_result\",\"tool_use_id\":\"t2\",\"is_error\":true,\"content\":\"\\u001b[31m<tool_use_error>Sibling tool call errored</tool_use_error>\\u001b[0m\"},{\"type\":\"tool_result\",\"tool_use_id\":\"t3\",\"is_error\":true,\"content\":\"The user doesn't want to proceed with this tool use.\"},{\"type\":\"text\",\"text\":\"[Request interrupted by user]\"}]}}",
                "{" + env + "\"type\":\"user\",\"uuid\":\"u4\",\"timestamp\":\"2026-01-02T03:04:08Z\",\"toolUseResult\":\"Error: plain string result\",\"message\":{\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"tX\",\"is_error\":true}]}}",
                "{" + env + "\"type\":\"user\",\"uuid\":\"u5\",\"timestamp\":\"2026-01-02T03:04:09Z\",\"message\":{\"content\":\"[Request interrupted by user for tool use]\"}}",
                "{" + env + "\"type\":\"user\",\"uuid\":\"u6\",\"isSidechain\":true,\"parentUuid\":\"u5\",\"timestamp\":\"2026-01-02T03:04:10Z\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"Do the thing\"}]}}",
                "{" + env + "\"type\":\"assistant\",\"uuid\":\"u7\",\"isSidechain\":true,\"parentUuid\":\"u6\",\"timestamp\":\"2026-01-02T03:04:11Z\",\"message\":{\"id\":\"m2\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t4\",\"name\":\"Read\",\"input\":{\"file_path\":\"/a\\\"b\"}}],\"usage\":{\"input_tokens\":1,\"output_tokens\":1,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0}}}",
                "{" + env + "\"type\":\"user\",\"uuid\":\"u8\",\"isSidechain\":true,\"agentId\":\"ag1\",\"timestamp\":\"2026-01-02T03:04:12Z\",\"message\":{\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t4\",\"content\":\"ok\"}]}}",
                "{\"type\":\"progress\",\"parentToolUseID\":\"t2\",\"data\":{\"agentId\":\"ag2\"}," + env + "\"timestamp\":\"2026-01-02T03:04:13Z\"}",
                "{\"type\":\"assistant\",\"session_id\":\"st1\",\"parent_tool_use_id\":\"t2\",\"message\":{\"id\":\"m3\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t5\",\"name\":\"Bash\",\"input\":{\"command\":\"ls\"}}],\"usage\":{\"input_tokens\":3,\"output_tokens\":4,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0}}}",
                "{\"type\":\"user\",\"session_id\":\"st1\",\"parent_tool_use_id\":null,\"tool_use_result\":{\"totalDurationMs\":77},\"message\":{\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t5\",\"content\":\"done\"}]}}",
                "{\"type\":\"result\",\"subtype\":\"error_max_turns\",\"is_error\":true,\"session_id\":\"st1\",\"num_turns\":12,\"duration_ms\":1.0e5,\"duration_api_ms\":900,\"total_cost_usd\":0.125,\"errors\":[\"first\",3,\"second \\u00fc\"]}",
                "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"session_id\":\"st1\",\"uuid\":\"r1\",\"num_turns\":\"12\",\"duration_ms\":5000,\"cost_usd\":1e-3,\"result\":\"fine\",\"timestamp\":\"2026-01-02T03:05:00Z\"}",
                "{\"type\":\"result\",\"subtype\":\"error\",\"is_error\":true,\"session_id\":\"st1\",\"num_turns\":{\"a\":[1,2]},\"duration_ms\":[ 1, 2 ],\"total_cost_usd\":  2.50 ,\"result\":\"<tool_use_error>bad</tool_use_error>\"}",
                "{\"type\":\"result\",\"session_id\":\"st1\",\"total_cost_usd\":1e400}",
                "{\"type\":\"result\",\"session_id\":\"st1\",\"cost_usd\":\"x\",\"num_turns\":99999999999999999999}",
                "{\"type\":\"assistant\",\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"timestamp\":\"2026-02-02T03:04:05Z\",\"sessionId\":\"dup\",\"message\":{\"id\":\"m9\"},\"message\":{\"id\":\"m10\",\"usage\":{\"input_tokens\":5,\"input_tokens\":6,\"output_tokens\":1}}}",
                "{\"\\u0074ype\":\"assistant\",\"sessionId\":\"esc\",\"timestamp\":\"2026-01-02T03:04:05\\u005a\",\"message\":{\"\\u0069d\":\"m\\u00e911\",\"usage\":{\"input_tokens\":5}}}",
                "{\"type\":\"assistant\",\"sessionId\":\"bad\",\"timestamp\":\"not a time\",\"message\":{\"id\":\"m12\",\"usage\":{}}}",
                "{\"type\":\"assistant\",\"sessionId\":\"bad\",\"timestamp\":\"2026-13-45T99:00:00Z\",\"message\":{\"id\":\"m13\",\"usage\":{}}}",
                "{\"type\":\"assistant\",\"sessionId\":\"bad\",\"timestamp\":12,\"message\":{\"id\":\"m14\",\"usage\":{}}}",
                "{\"type\":\"assistant\",\"sessionId\":\"bad\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"message\":\"text\"}",
                "{\"type\":\"user\",\"sessionId\":\"bad\",\"message\":{}}",
                "{\"type\":\"user\",\"sessionId\":\"bad\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"message\":{\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"\\ud800\"}]}}",
                "{\"type\":\"user\",\"sessionId\":\"bad\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"\\udc00 lone\"}]}}",
                "{\"type\":\"file-history-snapshot\",\"snapshot\":{\"a\":[1,{\"b\":null}]}}",
                "{\"type\":7}", "{\"type\":null}", "{}", "[]", "\"text\"", "12", "{\"type\":\"user\"} trailing", "{\"type\":\"user\",}", "{\"type\":\"user\"", "{'type':'user'}",
                "{\"type\":\"user\",\"a\":" + new string('[', 70) + new string(']', 70) + "}",
                "  {\"type\":\"summary\",\"summary\":\"x\",\"leafUuid\":\"l\"}  ",
                "{\"type\":\"stream_event\",\"session_id\":\"st1\",\"event\":{}}",
                "{\"type\":\"user\",\"session_id\":\"st1\",\"message\":{\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"never-used\",\"content\":[{\"type\":\"text\",\"text\":\"held\"}]}]}}",
                "{\"type\":\"assistant\",\"sessionId\":\"late\",\"timestamp\":\"2026-01-03T00:00:00Z\",\"message\":{\"id\":\"m15\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t6\",\"name\":\"Grep\",\"input\":{\"pattern\":\"a|b\",\"path\":7}}]}}",
            };
            foreach (var path in new[] { "/p/projects/-w/sess.jsonl", "/p/projects/-w/sess/subagents/agent-a1.jsonl", "/p/logs/stream.jsonl" })
            {
                foreach (var shape in new[] { Shape.Transcript, Shape.Stream, Shape.Array })
                {
                    Compare(path, shape, lines);
                    Compare(path, shape, Enumerable.Reverse(lines).ToList());
                }
            }
        }

        private static readonly string[] Odd =
        {
            "null", "true", "false", "0", "-1", "1.5", "1e400", "-0.0", "99999999999999999999", "\"\"", "[]", "{}", "[1,\"a\",{}]",
            "\"é\\\"\\\\\\n\\t😀ü\"", "\"\\ud800x\"", "\"[Request interrupted by user]\"", "\"The user doesn't want to proceed\"",
            "\"Sibling tool call errored\"", "\"\\u001b[31mred\\u001b[0m <tool_use_error>x</tool_use_error>\"", "\"tool_use\"",
            "\"tool_result\"", "\"text\"", "\"2026-01-02T03:04:05Z\"", "\"2026-01-02 03:04:05\"", "{\"type\":\"text\",\"text\":\"t\"}",
            "\"assistant\"", "\"user\"", "\"result\"", "\"AskUserQuestion\"", "\"Task\"", "\"story/1-2-x\"",
        };

        /// <summary>One line damaged in one of several ways: a value removed, retyped or doubled, text escaped or cut, extra text.</summary>
        private static string Damage(string line, Random random)
        {
            var how = random.Next(8);
            if (how == 0) return line.Substring(0, random.Next(line.Length)); // cut short
            if (how == 1) return line + (random.Next(2) == 0 ? " x" : "\t "); // text after the record, or blanks
            if (how == 2)
            {
                // A letter written as an escape, in a key or a value.
                var letters = Enumerable.Range(0, line.Length).Where(i => char.IsLetter(line[i]) && line[i] < 128 && (i == 0 || line[i - 1] != '\\')).ToList();
                if (letters.Count == 0) return line;
                var at = letters[random.Next(letters.Count)];
                return line.Substring(0, at) + "\\u" + ((int)line[at]).ToString("x4") + line.Substring(at + 1);
            }
            JsonNode? root;
            try { root = JsonNode.Parse(line); }
            catch (JsonException) { return line; }
            if (root == null) return line;
            var nodes = new List<(JsonNode parent, string? key, int index)>();
            Collect(root, nodes);
            if (nodes.Count == 0) return line;
            var (parent, key, index) = nodes[random.Next(nodes.Count)];
            var odd = Odd[random.Next(Odd.Length)];
            var marker = "\"@@odd" + random.Next() + "@@\"";
            if (how == 3)
            {
                if (parent is JsonObject o) o.Remove(key!);
                else ((JsonArray)parent).RemoveAt(index);
            }
            else if (parent is JsonObject o) o[key!] = JsonValue.Create(marker.Trim('"'));
            else ((JsonArray)parent)[index] = JsonValue.Create(marker.Trim('"'));
            var options = new JsonSerializerOptions { Encoder = random.Next(2) == 0 ? JavaScriptEncoder.UnsafeRelaxedJsonEscaping : JavaScriptEncoder.Default };
            var text = root.ToJsonString(options);
            if (how == 3) return text;
            if (how == 7 && key != null)
            {
                // The key twice: readers of JSON take the last.
                return text.Replace(marker, odd).Replace("\"" + key + "\":" + odd, "\"" + key + "\":" + Odd[random.Next(Odd.Length)] + ",\"" + key + "\":" + odd);
            }
            return text.Replace(marker, odd);
        }

        private static void Collect(JsonNode node, List<(JsonNode, string?, int)> into)
        {
            if (node is JsonObject o)
            {
                foreach (var kv in o.ToList())
                {
                    into.Add((o, kv.Key, -1));
                    if (kv.Value != null) Collect(kv.Value, into);
                }
            }
            else if (node is JsonArray a)
            {
                for (var i = 0; i < a.Count; i++)
                {
                    into.Add((a, null, i));
                    if (a[i] != null) Collect(a[i]!, into);
                }
            }
        }

        /// <summary>
        /// On import the parser keeps each event's details as the UTF-8 it wrote (<see cref="TranscriptParser.Unsplit"/>) and
        /// the preparing thread splits them later, with a splitter of its own (<see cref="UnsplitDetails.SplitAll"/>), without
        /// checking them for whitespace between tokens, which a split would drop: what it split must read back as the text
        /// a parser that keeps none makes, byte for byte, split as a splitter of that text splits it, for every real and
        /// damaged line.
        /// </summary>
        [Fact]
        public void DetailsSplitLaterOnAnotherThreadReadBackAsTheTextWritten()
        {
            var split = 0;
            foreach (var (path, shape, content) in RealFiles())
            {
                var random = new Random(content.Count);
                foreach (var lines in new[] { content, content.Select(l => random.NextDouble() < 0.35 ? Damage(l, random) : l).ToList() })
                {
                    var plain = new TranscriptParser(path, null, shape);
                    var keeping = new TranscriptParser(path, null, shape) { Unsplit = new UnsplitDetails() };
                    DetailsShape.Splitter later = new DetailsShape.Splitter(), ofText = new DetailsShape.Splitter();
                    long offset = 0;
                    for (var i = 0; i < lines.Count; i++)
                    {
                        var bytes = Encoding.UTF8.GetBytes(lines[i]);
                        var expected = Run(() => (plain.Parse(bytes, i + 1, offset, Output(), out var r), r), out var expectedRows);
                        var actual = Run(() => (keeping.Parse(bytes, i + 1, offset, Output(), out var r), r), out var actualRows);
                        Assert.Equal(expected, actual);
                        UnsplitDetails.SplitAll(actualRows, later);
                        split += actualRows.Count(r => r.StoredDetails?.Shape != null);
                        AssertSameSplits(expectedRows, actualRows, ofText, $"{path} line {i + 1}: {lines[i]}");
                        offset += bytes.Length + 1;
                    }
                    Run(() => { plain.EndOfFile(Output()); return (LineOutcome.Parsed, null); }, out var expectedEnd);
                    Run(() => { keeping.EndOfFile(Output()); return (LineOutcome.Parsed, null); }, out var actualEnd);
                    UnsplitDetails.SplitAll(actualEnd, later);
                    AssertSameSplits(expectedEnd, actualEnd, ofText, path + " at its end");
                }
            }
            Assert.True(split > 1000, $"only {split} events' details were split with a shape");
        }

        // The same rows (details as text), the bytes given up, and each split's shape as a splitter of the expected text makes it.
        private static void AssertSameSplits(List<EventRow> expected, List<EventRow> actual, DetailsShape.Splitter ofText, string where)
        {
            AssertSameRows(expected, actual, where, splitOrNot: false);
            for (var k = 0; k < expected.Count; k++)
            {
                Assert.True(actual[k].UnsplitDetails.Array == null, $"{where}: event {k} kept its bytes");
                Assert.True(ofText.Of(expected[k].Details).Shape == actual[k].StoredDetails?.Shape, $"{where}: event {k}'s shape");
            }
        }

        /// <summary>Both parsers read the lines of one file in order; every difference fails with the line that shows it.</summary>
        private static void Compare(string path, Shape shape, List<string> lines)
        {
            var before = new JsonDocumentTranscriptParser(path, null, shape);
            var now = new TranscriptParser(path, null, shape);
            long offset = 0;
            for (var i = 0; i < lines.Count; i++)
            {
                var bytes = Encoding.UTF8.GetBytes(lines[i]);
                var expected = Run(() => (before.Parse(bytes, i + 1, offset, Output(), out var r), r), out var expectedRows);
                var actual = Run(() => (now.Parse(bytes, i + 1, offset, Output(), out var r), r), out var actualRows);
                var where = $"{path} line {i + 1}: {lines[i]}";
                Assert.True(expected == actual, $"{where}\n expected {expected}\n actual   {actual}");
                AssertSameRows(expectedRows, actualRows, where);
                Assert.True(before.EarliestPendingOffset == now.EarliestPendingOffset, $"{where}: pending offset {before.EarliestPendingOffset} vs {now.EarliestPendingOffset}");
                offset += bytes.Length + 1;
            }
            // The held events written at the end: the same in both.
            var expectedEnd = Run(() => { before.EndOfFile(Output()); return (LineOutcome.Parsed, null); }, out var expectedRowsEnd);
            var actualEnd = Run(() => { now.EndOfFile(Output()); return (LineOutcome.Parsed, null); }, out var actualRowsEnd);
            Assert.True(expectedEnd == actualEnd, $"{path} at its end\n expected {expectedEnd}\n actual   {actualEnd}");
            AssertSameRows(expectedRowsEnd, actualRowsEnd, path + " at its end");
        }

        [ThreadStatic] private static List<EventRow>? _output;

        private static List<EventRow> Output() => _output = new List<EventRow>();

        private static string Run(Func<(LineOutcome outcome, string? reason)> parse, out List<EventRow> rows)
        {
            try
            {
                var (outcome, reason) = parse();
                rows = _output!;
                return outcome + " " + reason;
            }
            catch (Exception ex)
            {
                rows = _output!;
                return "threw " + ex.GetType().Name + ": " + ex.Message;
            }
        }

        private static void AssertSameRows(List<EventRow> expected, List<EventRow> actual, string where, bool splitOrNot = true)
        {
            Assert.True(expected.Count == actual.Count, $"{where}: {expected.Count} events vs {actual.Count}");
            for (var k = 0; k < expected.Count; k++)
            {
                var e = Describe(expected[k], splitOrNot);
                var a = Describe(actual[k], splitOrNot);
                Assert.True(e == a, $"{where}: event {k}\n expected {e}\n actual   {a}");
            }
        }

        private static string Describe(EventRow r, bool splitOrNot = true) => string.Join(" | ", r.Timestamp, r.EventType, r.Category, r.SessionId, r.StoryId, r.WorkflowId,
            r.AgentName, r.DurationMs, r.TokensUsed, r.ContextPercent?.ToString("R"), r.Success, r.ConfidenceScore, r.Details, r.ImpactScore,
            r.TimeSavedOrWastedMs, r.UserSatisfactionDelta, r.CreatedRule, r.PatternDetected, r.NeedsReview, r.PatternId, r.DedupKey,
            r.KeepLargestTokens, r.TokensGrowth, r.Step, r.Message, splitOrNot ? r.StoredDetails == null : (bool?)null);
    }
}

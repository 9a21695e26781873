using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Text;
using Xunit;

namespace MadfLog.Engine.Tests.Import
{
    public class StableHashTests
    {
        // Dedup keys are stored: a text's hash must stay the hash of its UTF-8, and several parts' the hash of the parts
        // joined by U+001F, however they are encoded on the way.
        [Theory]
        [InlineData("")]
        [InlineData("madf:event_id")]
        [InlineData("héllo wörld ✓ 𝄞")]
        [InlineData("lone \ud800 high")]
        [InlineData("ends high \ud800")]
        [InlineData("\udc00 starts low")]
        public void TextHashIsTheHashOfItsUtf8(string text)
        {
            Assert.Equal(StableHash.Hash(Encoding.UTF8.GetBytes(text)), StableHash.Hash(text));
            var longText = string.Concat(Enumerable.Repeat(text + "x", 5000));
            Assert.Equal(StableHash.Hash(Encoding.UTF8.GetBytes(longText)), StableHash.Hash(longText));
        }

        [Fact]
        public void PartsHashIsTheHashOfThePartsJoined()
        {
            var cases = new[]
            {
                new string?[] { "cc:llm", "msg_01ABC" },
                new string?[] { "cc:human", "key", null, "3" },
                new string?[] { "", "", "" },
                new string?[] { "ends high \ud800", "\udc00 starts low" },
                new string?[] { "ü", "𝄞", new string('z', 3000) },
                new string?[] { null },
                Array.Empty<string?>(),
            };
            foreach (var parts in cases)
                Assert.Equal(StableHash.Hash(Encoding.UTF8.GetBytes(string.Join("\u001f", parts))), StableHash.Hash(parts));
            Assert.NotEqual(StableHash.Hash("ab", "c"), StableHash.Hash("a", "bc"));
        }

        // A MADF line's event_id keys it as the parts ("madf:event_id", the id's text): however the id is written (plain,
        // escaped, a number, non-ASCII), the key stored by earlier imports is the one found again.
        [Theory]
        [InlineData("\"0123456789abcdef0123456789abcdef\"", "0123456789abcdef0123456789abcdef")]
        [InlineData("\"ab\\u0063\"", "abc")]
        [InlineData("\"h\u00e9llo \u2713\"", "h\u00e9llo \u2713")]
        [InlineData("\"\"", "")]
        [InlineData("12345", "12345")]
        public void AnEventIdKeysItsLineAsTheHashOfItsText(string json, string id)
        {
            var parser = new MadfFormat().CreateParser(new LogFileContext("log.jsonl", new ImportOptions()));
            var line = Encoding.UTF8.GetBytes("{\"timestamp\":\"2026-11-30T10:00:00Z\",\"event_id\":" + json + ",\"event_type\":\"step\",\"category\":\"workflow\"}");
            var rows = new List<EventRow>();
            Assert.Equal(LineOutcome.Parsed, parser.Parse(line, 1, 0, rows, out _));
            Assert.Equal(StableHash.Hash("madf:event_id", id), Assert.Single(rows).DedupKey);
        }
    }
}

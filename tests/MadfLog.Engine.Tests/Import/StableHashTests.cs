using System;
using System.Linq;
using System.Text;
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
    }
}

using System;
using System.Linq;
using System.Text;
using MadfLog.Engine.Patterns;
using Xunit;

namespace MadfLog.Engine.Tests.Patterns
{
    public class PhraseTableTests
    {
        private static readonly (string Class, string[] Phrases)[] Rules =
        {
            ("Network", new[] { "connection refused", "could not resolve host", " 403" }),
            ("Timeout", new[] { "timed out", "deadline exceeded" }),
            ("Conflict", new[] { "conflicting dependencies", "connection" }),
            ("Quoted", new[] { "doesn’t want to proceed", "--yes" }),
            ("Curly", new[] { "’s fault" }), // starts outside ASCII: compared at every position
        };

        // What First means: the first rule, in order, any of whose phrases the text holds (ordinal, ignoring case).
        private static string? Expected(string text) =>
            Rules.FirstOrDefault(r => r.Phrases.Any(p => text.Contains(p, StringComparison.OrdinalIgnoreCase))).Class;

        [Theory]
        [InlineData("psql: error: connection to server failed: Connection refused", "Network")]
        [InlineData("CONNECTION REFUSED", "Network")]
        // The earlier rule wins wherever its phrase is: "connection" (Conflict) comes first in the text, "timed out" is Timeout's.
        [InlineData("connection attempt timed out", "Timeout")]
        [InlineData("connection timed out; connection refused", "Network")]
        [InlineData("connection", "Conflict")]
        [InlineData("timed ou", null)]
        [InlineData("x timed out", "Timeout")]
        [InlineData("request failed with status 403", "Network")]
        [InlineData("status403", null)]
        [InlineData("The user doesn’t want to proceed", "Quoted")]
        [InlineData("pass --YES to skip", "Quoted")]
        [InlineData("it’s fault", "Curly")]
        [InlineData("", null)]
        [InlineData("c", null)]
        public void FindsTheFirstRuleWithAPhraseInTheText(string text, string? expected)
        {
            var table = new PhraseTable(Rules);
            Assert.Equal(expected, table.First(text));
            Assert.Equal(Expected(text), table.First(text));
        }

        [Fact]
        public void AnswersAsSearchingEveryPhraseDoes()
        {
            // Texts of pieces of phrases, whole phrases in mixed case, and noise (outside ASCII too): each answered as a
            // search of every phrase, rule by rule, would.
            var table = new PhraseTable(Rules);
            var pieces = Rules.SelectMany(r => r.Phrases).SelectMany(p => new[] { p, p.Substring(0, p.Length / 2), p.Substring(p.Length / 2), p.ToUpperInvariant() })
                .Concat(new[] { " ", "e", "ı", "K", "ſ", "—", "🙂", "\n", "co", "tim" }).ToArray();
            var random = new Random(7);
            var found = 0;
            for (var n = 0; n < 20_000; n++)
            {
                var sb = new StringBuilder();
                for (var k = random.Next(1, 6); k > 0; k--) sb.Append(pieces[random.Next(pieces.Length)]);
                var text = sb.ToString();
                var expected = Expected(text);
                Assert.True(expected == table.First(text), $"'{text}': {expected} expected, {table.First(text)} found");
                if (expected != null) found++;
            }
            Assert.InRange(found, 5_000, 19_000); // both answers are tried often
        }
    }
}

using System.Collections.Generic;
using System.IO;
using Dapper;
using MadfLog.Engine.Store;
using MadfLog.Engine.Tests.Import;
using MadfLog.Engine.Text;
using Xunit;

namespace MadfLog.Engine.Tests.Reliability
{
    /// <summary>Issue #14: secrets in environment-variable form and provider tokens are redacted before anything is stored.</summary>
    public class SecretFormTests
    {
        public static IEnumerable<object[]> Secrets => new[]
        {
            new object[] { "DB_PASSWORD=Tr0ub4dor3xyz", "Tr0ub4dor3xyz" },
            new object[] { "  POSTGRES_PASSWORD: pgS3cretValue", "pgS3cretValue" },
            new object[] { "docker run -e MYSQL_ROOT_PASSWORD=my-root-pw-77 mysql", "my-root-pw-77" },
            new object[] { "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
            new object[] { "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
            new object[] { "SECRET_KEY=django-insecure-abc123def456", "django-insecure-abc123def456" },
            new object[] { "remote: glpat-xYz12AbCdEfGhIjKlMnOp rejected", "glpat-xYz12AbCdEfGhIjKlMnOp" },
            new object[] { "HF token hf_AbCdEfGhIjKlMnOpQrStUvWxYz12345678 expired", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz12345678" },
            new object[] { "//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" },
            new object[] { "npm ERR! token npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 is invalid", "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" },
        };

        [Theory]
        [MemberData(nameof(Secrets))]
        public void EnvironmentVariableFormsAndProviderTokensAreRedacted(string text, string secret)
        {
            var redacted = SafeText.Redact(text)!;
            Assert.DoesNotContain(secret, redacted);
            Assert.Contains(SafeText.Redacted, redacted);
        }

        [Fact]
        public void TheyNeverReachTheStore()
        {
            using var t = TestPaths.NewTemp();
            var lines = new List<string>();
            var i = 0;
            foreach (var s in Secrets)
                lines.Add(ImportTests.Line(i++, success: false).Replace("\"message\":\"m" + (i - 1) + "\"", "\"message\":" + System.Text.Json.JsonSerializer.Serialize((string)s[0])));
            File.WriteAllText(t.File("a.jsonl"), string.Join("\n", lines) + "\n");
            Assert.Equal(lines.Count, ImportTests.Import(t.Db, t.File("a.jsonl")).Imported);
            using var c = MadfDatabase.Open(t.Db);
            var stored = string.Join("\n", c.Query<string>("SELECT details FROM events")) + string.Join("\n", c.Query<string>("SELECT example FROM patterns"));
            foreach (var s in Secrets) Assert.DoesNotContain((string)s[1], stored);
        }

        [Theory]
        [InlineData("{\"input_tokens\":12345,\"output_tokens\":67890}")]
        [InlineData("Read shelf_items.py: 20 lines")]
        [InlineData("PASSWORD_MIN_LENGTH is 8")]
        public void OrdinaryTextIsKept(string text) => Assert.Equal(text, SafeText.Redact(text));

        [Fact]
        public void TheHintScanFindsExactlyTheTextsThatContainAHint()
        {
            // Texts built from pieces of the hints (cut, joined, at the ends, in other cases) and ordinary text: the scan
            // must say yes exactly when some hint occurs, as a plain search for each hint does.
            var random = new System.Random(18);
            var hints = SafeText.Hints;
            string Piece()
            {
                var h = hints[random.Next(hints.Length)];
                switch (random.Next(6))
                {
                    case 0: return h;
                    case 1: return h.Substring(0, random.Next(1, h.Length)); // a hint cut short
                    case 2: return h.Substring(random.Next(1, h.Length));
                    case 3: return h.ToUpperInvariant();
                    case 4: return h.ToLowerInvariant();
                    default: return "ab: \"x\" 12 as to pa se ac ey ".Substring(random.Next(10));
                }
            }
            for (var n = 0; n < 20000; n++)
            {
                var parts = random.Next(0, 5);
                var text = "";
                for (var i = 0; i < parts; i++) text += Piece();
                var expected = System.Linq.Enumerable.Any(hints, h => text.Contains(h, System.StringComparison.Ordinal));
                Assert.True(expected == SafeText.MayHoldSecret(text), $"'{text}': expected {expected}");
            }
        }
    }
}

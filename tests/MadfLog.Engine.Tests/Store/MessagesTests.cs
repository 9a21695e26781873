using System;
using System.Collections;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Resources;
using System.Text.RegularExpressions;
using Xunit;

namespace MadfLog.Engine.Tests.Store
{
    /// <summary>User-facing messages live in one resource (src/MadfLog.Engine/Messages.resx), used by the engine and the cmdlets.</summary>
    public class MessagesTests
    {
        private static string Src => Path.Combine(TestPaths.RepoRoot, "src");

        private static (string Key, string Value)[] Entries()
        {
            var set = new ResourceManager(typeof(Messages)).GetResourceSet(CultureInfo.InvariantCulture, true, true)!;
            return set.Cast<DictionaryEntry>().Select(e => ((string)e.Key, (string)e.Value!)).OrderBy(e => e.Item1, StringComparer.Ordinal).ToArray();
        }

        private static string Code(string project) => string.Join("\n",
            Directory.EnumerateFiles(Path.Combine(Src, project), "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar) && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar))
                .Select(File.ReadAllText));

        [Fact]
        public void EveryMessageIsUsedAndFormatsWithItsPlaceholders()
        {
            var code = Code("MadfLog.Engine") + Code("MadfLog");
            var entries = Entries();
            Assert.True(entries.Length > 40, "the resource lost its entries");
            foreach (var (key, value) in entries)
            {
                Assert.Contains("Messages." + key, code);
                var holes = Regex.Matches(value.Replace("{{", "").Replace("}}", ""), @"\{(\d+)").Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(-1).Max() + 1;
                var formatted = string.Format(CultureInfo.InvariantCulture, value, Enumerable.Range(0, holes).Select(i => (object)DateTime.UnixEpoch).ToArray());
                Assert.DoesNotContain("{", formatted.Replace("@{", "")); // every placeholder was filled
            }
        }

        [Fact]
        public void NoErrorOrWarningTextIsWrittenInTheCode()
        {
            // An engine error's message, or a cmdlet's error, warning or verbose text, as a literal: it belongs in Messages.resx.
            var engine = Regex.Matches(Code("MadfLog.Engine"), @"new MadfException\(""\w+"",\s*MadfErrorKind\.\w+,\s*\$?""").Select(m => m.Value).ToList();
            var cmdlets = Regex.Matches(Code("MadfLog"), @"(WriteWarning|WriteVerbose|new (?!MadfException)\w*Exception)\(\$?""(?<text>[^""]*)""|MadfException\(""\w+"",\s*[\w.]+,\s*\$?""(?<text>[^""]*)""")
                .Where(m => Regex.IsMatch(Regex.Replace(m.Groups["text"].Value, @"\{[^}]*\}", ""), "[A-Za-z]{3}")) // words, not only {holes}
                .Select(m => m.Value).ToList();
            Assert.Empty(engine);
            Assert.Empty(cmdlets);
        }
    }
}

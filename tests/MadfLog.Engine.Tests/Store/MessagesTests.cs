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

        // The engine's files whose texts reach users as messages: rotation notes and its -WhatIf actions, health checks,
        // the forecast's sentence, quarantine reasons and import issues (reasons are stored and matched: their text stays),
        // the scheduled jobs' run messages and scheduler notes.
        private static readonly string[] MessageAreas =
            { "Lifecycle", "Insights/Health.cs", "Query/StoryForecast.cs", "Import", "Events/EventRanges.cs", "Store/QuarantineStore.cs",
              "Scheduling/JobRunner.cs", "Scheduling/JobScheduler.cs" };

        // Literals with words there that are not messages: thread names, a forecast's period value (data, like a story id),
        // and text Claude Code writes that the transcript parser recognises.
        private static readonly string[] NotMessages =
            { "MadfLog reader", "MadfLog prepare", "next story", "Sibling tool call errored", "doesn't want to proceed", "[Request interrupted by user" };

        [Fact]
        public void NoEngineMessageIsWrittenInTheCode()
        {
            var engine = Path.Combine(Src, "MadfLog.Engine");
            var files = MessageAreas.SelectMany(a => a.EndsWith(".cs", StringComparison.Ordinal)
                ? new[] { Path.Combine(engine, a) }
                : Directory.EnumerateFiles(Path.Combine(engine, a), "*.cs", SearchOption.AllDirectories)).ToList();
            Assert.True(files.Count > 10, "the message areas lost their files");
            var found = new System.Collections.Generic.List<string>();
            foreach (var file in files)
            {
                var number = 0;
                foreach (var raw in File.ReadLines(file))
                {
                    number++;
                    if (raw.TrimStart().StartsWith("//", StringComparison.Ordinal)) continue;
                    var line = Regex.Replace(raw, @"\s//.*$", "");
                    // A plain or interpolated string literal (verbatim @"" ones hold SQL) with two words outside its {holes}.
                    foreach (Match m in Regex.Matches(line, @"(?<![@\w])\$?""((?:[^""\\\n]|\\.)*)"""))
                    {
                        var text = Regex.Replace(m.Groups[1].Value, @"\{[^}]*\}", "");
                        if (Regex.IsMatch(text, @"[A-Za-z]{3,}\s+[A-Za-z]{2,}") && !Regex.IsMatch(text, @"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|PRAGMA|ATTACH|DETACH|VACUUM|CREATE|DROP)\b")
                            && !NotMessages.Contains(m.Groups[1].Value))
                            found.Add($"{Path.GetRelativePath(engine, file)}:{number}: {m.Value}");
                    }
                }
            }
            Assert.True(found.Count == 0, "user-facing text written in the code; it belongs in Messages.resx:\n" + string.Join("\n", found));
        }
    }
}

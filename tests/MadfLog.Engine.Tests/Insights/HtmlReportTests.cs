using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using MadfLog.Engine.Config;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Store;
using MadfLog.Engine.Insights;
using MadfLog.Engine.Query;
using MadfLog.Engine.Revisions;
using MadfLog.Engine.Rules;
using Xunit;

namespace MadfLog.Engine.Tests.Insights
{
    public class HtmlReportTests
    {
        [Fact]
        public void TheReportIsSelfContainedWithEverySectionAndItsCharts()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { Path.Combine(TestPaths.RepoRoot, "examples", "logs") });
            new Revision(new RevisionOptions { DatabasePath = t.Db, Since = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), Import = false, AutoApprove = true }).Run();
            var html = HtmlReport.Build(t.Db, new QueryFilter(), DateTimeOffset.UtcNow);
            foreach (var section in new[] { "Trend", "Top error patterns", "Agents", "Bottlenecks", "Human interactions", "Rules", "Storage" })
                Assert.Contains($"<h2>{section}</h2>", html);
            Assert.True(Regex.Count(html, "<svg class=\"madf-chart\"") >= 4);
            Assert.True(Regex.Count(html, "<svg class=\"madf-spark\"") >= 5);
            Assert.DoesNotContain("<script", html);
            Assert.DoesNotContain("<link", html);
            Assert.DoesNotMatch("src=\"https?:", html);
            Assert.Contains("prefers-color-scheme: dark", html);
            Assert.Contains("File does not exist: &lt;*&gt;", html); // log text is HTML-encoded
            // Repeated errors, story 1.2 vs 1.1, as Compare-MadfStory says (-52 % with error signatures; -51.6 % before).
            using (var c = MadfLog.Engine.Store.MadfDatabase.Open(t.Db))
            {
                var change = Analysis.CompareStories(c, "1.1", "1.2", new QueryFilter()).RepeatedErrorsChangePercent!.Value;
                Assert.InRange(change, -60, -45);
                Assert.Contains(change.ToString("+0.#;-0.#;0", System.Globalization.CultureInfo.InvariantCulture) + "%", html);
            }
            var revisionHtml = Directory.GetFiles(t.Path, "revision-*.html").Single();
            Assert.Contains("<h2>Rules</h2>", File.ReadAllText(revisionHtml));
        }

        [Fact]
        public void TheReportShowsEachRulesVerdictAndControlTheForecastCostAndWeeksInOrder()
        {
            using var t = TestPaths.NewTemp();
            var now = new DateTimeOffset(2026, 11, 22, 23, 0, 0, TimeSpan.Zero);
            Rules.RuleTests.PlantEffect(t.Db, now.AddDays(-14));
            using (var c = MadfDatabase.Open(t.Db))
            {
                // Two LLM calls of 1M tokens of each kind: one model from the bundled table, one only the configuration prices.
                var rows = new[] { "claude-sonnet-4-5-20250929", "acme-large" }.Select((m, i) => new EventRow
                {
                    Timestamp = now.AddDays(-1).ToUnixTimeMilliseconds() + i, EventType = "llm_call", Category = "model", Success = true, TokensUsed = 4_000_000, DedupKey = 900_000 + i,
                    Details = $"{{\"model\":\"{m}\",\"input_tokens\":1000000,\"output_tokens\":1000000,\"cache_creation_input_tokens\":1000000,\"cache_read_input_tokens\":1000000}}",
                }).ToList();
                using var tx = c.BeginTransaction();
                ImportStages.Write(c, tx, rows);
                tx.Commit();
            }
            var config = Config.MadfConfig.Load(t.Db);
            config.ModelPrices.Add(new ModelPrice { Model = "acme-large", Input = 1, Output = 2, CacheWrite = 0.5, CacheRead = 0.1, AsOf = "2026-11-01" });
            config.Save();

            var html = HtmlReport.Build(t.Db, new QueryFilter(), now);
            foreach (var section in new[] { "Rules", "Cost", "Sessions", "Tool failures", "Context pressure" })
                Assert.Contains($"<h2>{section}</h2>", html);
            Assert.Contains("<td class=\"verdict effective\">Effective</td>", html);
            // Its interval still allows a worthwhile fall: no "(retire?)", and the reason under the verdict.
            Assert.Contains("<td class=\"verdict noclearchange\">No clear change<div class=\"muted\">a fall of a fifth or more is not ruled out yet", html);
            Assert.Contains("<code>tool:Bash</code>", html);
            Assert.Matches(@"<td>\d+\.\d\d → \d+\.\d\d</td>", html); // the control's rates before → after
            Assert.Contains("not enough stories", html);        // the planted events have no stories
            // 3 + 15 + 3.75 + 0.30 for Sonnet 4.5's million tokens of each kind, 1 + 2 + 0.5 + 0.1 for the configured model.
            Assert.Contains("<td class=\"n\">22.05</td>", html);
            Assert.Contains("<td class=\"n\">3.60</td>", html);
            Assert.Contains("$25.65", html);
            var weeks = Regex.Match(html, "<svg class=\"madf-chart\" role=\"img\" aria-label=\"Error rate per week\".*?</svg>").Value;
            var labels = Regex.Matches(weeks, @">(\d{4}-W\d\d)<").Cast<Match>().Select(m => m.Groups[1].Value).ToList();
            Assert.True(labels.Count >= 4);
            Assert.Equal(labels.OrderBy(w => w, StringComparer.Ordinal), labels);
        }

        [Fact]
        public void ModelsArePricedByTheLongestMatchingEntryAndTheConfigurationComesFirst()
        {
            Assert.Equal(5, Cost.PriceFor("claude-opus-4-5-20251101", null)!.Input);
            Assert.Equal(15, Cost.PriceFor("claude-opus-4-1-20250805", null)!.Input);
            // Opus 4 (dated id) kept the old price; later Opus 4.x ids, including ones newer than the table, get the new one.
            Assert.Equal(15, Cost.PriceFor("claude-opus-4-20250514", null)!.Input);
            Assert.Equal(5, Cost.PriceFor("claude-opus-4-6", null)!.Input);
            Assert.Equal(25, Cost.PriceFor("claude-opus-4-6", null)!.Output);
            Assert.Equal(0.08, Cost.PriceFor("claude-3-5-haiku-20241022", null)!.CacheRead);
            Assert.Equal(0.30, Cost.PriceFor("claude-sonnet-4-20250514", null)!.CacheRead);
            Assert.Null(Cost.PriceFor("gpt-x", null));
            Assert.Equal(9, Cost.PriceFor("claude-sonnet-4-5", new[] { new ModelPrice { Model = "claude-sonnet-4", Input = 9 } })!.Input);
        }
    }
}

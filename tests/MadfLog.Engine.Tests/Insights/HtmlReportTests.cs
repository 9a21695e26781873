using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using MadfLog.Engine.Import;
using MadfLog.Engine.Insights;
using MadfLog.Engine.Query;
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
            Assert.True(Regex.Matches(html, "<svg class=\"madf-chart\"").Count >= 4);
            Assert.True(Regex.Matches(html, "<svg class=\"madf-spark\"").Count >= 5);
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
    }
}

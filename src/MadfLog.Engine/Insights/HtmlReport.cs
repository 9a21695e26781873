using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using Dapper;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Query;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Insights
{
    /// <summary>
    /// One self-contained HTML file (no scripts, fonts or external files: it opens offline and is safe to mail) with the
    /// headline figures, trends per story and week, top error patterns with sparklines, agents, bottlenecks, human
    /// interactions, rules with their measured effectiveness, storage and health. Light and dark via prefers-color-scheme.
    /// </summary>
    public static class HtmlReport
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        public static string Build(string? databasePath, QueryFilter f, DateTimeOffset now, string title = "MadfLog insights")
        {
            var config = Config.MadfConfig.Load(databasePath);
            using var c = MadfDatabase.Open(config.DatabasePath, forWrite: false);
            var events = Analysis.CountEvents(c, f);
            var errors = Analysis.CountErrors(c, f);
            var stories = Analysis.Stories(c, f);
            var trend = Analysis.Trend(c, f);
            var patterns = Analysis.ErrorSummary(c, f, 10);
            var agents = Analysis.AgentPerformance(c, f);
            var bottlenecks = Analysis.Bottlenecks(c, f, 8);
            var human = Analysis.HumanInteractions(c, f);
            var rules = RuleStore.List(c);
            var effects = RuleEffectiveness.Evaluate(c, now).ToDictionary(e => e.RuleId);
            var tokens = c.ExecuteScalar<long?>("SELECT sum(e.tokens_used) FROM events e WHERE 1=1" + f.Where(new DynamicParameters()), Params(f)) ?? 0;
            var weeklyByPattern = WeeklyCounts(c, f, patterns.Where(p => p.PatternId.HasValue).Select(p => p.PatternId!.Value).ToList());
            c.Dispose();
            var storage = StorageReport.Get(config.DatabasePath);
            var health = Health.Check(config.DatabasePath, now);

            var sb = new StringBuilder();
            sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
            sb.Append("<meta name=\"color-scheme\" content=\"light dark\">");
            sb.Append($"<title>{H(title)}</title><style>{Css}</style></head><body><main>");
            sb.Append($"<header><h1>{H(title)}</h1><p class=\"muted\">{H(f.Describe())} · generated {now.UtcDateTime:yyyy-MM-dd HH:mm} UTC · health <span class=\"status {health.Status.ToString().ToLowerInvariant()}\">{health.Status}</span></p></header>");

            // Headline figures.
            var last = stories.LastOrDefault();
            var previous = stories.Count > 1 ? stories[stories.Count - 2] : null;
            var repeatedChange = previous != null && previous.RepeatedErrorRate > 0 ? (last!.RepeatedErrorRate - previous.RepeatedErrorRate) / previous.RepeatedErrorRate : (double?)null;
            sb.Append("<section class=\"cards\">");
            Card(sb, "Events", events.ToString("N0", Inv), $"{stories.Count} stories");
            Card(sb, "Error rate", Pct(events > 0 ? (double)errors / events : 0), $"{errors:N0} errors (cascades excluded)");
            Card(sb, "Repeated errors", repeatedChange.HasValue ? (repeatedChange.Value >= 0 ? "+" : "") + Pct(repeatedChange.Value) : "–",
                previous != null ? $"story {H(last!.Story)} vs {H(previous.Story)}" : "needs two stories");
            Card(sb, "Tokens", tokens >= 1_000_000 ? (tokens / 1_000_000.0).ToString("0.0", Inv) + "M" : tokens.ToString("N0", Inv), $"{(events > 0 ? tokens / (double)events : 0):N0} per event");
            Card(sb, "Active rules", rules.Count(r => r.Status == RuleStatus.Active).ToString(Inv), $"{rules.Count(r => r.Status == RuleStatus.Proposed)} waiting for review");
            sb.Append("</section>");

            if (health.Problems.Any())
            {
                sb.Append("<section><h2>Health</h2><ul class=\"problems\">");
                foreach (var p in health.Problems) sb.Append($"<li><span class=\"status {p.Status.ToString().ToLowerInvariant()}\">{p.Status}</span> {H(p.Message)}</li>");
                sb.Append("</ul></section>");
            }

            sb.Append("<section><h2>Trend</h2><div class=\"charts\">");
            var storyPoints = trend.Where(t => t.Kind == "Story").ToList();
            sb.Append(SvgChart.Line("Error rate per story", storyPoints.Select(t => t.Period).ToList(), new[]
            {
                new ChartSeries("error rate", storyPoints.Select(t => (double?)Math.Round(t.ErrorRate * 100, 2)).ToList()),
                new ChartSeries("repeated errors", storyPoints.Select(t => (double?)Math.Round(t.RepeatedErrorRate * 100, 2)).ToList()),
            }, "% of events", "story"));
            var weekPoints = trend.Where(t => t.Kind == "Week").ToList();
            sb.Append(SvgChart.Line("Error rate per week", weekPoints.Select(t => t.Period).ToList(), new[]
            {
                new ChartSeries("error rate", weekPoints.Select(t => (double?)Math.Round(t.ErrorRate * 100, 2)).ToList()),
                new ChartSeries("repeated errors", weekPoints.Select(t => (double?)Math.Round(t.RepeatedErrorRate * 100, 2)).ToList()),
            }, "% of events", "ISO week"));
            sb.Append("</div>");
            var forecast = trend.FirstOrDefault(t => t.Kind == "Forecast");
            if (forecast != null) sb.Append($"<p>Forecast for the next story: error rate {Pct(forecast.ErrorRate)} (likely {Pct(forecast.ErrorRateLow ?? 0)} to {Pct(forecast.ErrorRateHigh ?? 0)}).</p>");
            sb.Append("</section>");

            sb.Append("<section><h2>Top error patterns</h2><table><thead><tr><th>Pattern</th><th>Class</th><th class=\"n\">Count</th><th class=\"n\">Share</th><th>Per week</th><th>Agents</th></tr></thead><tbody>");
            foreach (var p in patterns)
            {
                var spark = p.PatternId.HasValue && weeklyByPattern.TryGetValue(p.PatternId.Value, out var w) ? SvgChart.Sparkline(w, $"P{p.PatternId} errors per week") : "";
                sb.Append($"<tr><td><code>{H(SafeText.Redact(p.Template))}</code></td><td>{H(p.ErrorClass)}</td><td class=\"n\">{p.Count:N0}</td><td class=\"n\">{Pct(p.Share)}</td><td>{spark}</td><td>{H(string.Join(", ", p.Agents.Take(4)))}{(p.Agents.Length > 4 ? $" +{p.Agents.Length - 4}" : "")}</td></tr>");
            }
            if (patterns.Count == 0) sb.Append("<tr><td colspan=\"6\">No errors.</td></tr>");
            sb.Append("</tbody></table></section>");

            sb.Append("<section><h2>Agents</h2><div class=\"charts\">");
            sb.Append(SvgChart.Bars("Success rate per agent", agents.Select(a => (a.Agent, Math.Round(a.SuccessRate * 100, 1))).ToList(), "%"));
            sb.Append("</div><table><thead><tr><th>Agent</th><th class=\"n\">Events</th><th class=\"n\">Success</th><th class=\"n\">Median</th><th class=\"n\">p95</th><th class=\"n\">Tokens</th><th class=\"n\">&gt;80% context</th><th class=\"n\">Time wasted</th></tr></thead><tbody>");
            foreach (var a in agents)
                sb.Append($"<tr><td>{H(a.Agent)}</td><td class=\"n\">{a.Events:N0}</td><td class=\"n\">{Pct(a.SuccessRate)}</td><td class=\"n\">{Dur(a.MedianDurationMs)}</td><td class=\"n\">{Dur(a.P95DurationMs)}</td><td class=\"n\">{a.Tokens:N0}</td><td class=\"n\">{Pct(a.ContextPressure)}</td><td class=\"n\">{Dur(a.TimeWastedMs)}</td></tr>");
            sb.Append("</tbody></table></section>");

            sb.Append("<section><h2>Bottlenecks</h2><div class=\"charts\">");
            sb.Append(SvgChart.Bars("Total time per step", bottlenecks.Select(b => ($"{b.Kind}: {b.Name}", Math.Round(b.TotalMs / 3_600_000.0, 2))).ToList(), "hours"));
            sb.Append("</div></section>");

            sb.Append("<section><h2>Human interactions</h2><table><thead><tr><th>Kind</th><th>Agent</th><th>Story</th><th class=\"n\">Count</th><th>About</th></tr></thead><tbody>");
            foreach (var h in human.Take(15))
                sb.Append($"<tr><td>{H(h.Category)}</td><td>{H(h.Agent)}</td><td>{H(h.Story)}</td><td class=\"n\">{h.Count}</td><td>{H(SafeText.Redact(string.Join("; ", h.Topics)))}</td></tr>");
            if (human.Count == 0) sb.Append("<tr><td colspan=\"5\">None.</td></tr>");
            sb.Append("</tbody></table></section>");

            sb.Append("<section><h2>Rules</h2><table><thead><tr><th>Rule</th><th>Status</th><th>Pattern</th><th class=\"n\">Per 1,000 before</th><th class=\"n\">after</th><th>Verdict</th></tr></thead><tbody>");
            foreach (var r in rules.Where(r => r.Status == RuleStatus.Active || r.Status == RuleStatus.Proposed))
            {
                effects.TryGetValue(r.Id, out var e);
                sb.Append($"<tr><td>R{r.Id}: {H(r.Text)}</td><td>{r.Status}</td><td><code>{H(SafeText.Redact(r.Evidence.Template))}</code></td><td class=\"n\">{(e != null ? e.RateBeforePer1000.ToString("0.00", Inv) : "–")}</td><td class=\"n\">{(e != null ? e.RateAfterPer1000.ToString("0.00", Inv) : "–")}</td><td>{(e != null ? e.VerdictText + (e.RecommendRetirement ? " (retire?)" : "") : "not active")}</td></tr>");
            }
            if (!rules.Any(r => r.Status == RuleStatus.Active || r.Status == RuleStatus.Proposed)) sb.Append("<tr><td colspan=\"6\">No rules yet: run Invoke-MadfRevision.</td></tr>");
            sb.Append("</tbody></table></section>");

            sb.Append($"<section><h2>Storage</h2><p>Active database {storage.ActiveBytes / 1048576.0:0.0} MB of {storage.MaxActiveMB} MB ({storage.ActiveEvents:N0} events, {storage.BytesPerEvent:0} bytes per event); archives {(storage.ArchiveDatabaseBytes + storage.ArchiveLogBytes) / 1048576.0:0.0} MB ({storage.ArchivedEvents:N0} archived events).</p></section>");
            sb.Append("</main></body></html>");
            return sb.ToString();
        }

        public static string Write(string path, string html)
        {
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, html, new UTF8Encoding(false));
            return full;
        }

        private static Dictionary<long, List<double>> WeeklyCounts(SqliteConnection c, QueryFilter f, List<long> ids)
        {
            var result = new Dictionary<long, List<double>>();
            if (ids.Count == 0) return result;
            var p = Params(f);
            var where = f.Where(p);
            p.Add("ids", ids);
            var rows = c.Query<(long id, string week, long n)>(
                $"SELECT e.pattern_id, strftime('%Y-%W', e.timestamp / 1000, 'unixepoch'), count(*) FROM events e WHERE e.pattern_id IN @ids AND {Analysis.IsError}{where} GROUP BY 1, 2", p).ToList();
            var weeks = rows.Select(r => r.week).Distinct().OrderBy(w => w, StringComparer.Ordinal).ToList();
            foreach (var id in ids)
                result[id] = weeks.Select(w => (double)rows.Where(r => r.id == id && r.week == w).Sum(r => r.n)).ToList();
            return result;
        }

        private static DynamicParameters Params(QueryFilter f) { var p = new DynamicParameters(); f.Where(p); return p; }

        private static void Card(StringBuilder sb, string label, string value, string note) =>
            sb.Append($"<div class=\"card\"><div class=\"label\">{H(label)}</div><div class=\"value\">{H(value)}</div><div class=\"muted\">{H(note)}</div></div>");

        private static string H(string? s) => WebUtility.HtmlEncode(s ?? "");
        private static string Pct(double v) => (v * 100).ToString("0.#", Inv) + "%";
        private static string Dur(double ms) => ms >= 3_600_000 ? (ms / 3_600_000).ToString("0.0", Inv) + " h" : ms >= 60_000 ? (ms / 60_000).ToString("0.0", Inv) + " min" : (ms / 1000).ToString("0.0", Inv) + " s";

        private const string Css = @"
:root{--bg:#ffffff;--fg:#1d2330;--muted:#5d6675;--line:#d9dee7;--card:#f5f7fa;--s0:#2563eb;--s1:#d97706;--s2:#059669;--s3:#db2777;--s4:#7c3aed;--s5:#0891b2;--ok:#059669;--warn:#b45309;--crit:#dc2626}
@media (prefers-color-scheme: dark){:root{--bg:#111318;--fg:#e6e9ef;--muted:#9aa3b2;--line:#2c313c;--card:#1a1e26;--s0:#60a5fa;--s1:#fbbf24;--s2:#34d399;--s3:#f472b6;--s4:#a78bfa;--s5:#22d3ee;--ok:#34d399;--warn:#fbbf24;--crit:#f87171}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}h1{margin:0 0 4px;font-size:24px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
.muted{color:var(--muted)}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-top:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px}.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:26px;font-weight:600}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:middle}th{color:var(--muted);font-weight:600;font-size:12px}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12.5px;background:var(--card);padding:1px 4px;border-radius:4px;word-break:break-word}.charts{display:flex;flex-wrap:wrap;gap:16px}
svg.madf-chart{max-width:100%;height:auto;background:var(--card);border:1px solid var(--line);border-radius:8px;color:var(--fg)}
.madf-title{font-weight:600;font-size:13px;fill:currentColor}.madf-tick,.madf-unit{font-size:11px;fill:var(--muted)}.madf-axis{stroke:var(--muted);stroke-width:1}.madf-grid{stroke:var(--line);stroke-width:1}
polyline.madf-s0{stroke:var(--s0)}polyline.madf-s1{stroke:var(--s1)}polyline.madf-s2{stroke:var(--s2)}polyline.madf-s3{stroke:var(--s3)}polyline.madf-s4{stroke:var(--s4)}polyline.madf-s5{stroke:var(--s5)}
rect.madf-s0,circle.madf-s0{fill:var(--s0)}rect.madf-s1,circle.madf-s1{fill:var(--s1)}rect.madf-s2,circle.madf-s2{fill:var(--s2)}rect.madf-s3,circle.madf-s3{fill:var(--s3)}rect.madf-s4,circle.madf-s4{fill:var(--s4)}rect.madf-s5,circle.madf-s5{fill:var(--s5)}
.status{font-weight:600;padding:1px 6px;border-radius:4px}.status.ok{color:var(--ok)}.status.warning{color:var(--warn)}.status.critical{color:var(--crit)}ul.problems{padding-left:18px}
";
    }
}

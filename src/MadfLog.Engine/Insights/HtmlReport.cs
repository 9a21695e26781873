using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using Dapper;
using MadfLog.Engine.Domain;
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

        /// <param name="measured">The active rules' effects when the caller measured them already (a revision does).</param>
        public static string Build(string? databasePath, QueryFilter f, DateTimeOffset now, string title = "MadfLog insights", IReadOnlyList<RuleEffect>? measured = null)
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
            var evaluated = measured ?? RuleEffectiveness.Evaluate(c, now);
            var effects = evaluated.ToDictionary(e => e.RuleId);
            var tokens = c.ExecuteScalar<long?>("SELECT sum(e.tokens_used) FROM events e WHERE 1=1" + f.Where(new DynamicParameters()), Params(f)) ?? 0;
            var weeklyByPattern = WeeklyCounts(c, f, patterns.Where(p => p.PatternId.HasValue).Select(p => p.PatternId!.Value).ToList());
            var notFollowed = RuleOverlap.NotFollowed(c, now, evaluated).ToDictionary(n => n.RuleId);
            var costs = Cost.ByModel(c, f, config.ModelPrices);
            var sessions = Analysis.Sessions(c, f);
            var toolFailures = Analysis.ToolFailures(c, f);
            var pressure = Analysis.ContextPressure(c, f, HighContext.Percent, 10);
            var pressureCount = Analysis.ContextPressure(c, f).Count;
            var (errorsAbove, errorsBelow, eventsAbove) = Analysis.ContextEffect(c, f);
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
            Card(sb, "Cost", "$" + costs.Sum(m => m.Usd).ToString("N2", Inv), costs.Any(m => m.PricedAs == null || m.UnsplitTokens > 0) ? "some calls not priced (see Cost)" : $"list prices as of {costs.Select(m => m.PricesAsOf).FirstOrDefault(d => d != null) ?? Cost.BundledAsOf}");
            Card(sb, "Sessions", sessions.Count.ToString("N0", Inv), $"{pressureCount} above {HighContext.Percent}% context");
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
            var weekPoints = trend.Where(t => t.Kind == "Week").OrderBy(t => t.Period, StringComparer.Ordinal).ToList();
            sb.Append(SvgChart.Line("Error rate per week", weekPoints.Select(t => t.Period).ToList(), new[]
            {
                new ChartSeries("error rate", weekPoints.Select(t => (double?)Math.Round(t.ErrorRate * 100, 2)).ToList()),
                new ChartSeries("repeated errors", weekPoints.Select(t => (double?)Math.Round(t.RepeatedErrorRate * 100, 2)).ToList()),
            }, "% of events", "ISO week"));
            sb.Append("</div>");
            var forecast = trend.FirstOrDefault(t => t.Kind == "Forecast");
            sb.Append($"<p class=\"forecast\">{H(Query.StoryForecast.Text(forecast, storyPoints.Count))}. <span class=\"muted\">A line through the stories' error rates on the logit scale, weighted by their events; the backtest forecasts each past story from the ones before it.</span></p>");
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
            // Failure rates, not success rates: 3 % against 9 % shows on a bar from 0, 97 % against 91 % hardly does.
            sb.Append(SvgChart.Bars("Failure rate per agent (events with a known outcome)", agents.OrderByDescending(a => 1 - a.SuccessRate).Select(a => (a.Agent, Math.Round((1 - a.SuccessRate) * 100, 1))).ToList(), "%"));
            sb.Append($"</div><table><thead><tr><th>Agent</th><th class=\"n\">Events</th><th class=\"n\">Success</th><th class=\"n\">Median</th><th class=\"n\">p95</th><th class=\"n\">Tokens</th><th class=\"n\">&gt;{HighContext.Percent}% context</th><th class=\"n\">Time wasted</th></tr></thead><tbody>");
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

            sb.Append("<section><h2>Rules</h2><p class=\"muted\">Each active rule's pattern per 1,000 calls of its tool or step, before and after the rule took effect, against the same windows' other errors (the control). "
                      + "The week whose errors proposed the rule is in neither window: its pattern was chosen for being high there. "
                      + "Relative change = the rule's change ÷ the control's, with its 95% interval: below 1 means the pattern fell more than the other errors did. "
                      + "The interval holds how much the pattern's rate beside the control moves from week to week anyway (its wander), not only its counts' noise.</p>");
            sb.Append("<table><thead><tr><th>Rule</th><th>Status</th><th>Calls of</th><th class=\"n\">Per 1,000 before</th><th class=\"n\">after</th><th>Control per 1,000 events</th><th class=\"n\">Relative change (95% CI)</th><th>Verdict</th></tr></thead><tbody>");
            foreach (var r in rules.Where(r => r.Status == RuleStatus.Active || r.Status == RuleStatus.Proposed).OrderBy(r => notFollowed.ContainsKey(r.Id) ? 0 : 1).ThenBy(r => r.Id))
            {
                effects.TryGetValue(r.Id, out var e);
                var nf = notFollowed.TryGetValue(r.Id, out var n) ? $"<div class=\"status warning\">Not followed: seen {n.Occurrences}× in {n.Sessions} sessions since {n.Since:yyyy-MM-dd}</div>" : "";
                sb.Append($"<tr><td>R{r.Id}: {H(r.Text)}<div><code>{H(SafeText.Redact(r.Evidence.Template))}</code></div>{nf}</td><td>{r.Status}{(e != null ? $"<div class=\"muted\">since {e.Activated:yyyy-MM-dd}</div>" : "")}</td>");
                if (e == null) { sb.Append("<td colspan=\"6\" class=\"muted\">not active: waiting for review</td></tr>"); continue; }
                var control = e.HasControl ? $"{e.ControlRateBeforePer1000.ToString("0.00", Inv)} → {e.ControlRateAfterPer1000.ToString("0.00", Inv)}" : "none (too few other errors): the rule's own change";
                sb.Append($"<td><code>{H(e.Step)}</code></td><td class=\"n\">{e.RateBeforePer1000.ToString("0.00", Inv)} <span class=\"muted\">({e.HitsBefore}/{e.CallsBefore:N0})</span></td><td class=\"n\">{e.RateAfterPer1000.ToString("0.00", Inv)} <span class=\"muted\">({e.HitsAfter}/{e.CallsAfter:N0})</span></td>");
                sb.Append($"<td>{H(control)}</td><td class=\"n\">{H(e.RelativeChangeText)}{(e.WeekToWeekText.Length > 0 ? $"<div class=\"muted\">{H(e.WeekToWeekText)}</div>" : "")}</td>");
                sb.Append($"<td class=\"verdict {e.Verdict.ToString().ToLowerInvariant()}\">{H(e.VerdictText)}{(e.RecommendRetirement ? " (retire?)" : "")}{(e.Reason.Length > 0 ? $"<div class=\"muted\">{H(e.Reason)}</div>" : "")}</td></tr>");
            }
            if (!rules.Any(r => r.Status == RuleStatus.Active || r.Status == RuleStatus.Proposed)) sb.Append("<tr><td colspan=\"8\">No rules yet: run Invoke-MadfRevision.</td></tr>");
            sb.Append("</tbody></table></section>");

            sb.Append("<section><h2>Cost</h2><table><thead><tr><th>Model</th><th>Priced as</th><th class=\"n\">Calls</th><th class=\"n\">Input</th><th class=\"n\">Output</th><th class=\"n\">Cache write</th><th class=\"n\">Cache read</th><th class=\"n\">US$</th></tr></thead><tbody>");
            foreach (var m in costs)
                sb.Append($"<tr><td>{H(m.Model)}</td><td>{(m.PricedAs != null ? $"{H(m.PricedAs)} <span class=\"muted\">({H(m.PricesAsOf)})</span>" : "<span class=\"status warning\">no price</span>")}{(m.UnsplitTokens > 0 ? $"<div class=\"muted\">{m.UnsplitTokens:N0} tokens without an input/output split, not priced</div>" : "")}</td><td class=\"n\">{m.Calls:N0}</td><td class=\"n\">{m.InputTokens:N0}</td><td class=\"n\">{m.OutputTokens:N0}</td><td class=\"n\">{m.CacheWriteTokens:N0}</td><td class=\"n\">{m.CacheReadTokens:N0}</td><td class=\"n\">{m.Usd.ToString("N2", Inv)}</td></tr>");
            if (costs.Count == 0) sb.Append("<tr><td colspan=\"8\">No LLM calls.</td></tr>");
            sb.Append($"</tbody></table><p class=\"muted\">Tokens × list price per million tokens, input, output, cache writes and cache reads priced apart; bundled prices as of {Cost.BundledAsOf}, change them with Set-MadfConfig -ModelPrice.</p></section>");

            sb.Append($"<section><h2>Sessions</h2><p>{sessions.Count:N0} sessions; median {Median(sessions.Select(x => (double)x.Events))} events and {Dur(MedianValue(sessions.Select(x => (double)x.DurationMs)))} each.</p>");
            sb.Append("<table><thead><tr><th>Session (most errors)</th><th>Story</th><th>Agents</th><th class=\"n\">Events</th><th class=\"n\">Errors</th><th class=\"n\">Tokens</th><th class=\"n\">Max context</th><th class=\"n\">Duration</th></tr></thead><tbody>");
            foreach (var x in sessions.OrderByDescending(x => x.Errors).ThenBy(x => x.SessionId, StringComparer.Ordinal).Take(10))
                sb.Append($"<tr><td><code>{H(x.SessionId)}</code></td><td>{H(x.Story)}</td><td>{H(string.Join(", ", x.Agents))}</td><td class=\"n\">{x.Events:N0}</td><td class=\"n\">{x.Errors:N0}</td><td class=\"n\">{x.Tokens:N0}</td><td class=\"n\">{(x.MaxContextPercent.HasValue ? x.MaxContextPercent.Value.ToString("0", Inv) + "%" : "–")}</td><td class=\"n\">{Dur(x.DurationMs)}</td></tr>");
            if (sessions.Count == 0) sb.Append("<tr><td colspan=\"8\">No sessions.</td></tr>");
            sb.Append("</tbody></table></section>");

            sb.Append("<section><h2>Tool failures</h2><table><thead><tr><th>Tool</th><th>Agent</th><th class=\"n\">Calls</th><th class=\"n\">Failures</th><th class=\"n\">Failure rate</th><th>Most common error</th></tr></thead><tbody>");
            foreach (var t in toolFailures.Where(t => t.Failures > 0).OrderByDescending(t => t.Failures).ThenBy(t => t.Tool + t.Agent, StringComparer.Ordinal).Take(12))
                sb.Append($"<tr><td>{H(t.Tool)}</td><td>{H(t.Agent)}</td><td class=\"n\">{t.Calls:N0}</td><td class=\"n\">{t.Failures:N0}</td><td class=\"n\">{Pct(t.FailureRate)}</td><td><code>{H(SafeText.Redact(t.TopError))}</code></td></tr>");
            if (!toolFailures.Any(t => t.Failures > 0)) sb.Append("<tr><td colspan=\"6\">No tool failures.</td></tr>");
            sb.Append("</tbody></table></section>");

            sb.Append($"<section><h2>Context pressure</h2><p>{pressureCount} sessions went above {HighContext.Percent}% of the context window; their {eventsAbove:N0} events above it had an error rate of {Pct(errorsAbove)}, against {Pct(errorsBelow)} below it.</p>");
            sb.Append($"<table><thead><tr><th>Session</th><th>Agent</th><th>Story</th><th class=\"n\">Max context</th><th class=\"n\">Events above {HighContext.Percent}%</th><th class=\"n\">Error rate above</th><th class=\"n\">below</th></tr></thead><tbody>");
            foreach (var x in pressure)
                sb.Append($"<tr><td><code>{H(x.SessionId)}</code></td><td>{H(x.Agent)}</td><td>{H(x.Story)}</td><td class=\"n\">{x.MaxContextPercent.ToString("0", Inv)}%</td><td class=\"n\">{x.EventsAbove80:N0}</td><td class=\"n\">{Pct(x.ErrorRateAbove80)}</td><td class=\"n\">{Pct(x.ErrorRateBelow80)}</td></tr>");
            if (pressure.Count == 0) sb.Append($"<tr><td colspan=\"7\">No session went above {HighContext.Percent}%.</td></tr>");
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
            // Counted per day in SQL, then per ISO week (a week across New Year is one week, as everywhere else).
            var rows = c.Query<(long id, long day, long n)>(
                    $"SELECT e.pattern_id, {IsoWeeks.DaySql("e.timestamp")}, count(*) FROM events e WHERE e.pattern_id IN @ids AND {Errors.InEvents}{where} GROUP BY 1, 2", p)
                .Select(r => (r.id, week: IsoWeeks.Name(r.day * IsoWeeks.DayMs), r.n)).ToList();
            var weeks = rows.Select(r => r.week).Distinct().OrderBy(w => w, StringComparer.Ordinal).ToList();
            foreach (var id in ids)
                result[id] = weeks.Select(w => (double)rows.Where(r => r.id == id && r.week == w).Sum(r => r.n)).ToList();
            return result;
        }

        private static double MedianValue(IEnumerable<double> values)
        {
            var v = values.OrderBy(x => x).ToList();
            return v.Count == 0 ? 0 : v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
        }

        private static string Median(IEnumerable<double> values) => MedianValue(values).ToString("N0", Inv);

        private static DynamicParameters Params(QueryFilter f) { var p = new DynamicParameters(); f.Where(p); return p; }

        private static void Card(StringBuilder sb, string label, string value, string note) =>
            sb.Append($"<div class=\"card\"><div class=\"label\">{H(label)}</div><div class=\"value\">{H(value)}</div><div class=\"muted\">{H(note)}</div></div>");

        private static string H(string? s) => WebUtility.HtmlEncode(s ?? "");
        private static string Pct(double v) => Text.Percent.Brief(v);
        private static string Dur(double ms) => ms >= 3_600_000 ? (ms / 3_600_000).ToString("0.0", Inv) + " h" : ms >= 60_000 ? (ms / 60_000).ToString("0.0", Inv) + " min" : (ms / 1000).ToString("0.0", Inv) + " s";

        private const string Css = @"
:root{--bg:#ffffff;--fg:#1d2330;--muted:#5d6675;--line:#d9dee7;--card:#f5f7fa;--s0:#2563eb;--s1:#d97706;--s2:#059669;--s3:#db2777;--s4:#7c3aed;--s5:#0891b2;--ok:#059669;--warn:#b45309;--crit:#dc2626}
@media (prefers-color-scheme: dark){:root{--bg:#111318;--fg:#e6e9ef;--muted:#9aa3b2;--line:#2c313c;--card:#1a1e26;--s0:#60a5fa;--s1:#fbbf24;--s2:#34d399;--s3:#f472b6;--s4:#a78bfa;--s5:#22d3ee;--ok:#34d399;--warn:#fbbf24;--crit:#f87171}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}h1{margin:0 0 4px;font-size:24px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
.muted{color:var(--muted)}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-top:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px}.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:26px;font-weight:600}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:middle}th{color:var(--muted);font-weight:600;font-size:12px}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12.5px;background:var(--card);padding:1px 4px;border-radius:4px;word-break:break-word}.charts{display:grid;grid-template-columns:1fr;gap:16px}
svg.madf-chart{width:100%;height:auto;background:var(--card);border:1px solid var(--line);border-radius:8px;color:var(--fg)}
.madf-title{font-weight:600;font-size:13px;fill:currentColor}.madf-tick,.madf-unit{font-size:11px;fill:var(--muted)}.madf-axis{stroke:var(--muted);stroke-width:1}.madf-grid{stroke:var(--line);stroke-width:1}
polyline.madf-s0{stroke:var(--s0)}polyline.madf-s1{stroke:var(--s1)}polyline.madf-s2{stroke:var(--s2)}polyline.madf-s3{stroke:var(--s3)}polyline.madf-s4{stroke:var(--s4)}polyline.madf-s5{stroke:var(--s5)}
rect.madf-s0,circle.madf-s0{fill:var(--s0)}rect.madf-s1,circle.madf-s1{fill:var(--s1)}rect.madf-s2,circle.madf-s2{fill:var(--s2)}rect.madf-s3,circle.madf-s3{fill:var(--s3)}rect.madf-s4,circle.madf-s4{fill:var(--s4)}rect.madf-s5,circle.madf-s5{fill:var(--s5)}
td.verdict.effective{color:var(--ok);font-weight:600}td.verdict.worse{color:var(--crit);font-weight:600}.forecast{font-size:15px}
.status{font-weight:600;padding:1px 6px;border-radius:4px}.status.ok{color:var(--ok)}.status.warning{color:var(--warn)}.status.critical{color:var(--crit)}ul.problems{padding-left:18px}
";
    }
}

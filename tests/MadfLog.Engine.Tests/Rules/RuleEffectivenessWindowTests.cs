using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Revisions;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Rules
{
    /// <summary>
    /// Rules proposed by a real revision of one week and approved effective from its end, on logs drawn (seeded) from
    /// known error chances: a pattern that was only high in the week that proposed it must not read Effective, one whose
    /// rate truly falls must.
    /// </summary>
    public class RuleEffectivenessWindowTests
    {
        private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 11, 22, 23, 0, 0, TimeSpan.Zero);
        /// <summary>The first day of the logs; the week that proposes the rules is its third, and they take effect after it.</summary>
        private static readonly DateTimeOffset Start = new DateTimeOffset(2026, 10, 18, 0, 0, 0, TimeSpan.Zero);
        private static readonly DateTimeOffset EvidenceFrom = Start.AddDays(14), EvidenceTo = Start.AddDays(21);

        /// <summary>One tool's calls: its error pattern and the chance a call fails with it at a given time.</summary>
        private sealed class Tool
        {
            public string Name = "";
            public long Pattern;
            public string Template = "";
            public Func<DateTimeOffset, double> Chance = _ => 0;
            /// <summary>Its errors are spread evenly over this many patterns, numbered from Pattern.</summary>
            public int Patterns = 1;
            /// <summary>The tool is logged only when it fails (an API error as a tool call); its other calls are llm_call events.</summary>
            public bool LoggedOnlyWhenFailing;
        }

        private static Tool T(string name, long pattern, string template, Func<DateTimeOffset, double> chance, bool onlyFailing = false, int patterns = 1) =>
            new Tool { Name = name, Pattern = pattern, Template = template, Chance = chance, LoggedOnlyWhenFailing = onlyFailing, Patterns = patterns };

        /// <summary>
        /// Edit, Read and Write fail at a steady 4 % (ruled with the rest); Grep at 2.4 %, spread over eight patterns 11-18
        /// each too rare for a rule (about 1.5 % of the errors).
        /// </summary>
        private static Tool[] Steady() => new[]
        {
            T("Edit", 2, "Permission denied while writing <*>", _ => 0.04),
            T("Read", 3, "Module <*> has no attribute <*>", _ => 0.04),
            T("Write", 4, "Connection refused by host <*>", _ => 0.04),
            T("Grep", 11, "Command timed out after <*> seconds", _ => 0.024, patterns: 8),
        };

        private static void Write(string db, DateTimeOffset from, IEnumerable<Tool> tools, int callsPerDay = 600, int seed = 11)
        {
            var rnd = new Random(seed);
            var list = tools.ToList();
            var rows = new List<EventRow>();
            long k = 0;
            for (var day = from; day < Now.AddHours(-23); day = day.AddDays(1))
                foreach (var tool in list)
                    for (var i = 0; i < callsPerDay; i++)
                    {
                        var at = day.AddSeconds(rnd.Next(86_400));
                        var error = rnd.NextDouble() < tool.Chance(at);
                        var session = "s" + rnd.Next(60);
                        if (!error && tool.LoggedOnlyWhenFailing)
                            rows.Add(new EventRow { Timestamp = at.ToUnixTimeMilliseconds(), EventType = "llm_call", Category = "model", SessionId = session, Success = true, DedupKey = k++ });
                        else
                            rows.Add(new EventRow
                            {
                                Timestamp = at.ToUnixTimeMilliseconds(), EventType = "tool_call", Category = "tool", SessionId = session, Success = !error,
                                PatternId = error ? tool.Pattern + rnd.Next(tool.Patterns) : (long?)null,
                                Details = "{\"tool\":\"" + tool.Name + "\"}", DedupKey = k++,
                            });
                    }
            using var c = MadfDatabase.Open(db);
            using var tx = c.BeginTransaction();
            foreach (var tool in list)
                for (var i = 0; i < tool.Patterns; i++)
                    c.Execute("INSERT INTO patterns(id, template, token_count, error_class, created) VALUES (@p, @t, 4, 'Other', 0)", new { p = tool.Pattern + i, t = tool.Template + (i == 0 ? "" : " " + i) }, tx);
            ImportStages.Write(c, tx, rows.OrderBy(r => r.Timestamp).ToList());
            tx.Commit();
        }

        /// <summary>The revision of the evidence week, every proposed rule approved effective from its end; the verdicts by pattern.</summary>
        private static Dictionary<long, RuleEffect> ReviseApproveAndMeasure(TempFolder t)
        {
            var result = new Revision(new RevisionOptions
            {
                DatabasePath = t.Db, Now = Now, ClaudeMdPath = t.File("CLAUDE.md"), Import = false, Since = EvidenceFrom, Until = EvidenceTo,
            }).Run();
            using var c = MadfDatabase.Open(t.Db);
            foreach (var rule in result.RulesProposed) RuleStore.Approve(c, rule.Id, Now, EvidenceTo);
            Assert.All(RuleStore.List(c, RuleStatus.Active), r => Assert.Equal((EvidenceFrom.UtcDateTime, EvidenceTo.UtcDateTime), (r.Evidence.WindowStart, r.Evidence.WindowEnd)));
            return RuleEffectiveness.Evaluate(c, Now).ToDictionary(e => e.PatternId);
        }

        [Fact]
        public void APatternThatWasOnlyHighInTheWeekThatProposedItDoesNotReadEffective()
        {
            using var t = TestPaths.NewTemp();
            // Bash fails at 2 % every day but in the evidence week (5 %): the revision chose it for that week alone.
            var evidenceWeek = T("Bash", 1, "File does not exist: <*>", at => at >= EvidenceFrom && at < EvidenceTo ? 0.05 : 0.02);
            Write(t.Db, Start, Steady().Append(evidenceWeek));
            var effects = ReviseApproveAndMeasure(t);

            Assert.Equal(new long[] { 1, 2, 3, 4 }, effects.Keys.OrderBy(x => x));
            var e = effects[1];
            // Counting that week as "before", its fall back to 2 % reads as the rule's (×0.6, Effective); left out, nothing changed.
            Assert.Equal(EffectVerdict.NoClearChange, e.Verdict);
            Assert.False(e.Fell);
            Assert.InRange(1.0, e.RelativeChangeLow, e.RelativeChangeHigh);
            Assert.InRange(e.RateBeforePer1000, 15, 25);
            Assert.True(e.WindowStart <= Start.UtcDateTime);
            Assert.Equal((EvidenceFrom.UtcDateTime, EvidenceTo.UtcDateTime), (e.EvidenceStart, e.EvidenceEnd));
            Assert.Contains("left out", e.Control);
            Assert.All(effects.Values, x => Assert.NotEqual(EffectVerdict.Effective, x.Verdict));

            // The counts read in one grouped scan per window are the plain counts of each window.
            using var c = MadfDatabase.Open(t.Db);
            long Count(string where, DateTimeOffset from, DateTimeOffset to) => c.ExecuteScalar<long>(
                $"SELECT count(*) FROM events e WHERE {where} AND e.timestamp >= @from AND e.timestamp < @to", new { from = from.ToUnixTimeMilliseconds(), to = to.ToUnixTimeMilliseconds() });
            var (start, end) = (new DateTimeOffset(e.WindowStart), Now.AddMilliseconds(1));
            const string bash = "e.event_type = 'tool_call' AND json_extract(e.details, '$.tool') = 'Bash'";
            const string hit = "e.success = 0 AND e.pattern_id = 1", other = "e.success = 0 AND coalesce(e.pattern_id, 0) <> 1";
            Assert.Equal((Count(bash, start, EvidenceFrom), Count(bash, EvidenceTo, end)), (e.CallsBefore, e.CallsAfter));
            Assert.Equal((Count(hit, start, EvidenceFrom), Count(hit, EvidenceTo, end)), (e.HitsBefore, e.HitsAfter));
            Assert.Equal((Count(other, start, EvidenceFrom), Count(other, EvidenceTo, end)), (e.ControlErrorsBefore, e.ControlErrorsAfter));
            Assert.Equal((Count("1 = 1", start, EvidenceFrom), Count("1 = 1", EvidenceTo, end)), (e.ControlEventsBefore, e.ControlEventsAfter));
        }

        [Fact]
        public void APatternWhoseRateTrulyFallsAfterTheRuleReadsEffective()
        {
            using var t = TestPaths.NewTemp();
            // Bash fails at 3 % until the rule takes effect, then at 1 %; the rate-limit error (a tool "llm" logged only when
            // it fails, its other calls llm_call events) falls from 3 % to 1 % of LLM calls too.
            var ruled = T("Bash", 1, "File does not exist: <*>", at => at < EvidenceTo ? 0.03 : 0.01);
            var llm = T("llm", 6, "API Error: 429 rate limit of <*> tokens per minute", at => at < EvidenceTo ? 0.03 : 0.01, onlyFailing: true);
            Write(t.Db, Start, Steady().Append(ruled).Append(llm));
            var effects = ReviseApproveAndMeasure(t);

            Assert.Equal(EffectVerdict.Effective, effects[1].Verdict);
            Assert.Equal("tool:Bash", effects[1].Step);
            Assert.InRange(effects[1].RelativeChange, 0.2, 0.5);
            // Every call of tool:llm is this error (1,000 per 1,000 before and after): it is counted per event instead.
            Assert.StartsWith("all events", effects[6].Step);
            Assert.Contains("tool:llm", effects[6].Step);
            Assert.Equal(EffectVerdict.Effective, effects[6].Verdict);
            Assert.InRange(effects[6].RateBeforePer1000, 1, 20);
            // The steady ones: their control leaves out the two rules that worked, so they do not read Worse.
            foreach (var p in new long[] { 2, 3, 4 })
            {
                Assert.Equal(EffectVerdict.NoClearChange, effects[p].Verdict);
                Assert.Contains("2 rules that worked", effects[p].Control);
            }
        }

        /// <summary>
        /// A random walk of the log of a chance, one step a week (seeded): the weeks' multipliers from the logs' first week,
        /// each the last times e^(σ z), z standard normal.
        /// </summary>
        private static Func<DateTimeOffset, double> Wandering(double chance, double sigma, Random rnd)
        {
            var multipliers = new double[8];
            multipliers[0] = 1;
            for (var w = 1; w < multipliers.Length; w++)
            {
                var z = Math.Sqrt(-2 * Math.Log(1 - rnd.NextDouble())) * Math.Cos(2 * Math.PI * rnd.NextDouble());
                multipliers[w] = multipliers[w - 1] * Math.Exp(sigma * z);
            }
            return at => chance * multipliers[(int)((at - Start).TotalDays / 7)];
        }

        [Fact]
        public void APatternWhoseRateWandersFromWeekToWeekDoesNotReadEffectiveForAFallOfItsWander()
        {
            using var t = TestPaths.NewTemp();
            // Every pattern's rate wanders from week to week (a random walk of its log, σ 0.2 a week), as error mixes do
            // (other projects, other tools); no rule does anything. Bash's wander happens to fall over the weeks after the
            // rule by about as much as the others wander: ×0.6 of its rate before (its weeks ×1, ×0.85, then ×1.2 in the
            // week that proposed it, ×0.65 and ×0.55), a fall the counts alone read as the rule's.
            var rnd = new Random(5);
            double[] bash = { 1, 0.85, 1.2, 0.65, 0.55 };
            var tools = new[]
            {
                T("Edit", 2, "Permission denied while writing <*>", Wandering(0.04, 0.2, rnd)),
                T("Read", 3, "Module <*> has no attribute <*>", Wandering(0.04, 0.2, rnd)),
                T("Write", 4, "Connection refused by host <*>", Wandering(0.04, 0.2, rnd)),
                T("Grep", 5, "Command timed out after <*> seconds", Wandering(0.03, 0.2, rnd)),
                T("Glob", 6, "No files matched <*>", Wandering(0.03, 0.2, rnd)),
                T("Bash", 1, "File does not exist: <*>", at => 0.03 * bash[(int)((at - Start).TotalDays / 7)]),
            };
            Write(t.Db, Start, tools);
            var effects = ReviseApproveAndMeasure(t);

            var e = effects[1];
            Assert.InRange(e.RelativeChange, 0.35, 0.75);
            // From the counts alone the interval was about 0.4-0.6: Effective. How much the ratio wanders from week to week
            // is measured (the rule's two weeks before it or the other patterns' weeks) and taken into the interval.
            Assert.Equal(EffectVerdict.NoClearChange, e.Verdict);
            Assert.InRange(e.WeekToWeek, 0.1, 0.6);
            Assert.False(e.Fell);
            Assert.All(effects.Values, x => Assert.NotEqual(EffectVerdict.Effective, x.Verdict));
        }

        [Fact]
        public void TheReportsSayHowMuchARulesPatternWandersBesideItsInterval()
        {
            using var t = TestPaths.NewTemp();
            var rnd = new Random(5);
            Write(t.Db, Start, Steady().Append(T("Bash", 1, "File does not exist: <*>", Wandering(0.03, 0.3, rnd))));
            var effects = ReviseApproveAndMeasure(t);
            var e = effects[1];
            Assert.True(e.WeekToWeek > 0);
            var wander = $"wander ±{Math.Round(e.WeekToWeek * 100)} % a week ({e.WeekToWeekFrom})";
            Assert.Equal(wander, e.WeekToWeekText);

            // A reader of an interval wider than its counts' noise is told why, in the weekly revision and in the HTML report.
            var revision = new RevisionResult();
            revision.Effectiveness.AddRange(effects.Values);
            var markdown = RevisionReport.Markdown(revision);
            Assert.Contains($"| {e.RelativeChangeText}; {wander} |", markdown);
            var html = MadfLog.Engine.Insights.HtmlReport.Build(t.Db, new MadfLog.Engine.Query.QueryFilter(), Now, measured: effects.Values.ToList());
            Assert.Contains(System.Net.WebUtility.HtmlEncode(wander), html);
            Assert.Equal("", new RuleEffect().WeekToWeekText);
        }

        [Fact]
        public void ARuleFromTheStoresFirstWeekIsTooEarlyWithNothingBeforeThatWeek()
        {
            using var t = TestPaths.NewTemp();
            Write(t.Db, EvidenceFrom, Steady().Append(T("Bash", 1, "File does not exist: <*>", at => at < EvidenceTo ? 0.03 : 0.01)));
            var effects = ReviseApproveAndMeasure(t);

            Assert.All(effects.Values, e =>
            {
                Assert.Equal(EffectVerdict.TooEarly, e.Verdict);
                Assert.Equal(0, e.CallsBefore);
                Assert.StartsWith("no events before the week that proposed it (2026-11-01 to 2026-11-08)", e.Reason);
                Assert.StartsWith("Too early: no events before", e.VerdictWithReason);
            });
        }
    }
}

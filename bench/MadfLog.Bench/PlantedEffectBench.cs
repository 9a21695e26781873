using System;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Rules;
using MadfLog.TestSupport;
using MadfLog.Engine.Store;

namespace MadfLog.Bench
{
    /// <summary>
    /// The rule-effectiveness check on data that is not in the repository: imports logs (or generated stories), takes
    /// the two most frequent error patterns as ruled from the middle of the events' time span, removes three in four of
    /// the first one's later errors (a planted effect), and prints what RuleEffectiveness concludes for both, beside the
    /// plain before/after comparison. Expected: the first Effective; the second as the data say (on generated stories,
    /// where every error falls from story to story, "No clear change" where before/after alone says it fell).
    /// </summary>
    public sealed class PlantedEffectBench : IBench
    {
        public string Name => "planted-effect";
        public string Description => "rule effectiveness on a planted drop: planted-effect <logs folder|file> | planted-effect gen [stories=4]";

        public int Run(string[] args)
        {
            var dir = Path.Combine(Path.GetTempPath(), "madflog-planted-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                var db = Path.Combine(dir, "madflog.db");
                string source;
                if (args.Length == 0 || args[0] == "gen")
                {
                    var stories = args.Length > 1 ? int.Parse(args[1]) : 4;
                    var events = new SampleLogGenerator(new SampleOptions { Seed = 5, Stories = Enumerable.Range(1, stories).Select(i => "1." + i).ToArray() }).Generate();
                    SampleLogGenerator.WriteDailyFiles(events, Path.Combine(dir, "logs"));
                    source = Path.Combine(dir, "logs");
                }
                else source = args[0];
                var imported = new LogImporter(new ImportOptions { DatabasePath = db }).Import(new[] { source });
                using var c = MadfDatabase.Open(db);
                var (first, last) = c.QueryFirst<(long, long)>("SELECT min(timestamp), max(timestamp) FROM events");
                var middle = first + (last - first) / 2;
                var top = c.Query<(long id, long n)>($"SELECT e.pattern_id, count(*) FROM events e WHERE e.pattern_id IS NOT NULL AND {MadfLog.Engine.Domain.Errors.InEvents} GROUP BY 1 ORDER BY 2 DESC LIMIT 2").ToList();
                Console.WriteLine($"{source}: {imported.Imported:N0} events, {DateTimeOffset.FromUnixTimeMilliseconds(first):u} to {DateTimeOffset.FromUnixTimeMilliseconds(last):u}; rules take effect {DateTimeOffset.FromUnixTimeMilliseconds(middle):u}");
                if (top.Count < 2) { Console.WriteLine("fewer than two error patterns: nothing to measure"); return 1; }
                // The planted effect: three in four of the first pattern's errors after the middle never happened.
                // (A pattern's rows hold their time whole in ts: EventStorage.PatternTime.)
                var removed = c.Execute($"DELETE FROM event_rows WHERE pattern_id = @p AND ts >= @middle AND id % 4 <> 0", new { p = top[0].id, middle });
                // Chosen from the whole span, not from one week: no evidence window to leave out (made before the first event).
                foreach (var (id, _) in top)
                    c.Execute("INSERT INTO rules(pattern_id, text, status, created, activated, evidence) VALUES (@id, 'planted', 'Active', @first, @middle, '{}')", new { id, first, middle });
                Console.WriteLine($"planted: removed {removed} of P{top[0].id}'s errors after the middle; P{top[1].id} left as it was");
                foreach (var e in RuleEffectiveness.Evaluate(c, DateTimeOffset.FromUnixTimeMilliseconds(last + 1)))
                {
                    var plain = RuleEffectivenessPlain(e);
                    Console.WriteLine($"  P{e.PatternId} ({e.Step}): {e.RateBeforePer1000:0.##} → {e.RateAfterPer1000:0.##} per 1,000 calls ({e.HitsBefore} → {e.HitsAfter}); control {e.Control}");
                    Console.WriteLine($"    relative change ×{e.RelativeChange:0.00} ({e.RelativeChangeLow:0.00}-{e.RelativeChangeHigh:0.00}) → {e.VerdictText}; before/after alone: ×{plain:0.00}");
                }
                return 0;
            }
            finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
        }

        private static double RuleEffectivenessPlain(RuleEffect e) =>
            e.RateBeforePer1000 > 0 ? e.RateAfterPer1000 / e.RateBeforePer1000 : double.NaN;
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MadfLog.Engine.Patterns;
using MadfLog.TestSupport;

namespace MadfLog.Bench
{
    /// <summary>Grouping accuracy of the template miner on Loghub-2k (one configuration for all systems) and on the sample logs, and its speed.</summary>
    public sealed class PatternAccuracyBench : IBench
    {
        public string Name => "patterns";
        public string Description => "pattern grouping accuracy per Loghub system (every data/loghub-2k/<system> of the folder), generated logs and real agent errors (when the folder has them), and messages/s: patterns [shared folder] [-v:SYSTEM]";

        public int Run(string[] args)
        {
            var shared = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : Path.Combine("..", "shared");
            Console.WriteLine($"{"system",-12} {"lines",6} {"truth",6} {"found",6} {"GA",6}");
            double total = 0;
            // Every system the folder has, so samples of other Loghub systems are scored the same way (unseen data).
            var loghub = Path.Combine(shared, "data", "loghub-2k");
            var systems = Directory.GetDirectories(loghub).Select(Path.GetFileName)
                .Where(system => File.Exists(Path.Combine(loghub, system!, system + "_2k.log_structured.csv")))
                .OrderBy(system => system, StringComparer.Ordinal).ToList();
            foreach (var system in systems)
            {
                var (messages, truth) = GroupingAccuracy.LoadLoghub(Path.Combine(loghub, system!, system + "_2k.log_structured.csv"));
                var miner = new TemplateMiner();
                var assigned = messages.Select(m => miner.Add(m)).ToList();
                var predicted = assigned.Select(p => miner.Resolve(p).Id).ToList();
                var ga = GroupingAccuracy.Score(predicted, truth);
                total += ga;
                Console.WriteLine($"{system,-12} {messages.Count,6} {truth.Distinct().Count(),6} {predicted.Distinct().Count(),6} {ga,6:F3}");
                if (args.Contains("-v:" + system))
                    foreach (var g in predicted.Select((p, i) => (p, i)).GroupBy(x => x.p).Where(g => g.Select(x => truth[x.i]).Distinct().Count() > 1))
                    {
                        Console.WriteLine($"  pattern {miner.Find(g.Key)!.Template}");
                        foreach (var t in g.GroupBy(x => truth[x.i])) Console.WriteLine($"     {t.Count(),4} {t.Key}");
                    }
                if (args.Contains("-v:" + system))
                    foreach (var t in truth.Select((tr, i) => (tr, i)).GroupBy(x => x.tr).Where(t => t.Select(x => predicted[x.i]).Distinct().Count() > 1))
                    {
                        Console.WriteLine($"  split {t.Key}");
                        foreach (var p in t.GroupBy(x => predicted[x.i])) Console.WriteLine($"     {p.Count(),4} {miner.Find(p.Key)!.Template}");
                    }
            }
            Console.WriteLine($"{"average",-12} {"",6} {"",6} {"",6} {total / systems.Count,6:F3}   (Drain, tuned per system: 0.86; one configuration: 0.76)");

            var sample = new SampleLogGenerator(new SampleOptions()).Generate().Where(e => e.TrueTemplate.HasValue).ToList();
            var sampleMiner = new TemplateMiner();
            var sampleAssigned = sample.Select(e => sampleMiner.Add(e.Row.Message)).ToList();
            var sampleGa = GroupingAccuracy.Score(sampleAssigned.Select(p => sampleMiner.Resolve(p).Id).ToList(), sample.Select(e => e.TrueTemplate!.Value).ToList());
            if (args.Contains("-v:samples"))
                foreach (var g in sample.Select((e, i) => (e, i)).GroupBy(x => x.e.TrueTemplate!.Value))
                {
                    var ids = g.Select(x => sampleMiner.Resolve(sampleAssigned[x.i])).Distinct().ToList();
                    if (ids.Count > 1) Console.WriteLine($"  true {SampleLogGenerator.ErrorTemplates[g.Key]} -> {string.Join(" | ", ids.Select(p => p.Template))}");
                }
            Console.WriteLine($"{"samples",-12} {sample.Count,6} {sample.Select(e => e.TrueTemplate).Distinct().Count(),6} {sampleMiner.Patterns.Count(),6} {sampleGa,6:F3}");

            // Real agent errors, hand-labelled (the set in shared/; other projects' sets are scored the same way).
            var agentErrors = Path.Combine(shared, "data", "agent-errors");
            if (!Directory.Exists(agentErrors)) return 0;
            new AgentErrorBench().Run(new[] { Path.Combine(agentErrors, "errors.jsonl"), Path.Combine(agentErrors, "labels.csv") });

            // Speed: a realistic error stream, many times over.
            var stream = Enumerable.Range(0, 20).SelectMany(i => new SampleLogGenerator(new SampleOptions { Seed = i }).Generate().Where(e => e.TrueTemplate.HasValue).Select(e => e.Row.Message!)).ToList();
            var speedMiner = new TemplateMiner();
            var clock = Stopwatch.StartNew();
            foreach (var m in stream) speedMiner.Add(m);
            clock.Stop();
            Console.WriteLine($"speed: {stream.Count:N0} messages in {clock.Elapsed.TotalMilliseconds:F0} ms = {stream.Count / clock.Elapsed.TotalSeconds:N0} messages/s ({speedMiner.Patterns.Count()} patterns)");
            // Signatures of real tool errors (long outputs, commands to parse), many times over.
            var real = GroupingAccuracy.LoadAgentErrors(Path.Combine(agentErrors, "errors.jsonl"), Path.Combine(agentErrors, "labels.csv"));
            clock.Restart();
            var n = 0;
            for (var round = 0; round < 50; round++)
                foreach (var e in real) { ErrorSignature.Of(e.Tool, e.Input, e.Text); n++; }
            clock.Stop();
            Console.WriteLine($"signatures: {n:N0} real tool errors in {clock.Elapsed.TotalMilliseconds:F0} ms = {n / clock.Elapsed.TotalSeconds:N0} errors/s");
            return 0;
        }
    }
}

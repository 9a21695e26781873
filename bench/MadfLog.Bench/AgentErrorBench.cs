using System;
using System.IO;
using System.Linq;
using MadfLog.Engine.Patterns;
using MadfLog.TestSupport;

namespace MadfLog.Bench
{
    /// <summary>Grouping of real agent errors (shared/data/agent-errors) by signature and miner, as import does it; -v lists each group.</summary>
    public sealed class AgentErrorBench : IBench
    {
        public string Name => "agent-errors";
        public string Description => "grouping accuracy on hand-labelled real agent errors: agent-errors [errors.jsonl labels.csv] [-v]";

        public int Run(string[] args)
        {
            var files = args.Where(a => !a.StartsWith('-')).ToArray();
            var dir = Path.Combine("..", "shared", "data", "agent-errors");
            var errorsPath = files.Length > 0 ? files[0] : Path.Combine(dir, "errors.jsonl");
            var labelsPath = files.Length > 1 ? files[1] : Path.Combine(dir, "labels.csv");
            var errors = GroupingAccuracy.LoadAgentErrors(errorsPath, labelsPath, "User rejected or interrupted tool call");
            var miner = new TemplateMiner();
            var signatures = errors.Select(e => ErrorSignature.Of(e.Tool, e.Input, e.Text)).ToList();
            var assigned = signatures.Select(s => miner.Add(s.Text)).ToList();
            var predicted = assigned.Select(p => miner.Resolve(p).Id).ToList();
            var truth = errors.Select(e => e.Group).ToList();
            var ga = GroupingAccuracy.Score(predicted, truth);
            var (precision, recall) = GroupingAccuracy.Pairwise(predicted, truth);
            var other = signatures.Count(s => s.ErrorClass == ErrorClasses.Other) / (double)signatures.Count;
            Console.WriteLine($"agent errors: {errors.Count} errors, {truth.Distinct().Count()} groups, {predicted.Distinct().Count()} patterns, GA {ga:F3}, pairwise precision {precision:F3} recall {recall:F3}, Other {other:P0}");
            if (args.Contains("-rules"))
                foreach (var g in errors.Select((e, i) => (e, i)).GroupBy(x => predicted[x.i]).Where(g => g.Count() >= 0.03 * errors.Count).OrderByDescending(g => g.Count()))
                {
                    var facts = Engine.Rules.PatternFacts.From(signatures[g.First().i].ErrorClass, g.Select(x => ((string?)x.e.Tool, (string?)x.e.Input, (string?)x.e.Text)));
                    Console.WriteLine($"  {g.Count(),3}  - {Engine.Rules.RuleText.Compose(facts)}");
                }
            if (args.Contains("-v"))
                foreach (var g in errors.Select((e, i) => (e, i)).GroupBy(x => x.e.Group).OrderByDescending(g => g.Count()))
                {
                    Console.WriteLine($"## {g.Key} ({g.Count()})");
                    foreach (var (e, i) in g)
                        Console.WriteLine($"   p{predicted[i],-4} {signatures[i].ErrorClass,-18} {signatures[i].Text.Replace('\n', ' ')}  <- {e.Input.Replace('\n', ' ').Substring(0, Math.Min(60, e.Input.Length))}");
                }
            return 0;
        }
    }
}

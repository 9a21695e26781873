using System;
using System.Diagnostics;
using System.Linq;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Store;

namespace MadfLog.Bench
{
    /// <summary>
    /// Time of RuleEffectiveness.Evaluate (what Get-MadfRuleEffectiveness and a revision run) over a store with active
    /// rules, read only: wall and CPU per run (the first pays the JIT), and the verdicts.
    /// </summary>
    public sealed class RuleEffectivenessBench : IBench
    {
        public string Name => "effectiveness";
        public string Description => "rule effectiveness time: effectiveness <store with active rules> [runs=3] [now=yyyy-MM-dd]";

        public int Run(string[] args)
        {
            if (args.Length == 0) { Console.WriteLine(Description); return 1; }
            var runs = args.Length > 1 ? int.Parse(args[1]) : 3;
            var now = args.Length > 2 ? DateTimeOffset.Parse(args[2] + "T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture) : DateTimeOffset.UtcNow;
            var process = Process.GetCurrentProcess();
            for (var i = 0; i < runs; i++)
            {
                var cpu = process.TotalProcessorTime;
                var wall = Stopwatch.StartNew();
                using var c = MadfDatabase.Open(args[0], forWrite: false);
                var effects = RuleEffectiveness.Evaluate(c, now);
                process.Refresh();
                Console.WriteLine($"run {i + 1}: {effects.Count} rules, {wall.Elapsed.TotalSeconds:0.00} s wall, {(process.TotalProcessorTime - cpu).TotalSeconds:0.00} s CPU; " +
                                  string.Join(", ", effects.GroupBy(e => e.VerdictText).Select(g => $"{g.Key} {g.Count()}")));
            }
            return 0;
        }
    }
}

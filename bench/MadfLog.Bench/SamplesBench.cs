using System;
using System.IO;
using System.Linq;
using MadfLog.TestSupport;

namespace MadfLog.Bench
{
    /// <summary>Regenerates the bundled example logs (examples/logs) from the sample generator.</summary>
    public sealed class SamplesBench : IBench
    {
        public string Name => "samples";
        public string Description => "write the example logs: samples [folder=examples/logs] [seed=42]";

        public int Run(string[] args)
        {
            var folder = args.Length > 0 ? args[0] : Path.Combine("examples", "logs");
            var seed = args.Length > 1 ? int.Parse(args[1]) : 42;
            if (Directory.Exists(folder))
                foreach (var old in Directory.GetFiles(folder, "madf-*.jsonl")) File.Delete(old);
            var events = new SampleLogGenerator(new SampleOptions { Seed = seed }).Generate().ToList();
            var files = SampleLogGenerator.WriteDailyFiles(events, folder);
            var errors = events.Count(e => e.TrueTemplate.HasValue);
            Console.WriteLine($"wrote {events.Count:N0} events ({errors:N0} errors, {events.Select(e => e.Row.AgentName).Distinct().Count()} agents, stories {string.Join(", ", events.Select(e => e.Row.StoryId).Distinct())}) into {files.Count} files in {folder}");
            foreach (var story in events.GroupBy(e => e.Row.StoryId))
                Console.WriteLine($"  story {story.Key}: {story.Count():N0} events, error rate {story.Count(e => e.TrueTemplate.HasValue) / (double)story.Count():P1}");
            return 0;
        }
    }
}

using System;
using System.IO;
using System.Linq;
using MadfLog.Engine.Import;
using MadfLog.Engine.Query;
using MadfLog.TestSupport;
using MadfLog.Engine.Store;

namespace MadfLog.Bench
{
    /// <summary>
    /// The story forecast's one-step-ahead backtest beside the naive "same as the last story" forecast: on a store
    /// given by path, or on generated stories over several seeds (a measurement, not a timing).
    /// </summary>
    public sealed class ForecastBench : IBench
    {
        public string Name => "forecast";
        public string Description => "forecast backtest vs naive: forecast [database.db] | forecast gen [stories=8] [seeds=5]";

        public int Run(string[] args)
        {
            if (args.Length > 0 && args[0] != "gen") { Report(args[0], args[0]); return 0; }
            var stories = args.Length > 1 ? int.Parse(args[1]) : 8;
            var seeds = args.Length > 2 ? int.Parse(args[2]) : 5;
            double model = 0, naive = 0;
            for (var seed = 1; seed <= seeds; seed++)
            {
                var dir = Path.Combine(Path.GetTempPath(), "madflog-forecast-" + Guid.NewGuid().ToString("N"));
                try
                {
                    var events = new SampleLogGenerator(new SampleOptions { Seed = seed, Stories = Enumerable.Range(1, stories).Select(i => "1." + i).ToArray(), DaysPerStory = 1 }).Generate();
                    SampleLogGenerator.WriteDailyFiles(events, Path.Combine(dir, "logs"));
                    var db = Path.Combine(dir, "madflog.db");
                    new LogImporter(new ImportOptions { DatabasePath = db }).Import(new[] { Path.Combine(dir, "logs") });
                    var f = Report(db, $"seed {seed}");
                    model += f?.BacktestError ?? 0; naive += f?.NaiveBacktestError ?? 0;
                }
                finally { Directory.Delete(dir, true); }
            }
            Console.WriteLine($"mean over {seeds} seeds: backtest error {model / seeds:P2}, naive {naive / seeds:P2}");
            return 0;
        }

        private static TrendPoint? Report(string db, string label)
        {
            using var c = MadfDatabase.Open(db, forWrite: false);
            var trend = Analysis.Trend(c, new QueryFilter());
            var f = trend.FirstOrDefault(p => p.Kind == "Forecast");
            Console.WriteLine($"{label}: stories {string.Join(" ", trend.Where(p => p.Kind == "Story").Select(p => $"{p.ErrorRate:P1}"))}");
            Console.WriteLine("  " + MadfLog.Engine.Query.StoryForecast.Text(f, trend.Count(p => p.Kind == "Story")));
            return f;
        }
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MadfLog.Engine.Import;
using MadfLog.Engine.Lifecycle;
using MadfLog.TestSupport;

namespace MadfLog.Bench
{
    /// <summary>Storage figures: bytes per event, archive compression, and the time to rotate a month of logs.</summary>
    public sealed class RotationBench : IBench
    {
        public string Name => "rotation";
        public string Description => "a month of daily logs (default 1,000,000 events/week): bytes/event, gzip ratio, rotation time: rotation [eventsPerWeek]";

        public int Run(string[] args)
        {
            var perWeek = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
            var root = Path.Combine(Path.GetTempPath(), "madflog-bench-rotation");
            if (Directory.Exists(root)) Directory.Delete(root, true);
            var logs = Path.Combine(root, "logs");
            var now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
            var clock = Stopwatch.StartNew();
            var perDay = perWeek / 7;
            var written = 0L;
            using (var dummy = new MemoryStream())
            {
                for (var d = 30; d >= 1; d--)
                {
                    var day = now.AddDays(-d).Date;
                    var dayEnd = new DateTimeOffset(day.AddDays(1), TimeSpan.Zero).ToUnixTimeMilliseconds();
                    // Four teams (stories) work the same day side by side, so a day really holds perDay events.
                    const int teams = 4;
                    var events = Enumerable.Range(1, teams).SelectMany(team =>
                    {
                        var options = new SampleOptions { Seed = d * 10 + team, Stories = new[] { $"{d / 7 + 1}.{(d % 7) * teams + team}" }, DaysPerStory = 1,
                            Start = new DateTimeOffset(day, TimeSpan.Zero), SessionsPerAgentPerDay = Math.Max(1, perDay / 1200) };
                        return new SampleLogGenerator(options).Generate().Where(e => e.Row.Timestamp < dayEnd).Take(perDay / teams);
                    });
                    written += SampleLogGenerator.WriteDailyFiles(events, logs).Count > 0 ? perDay : 0;
                }
            }
            var logBytes = Directory.GetFiles(logs).Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"generated 30 daily files ({perWeek:N0} events/week asked), {logBytes / 1048576.0:F0} MB, in {clock.Elapsed.TotalSeconds:F0}s");
            var db = Path.Combine(root, "madflog.db");
            clock.Restart();
            var imported = new LogImporter(new ImportOptions { DatabasePath = db }).Import(new[] { logs });
            Console.WriteLine($"imported {imported.Imported:N0} events in {clock.Elapsed.TotalSeconds:F1}s");
            var before = Rotation.DatabaseBytes(db);
            Console.WriteLine($"active store: {before / 1048576.0:F0} MB, {(double)before / imported.Imported:F0} bytes/event (with indexes and summaries)");
            clock.Restart();
            var r = new Rotation(new RotationOptions { DatabasePath = db, LogPaths = new[] { logs }, ArchivePath = Path.Combine(root, "archive"), RetentionDays = 14, Now = now }).Run();
            Console.WriteLine($"rotation: {clock.Elapsed.TotalSeconds:F1}s; closed {r.FilesClosed} files, {r.ArchivesWritten} weekly archives, {r.ArchiveBytesBefore / 1048576.0:F0} MB -> {r.ArchiveBytesAfter / 1048576.0:F1} MB (gzip {r.CompressionRatio}x); moved {r.EventsMoved:N0} events older than 14 days; active store {r.DatabaseBytesBefore / 1048576.0:F0} -> {r.DatabaseBytesAfter / 1048576.0:F0} MB");
            return 0;
        }
    }
}

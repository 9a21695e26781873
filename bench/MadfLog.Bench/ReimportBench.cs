using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MadfLog.Engine.Import;

namespace MadfLog.Bench
{
    /// <summary>
    /// Imports a folder of logs again into the store an earlier run left beside it (`bench import N folder` writes
    /// folder/madflog.db): what a re-import of files already imported costs, and what it read.
    /// </summary>
    public sealed class ReimportBench : IBench
    {
        public string Name => "reimport";
        public string Description => "import a folder's logs again into its existing store: reimport <logs folder> [store] (default: the folder's parent's madflog.db)";

        public int Run(string[] args)
        {
            if (args.Length < 1) { Console.Error.WriteLine("usage: reimport <logs folder> [store]"); return 64; }
            var logs = args[0];
            var db = args.Length > 1 ? args[1] : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(logs).TrimEnd(Path.DirectorySeparatorChar))!, "madflog.db");
            if (!File.Exists(db)) { Console.Error.WriteLine($"no store at {db}: run `bench import N folder` first"); return 1; }
            // What finding the files and looking at each (size, time, first bytes) costs, without the import's writer.
            var look = Stopwatch.StartNew();
            var found = LogFileFinder.Expand(new[] { logs });
            var expand = look.Elapsed.TotalSeconds;
            var plan = new LogImporter(new ImportOptions { DatabasePath = db }).Plan(new[] { logs });
            Console.WriteLine($"plan (-WhatIf): {look.Elapsed.TotalSeconds:F2} s wall, of which finding the {found.Count:N0} files {expand:F2} s; {plan.Count(p => p.NothingNew):N0} with nothing new");
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var r = new LogImporter(new ImportOptions { DatabasePath = db }).Import(new[] { logs });
            sw.Stop();
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            var read = r.FileResults.Where(f => f.EndOffset > f.StartOffset || f.LinesRead > 0).ToList();
            Console.WriteLine($"re-import of {r.Files:N0} files: {sw.Elapsed.TotalSeconds:F2} s wall, {cpu:F2} s CPU; lines read {r.LinesRead:N0}, imported {r.Imported:N0}, duplicates {r.Duplicates:N0}, skipped {r.Skipped:N0}, quarantined {r.Quarantined:N0}; {r.Commits} commits");
            Console.WriteLine($"  files read at all: {read.Count:N0} ({string.Join(", ", read.GroupBy(f => f.Format).Select(g => $"{g.Key} {g.Count():N0}: {g.Sum(f => f.EndOffset - f.StartOffset) / 1048576.0:F1} MB, {g.Sum(f => f.LinesRead):N0} lines"))})");
            foreach (var f in read.OrderByDescending(f => f.LinesRead).Take(5))
                Console.WriteLine($"    {f.Path}: {f.Format}, bytes {f.StartOffset:N0}..{f.EndOffset:N0}, {f.LinesRead:N0} lines, {f.Duplicates:N0} duplicates, pending {f.PendingBytes:N0}");
            return 0;
        }
    }
}

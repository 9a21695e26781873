using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;

namespace MadfLog.Bench
{
    /// <summary>Where import time goes: parse, redaction, pattern mining and SQLite insert measured separately.</summary>
    public sealed class ProfileImportBench : IBench
    {
        public string Name => "import-profile";
        public string Description => "time each import stage separately on N events: import-profile [N]";

        public int Run(string[] args)
        {
            var n = args.Length > 0 ? int.Parse(args[0]) : 300_000;
            var folder = Path.Combine(Path.GetTempPath(), "madflog-bench-profile");
            Directory.CreateDirectory(folder);
            // The MADF event log part of the realistic logs (the transcripts have their own parser, not timed here).
            var logs = ImportBench.EnsureLogs(folder, n);
            var madf = Directory.GetFiles(Path.Combine(logs, "madf"), "*.jsonl").OrderBy(f => f, StringComparer.Ordinal).ToList();
            {
                // The transcripts, parsed alone (a parser per file, as the import makes one).
                var transcripts = Directory.GetFiles(Path.Combine(logs, "claude"), "*.jsonl", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal)
                    .Select(f => (f, lines: File.ReadAllLines(f).Select(System.Text.Encoding.UTF8.GetBytes).ToList())).ToList();
                var count = transcripts.Sum(t => t.lines.Count);
                var events = new List<EventRow>();
                _allocated = GC.GetTotalAllocatedBytes(true);
                var swt = Stopwatch.StartNew();
                foreach (var (f, tl) in transcripts)
                {
                    var tp = new MadfLog.Engine.Import.ClaudeCode.ClaudeCodeFormat().CreateParser(new LogFileContext(f, new ImportOptions()));
                    for (var i = 0; i < tl.Count; i++) tp.Parse(tl[i], i + 1, 0, events, out _);
                    if (tp is IEndOfFileParser eof) eof.EndOfFile(events);
                    events.Clear();
                }
                Report($"parse (transcripts, {count:N0} lines)", count, swt);
            }
            var file = madf[0];
            var lines = madf.SelectMany(File.ReadAllLines).Select(System.Text.Encoding.UTF8.GetBytes).ToList();
            n = lines.Count;

            _allocated = GC.GetTotalAllocatedBytes(true);
            var swr = Stopwatch.StartNew();
            long tokens = 0;
            foreach (var l in lines) { var rd = new System.Text.Json.Utf8JsonReader(l); while (rd.Read()) tokens++; }
            Report("  (Utf8JsonReader alone)", n, swr);
            swr.Restart();
            long hx = 0;
            foreach (var l in lines) hx ^= StableHash.Hash(l);
            Report("  (StableHash of each line)", n, swr);
            var parser = new MadfFormat().CreateParser(new LogFileContext(file, new ImportOptions()));
            var rows = new List<EventRow>(n);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < lines.Count; i++) parser.Parse(lines[i], i + 1, 0, rows, out _);
            Report("parse (MadfFormat)", n, sw);

            sw.Restart();
            var redaction = new SecretRedactionStage();
            redaction.Prepare(rows);
            Report("redact secrets", n, sw);

            // The two halves of the pattern stage's preparation, apart: signatures, then tokenizing them.
            var minable = rows.Where(r => MadfLog.Engine.Domain.Mining.IsMinable(r) && !string.IsNullOrWhiteSpace(r.Message ?? r.StoredDetails?.Message)).ToList();
            sw.Restart();
            foreach (var r in minable) PatternStage.SignatureOf(r);
            Report($"error signatures ({minable.Count:N0} errors)", n, sw);
            sw.Restart();
            foreach (var r in minable) TemplateMiner.Tokenize(r.Message);
            Report($"tokenize messages ({minable.Count:N0} errors)", n, sw);
            sw.Restart();
            var signatures = new PatternStage(MadfLog.Engine.Rules.RuleStore.MovePattern).Prepare(rows);
            Report("signatures + tokenize (pattern stage, reader thread)", n, sw);
            sw.Restart();
            var miner = new TemplateMiner();
            var errors = 0;
            foreach (var m in signatures?.Events ?? new List<(int, ErrorSignature, string[])>()) { miner.AddTokens(m.Tokens); errors++; }
            Report($"assign patterns ({errors:N0} errors)", n, sw);
            sw.Restart();
            var splitter = new DetailsShape.Splitter();
            var shaped = 0;
            foreach (var r in rows) if (splitter.Of(r.Details).Shape != null) shaped++;
            Report($"shape details ({shaped:N0} shaped)", n, sw);

            {
                var db = Path.Combine(folder, "stages.db");
                foreach (var f in new[] { db, db + "-wal", db + "-shm" }) if (File.Exists(f)) File.Delete(f);
                using var c = MadfDatabase.Open(db);
                var stages = ImportStages.Create();
                var prepared = rows.Select(r => r).ToList();
                var batches = new List<(List<EventRow> rows, PreparedStages stages)>();
                sw.Restart();
                for (var i = 0; i < prepared.Count; i += 20000)
                {
                    var batch = prepared.GetRange(i, Math.Min(20000, prepared.Count - i));
                    batches.Add((batch, PreparedStages.Run(stages, batch)));
                }
                Report("prepare (all stages)", n, sw);
                var timings = new double[stages.Count * 2 + 1];
                foreach (var (batch, byStage) in batches)
                {
                    using var tx = c.BeginTransaction();
                    for (var k = 0; k < stages.Count; k++) { sw.Restart(); stages[k].BeforeWrite(batch, byStage[k], c, tx); timings[k] += sw.Elapsed.TotalSeconds; }
                    sw.Restart();
                    using (var w = new EventWriter(c, tx)) { w.Write(batch); w.Flush(); }
                    timings[stages.Count] += sw.Elapsed.TotalSeconds;
                    for (var k = 0; k < stages.Count; k++) { sw.Restart(); stages[k].AfterWrite(batch, byStage[k], c, tx); stages[k].BeforeCommit(c, tx); timings[stages.Count + 1 + k] += sw.Elapsed.TotalSeconds; }
                    sw.Restart();
                    tx.Commit();
                    timings[stages.Count] += sw.Elapsed.TotalSeconds;
                }
                for (var k = 0; k < stages.Count; k++)
                    Console.WriteLine($"  {stages[k].GetType().Name,-28} before {timings[k],6:F2}s  after {timings[stages.Count + 1 + k],6:F2}s");
                Console.WriteLine($"  {"insert + commit",-28} {timings[stages.Count],6:F2}s");
                foreach (var r in rows) r.Id = 0;
            }
            foreach (var (label, indexes) in new[] { ("insert, all indexes", true), ("insert, without the pattern index", false) })
            {
                var db = Path.Combine(folder, "p.db");
                foreach (var f in new[] { db, db + "-wal", db + "-shm" }) if (File.Exists(f)) File.Delete(f);
                using var c = MadfDatabase.Open(db);
                if (!indexes) c.Execute("DROP INDEX ix_event_rows_pattern;");
                sw.Restart();
                for (var i = 0; i < rows.Count; i += 20000)
                {
                    using var tx = c.BeginTransaction();
                    using (var w = new EventWriter(c, tx)) { w.Write(rows.GetRange(i, Math.Min(20000, rows.Count - i))); w.Flush(); }
                    tx.Commit();
                }
                Report(label, n, sw);
                foreach (var r in rows) r.Id = 0;
            }
            return 0;
        }

        private static long _allocated = GC.GetTotalAllocatedBytes(true);

        // Time and bytes allocated since the previous report (allocation is most of what the GC costs the import).
        private static void Report(string what, int n, Stopwatch sw)
        {
            var now = GC.GetTotalAllocatedBytes(true);
            Console.WriteLine($"{what,-34} {sw.Elapsed.TotalSeconds,7:F2}s {n / sw.Elapsed.TotalSeconds,12:N0} events/s {(now - _allocated) / (double)n,8:N0} B/event allocated");
            _allocated = now;
        }
    }
}

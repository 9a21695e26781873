using System;
using System.Diagnostics;
using Dapper;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Bench
{
    /// <summary>
    /// What the upgrade with migration 33's fix (a rejected Claude Code call counted once, done at 38) and 39's (a
    /// transcript's calls given their response's context figure) costs: `--prepare` turns a copy of a store back into
    /// one imported before them (its transcripts' rejections errors again, its transcripts' calls and human acts without
    /// a figure, the summaries rebuilt to match, schema_version from 33 on forgotten); then opening the copy upgrades
    /// it, as the first cmdlet call would, and each migration's time is printed.
    /// </summary>
    public sealed class UpgradeBench : IBench
    {
        public string Name => "upgrade33";
        public string Description => "the upgrade through migrations 33 (at 38) and 39 on a store copy: upgrade33 <store copy> [--prepare [--unrecounted]]";

        private const string Rejection = "category = (SELECT id FROM names WHERE text = 'rejection')";

        private static long Rejections(SqliteConnection c, int success) =>
            c.ExecuteScalar<long>($"SELECT count(*) FROM event_rows WHERE kind IN (SELECT id FROM kinds WHERE success = {success} AND {Rejection})");

        public int Run(string[] args)
        {
            if (args.Length < 1) { Console.Error.WriteLine("usage: upgrade33 <store copy> [--prepare [--unrecounted]]"); return 64; }
            var path = args[0];
            if (args.Length > 1 && args[1] == "--prepare")
            {
                var clock = Stopwatch.StartNew();
                using var c = MadfDatabase.Open(path);
                using var tx = c.BeginTransaction();
                // --unrecounted: the summaries are left counting the rows as they were (a rebuild takes half an hour at
                // 10M), and only 39's figures are turned back: the upgrade adds each changed row's difference to rows that
                // exist (a rejection turned back would be taken from a key that the summaries do not hold).
                var unrecounted = args.Length > 2 && args[2] == "--unrecounted";
                var moved = unrecounted ? 0 : c.Execute($@"INSERT OR IGNORE INTO kinds(event_type, category, success, pattern_detected, needs_review)
                            SELECT event_type, category, 0, pattern_detected, needs_review FROM kinds WHERE success = 1 AND {Rejection};
                        UPDATE event_rows SET kind = (SELECT k2.id FROM kinds k JOIN kinds k2 ON k2.event_type = k.event_type AND k2.category = k.category
                                AND k2.pattern_detected IS k.pattern_detected AND k2.needs_review IS k.needs_review AND k2.success = 0 WHERE k.id = event_rows.kind)
                            WHERE kind IN (SELECT id FROM kinds WHERE success = 1 AND {Rejection})", transaction: tx);
                // The figures migration 39 carries: on the calls and human acts of contexts whose responses are a transcript's.
                var figures = c.Execute(@"UPDATE event_rows SET context_percent = NULL WHERE context_percent IS NOT NULL
                        AND kind IN (SELECT k.id FROM kinds k JOIN names n ON n.id = k.event_type WHERE n.text IN ('tool_call', 'human_interaction'))
                        AND context IN (SELECT r.context FROM event_rows r WHERE r.kind IN (SELECT k.id FROM kinds k JOIN names n ON n.id = k.event_type WHERE n.text = 'llm_call')
                            AND r.details_shape IN (SELECT id FROM names WHERE text LIKE '%""message_id""%'))", transaction: tx);
                if (!unrecounted) SummaryTables.Rebuild(c, tx);
                c.Execute("DELETE FROM schema_version WHERE version >= 33", transaction: tx);
                tx.Commit();
                Console.WriteLine($"turned back to before 33: {moved:N0} rejections errors again, {figures:N0} calls without a figure, summaries {(unrecounted ? "left as they were" : "rebuilt")}; {clock.Elapsed.TotalSeconds:F1} s");
                return 0;
            }
            using (var plain = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                plain.Open();
                Console.WriteLine($"before: schema {plain.ExecuteScalar<long>("SELECT max(version) FROM schema_version")}, rejections as errors {Rejections(plain, 0):N0}, as successes {Rejections(plain, 1):N0}");
            }
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            void Report(SchemaUpgradeStep step)
            {
                if (step.Elapsed is TimeSpan took)
                    Console.WriteLine($"  {(step.IsVacuum ? "VACUUM (incremental auto-vacuum)" : step.IsCommit ? "commit" : "migration " + step.Version)}: {took.TotalSeconds:F2} s wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F2} s CPU so far");
            }
            using (var c = MadfDatabase.Open(path, upgrading: Report))
            {
                var seconds = wall.Elapsed.TotalSeconds;
                Console.WriteLine($"upgrade (opening the store): {seconds:F2} s wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F2} s CPU; " +
                    $"after: schema {MadfDatabase.SchemaVersion(c)}, rejections as errors {Rejections(c, 0):N0}, as successes {Rejections(c, 1):N0}, events {c.ExecuteScalar<long>("SELECT count(*) FROM event_rows"):N0}");
            }
            return 0;
        }
    }
}

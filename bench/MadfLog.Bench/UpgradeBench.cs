using System;
using System.Diagnostics;
using Dapper;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Bench
{
    /// <summary>
    /// What the upgrade with migration 33's fix (a rejected Claude Code call counted once) costs: `--prepare` turns a copy
    /// of a store back into one imported before it (its transcripts' rejections errors again, the summaries rebuilt to
    /// match, schema_version from 33 on forgotten); then opening the copy upgrades it, as the first cmdlet call would.
    /// </summary>
    public sealed class UpgradeBench : IBench
    {
        public string Name => "upgrade33";
        public string Description => "the upgrade through migration 33's fix on a store copy: upgrade33 <store copy> [--prepare]";

        private const string Rejection = "category = (SELECT id FROM names WHERE text = 'rejection')";

        private static long Rejections(SqliteConnection c, int success) =>
            c.ExecuteScalar<long>($"SELECT count(*) FROM event_rows WHERE kind IN (SELECT id FROM kinds WHERE success = {success} AND {Rejection})");

        public int Run(string[] args)
        {
            if (args.Length < 1) { Console.Error.WriteLine("usage: upgrade33 <store copy> [--prepare]"); return 64; }
            var path = args[0];
            if (args.Length > 1 && args[1] == "--prepare")
            {
                var clock = Stopwatch.StartNew();
                using var c = MadfDatabase.Open(path);
                using var tx = c.BeginTransaction();
                var moved = c.Execute($@"INSERT OR IGNORE INTO kinds(event_type, category, success, pattern_detected, needs_review)
                            SELECT event_type, category, 0, pattern_detected, needs_review FROM kinds WHERE success = 1 AND {Rejection};
                        UPDATE event_rows SET kind = (SELECT k2.id FROM kinds k JOIN kinds k2 ON k2.event_type = k.event_type AND k2.category = k.category
                                AND k2.pattern_detected IS k.pattern_detected AND k2.needs_review IS k.needs_review AND k2.success = 0 WHERE k.id = event_rows.kind)
                            WHERE kind IN (SELECT id FROM kinds WHERE success = 1 AND {Rejection})", transaction: tx);
                SummaryTables.Rebuild(c, tx);
                c.Execute("DELETE FROM schema_version WHERE version >= 33", transaction: tx);
                tx.Commit();
                Console.WriteLine($"turned back to before 33: rejections errors again, summaries rebuilt; {clock.Elapsed.TotalSeconds:F1} s");
                return 0;
            }
            using (var plain = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                plain.Open();
                Console.WriteLine($"before: schema {plain.ExecuteScalar<long>("SELECT max(version) FROM schema_version")}, rejections as errors {Rejections(plain, 0):N0}, as successes {Rejections(plain, 1):N0}");
            }
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            using (var c = MadfDatabase.Open(path))
            {
                var seconds = wall.Elapsed.TotalSeconds;
                Console.WriteLine($"upgrade (opening the store): {seconds:F2} s wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F2} s CPU; " +
                    $"after: schema {MadfDatabase.SchemaVersion(c)}, rejections as errors {Rejections(c, 0):N0}, as successes {Rejections(c, 1):N0}, events {c.ExecuteScalar<long>("SELECT count(*) FROM event_rows"):N0}");
            }
            return 0;
        }
    }
}

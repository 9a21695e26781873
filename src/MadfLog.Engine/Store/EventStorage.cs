using System.Collections.Generic;
using System.Linq;
using Dapper;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Store
{
    /// <summary>How event_rows stores events (Schema version 7); the events view turns them back into the design's columns.</summary>
    public static class EventStorage
    {
        /// <summary>event_rows columns that hold a names id rather than a value: translated when rows move between databases.</summary>
        public static readonly HashSet<string> NameColumns = new HashSet<string>
        {
            "event_type", "category", "session_id", "story_id", "workflow_id", "agent_name", "details_shape",
        };

        /// <summary>
        /// Events are numbered in blocks of this many ids; event_blocks keeps each block's time span (a zone map), so a
        /// time window becomes an id range on the rows' own b-tree and the store needs no timestamp or story index.
        /// </summary>
        public const int BlockSize = 512;

        private const long NoBlock = 1L << 40;

        /// <summary>
        /// Conditions (each with a leading AND) that bound <paramref name="id"/> to the blocks whose time span can meet
        /// [<paramref name="from"/>, <paramref name="to"/>): SQL expressions or parameters, either may be null. The exact
        /// timestamp test stays with the caller; this only lets SQLite skip the rest.
        /// </summary>
        public static string IdBounds(string id, string? from, string? to)
        {
            var sb = new System.Text.StringBuilder();
            if (from != null)
                sb.Append($" AND {id} >= coalesce((SELECT min(block) FROM event_blocks WHERE max_ts >= {from}), {NoBlock}) * {BlockSize}");
            if (to != null)
                sb.Append($" AND {id} < (coalesce((SELECT max(block) FROM event_blocks WHERE min_ts < {to}), -1) + 1) * {BlockSize}");
            return sb.ToString();
        }

        /// <summary>The time window [from, to) on an events alias ("" for none): the exact test and its id bounds.</summary>
        public static string Window(string alias, string from, string to)
        {
            var a = alias.Length == 0 ? "" : alias + ".";
            return $"{a}timestamp >= {from} AND {a}timestamp < {to}{IdBounds(a + "id", from, to)}";
        }

        /// <summary>Keeps event_blocks equal to the rows after rows were deleted (retention) or copied in (archives).</summary>
        public static void RefreshBlocks(SqliteConnection c, SqliteTransaction tx, string schema = "main")
        {
            c.Execute($@"DELETE FROM {schema}.event_blocks;
                INSERT INTO {schema}.event_blocks(block, min_ts, max_ts)
                SELECT id / {BlockSize}, min(timestamp), max(timestamp) FROM {schema}.event_rows GROUP BY 1;", transaction: tx);
        }

        /// <summary>
        /// Deletes names no row refers to any more (after retention moved rows out), so the dictionary shrinks with the
        /// store. A details value d<i>k</i> is a name only where its shape has placeholder k + 4.
        /// </summary>
        public static int PruneNames(SqliteConnection c, SqliteTransaction tx)
        {
            var used = NameColumns.Select(col => $"SELECT {col} FROM event_rows WHERE {col} IS NOT NULL")
                .Concat(Enumerable.Range(1, Store.DetailsShape.Slots).Select(k =>
                    $"SELECT r.d{k} FROM event_rows r JOIN names sh ON sh.id = r.details_shape WHERE instr(sh.text, char({k + Store.DetailsShape.Slots}))"));
            return c.Execute($"DELETE FROM names WHERE id NOT IN ({string.Join(" UNION ", used)})", transaction: tx);
        }
    }
}

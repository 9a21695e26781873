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
        public static readonly string[] RowNameColumns = { "event_type", "category", "details_shape" };

        /// <summary>contexts columns (names ids; 0 for none), in the order of its unique key.</summary>
        public static readonly string[] ContextColumns = { "session_id", "story_id", "workflow_id", "agent_name" };

        /// <summary>
        /// SELECTs (joined by UNION) of every names id that rows of <paramref name="schema"/> matching <paramref name="where"/>
        /// (on alias r; "1" for all) refer to: directly, through their context, or as a details value (value k is a name
        /// only where the shape has placeholder k + 4).
        /// </summary>
        public static string NameIdsUsed(string schema, string where) => string.Join(" UNION ",
            RowNameColumns.Select(col => $"SELECT r.{col} FROM {schema}.event_rows r WHERE {where}")
                .Concat(ContextColumns.Select(col => $"SELECT x.{col} FROM {schema}.contexts x WHERE x.id IN (SELECT r.context FROM {schema}.event_rows r WHERE {where})"))
                .Concat(Enumerable.Range(1, DetailsShape.Slots).Select(k =>
                    $"SELECT r.d{k} FROM {schema}.event_rows r JOIN {schema}.names sh ON sh.id = r.details_shape WHERE instr(sh.text, char({k + DetailsShape.Slots})) AND {where}")));

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
        /// Deletes contexts and names no row refers to any more (after retention moved rows out), so the dictionaries
        /// shrink with the store.
        /// </summary>
        public static int PruneNames(SqliteConnection c, SqliteTransaction tx)
        {
            c.Execute("DELETE FROM contexts WHERE id NOT IN (SELECT context FROM event_rows)", transaction: tx);
            return c.Execute($"DELETE FROM names WHERE id NOT IN ({NameIdsUsed("main", "1")})", transaction: tx);
        }
    }
}

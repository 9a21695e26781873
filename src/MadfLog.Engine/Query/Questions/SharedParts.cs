using System;
using System.Collections.Generic;
using MadfLog.Engine.Store;
using Dapper;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query.Questions
{
    /// <summary>
    /// The parts of hours a window cuts (Sources' part events), decoded once and shared by the connections of a process:
    /// each cmdlet call opens a new connection, and decoding the parts was most of its cut window's question (10M events,
    /// a week from 13:27:42: about an hour's events at each end). They are found again only while the store's events are
    /// as they were (<see cref="Stamp"/>), and only the last few are kept.
    /// </summary>
    internal static class SharedParts
    {
        // A few windows (a session asks its questions of one or two); each holds the groups of some ten thousand events.
        private const int Most = 4;

        private static readonly LinkedList<Entry> Entries = new LinkedList<Entry>();

        private sealed class Entry
        {
            public string Store = "", Key = "", Stamp = "";
            public DayParts.Decoded Parts = null!;
        }

        /// <summary>
        /// What the store's events are, from the store itself (so another process's write counts): the last event id
        /// given (AUTOINCREMENT: every insert raises it), the change sequences the triggers raise on every update and
        /// delete of events and their extras (event_changes), the migrations run and when (a store made again at the same
        /// path, or a migration that rewrites rows without the triggers), and the sizes and times of the file and of its
        /// log of changes (WAL: every commit writes it): a file put in its place, and a write without the triggers (the
        /// combined store's refresh copies changed events again with its triggers dropped). Null when the connection is
        /// inside a transaction: what it sees may never be committed.
        /// </summary>
        internal static string? Stamp(SqliteConnection c)
        {
            if (string.IsNullOrEmpty(c.DataSource) || SQLitePCL.raw.sqlite3_get_autocommit(c.Handle) == 0) return null;
            var file = MadfDatabase.FileIdentity(c.DataSource);
            if (file.Length == 0) return null;
            return c.ExecuteScalar<string>(
                @"SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'event_rows'), 0)
                         || ':' || (SELECT seq FROM event_changes WHERE id = -1) || ':' || (SELECT seq FROM event_changes WHERE id = -2)
                         || ':' || (SELECT count(*) || '@' || min(applied) || '-' || max(applied) FROM schema_version)")
                   + ":" + file + ":" + MadfDatabase.FileIdentity(c.DataSource + "-wal");
        }

        /// <summary>The parts of <paramref name="key"/> decoded from <paramref name="store"/> as it is (<paramref name="stamp"/>), with their steps if asked; null if none.</summary>
        internal static DayParts.Decoded? Find(string store, string key, string stamp, bool steps)
        {
            lock (Entries)
                for (var e = Entries.First; e != null; e = e.Next)
                    if (e.Value.Store == store && e.Value.Key == key && e.Value.Stamp == stamp && (e.Value.Parts.Steps || !steps))
                    {
                        Entries.Remove(e);
                        Entries.AddFirst(e); // the most recently used first
                        return e.Value.Parts;
                    }
            return null;
        }

        /// <summary>
        /// Keeps parts decoded from <paramref name="store"/> as <paramref name="stamp"/> says it was before they were read,
        /// if it still says so after (a commit between may be in them): the stamp then names what they hold.
        /// </summary>
        internal static void Keep(SqliteConnection c, string key, string stamp, DayParts.Decoded parts)
        {
            if (Stamp(c) != stamp) return;
            lock (Entries)
            {
                for (var e = Entries.First; e != null; e = e.Next)
                    if (e.Value.Store == c.DataSource && e.Value.Key == key) { Entries.Remove(e); break; }
                Entries.AddFirst(new Entry { Store = c.DataSource, Key = key, Stamp = stamp, Parts = parts });
                while (Entries.Count > Most) Entries.RemoveLast();
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Events;
using MadfLog.Engine.Store;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Lifecycle
{
    /// <summary>
    /// What -IncludeArchive answers from: one store holding the active events and every archived month's (event_archives),
    /// with summaries over all of them, so the same question code answers over active + archived events exactly as a
    /// scan of them would. It is a cache in the archive folder's combined/, named combined-PPPPPPPP-AAAAAAAAAAAAAAAA.db (P
    /// the active store, A its archives' file identities and this build). Built once per set of archives: a snapshot of
    /// the active store (SQLite's backup: its events and its summaries, kept by the import) with each archive's rows
    /// copied in (EventStorage.CopyRows: ids kept, names translated) and counted into the summaries by the import's own
    /// definitions (Summaries.RollupStage's summaries, Summaries.SequenceStage's sequences). After that it is brought up
    /// to date with the active store by what changed (<see cref="Refresh"/>): new events (ids are never reused: those
    /// above the newest it holds), events changed in place (schema 25's event_changes) and merged patterns; only what it
    /// cannot follow (deleted events) builds it again. Retention carries it across a move (<see cref="Carry"/>, <see cref="Keep"/>):
    /// the events it holds are the same after the move. Get-MadfStorage counts it.
    /// </summary>
    public static class CombinedStore
    {
        /// <summary>The archive folder's subfolder that holds the caches.</summary>
        public const string FolderName = "combined";

        /// <summary>One archived month as event_archives lists it.</summary>
        public sealed class ArchiveFile
        {
            public string Period { get; set; } = "";
            public string ArchivePath { get; set; } = "";
            public long Events { get; set; }
            public long? FirstTimestamp { get; set; }
            public long? LastTimestamp { get; set; }
        }

        /// <summary>The archived months of the active store, oldest first.</summary>
        public static List<ArchiveFile> Archives(SqliteConnection active) => active.Query<ArchiveFile>(
            "SELECT period, archive_path AS ArchivePath, events, first_timestamp AS FirstTimestamp, last_timestamp AS LastTimestamp FROM event_archives ORDER BY period").ToList();

        /// <summary>The folder of the caches of a store whose archives are in <paramref name="archiveFolder"/>.</summary>
        public static string Folder(string archiveFolder) => Path.Combine(archiveFolder, FolderName);

        /// <summary>
        /// The path of a combined store that is up to date with the active store (open as <paramref name="active"/>) and
        /// its archives, built when there is none. A listed archive that is missing is ArchiveNotFound; one SQLite cannot
        /// read is ArchiveUnreadable (both name the file).
        /// </summary>
        public static string Prepare(SqliteConnection active, string activePath, List<ArchiveFile> archives, Action<string>? step = null)
        {
            activePath = Path.GetFullPath(activePath);
            foreach (var a in archives)
                if (!File.Exists(a.ArchivePath))
                    throw new MadfException("ArchiveNotFound", MadfErrorKind.NotFound,
                        string.Format(Messages.Culture, Messages.ArchiveNotFound, a.ArchivePath, a.Period, a.Events, activePath), a.ArchivePath);
            var (folder, prefix, path) = CachePath(activePath, archives);
            step ??= _ => { };
            // Read before anything else: a write to the active store after this point makes the next call look again.
            var stamp = Stamp(active, activePath, archives).ToString(CultureInfo.InvariantCulture);
            if (File.Exists(path) && Refresh(path, activePath, stamp, step))
            {
                RemoveStale(folder, prefix, path);
                return path;
            }

            Directory.CreateDirectory(folder);
            var temp = path + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
            try
            {
                Build(active, temp, archives, stamp, step);
                if (File.Exists(path)) TryDelete(path); // one that could not be brought up to date
                try { File.Move(temp, path); }
                catch (IOException) when (File.Exists(path)) { } // another process built the same sources meanwhile
            }
            finally
            {
                foreach (var f in new[] { temp, temp + "-wal", temp + "-shm", temp + "-journal" })
                    if (File.Exists(f)) TryDelete(f);
            }
            RemoveStale(folder, prefix, path);
            return path;
        }

        // The cache's folder (beside the newest archive), the prefix of the active store's caches, and the cache of these archives.
        private static (string folder, string prefix, string path) CachePath(string activePath, List<ArchiveFile> archives)
        {
            var folder = Folder(Path.GetDirectoryName(Path.GetFullPath(archives[archives.Count - 1].ArchivePath)) ?? ".");
            var prefix = "combined-" + ((ulong)StableHash.Hash(activePath.ToUpperInvariant())).ToString("x16", CultureInfo.InvariantCulture).Substring(0, 8) + "-";
            return (folder, prefix, Path.Combine(folder, prefix + ((ulong)ArchivesStamp(activePath, archives)).ToString("x16", CultureInfo.InvariantCulture) + ".db"));
        }

        /// <summary>
        /// A combined store that retention carries across a move (<see cref="Carry"/>, then <see cref="Keep"/>): moving events
        /// from the active store to an archive leaves active plus archived events the same, so the store that answers
        /// -IncludeArchive before the move answers it after, for the new archives, without reading any event back.
        /// </summary>
        public sealed class Carried
        {
            internal Carried(string path, long last, long changes) { Path = path; Last = last; Changes = changes; }

            /// <summary>The store, set aside (no call finds it by name) until the move is done.</summary>
            internal string Path { get; }

            /// <summary>The active store's newest id and last change in place that it holds.</summary>
            internal long Last { get; }
            internal long Changes { get; }

            /// <summary>Deletes the store when it is not kept (the move did not happen, or failed).</summary>
            public void Discard()
            {
                foreach (var f in new[] { Path, Path + "-wal", Path + "-shm", Path + "-journal" })
                    if (File.Exists(f)) TryDelete(f);
            }
        }

        /// <summary>
        /// Before retention moves events (the active store open as <paramref name="active"/>), the combined store it carries
        /// across the move, set aside in <paramref name="archiveFolder"/>'s cache folder: with nothing archived yet, a
        /// snapshot of the active store (its events are all the events); with archives, their cache brought up to date, when
        /// -IncludeArchive has built one (otherwise none: the first call builds it, as it would have without the move).
        /// </summary>
        public static Carried? Carry(SqliteConnection active, string activePath, string archiveFolder)
        {
            activePath = Path.GetFullPath(activePath);
            var archives = Archives(active);
            var folder = Folder(archiveFolder);
            Directory.CreateDirectory(folder);
            var carried = Path.Combine(folder, "carried-" + Guid.NewGuid().ToString("N").Substring(0, 8) + ".db");
            try
            {
                if (archives.Count == 0)
                    Build(active, carried, archives, "", _ => { });
                else
                {
                    if (archives.Any(a => !File.Exists(a.ArchivePath)) || !File.Exists(CachePath(activePath, archives).path)) return null;
                    File.Move(Prepare(active, activePath, archives), carried);
                }
                using var c = MadfDatabase.Open(carried, forWrite: false);
                var saved = c.Query<(string name, long value)>("SELECT name, value FROM combined_state WHERE name IN ('last', 'changes')").ToDictionary(r => r.name, r => r.value);
                return new Carried(carried, saved["last"], saved["changes"]);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is SqliteException || ex is MadfException)
            {
                // A cache open elsewhere (Windows) or an archive that cannot be read: nothing carried, the next call builds.
                new Carried(carried, 0, 0).Discard();
                return null;
            }
        }

        /// <summary>
        /// After retention moved events (and the active store, open as <paramref name="active"/>, is as it leaves it): the
        /// carried store becomes the cache of the new archives, holding the active store's events as the move left them
        /// (its deletions are no change to active plus archived events). When an import or a change in place reached the
        /// active store meanwhile, it is discarded: an event imported meanwhile may have been moved with the others, and
        /// the next call builds the cache.
        /// </summary>
        public static void Keep(Carried carried, SqliteConnection active, string activePath)
        {
            activePath = Path.GetFullPath(activePath);
            var archives = Archives(active);
            var now = ActiveState(active, "main");
            if (archives.Count == 0 || now.Last != carried.Last || now.Changes != carried.Changes) { carried.Discard(); return; }
            var (folder, prefix, path) = CachePath(activePath, archives);
            try
            {
                using (var c = MadfDatabase.Open(carried.Path))
                using (var tx = c.BeginTransaction())
                {
                    // Stamped with no stamp: the next call brings it up to date, which finds its events current and copies
                    // the active store's other tables again (patterns or rules written while the events moved).
                    SaveState(c, tx, "", now);
                    tx.Commit();
                }
                Directory.CreateDirectory(folder);
                if (File.Exists(path)) TryDelete(path);
                File.Move(carried.Path, path);
                RemoveStale(folder, prefix, path);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is SqliteException)
            {
                carried.Discard();
            }
        }

        // Caches of other archives are stale: removed (one still open by another process stays until the next time).
        private static void RemoveStale(string folder, string prefix, string path)
        {
            foreach (var old in Directory.GetFiles(folder, prefix + "*.db"))
                if (!string.Equals(old, path, StringComparison.OrdinalIgnoreCase)) TryDelete(old);
        }

        /// <summary>Removes the caches in an archive folder (retention calls it when it moved events: they no longer match).</summary>
        public static void Remove(string archiveFolder)
        {
            var folder = Folder(archiveFolder);
            if (!Directory.Exists(folder)) return;
            foreach (var f in Directory.GetFiles(folder, "combined-*")) TryDelete(f);
        }

        /// <summary>The bytes the caches take in an archive folder.</summary>
        public static long Bytes(string archiveFolder)
        {
            var folder = Folder(archiveFolder);
            return Directory.Exists(folder) ? Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length) : 0;
        }

        // What the cache's archived part was built from (its name): the active store's path, each archive's file identity,
        // and the build (its summaries' definitions). Other archives give another name, so a cache is never read for them.
        private static long ArchivesStamp(string activePath, List<ArchiveFile> archives)
        {
            var parts = new List<string?>
            {
                typeof(CombinedStore).Assembly.ManifestModule.ModuleVersionId.ToString(), Schema.CurrentVersion.ToString(CultureInfo.InvariantCulture), activePath,
            };
            foreach (var a in archives)
            {
                parts.Add(a.Period + "=" + Path.GetFullPath(a.ArchivePath) + ":" + a.Events);
                parts.Add(MadfDatabase.FileIdentity(a.ArchivePath));
                parts.Add(MadfDatabase.FileIdentity(a.ArchivePath + "-wal"));
            }
            return StableHash.Hash(parts.ToArray());
        }

        // The active store as the cache last saw it: its file (a write changes its size or time, or its WAL's) and change
        // marker (newest event, changes in place, events counted by the summaries, patterns). Equal: nothing to bring up
        // to date (the repeated call's few milliseconds).
        private static long Stamp(SqliteConnection active, string activePath, List<ArchiveFile> archives) => StableHash.Hash(
            ArchivesStamp(activePath, archives).ToString(CultureInfo.InvariantCulture), MadfDatabase.FileIdentity(activePath), MadfDatabase.FileIdentity(activePath + "-wal"),
            active.ExecuteScalar<string>(@"SELECT coalesce((SELECT max(id) FROM event_rows), 0) || ':' || coalesce((SELECT sum(events) FROM week_rollup), 0)
                || ':' || (SELECT group_concat(seq) FROM event_changes WHERE id < 0)
                || ':' || (SELECT count(*) FROM patterns) || ':' || coalesce((SELECT sum(event_count) FROM patterns), 0) || ':' || (SELECT count(*) FROM patterns WHERE merged_into IS NOT NULL)"));


        // step: called after each part with its name (snapshot, copied-YYYY-MM, summaries, blocks; the archive bench times them).
        private static void Build(SqliteConnection active, string temp, List<ArchiveFile> archives, string stamp, Action<string> step)
        {
            // A consistent snapshot of the active store (a concurrent import commits before or after it), pages copied as they are.
            using (var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = temp, Pooling = false }.ToString()))
            {
                target.Open();
                active.BackupDatabase(target);
            }
            step("snapshot");
            using var c = MadfDatabase.Open(temp);
            // A file nobody reads until it is complete (a failed build is deleted): no journal, no syncs while building.
            c.Execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;");
            // What of the active store the snapshot holds, for bringing it up to date later (Refresh); the active store's
            // list of changes is its own, and this store's own changes need none.
            var state = ActiveState(c, "main");
            c.Execute("DELETE FROM event_changes WHERE id > 0;" + string.Concat(ChangeTriggers.Select(t => $" DROP TRIGGER IF EXISTS {t};")));
            foreach (var a in archives)
            {
                try
                {
                    // Opened on its own first: an archive written by an earlier build is migrated to this schema.
                    using (MadfDatabase.Open(a.ArchivePath, forWrite: false)) { }
                    c.Execute("ATTACH DATABASE @path AS src", new { path = a.ArchivePath });
                    try
                    {
                        using var tx = c.BeginTransaction();
                        EventStorage.CopyRows(c, tx, "src", "main", where: null);
                        step("copied-" + a.Period);
                        // Merges since the month was archived moved the active events only: its events follow them here.
                        EventStorage.MovePatterns(c, tx, Survivors(c, tx, "main"), "id IN (SELECT id FROM src.event_rows)");
                        // Counted into the active store's summaries by the import's definitions, in the order it stored them.
                        var (first, last) = c.QuerySingle<(long, long)>("SELECT coalesce(min(id), 0), coalesce(max(id), -1) FROM src.event_rows", transaction: tx);
                        var reader = new RowReader(c, tx);
                        var parts = new Dictionary<string, TimeSpan>();
                        var clock = System.Diagnostics.Stopwatch.StartNew();
                        void Part(string name) { parts[name] = (parts.TryGetValue(name, out var t) ? t : TimeSpan.Zero) + clock.Elapsed; clock.Restart(); }
                        for (var from = first; from <= last; from += CountedAtOnce)
                        {
                            var rows = reader.Read("e.id >= @from AND e.id < @to AND e.id IN (SELECT id FROM src.event_rows WHERE id >= @from AND id < @to)",
                                new { from, to = from + CountedAtOnce });
                            Part("read");
                            Count(c, tx, rows, new Summaries.RollupStage.Summaries(), Part);
                        }
                        tx.Commit();
                        step("counted-" + a.Period + " (" + string.Join(", ", parts.Select(p => p.Key + " " + p.Value.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s")) + ")");
                    }
                    finally
                    {
                        c.Execute("DETACH DATABASE src");
                    }
                }
                catch (Exception ex) when (ex is SqliteException || (ex is MadfException m && m.ErrorId != "ArchiveNotFound"))
                {
                    var reason = ex is SqliteException s ? s.Message : ex.Message;
                    throw new MadfException("ArchiveUnreadable", MadfErrorKind.InvalidData,
                        string.Format(Messages.Culture, Messages.ArchiveUnreadable, a.ArchivePath, a.Period, reason.TrimEnd('.')), a.ArchivePath, ex);
                }
            }
            using (var tx = c.BeginTransaction())
            {
                // Nothing is archived from this store's point of view: its questions cover every event it holds.
                c.Execute("DELETE FROM event_archives", transaction: tx);
                if (archives.Count > 0) EventStorage.RefreshBlocks(c, tx); // the snapshot's blocks hold its own rows
                SaveState(c, tx, stamp, state);
                tx.Commit();
            }
            step("blocks");
        }

        /// <summary>The triggers that list an active store's changes (schema 25), dropped in a combined store.</summary>
        private static readonly string[] ChangeTriggers = { "event_rows_updated", "event_rows_deleted", "event_extras_inserted", "event_extras_updated" };

        /// <summary>The tables of events and their names, ids and blocks: a combined store takes the active store's rows from them by id.</summary>
        private static readonly string[] EventTables =
        {
            "event_rows", "event_extras", "names", "kinds", "contexts", "response_keys", "response_keys_recent", "event_keys", "event_keys_recent", "archived_keys",
            "event_blocks", "event_block_days", "event_archives", "event_changes", "combined_state",
        };

        /// <summary>How far a combined store follows the active store: its newest event, its last change in place, its deletions.</summary>
        private sealed class State
        {
            public long Last { get; set; }
            public long Changes { get; set; }
            public long Deleted { get; set; }
        }

        // Last is the newest id the store ever gave (event_rows' AUTOINCREMENT counter), not the newest row it still holds:
        // once retention moved every event out, no row is left, and the archived ids must not count as new ones.
        private static State ActiveState(SqliteConnection c, string schema, SqliteTransaction? tx = null) => c.QuerySingle<State>(
            $@"SELECT coalesce((SELECT seq FROM {schema}.sqlite_sequence WHERE name = 'event_rows'), 0) AS Last, (SELECT seq FROM {schema}.event_changes WHERE id = -1) AS Changes,
                      (SELECT seq FROM {schema}.event_changes WHERE id = -2) AS Deleted", transaction: tx);

        private static void SaveState(SqliteConnection c, SqliteTransaction tx, string stamp, State state) =>
            c.Execute(@"INSERT OR REPLACE INTO combined_state VALUES ('stamp', @stamp), ('last', @Last), ('changes', @Changes), ('deleted', @Deleted)",
                new { stamp, state.Last, state.Changes, state.Deleted }, tx);

        /// <summary>
        /// Brings an existing combined store up to date with the active store, by what changed since it last looked
        /// (nothing: the stamp is the same): patterns merged since (their events and summary rows follow the survivor, as
        /// PatternStore.MergeInto moved them in the active store), events changed in place (taken again; a response's grown
        /// usage added to the summaries as the import adds it), the events above the newest it holds (taken and counted by
        /// the import's own stages: Summaries.RollupStage's summaries, Summaries.SequenceStage's sequences), and the
        /// active store's other tables (patterns, rules, ...) as they are. False when it cannot (events deleted, or changed
        /// in a way the summaries cannot follow): the caller builds it again.
        /// </summary>
        private static bool Refresh(string path, string activePath, string stamp, Action<string> step)
        {
            using var c = MadfDatabase.Open(path);
            Dictionary<string, string> Saved(SqliteTransaction? tx) =>
                c.Query<(string name, string value)>("SELECT name, CAST(value AS TEXT) FROM combined_state", transaction: tx).ToDictionary(r => r.name, r => r.value);
            if (!Saved(null).TryGetValue("stamp", out var was)) return false;
            if (was == stamp) return true;
            c.Execute("ATTACH DATABASE @path AS act", new { path = activePath });
            try
            {
                using var tx = c.BeginTransaction(deferred: false);
                // Read again under the write lock: another process may have brought it up to date meanwhile.
                var saved = Saved(tx);
                if (!saved.TryGetValue("stamp", out was) || !saved.TryGetValue("last", out var last) || !saved.TryGetValue("changes", out var changes)
                    || !saved.TryGetValue("deleted", out var deleted)) return false;
                if (was == stamp) return true;
                var then = new State
                {
                    Last = long.Parse(last, CultureInfo.InvariantCulture), Changes = long.Parse(changes, CultureInfo.InvariantCulture), Deleted = long.Parse(deleted, CultureInfo.InvariantCulture),
                };
                // One read of the active store: a concurrent import commits before or after it.
                var now = ActiveState(c, "act", tx);
                if (now.Deleted != then.Deleted || now.Last < then.Last) return false;
                if (!FollowMerges(c, tx)) return false;
                step("merges");
                var summaries = new Summaries.RollupStage.Summaries();
                if (!TakeChanged(c, tx, then, summaries)) return false;
                step("changed");
                EventStorage.CopyRows(c, tx, "act", "main", "r.id > @Last", new { then.Last });
                var added = new RowReader(c, tx).Read("e.id > @Last", new { then.Last });
                step("added:" + added.Count.ToString(CultureInfo.InvariantCulture));
                // The other tables as the active store has them now (the sequences' classes read patterns).
                var own = new HashSet<string>(EventTables.Concat(SummaryTables.Names), StringComparer.OrdinalIgnoreCase);
                foreach (var table in c.Query<string>("SELECT name FROM act.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'", transaction: tx).Where(t => !own.Contains(t)).ToList())
                    c.Execute($"DELETE FROM main.{table}; INSERT INTO main.{table} SELECT * FROM act.{table};", transaction: tx);
                Count(c, tx, added, summaries);
                step("summaries");
                if (added.Count > 0) EventStorage.RefreshBlocks(c, tx, "main", (then.Last + 1) / EventStorage.BlockSize);
                SaveState(c, tx, stamp, now);
                tx.Commit();
                step("blocks");
                return true;
            }
            finally
            {
                c.Execute("DETACH DATABASE act");
            }
        }

        /// <summary>How many events are read and counted at once (memory stays flat in the archives' size).</summary>
        private const long CountedAtOnce = 262_144;

        // Counts events into the summaries (Summaries.RollupStage's definitions, added to those stored, as the import
        // adds a batch) and the error sequences (Summaries.SequenceStage, each session carried on from its stored rows).
        private static void Count(SqliteConnection c, SqliteTransaction tx, List<EventRow> rows, Summaries.RollupStage.Summaries summaries, Action<string>? step = null)
        {
            foreach (var e in rows) summaries.Add(e, 1);
            summaries.Derive();
            SummaryTables.Write(c, tx, summaries.Rows);
            step?.Invoke("summaries");
            var sequences = new Summaries.SequenceStage();
            sequences.AfterWrite(rows, null, c, tx);
            sequences.BeforeCommit(c, tx);
            step?.Invoke("sequences");
        }

        // Each merged pattern of a schema's patterns table and its survivor (merges followed to the end).
        private static Dictionary<long, long> Survivors(SqliteConnection c, SqliteTransaction tx, string schema)
        {
            var into = c.Query<(long id, long? mergedInto)>($"SELECT id, merged_into FROM {schema}.patterns", transaction: tx).ToDictionary(r => r.id, r => r.mergedInto);
            long Survivor(long id)
            {
                for (var hops = 0; hops < 64 && into.TryGetValue(id, out var next) && next.HasValue && next.Value != id; hops++) id = next.Value;
                return id;
            }
            return into.Where(kv => kv.Value.HasValue && Survivor(kv.Key) != kv.Key).ToDictionary(kv => kv.Key, kv => Survivor(kv.Key));
        }

        // Patterns merged in the active store since the combined store copied its patterns: their events (archived ones
        // too) and summary rows move to the survivor. False for a change it cannot follow (a merge undone or redirected).
        private static bool FollowMerges(SqliteConnection c, SqliteTransaction tx)
        {
            var now = Survivors(c, tx, "act");
            var then = Survivors(c, tx, "main");
            // A merge undone, or redirected other than by merging its survivor on: built again.
            if (then.Any(kv => !now.TryGetValue(kv.Key, out var s) || (s != kv.Value && !now.ContainsKey(kv.Value)))) return false;
            var moved = now.Where(kv => !then.TryGetValue(kv.Key, out var s) || s != kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value);
            // Rows still at a pattern merged since (at most the survivors of before, which were patterns of their own).
            EventStorage.MovePatterns(c, tx, moved, "1");
            foreach (var kv in moved) SummaryTables.MovePattern(c, tx, kv.Key, kv.Value);
            return true;
        }

        // The events the active store changed in place since (schema 25's event_changes), taken again. Only what the
        // import itself changes in place without counting the event again is followed in the summaries: a response's
        // usage grown (its tokens added, as Summaries.RollupStage adds them) and flags the summaries do not count (review,
        // pattern detected), extras (a created rule). Anything else: false.
        private static bool TakeChanged(SqliteConnection c, SqliteTransaction tx, State then, Summaries.RollupStage.Summaries summaries)
        {
            c.Execute(@"DROP TABLE IF EXISTS temp.changed_events;
                CREATE TEMP TABLE changed_events AS SELECT id FROM act.event_changes WHERE id > 0 AND id <= @Last AND seq > @Changes", then, tx);
            const string changed = "e.id IN (SELECT id FROM temp.changed_events)";
            var before = new RowReader(c, tx).Read(changed, null).ToDictionary(e => e.Id);
            EventStorage.DeleteRows(c, tx, "id IN (SELECT id FROM temp.changed_events)");
            EventStorage.CopyRows(c, tx, "act", "main", "r.id IN (SELECT id FROM temp.changed_events)");
            var after = new RowReader(c, tx).Read(changed, null);
            if (after.Count != before.Count) return false;
            foreach (var e in after)
            {
                var b = before[e.Id];
                if (e.Timestamp != b.Timestamp || e.EventType != b.EventType || e.Category != b.Category || e.SessionId != b.SessionId || e.StoryId != b.StoryId
                    || e.WorkflowId != b.WorkflowId || e.AgentName != b.AgentName || e.DurationMs != b.DurationMs || e.Success != b.Success
                    || e.PatternId != b.PatternId || e.TimeSavedOrWastedMs != b.TimeSavedOrWastedMs || e.Step != b.Step)
                    return false;
                var growth = (e.TokensUsed ?? 0) - (b.TokensUsed ?? 0);
                if (growth < 0 || (growth == 0 && e.ContextPercent != b.ContextPercent)) return false;
                if (growth == 0) continue;
                e.TokensGrowth = growth;
                summaries.AddGrowth(e);
            }
            c.Execute("DROP TABLE temp.changed_events", transaction: tx);
            return true;
        }

        /// <summary>
        /// The events matching a condition on event_rows e, in id order, with what the summaries count (the values of
        /// SummaryTables.Columns): read as integers from event_rows, each kind and context named once, and a tool call's or
        /// step's step named once per key of its type, details shape and the values its name depends on
        /// (Query.Questions.DayParts.StepSlots), by one event of that key decoded through the events view (Steps.NameSql,
        /// as the scan reads it). Decoding every archived event's details through the view was most of the first
        /// -IncludeArchive call after a rotation (bench archive: 15 of 29 s at 1M events). One reader per transaction:
        /// the names it keeps are the store's as the transaction sees them.
        /// </summary>
        private sealed class RowReader
        {
            private readonly SqliteConnection _c;
            private readonly SqliteTransaction _tx;
            private readonly Dictionary<long, (string Type, string Category, bool? Success, bool Named, long Shape)> _kinds = new Dictionary<long, (string, string, bool?, bool, long)>();
            private readonly Dictionary<long, (string? Session, string? Story, string? Workflow, string? Agent)> _contexts = new Dictionary<long, (string?, string?, string?, string?)>();
            private readonly Dictionary<(long Kind, long Shape), int[]> _slots = new Dictionary<(long, long), int[]>();
            private readonly Dictionary<Query.Questions.DayParts.StepKey, string> _steps = new Dictionary<Query.Questions.DayParts.StepKey, string>();

            public RowReader(SqliteConnection c, SqliteTransaction tx) { _c = c; _tx = tx; }

            // The pass's columns: the event, its figures (the context figure as the events view gives it), and its details'
            // values (the shape is the kind's).
            private static readonly string Pass = $@"SELECT e.id, {EventStorage.TimeOf("e", "eb")}, e.kind, e.context, e.duration_ms, e.tokens_used, {EventWriter.ContextPercentSql("e")}, e.pattern_id,
                    (SELECT x.{EventStorage.Wasted} FROM event_extras x WHERE x.id = e.id), {string.Join(", ", EventStorage.ValueColumns.Select(v => "e." + v))} FROM event_rows e {EventStorage.BlockJoin("e", "eb")}";
            private const int ValueBase = 8; // details value k is column ValueBase + k

            public List<EventRow> Read(string where, object? p)
            {
                var rows = new List<EventRow>();
                var keyed = new List<(EventRow Row, Query.Questions.DayParts.StepKey Key)>();
                var pending = new Dictionary<Query.Questions.DayParts.StepKey, long>(); // a step key not named yet, and one event that has it
                var contexts = new Dictionary<long, List<EventRow>>();
                var key = new System.Text.StringBuilder();
                using (var reader = _c.ExecuteReader($"{Pass} WHERE {where} ORDER BY e.id", p, _tx))
                    while (reader.Read())
                    {
                        var s = StatementRow.Of(reader);
                        var kind = Kind(s.Int64(2));
                        var e = new EventRow
                        {
                            Id = s.Int64(0), Timestamp = s.Int64(1), EventType = kind.Type, Category = kind.Category, Success = kind.Success,
                            DurationMs = s.NullableInt64(4), TokensUsed = s.NullableInt64(5), ContextPercent = s.NullableDouble(6), PatternId = s.NullableInt64(7),
                            TimeSavedOrWastedMs = s.NullableInt64(8), Step = kind.Type,
                        };
                        rows.Add(e);
                        if (!s.IsNull(3))
                        {
                            var context = s.Int64(3);
                            if (_contexts.TryGetValue(context, out var x)) Name(e, x);
                            else
                            {
                                if (!contexts.TryGetValue(context, out var waiting)) contexts[context] = waiting = new List<EventRow>();
                                waiting.Add(e);
                            }
                        }
                        if (!kind.Named) continue;
                        var shape = kind.Shape;
                        if (!_slots.TryGetValue((s.Int64(2), shape), out var depends)) _slots[(s.Int64(2), shape)] = depends = Query.Questions.DayParts.StepSlots(_c, kind.Type, shape, _tx);
                        var stepKey = Query.Questions.DayParts.StepKey.Of(kind.Type, shape, depends, s, ValueBase, key);
                        if (_steps.TryGetValue(stepKey, out var step)) { e.Step = step; continue; }
                        keyed.Add((e, stepKey));
                        if (!pending.ContainsKey(stepKey)) pending[stepKey] = e.Id;
                    }
                if (contexts.Count > 0)
                    foreach (var x in _c.Query<(long id, string? session, string? story, string? workflow, string? agent)>(
                                 @"SELECT x.id, s.text, st.text, w.text, a.text FROM contexts x LEFT JOIN names s ON s.id = x.session_id LEFT JOIN names st ON st.id = x.story_id
                                   LEFT JOIN names w ON w.id = x.workflow_id LEFT JOIN names a ON a.id = x.agent_name WHERE x.id IN (SELECT value FROM json_each(@ids))",
                                 new { ids = "[" + string.Join(",", contexts.Keys) + "]" }, _tx))
                    {
                        _contexts[x.id] = (x.session, x.story, x.workflow, x.agent);
                        foreach (var e in contexts[x.id]) Name(e, _contexts[x.id]);
                    }
                if (pending.Count > 0)
                {
                    var names = Query.Questions.DayParts.StepNames(_c, pending.Values, _tx);
                    foreach (var kv in pending) _steps[kv.Key] = names[kv.Value];
                    foreach (var (e, stepKey) in keyed) e.Step = _steps[stepKey];
                }
                return rows;
            }

            private static void Name(EventRow e, (string? Session, string? Story, string? Workflow, string? Agent) x)
            {
                e.SessionId = x.Session; e.StoryId = x.Story; e.WorkflowId = x.Workflow; e.AgentName = x.Agent;
            }

            // A kind's type, category, outcome and details shape (-1: stored whole in d1, or none); read again when the store
            // has gained kinds (rows copied in).
            private (string Type, string Category, bool? Success, bool Named, long Shape) Kind(long id)
            {
                if (_kinds.TryGetValue(id, out var k)) return k;
                foreach (var r in _c.Query<(long id, string type, string category, long? success, long shape)>(
                             "SELECT k.id, t.text, cat.text, k.success, k.details_shape FROM kinds k LEFT JOIN names t ON t.id = k.event_type LEFT JOIN names cat ON cat.id = k.category", transaction: _tx))
                    _kinds[r.id] = (r.type, r.category, r.success is null or -1 ? (bool?)null : r.success != 0, Domain.Steps.Kind(r.type) != "event", r.shape == 0 ? -1 : r.shape);
                return _kinds[id];
            }
        }

        private static void TryDelete(string file)
        {
            try { File.Delete(file); }
            catch (IOException) { } // open elsewhere (Windows): removed next time
            catch (UnauthorizedAccessException) { }
        }
    }
}

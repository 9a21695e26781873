using System;
using System.IO;
using System.Linq;
using Dapper;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Opens (and creates or migrates) a MadfLog SQLite store. WAL and a busy timeout let analysis
    /// run while an import writes. Every failure becomes a <see cref="MadfException"/> naming the file.
    /// </summary>
    public static class MadfDatabase
    {
        private const int SqliteBusy = 5, SqliteLocked = 6, SqliteReadOnly = 8, SqliteCantOpen = 14, SqliteNotADb = 26, SqliteCorrupt = 11, SqlitePerm = 3;

        /// <summary>
        /// Opens the store for reading and writing, creating it (and its folder) when missing. A store of an older schema
        /// is upgraded first (every migration in one transaction); <paramref name="upgrading"/> hears of each migration
        /// before it runs and once it ran (an upgrade can take minutes on a large store).
        /// </summary>
        public static SqliteConnection Open(string? path, bool forWrite = true, Action<SchemaUpgradeStep>? upgrading = null)
        {
            var full = Path.GetFullPath(string.IsNullOrWhiteSpace(path) ? StoreLocation.DefaultDatabasePath() : path!);
            var exists = File.Exists(full);
            if (!exists && !forWrite)
                throw new MadfException("DatabaseNotFound", MadfErrorKind.NotFound,
                    string.Format(Messages.Culture, Messages.DatabaseNotFound, full), full);

            var readOnlyFile = exists && (File.GetAttributes(full) & FileAttributes.ReadOnly) != 0;
            if (readOnlyFile && forWrite)
                throw new MadfException("DatabaseReadOnly", MadfErrorKind.ReadOnly,
                    string.Format(Messages.Culture, Messages.DatabaseReadOnlyFile, full), full);

            if (!exists)
            {
                var dir = Path.GetDirectoryName(full);
                if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            }

            var builder = new SqliteConnectionStringBuilder
            {
                DataSource = full,
                Mode = readOnlyFile ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
                Pooling = false,
                DefaultTimeout = 60,
            };
            var connection = new SqliteConnection(builder.ToString());
            try
            {
                connection.Open();
                connection.Execute("PRAGMA busy_timeout = 10000;");
                if (!readOnlyFile)
                {
                    // A new store frees its free pages (an import's last commit leaves some: ReleaseFreePages); the mode
                    // can only be set before the first table, so an older store takes it at its next VACUUM (rotation).
                    if (!exists) connection.Execute("PRAGMA auto_vacuum = INCREMENTAL;");
                    connection.Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
                }
                connection.Execute("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;");
                // Migrations and retention bucket durations as the import does; day histograms merge in SQL upserts.
                DayHistogram.Register(connection);
                Migrate(connection, full, readOnlyFile, upgrading);
                return connection;
            }
            catch (SqliteException ex)
            {
                connection.Dispose();
                throw Translate(ex, full);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>
        /// A store file's size and last write time; "" for a file that is missing or empty (an idle WAL): what tells a
        /// cache built from the file that it changed (each commit writes the WAL, a checkpoint the file).
        /// </summary>
        internal static string FileIdentity(string file)
        {
            var info = new FileInfo(file);
            return info.Exists && info.Length > 0 ? info.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + "@" + info.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        }

        /// <summary>Turns SQLite's codes into errors a user can act on.</summary>
        public static MadfException Translate(SqliteException ex, string path)
        {
            switch (ex.SqliteErrorCode)
            {
                case SqliteCorrupt:
                    return new MadfException("DatabaseCorrupt", MadfErrorKind.InvalidData,
                        string.Format(Messages.Culture, Messages.DatabaseCorrupt, path, ex.Message.TrimEnd('.')), path, ex);
                case SqliteNotADb:
                    return new MadfException("DatabaseNotMadfLog", MadfErrorKind.InvalidData,
                        string.Format(Messages.Culture, Messages.DatabaseNotMadfLog, path, ex.Message.TrimEnd('.')), path, ex);
                case SqliteReadOnly:
                case SqlitePerm:
                    return new MadfException("DatabaseReadOnly", MadfErrorKind.ReadOnly,
                        string.Format(Messages.Culture, Messages.DatabaseCannotWrite, path, ex.Message.TrimEnd('.')), path, ex);
                case SqliteCantOpen:
                    return new MadfException("DatabaseCannotOpen", MadfErrorKind.Io,
                        string.Format(Messages.Culture, Messages.DatabaseCannotOpen, path, ex.Message.TrimEnd('.')), path, ex);
                default:
                    return new MadfException("DatabaseError", MadfErrorKind.Io, string.Format(Messages.Culture, Messages.DatabaseError, path, ex.Message), path, ex);
            }
        }

        private static void Migrate(SqliteConnection connection, string path, bool readOnly, Action<SchemaUpgradeStep>? upgrading)
        {
            if (Version(connection, path) == Schema.CurrentVersion) return; // the usual case, without taking the write lock
            if (readOnly) { CheckVersion(connection, path, readOnly); return; }

            // Several processes may create or upgrade the same file at once: take the write lock first (BEGIN IMMEDIATE
            // waits for the busy timeout), then read the version again, so each migration runs exactly once.
            using var tx = connection.BeginTransaction(deferred: false);
            var version = CheckVersion(connection, path, readOnly, tx);
            if (version == Schema.CurrentVersion) { tx.Commit(); return; }
            connection.Execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied INTEGER NOT NULL)", transaction: tx);
            var migrations = Schema.MigrationsAfter(version).ToList();
            for (var i = 0; i < migrations.Count; i++)
            {
                var migration = migrations[i];
                // A new store runs them all in moments: only an upgrade is reported.
                var step = version == 0 ? null : new SchemaUpgradeStep(path, version, migration.Key, i, migrations.Count, null);
                if (step != null) upgrading?.Invoke(step);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                connection.Execute(migration.Value, transaction: tx);
                Schema.AfterScript(migration.Key, connection, tx);
                connection.Execute("INSERT INTO schema_version(version, applied) VALUES (@v, @t)",
                    new { v = migration.Key, t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, tx);
                if (step != null) upgrading?.Invoke(new SchemaUpgradeStep(path, version, migration.Key, i, migrations.Count, clock.Elapsed));
            }
            var commit = System.Diagnostics.Stopwatch.StartNew();
            tx.Commit();
            if (version == 0) return;
            upgrading?.Invoke(new SchemaUpgradeStep(path, version, Schema.CurrentVersion, migrations.Count, migrations.Count, commit.Elapsed));
            GiveBackFreePages(connection, path, version, migrations.Count, upgrading);
        }

        private static int Version(SqliteConnection connection, string path, SqliteTransaction? tx = null)
        {
            var hasVersionTable = connection.ExecuteScalar<long>(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'", transaction: tx) > 0;
            if (hasVersionTable) return connection.ExecuteScalar<int?>("SELECT max(version) FROM schema_version", transaction: tx) ?? 0;
            var tables = connection.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type='table'", transaction: tx);
            if (tables > 0)
                throw new MadfException("DatabaseNotMadfLog", MadfErrorKind.InvalidData,
                    string.Format(Messages.Culture, Messages.DatabaseNoSchemaVersion, path), path);
            return 0;
        }

        private static int CheckVersion(SqliteConnection connection, string path, bool readOnly, SqliteTransaction? tx = null)
        {
            var version = Version(connection, path, tx);
            if (version > Schema.CurrentVersion)
                throw new MadfException("DatabaseTooNew", MadfErrorKind.VersionMismatch,
                    string.Format(Messages.Culture, Messages.DatabaseTooNew, path, version, Schema.CurrentVersion), path);
            if (version != Schema.CurrentVersion && readOnly)
                throw new MadfException("DatabaseReadOnly", MadfErrorKind.ReadOnly,
                    string.Format(Messages.Culture, Messages.DatabaseNeedsUpgradeReadOnly, path, version, Schema.CurrentVersion), path);
            return version;
        }

        /// <summary>
        /// After an upgrade, a store made before incremental auto-vacuum takes the mode (and gives back the pages its
        /// migrations freed, dropped tables and columns): SQLite sets it only by a VACUUM, which cannot run inside the
        /// migrations' transaction, and without it the file would keep them until its next rotation. Once, as the upgrade
        /// is already the wait the user expects for a rewrite of the store; from then on each import hands its free pages
        /// back (<see cref="ReleaseFreePages"/>). The copy VACUUM builds goes to a temporary file, not memory (a 10M-event
        /// store is 700 MB). The upgrade has committed by then, so nothing here fails the command: another process holding
        /// the store (SQLITE_BUSY) leaves it to the rotation, and so does any other failure (a full disk, an I/O error, no
        /// room for the temporary copy), told as the step's <see cref="SchemaUpgradeStep.Problem"/> (a warning). The store
        /// keeps working without the mode; the rotation's VACUUM sets it (<see cref="OwesVacuum"/>). A store in the mode
        /// hands back the pages its migrations freed at once (a table rewritten, as 50's response keys), not at the next
        /// import; a failure there (another process writing) leaves them to that import.
        /// </summary>
        private static void GiveBackFreePages(SqliteConnection connection, string path, int from, int count, Action<SchemaUpgradeStep>? upgrading)
        {
            if (!OwesVacuum(connection))
            {
                try { ReleaseFreePages(connection); }
                catch (SqliteException) { }
                return;
            }
            upgrading?.Invoke(new SchemaUpgradeStep(path, from, Schema.CurrentVersion, count + 1, count, null));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            string? problem = null;
            try
            {
                BeforeVacuum?.Invoke(connection);
                connection.Execute("PRAGMA temp_store = FILE; PRAGMA auto_vacuum = INCREMENTAL; VACUUM; PRAGMA wal_checkpoint(TRUNCATE);");
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteBusy || ex.SqliteErrorCode == SqliteLocked) { }
            catch (SqliteException ex)
            {
                problem = string.Format(Messages.Culture, Messages.UpgradeVacuumFailed, path, ex.Message.Split('\n')[0]);
            }
            finally
            {
                connection.Execute("PRAGMA temp_store = MEMORY;");
            }
            upgrading?.Invoke(new SchemaUpgradeStep(path, from, Schema.CurrentVersion, count + 1, count, clock.Elapsed, problem));
        }

        /// <summary>Tests only: runs on the connection just before the upgrade's VACUUM (to make it fail as a full disk would).</summary>
        [ThreadStatic] internal static Action<SqliteConnection>? BeforeVacuum;

        /// <summary>
        /// The store is not in incremental auto-vacuum mode: made before it, its upgrade's VACUUM did not run to its end
        /// (another process held it, the disk was full), or its file existed empty when first opened. A VACUUM sets the mode.
        /// </summary>
        public static bool OwesVacuum(SqliteConnection connection) => connection.ExecuteScalar<long>("PRAGMA auto_vacuum") != 2;

        /// <summary>
        /// Gives the store's free pages back to the file system (a store in incremental auto-vacuum mode: new stores, and
        /// older ones after a rotation's VACUUM; nothing otherwise). An import's last commit leaves free pages behind (the
        /// dedup keys' recent rows merged into their table: about 1.6 bytes/event at 1M realistic events).
        /// </summary>
        public static void ReleaseFreePages(SqliteConnection connection) => connection.Execute("PRAGMA incremental_vacuum;");

        /// <summary>The schema version of an open store.</summary>
        public static int SchemaVersion(SqliteConnection connection) =>
            connection.ExecuteScalar<int?>("SELECT max(version) FROM schema_version") ?? 0;
    }

    /// <summary>
    /// One step of a store's upgrade to the schema this build writes: migration <see cref="Version"/> (the
    /// <see cref="Index"/>th of <see cref="Count"/>, from schema <see cref="From"/>), reported before it runs
    /// (<see cref="Elapsed"/> null) and once it ran; then the commit of them all (Index = Count), and for a store made
    /// before incremental auto-vacuum the VACUUM that converts it (Index = Count + 1, before and after).
    /// </summary>
    public sealed class SchemaUpgradeStep
    {
        public SchemaUpgradeStep(string path, int from, int version, int index, int count, TimeSpan? elapsed, string? problem = null)
        {
            Path = path; From = from; Version = version; Index = index; Count = count; Elapsed = elapsed; Problem = problem;
        }

        public string Path { get; }
        public int From { get; }
        public int Version { get; }
        public int Index { get; }
        public int Count { get; }
        public TimeSpan? Elapsed { get; }
        /// <summary>Whether this is the commit of the whole upgrade (after the last migration).</summary>
        public bool IsCommit => Index == Count;
        /// <summary>Whether this is the VACUUM that gives an old store's free pages back, after the commit.</summary>
        public bool IsVacuum => Index > Count;
        /// <summary>Why the VACUUM did not give the pages back (a full disk, an I/O error), for a warning; null when it did or was left to the rotation.</summary>
        public string? Problem { get; }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Query;
using MadfLog.Engine.Rules;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Facade
{
    /// <summary>
    /// One open MadfLog database, as the cmdlets use it: opened once per pipeline, with one method per thing a cmdlet
    /// asks. It only forwards to the engine's own entry points (Analysis, PatternAnalysis, RuleStore, ...).
    /// Why it exists: on PowerShell 7 the engine and its dependencies (Microsoft.Data.Sqlite, SQLitePCLRaw, Dapper,
    /// System.Text.Json) load into their own AssemblyLoadContext, so the cmdlet assembly must never name a dependency's
    /// type (a SqliteConnection local or a catch of SqliteException would resolve in the default context and load a
    /// second, possibly different, copy). Every dependency type stays behind this class.
    /// Every call translates a SQLite failure into a <see cref="MadfException"/> with an error id.
    /// </summary>
    public sealed class MadfStore : IDisposable
    {
        private readonly SqliteConnection _c;
        private readonly string? _coverNote;

        private MadfStore(SqliteConnection c, string path, string? coverNote = null)
        {
            _c = c;
            Path = path;
            _coverNote = coverNote;
        }

        /// <summary>The database file (for -IncludeArchive, the combined store that answers).</summary>
        public string Path { get; }

        /// <summary>Whether the answers cover the archived events too (-IncludeArchive), not only the active window.</summary>
        public bool IncludesArchives => _coverNote != null;

        /// <summary>Opens an existing database for questions; a missing one is DatabaseNotFound (never created). <paramref name="upgrading"/>: see <see cref="Upgrade"/>.</summary>
        public static MadfStore OpenRead(string path, Action<SchemaUpgradeStep>? upgrading = null) => new MadfStore(MadfDatabase.Open(path, forWrite: false, upgrading), path);

        /// <summary>
        /// Upgrades an existing database of an older schema to this build's, telling <paramref name="upgrading"/> of each
        /// migration before it runs and once it ran, so that a cmdlet can show the upgrade's progress before its own work
        /// opens the database; a missing or current database is left as it is.
        /// </summary>
        public static void Upgrade(string path, Action<SchemaUpgradeStep> upgrading)
        {
            if (!System.IO.File.Exists(path)) return;
            using (MadfDatabase.Open(path, forWrite: false, upgrading)) { }
        }

        /// <summary>
        /// Opens the database for questions over its active events and every archived month's (-IncludeArchive): the
        /// combined store (Lifecycle.CombinedStore), built or refreshed first when the active store or an archive changed.
        /// With nothing archived it is the database itself.
        /// </summary>
        public static MadfStore OpenWithArchives(string path, Action<SchemaUpgradeStep>? upgrading = null)
        {
            string combined, note;
            using (var active = MadfDatabase.Open(path, forWrite: false, upgrading))
            {
                List<Lifecycle.CombinedStore.ArchiveFile> archives;
                try
                {
                    archives = Lifecycle.CombinedStore.Archives(active);
                    if (archives.Count == 0) return new MadfStore(MadfDatabase.Open(path, forWrite: false), path, "");
                    combined = Lifecycle.CombinedStore.Prepare(active, path, archives);
                }
                catch (SqliteException ex)
                {
                    throw MadfDatabase.Translate(ex, path);
                }
                note = ActiveWindow.IncludeArchiveNote(archives.Sum(a => a.Events), archives.Min(a => a.FirstTimestamp), archives.Max(a => a.LastTimestamp), archives.Count);
            }
            return new MadfStore(MadfDatabase.Open(combined, forWrite: false), combined, note);
        }

        /// <summary>Opens the database for changes, creating and migrating it when needed.</summary>
        public static MadfStore OpenWrite(string path, Action<SchemaUpgradeStep>? upgrading = null) => new MadfStore(MadfDatabase.Open(path, upgrading: upgrading), path);

        public void Dispose() => _c.Dispose();

        /// <summary>
        /// Loads SQLite (the managed provider and its native library) and opens an in-memory database once, so a missing
        /// or wrong native library is one clear error at Import-Module instead of a TypeInitializationException later.
        /// </summary>
        public static void InitializeSqlite()
        {
            SQLitePCL.Batteries_V2.Init();
            using var probe = new SqliteConnection("Data Source=:memory:");
            probe.Open();
        }

        /// <summary>
        /// An engine failure as the MadfException a cmdlet reports, or null when it is not one the engine knows:
        /// SQLite failing after the database opened (a damaged page, a full disk) gets its error id here.
        /// </summary>
        public static MadfException? Translate(Exception ex, string path)
        {
            switch (ex)
            {
                case MadfException m: return m;
                case SqliteException s: return MadfDatabase.Translate(s, path);
                case AggregateException a when a.InnerExceptions.Count == 1: return Translate(a.InnerExceptions[0], path);
                case TypeInitializationException t when t.InnerException != null: return Translate(t.InnerException, path);
                default: return null;
            }
        }

        // ---- names (for -Story/-Agent wildcards and tab completion)

        /// <summary>The distinct values of an events column (story_id, agent_name, session_id).</summary>
        public List<string> KnownNames(string column) => Run(() => Query.KnownNames.Of(_c, column));

        /// <summary>Values of an events column starting with a prefix, for tab completion.</summary>
        public List<string> DistinctValues(string column, string prefix) => Run(() => Analysis.DistinctValues(_c, column, prefix));

        /// <summary>
        /// Values of an events column starting with a prefix, for tab completion: in the active store, and with
        /// <paramref name="includeArchives"/> in every archived month too (what -IncludeArchive covers), read from each file as
        /// it is: completing a name never waits for the combined store to be built. An archive that is missing or unreadable
        /// is left out (the question itself reports it).
        /// </summary>
        public static List<string> CompletionValues(string path, string column, string prefix, bool includeArchives)
        {
            if (!includeArchives)
                using (var store = OpenRead(path)) return store.DistinctValues(column, prefix);
            const int max = 200;
            using var active = MadfDatabase.Open(path, forWrite: false);
            HashSet<string> values;
            List<Lifecycle.CombinedStore.ArchiveFile> archives;
            try
            {
                values = new HashSet<string>(Analysis.DistinctValues(active, column, prefix, max), StringComparer.Ordinal);
                archives = Lifecycle.CombinedStore.Archives(active);
            }
            catch (SqliteException ex)
            {
                throw MadfDatabase.Translate(ex, path);
            }
            foreach (var a in archives)
            {
                if (!System.IO.File.Exists(a.ArchivePath)) continue;
                try
                {
                    using var archive = MadfDatabase.Open(a.ArchivePath, forWrite: false);
                    values.UnionWith(Analysis.DistinctValues(archive, column, prefix, max));
                }
                catch (Exception ex) when (ex is MadfException || ex is SqliteException) { }
            }
            var list = values.ToList();
            list.Sort(column == "story_id" ? StoryOrder.Instance : (IComparer<string?>)StringComparer.Ordinal);
            return list.Take(max).ToList();
        }

        /// <summary>What the questions cover when older events are archived ("" when nothing is).</summary>
        public string ActiveWindowNote() => _coverNote ?? Run(() => ActiveWindow.Note(_c));

        // ---- questions

        public List<ErrorSummaryItem> ErrorSummary(QueryFilter f, int top) => Run(() => Analysis.ErrorSummary(_c, f, top));
        public long CountErrors(QueryFilter f) => Run(() => Analysis.CountErrors(_c, f));
        public long CountEvents(QueryFilter f) => Run(() => Analysis.CountEvents(_c, f));
        public List<AgentPerformance> AgentPerformance(QueryFilter f) => Run(() => Analysis.AgentPerformance(_c, f));
        public List<Bottleneck> Bottlenecks(QueryFilter f, int top) => Run(() => Analysis.Bottlenecks(_c, f, top));
        public StoryComparison CompareStories(string reference, string difference, QueryFilter f) => Run(() => Analysis.CompareStories(_c, reference, difference, f));
        public List<TrendPoint> Trend(QueryFilter f) => Run(() => Analysis.Trend(_c, f));
        public List<HumanInteractionSummary> HumanInteractions(QueryFilter f, int top) => Run(() => Analysis.HumanInteractions(_c, f, top));
        public List<ToolFailure> ToolFailures(QueryFilter f) => Run(() => Analysis.ToolFailures(_c, f));
        public List<SessionSummary> Sessions(QueryFilter f, string? sessionPattern) => Run(() => Analysis.Sessions(_c, f, sessionPattern));
        public List<ContextPressure> ContextPressure(QueryFilter f, int top) => Run(() => Analysis.ContextPressure(_c, f, top: top));
        public (double Above, double Below, long AboveEvents) ContextEffect(QueryFilter f) => Run(() => Analysis.ContextEffect(_c, f));
        public List<ErrorPattern> ErrorPatterns(QueryFilter f, int top) => Run(() => PatternAnalysis.ErrorPatterns(_c, f, top));
        public List<ErrorSequence> ErrorSequences(QueryFilter f, int top, int minSupport, string? kind) => Run(() => PatternAnalysis.ErrorSequences(_c, f, top, minSupport, kind));

        /// <summary>The raw events, streamed; a SQLite failure while reading is translated too.</summary>
        public IEnumerable<EventRecord> Events(QueryFilter f, Analysis.EventFilter ef) => Stream(() => Analysis.Events(_c, f, ef));

        /// <summary>Quarantined lines, streamed.</summary>
        public IEnumerable<QuarantinedLine> Quarantine() => Stream(() => QuarantineStore.List(_c));

        /// <summary>The template miner with the database's patterns, so new messages get the ids the import would give them.</summary>
        public TemplateMiner LoadMiner() => Run(() => PatternStore.LoadMiner(_c));

        // ---- rules

        public List<Rule> Rules(RuleStatus? status) => Run(() => RuleStore.List(_c, status));
        public Rule ApproveRule(long id, DateTimeOffset now, DateTimeOffset? effectiveFrom) => Run(() => RuleStore.Approve(_c, id, now, effectiveFrom));
        public Rule DenyRule(long id, DateTimeOffset now) => Run(() => RuleStore.Deny(_c, id, now));
        public string[] ActiveRuleLines(DateTimeOffset now) => Run(() => RuleStore.ActiveLines(_c, now));
        public List<RuleEffect> RuleEffects(DateTimeOffset now) => Run(() => RuleEffectiveness.Evaluate(_c, now));

        // ---- JSON as plain objects (for PowerShell's view of an event's details)

        /// <summary>JSON text as plain objects (see <see cref="Text.Json.ToPlain"/>); the cmdlets turn dictionaries into PowerShell objects.</summary>
        public static object? ParseJson(string? json) => Text.Json.ToPlain(json);

        private T Run<T>(Func<T> work)
        {
            try
            {
                return work();
            }
            catch (SqliteException ex)
            {
                throw MadfDatabase.Translate(ex, Path);
            }
        }

        private IEnumerable<T> Stream<T>(Func<IEnumerable<T>> items)
        {
            using var e = Run(() => items().GetEnumerator());
            while (Run(() => e.MoveNext())) yield return e.Current;
        }
    }
}

using System.Collections.Generic;
using MadfLog.Engine.Events;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// Work done on each batch inside the import transaction, so derived data (pattern ids, summaries)
    /// commits atomically with the events it derives from.
    /// </summary>
    public interface IImportStage
    {
        /// <summary>On the reader thread, before the batch is queued: CPU work that needs no database (keeps the writer free).</summary>
        void Prepare(List<EventRow> batch);

        /// <summary>Before the rows are written: set columns such as pattern_id.</summary>
        void BeforeWrite(List<EventRow> batch, SqliteConnection connection, SqliteTransaction transaction);

        /// <summary>After the rows are written: rows with Id == 0 were duplicates and were not stored.</summary>
        void AfterWrite(List<EventRow> batch, SqliteConnection connection, SqliteTransaction transaction);
    }

    /// <summary>The stages every import runs, in order. One instance per import run (stages may cache per run).</summary>
    public static class ImportStages
    {
        public static List<IImportStage> Create() => new List<IImportStage>
        {
            new SecretRedactionStage(), // first: nothing downstream (patterns, summaries) sees a secret
            new Patterns.PatternStage(),
        };
    }
}

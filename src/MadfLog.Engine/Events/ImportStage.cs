using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Events
{
    /// <summary>
    /// Work done on each batch inside the import transaction, so derived data (pattern ids, summaries) commits
    /// atomically with the events it derives from. <see cref="Prepare"/> runs on the preparing thread; what it returns
    /// travels with the batch (<see cref="PreparedStages"/>) and comes back to the same stage's <see cref="BeforeWrite"/>
    /// and <see cref="AfterWrite"/> for that batch on the writer thread. Stages run in order; a later stage's Prepare
    /// sees the events as the earlier stages left them (redacted details, their split).
    /// </summary>
    public interface IImportStage
    {
        /// <summary>On the preparing thread, between the reader and the writer: CPU work that needs no database (keeps the writer free). Returns what the writer-side calls need for this batch, or null.</summary>
        object? Prepare(List<EventRow> batch);

        /// <summary>Before the rows are written: set columns such as pattern_id.</summary>
        void BeforeWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction);

        /// <summary>After the rows are written: rows with Id == 0 were duplicates and were not stored.</summary>
        void AfterWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction);

        /// <summary>Before the transaction commits (once for all its batches): write what was kept in memory.</summary>
        void BeforeCommit(SqliteConnection connection, SqliteTransaction transaction);
    }

    /// <summary>
    /// A stage whose commit work begins with a part that needs the database only briefly and then runs beside the stages
    /// after it: ImportStages.BeforeCommit calls <see cref="StartCommit"/> in the stage's turn, the later stages'
    /// BeforeCommit, and then this stage's BeforeCommit, which finishes what StartCommit began (and does all of it when
    /// StartCommit was not called).
    /// </summary>
    public interface IStartsCommitEarly
    {
        void StartCommit(SqliteConnection connection, SqliteTransaction transaction);

        /// <summary>
        /// Called in place of BeforeCommit when a later stage failed after <see cref="StartCommit"/> (the transaction will
        /// roll back): waits for what StartCommit began, so nothing runs on past the failure and its own failure is
        /// observed, and forgets what was pending for the rolled-back events.
        /// </summary>
        void AbandonCommit();
    }

    /// <summary>A stage whose preparing thread hands a <typeparamref name="TPrepared"/> to its writer-side calls for the same batch.</summary>
    public abstract class ImportStage<TPrepared> : IImportStage where TPrepared : class
    {
        public abstract TPrepared? Prepare(List<EventRow> batch);

        public virtual void BeforeWrite(List<EventRow> batch, TPrepared? prepared, SqliteConnection connection, SqliteTransaction transaction) { }

        public virtual void AfterWrite(List<EventRow> batch, TPrepared? prepared, SqliteConnection connection, SqliteTransaction transaction) { }

        public virtual void BeforeCommit(SqliteConnection connection, SqliteTransaction transaction) { }

        object? IImportStage.Prepare(List<EventRow> batch) => Prepare(batch);

        void IImportStage.BeforeWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) =>
            BeforeWrite(batch, (TPrepared?)prepared, connection, transaction);

        void IImportStage.AfterWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) =>
            AfterWrite(batch, (TPrepared?)prepared, connection, transaction);
    }

    /// <summary>What each stage's Prepare returned for one batch, in stage order: carried with the batch from the preparing thread to the writer.</summary>
    public sealed class PreparedStages
    {
        private readonly object?[] _byStage;

        private PreparedStages(object?[] byStage) { _byStage = byStage; }

        /// <summary>Runs every stage's Prepare on the batch, in order.</summary>
        [MethodImpl(Hot.Path)]
        public static PreparedStages Run(IReadOnlyList<IImportStage> stages, List<EventRow> batch)
        {
            var byStage = new object?[stages.Count];
            for (var i = 0; i < stages.Count; i++) byStage[i] = stages[i].Prepare(batch);
            return new PreparedStages(byStage);
        }

        /// <summary>What stage <paramref name="index"/> (its place in the stage list) prepared.</summary>
        public object? this[int index] => _byStage[index];
    }
}

using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Linq;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Events;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Summaries
{
    /// <summary>
    /// Keeps, per session and in the import transaction, what the error sequences question reads (docs/storage.md):
    /// session_sequences, the session's
    /// span, its story ('' none; NULL when its events have several), its last three steps to carry into the next import,
    /// and whether its events arrived in time order (in_order 0: an event came before one already counted, so the rows no
    /// longer describe it and a query reads its events instead); and each in-order session's error trail (Store.ErrorTrail:
    /// each error with the three steps before it, its lead, each a name and a pattern id: -1 for a step that is no error,
    /// 0 for an error without a pattern). Pattern ids are stored as they were; a query resolves merged patterns and their
    /// current class. The same definitions in SQL fill the tables for an upgraded store and after retention
    /// (Store.SummaryTables.SequenceFill, Store.SequenceCells.Fill). At each commit it also keeps the sums over sessions
    /// (Store.SequenceCells: each changed session taken back as stored and added as written).
    /// </summary>
    public sealed class SequenceStage : IImportStage
    {
        /// <summary>In session_sequences.steps, an error's mark: the step's name, this character, then its pattern id (0: none).</summary>
        private const char ErrorMark = '\u0001';

        /// <summary>Between the steps of session_sequences.steps.</summary>
        private const char StepSeparator = '\u0002';

        private const string Arrow = SummaryTables.SequenceArrow;
        private const int LeadSteps = SummaryTables.LeadSteps;

        private sealed class Session
        {
            public string? Story; // null: more than one
            public long First, Last;
            public bool InOrder = true, Stored;
            public List<string> Steps = new List<string>(LeadSteps + 1);
            public SequenceCells.SessionCell Counted; // as stored (what the cells count), when Stored
            public bool NewRows; // an error (perhaps a lead) was added to its trail in this transaction
            public ErrorTrail? Trail; // null: none (its events arrived out of order, or it was stored without one)

            public SequenceCells.SessionCell Cell => new SequenceCells.SessionCell(Story, First, Last, InOrder);
        }

        // Sessions seen in this transaction (loaded from the tables on first sight), and the rows to write before it commits.
        private readonly Dictionary<string, Session> _sessions = new Dictionary<string, Session>(StringComparer.Ordinal);

        private readonly SequenceCells.Delta _delta = new SequenceCells.Delta();
        private SequenceCells.LeadNumbers? _numbers; // the steps' numbers, for the trails (this transaction's)
        private SummaryTables.SessionLookup? _lookup; // this transaction's statements reading stored sessions
        private SqliteTransaction? _lookupTx;

        public object? Prepare(List<EventRow> batch) => null;

        public void BeforeWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) { }

        [MethodImpl(Hot.Path)]
        public void AfterWrite(List<EventRow> batch, object? prepared, SqliteConnection c, SqliteTransaction tx)
        {
            foreach (var e in batch)
            {
                // Only rows written (a duplicate has Id 0), in sessions, that are not model calls: what the question reads.
                if (e.Id == 0 || e.SessionId == null || e.EventType == "llm_call") continue;
                var s = Get(c, tx, e.SessionId);
                var story = e.StoryId ?? "";
                if (s.Last == long.MinValue) { s.First = s.Last = e.Timestamp; s.Story = story; s.Trail = new ErrorTrail(e.Timestamp); }
                else
                {
                    if (e.Timestamp < s.Last) { s.InOrder = false; s.Trail = null; }
                    if (s.Story != story) s.Story = null;
                    s.First = Math.Min(s.First, e.Timestamp);
                    s.Last = Math.Max(s.Last, e.Timestamp);
                }
                var step = Steps.Name(e);
                var error = Errors.IsError(e);
                s.Trail?.Add(e.Timestamp, (_numbers ??= new SequenceCells.LeadNumbers(c, tx)).Number(step), error ? e.PatternId ?? 0 : -1);
                if (error)
                {
                    var pattern = e.PatternId ?? 0;
                    step += ErrorMark + pattern.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    s.NewRows = true;
                }
                s.Steps.Add(step);
                if (s.Steps.Count > LeadSteps) s.Steps.RemoveAt(0);
            }
        }

        private Session Get(SqliteConnection c, SqliteTransaction tx, string id)
        {
            if (_sessions.TryGetValue(id, out var s)) return s;
            s = new Session { Last = long.MinValue };
            if (_lookup != null && _lookupTx != tx)
            {
                // A transaction rolled back before its flush: its statements and numbers are gone with it.
                _lookup.Dispose(); _lookup = null;
                _numbers?.Dispose(); _numbers = null;
            }
            var lookup = _lookup ??= new SummaryTables.SessionLookup(c, tx);
            _lookupTx = tx;
            var stored = lookup.Sequence(id);
            if (stored != null)
            {
                s.Story = stored.StoryId; s.First = stored.FirstTs; s.Last = stored.LastTs; s.InOrder = stored.InOrder != 0; s.Stored = true;
                s.Counted = s.Cell;
                s.Steps.AddRange(stored.Steps.Length == 0 ? Array.Empty<string>() : stored.Steps.Split(StepSeparator));
                if (s.InOrder)
                    s.Trail = SequenceCells.LoadTrail(lookup, id, s.First, s.Steps.Select(Unmark).ToList(), _numbers ??= new SequenceCells.LeadNumbers(c, tx));
            }
            _sessions[id] = s;
            return s;
        }

        public void BeforeCommit(SqliteConnection c, SqliteTransaction tx)
        {
            // The cells (SequenceCells): merges since the last commit applied first, then each session whose rows or cell
            // changed is taken back as stored and added as written.
            var classes = SequenceCells.Reconcile(c, tx);
            var changed = _sessions.Where(kv => kv.Value.Last != long.MinValue && (kv.Value.NewRows || !kv.Value.Stored || !kv.Value.Counted.Equals(kv.Value.Cell)))
                .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            // One delta for the whole import, emptied by each commit's Write: its tables keep their room from one commit to
            // the next instead of growing again in the large object heap, which only a full collection frees.
            var delta = _delta;
            delta.Clear();
            // (A session read from its events, out of order, counts in no cell.) Its leads as stored: its trail before this transaction's is written.
            SequenceCells.Count(c, tx, changed.Where(kv => kv.Value.Stored && kv.Value.Counted.InOrder).Select(kv => kv.Key).ToList(), id => changed[id].Counted, classes, delta, -1);
            SummaryTables.WriteSequences(c, tx,
                _sessions.Where(kv => kv.Value.Last != long.MinValue).Select(kv => new SummaryTables.SessionSequenceRow
                {
                    SessionId = kv.Key, StoryId = kv.Value.Story, FirstTs = kv.Value.First, LastTs = kv.Value.Last, InOrder = kv.Value.InOrder ? 1 : 0,
                    Steps = string.Join(StepSeparator.ToString(), kv.Value.Steps),
                }));
            SequenceCells.WriteTrails(c, tx, _sessions.Where(kv => kv.Value.Last != long.MinValue).Select(kv => (kv.Key, kv.Value.InOrder ? kv.Value.Trail : null)));
            SequenceCells.Count(c, tx, changed.Where(kv => kv.Value.InOrder).Select(kv => kv.Key).ToList(), id => changed[id].Cell, classes, delta, 1);
            delta.Write(c, tx);
            _numbers?.Dispose();
            _numbers = null;
            _lookup?.Dispose();
            _lookup = null;
            // Written: the next transaction reloads what it needs, so memory stays flat in the number of sessions.
            _sessions.Clear();
        }

        // A stored step as the trail keeps it: its name, and its pattern id (-1: not an error).
        private static (string Step, long Pattern) Unmark(string step)
        {
            var at = step.LastIndexOf(ErrorMark);
            return at < 0 ? (step, -1L) : (step.Substring(0, at), long.Parse(step.Substring(at + 1), System.Globalization.CultureInfo.InvariantCulture));
        }

        /// <summary>The tables this stage keeps (retention rebuilds them with the other summaries: Store.SummaryTables).</summary>
        internal static readonly string[] Tables = { "session_sequences" };
    }
}

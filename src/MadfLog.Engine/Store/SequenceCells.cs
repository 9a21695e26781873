using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// The error sequences' counts summed over sessions (docs/storage.md), so a question reads a few cells instead of
    /// every session's rows: sequence_lead_cells (each cell's leads packed in one row) and sequence_runs add up the leads and retry loops in each session's error
    /// trail (sequence_session_errors) of the sessions whose events arrived in order, per cell of a scope: 0 the whole store, 1 a story (its sessions of that
    /// story only), 2 a session's first and last day and story, 3 the same days for sessions of several stories. Each
    /// session is counted in exactly one cell per scope, so a cell's sessions add up.
    /// Leads are named as a question names them (each error step by its pattern's class as it is now), numbered
    /// (<see cref="LeadNumbers"/>); runs are keyed by their pattern's survivor with the runs of what became one pattern
    /// joined; sequence_session_leads holds each counted session's numbered leads, for the sessions a window's ends leave
    /// out of its whole days' cells.
    /// sequence_patterns holds the survivor and class of each pattern that the cells were counted with: a merge or a class
    /// change is applied to the sessions whose rows name a changed pattern (<see cref="Reconcile"/>, at each import's
    /// commit and after a re-key), and a question that finds the mapping changed since reads the per-session rows.
    /// </summary>
    internal static class SequenceCells
    {
        internal const int WholeStore = 0, Story = 1, Days = 2, DaysOfSeveralStories = 3;

        /// <summary>The tables kept here (emptied and filled again by <see cref="Fill"/>).</summary>
        internal static readonly string[] Tables = { "sequence_lead_cells", "sequence_runs", "sequence_lead_sets", "sequence_trails", "sequence_lead_steps", "sequence_steps", "sequence_patterns" };

        // A session's number in sequence_trails and sequence_lead_sets: the names id of its text, bound as $1.
        private const string SessionNumber = "(SELECT id FROM names WHERE text = $1)";

        /// <summary>
        /// Schema 72: the per-session rows (each in-order session's error trail and numbered leads) keyed by the session's
        /// names id in rowid tables (sequence_trails, sequence_lead_sets) instead of its text in WITHOUT ROWID tables; the
        /// old names are views with the old columns, so readers and plain SQLite read them as before. A WITHOUT ROWID row
        /// keeps at most about 1 KB in its page, so a long trail spilled into a mostly empty overflow page, and rows keyed by
        /// text arrive in no order (pages about 70 % full); a session's names id grows as sessions arrive. Run by
        /// Schema.AfterScript for 72 and for every earlier migration from 19 on (which creates the tables as text-keyed), so
        /// the code those migrations run writes this layout; does nothing once the views exist.
        /// </summary>
        internal static void KeySessions(SqliteConnection c, SqliteTransaction tx)
        {
            if (c.ExecuteScalar<string?>("SELECT type FROM sqlite_master WHERE name = 'sequence_session_errors'", transaction: tx) != "table") return;
            // Left-aligned: sqlite_master keeps the text as written (docs/schema.sql). Every session's text is a name: its
            // events' context names it, and names are never deleted.
            c.Execute(@"
CREATE TABLE sequence_trails (session INTEGER PRIMARY KEY, times BLOB NOT NULL, errors BLOB NOT NULL);
INSERT INTO sequence_trails SELECT n.id, t.times, t.errors FROM sequence_session_errors t JOIN names n ON n.text = t.session_id ORDER BY n.id;
CREATE TABLE sequence_lead_sets (session INTEGER PRIMARY KEY, leads BLOB NOT NULL);
INSERT INTO sequence_lead_sets SELECT n.id, l.leads FROM sequence_session_leads l JOIN names n ON n.text = l.session_id ORDER BY n.id;
DROP TABLE sequence_session_errors;
DROP TABLE sequence_session_leads;
CREATE VIEW sequence_session_errors AS
SELECT n.text AS session_id, t.times, t.errors FROM sequence_trails t JOIN names n ON n.id = t.session;
CREATE VIEW sequence_session_leads AS
SELECT n.text AS session_id, l.leads FROM sequence_lead_sets l JOIN names n ON n.id = l.session;", transaction: tx);
        }

        /// <summary>
        /// Schema 80: the leads' numbers with their four steps' numbers as integers (sequence_lead_steps (id, s1, s2, s3,
        /// s4), unique on the four) instead of the steps' numbers as text ("6,5,5,9") in the row and again in a unique
        /// index on the text. Still a rowid table: a question names the cells' leads by number (a scan of a WITHOUT ROWID
        /// table keyed by the steps cost 1.5-4.5 ms of CPU per question at 10M). The ids are kept, so the cells' packed
        /// leads stay as they are; sequence_lead_keys is a view with the old columns, which the readers by number read
        /// (a store turned back before 80 reads the same). Run by Schema.AfterScript for 80 and every migration from 19 on
        /// (which creates the text-keyed table), so the code those migrations run writes this layout; does nothing once
        /// sequence_lead_keys is a view.
        /// </summary>
        internal static void KeyLeads(SqliteConnection c, SqliteTransaction tx)
        {
            if (c.ExecuteScalar<string?>("SELECT type FROM sqlite_master WHERE name = 'sequence_lead_keys'", transaction: tx) != "table") return;
            // Left-aligned: sqlite_master keeps the text as written (docs/schema.sql). A key's text is four numbers joined by commas.
            c.Execute(@"
CREATE TABLE sequence_lead_steps (id INTEGER PRIMARY KEY, s1 INTEGER NOT NULL, s2 INTEGER NOT NULL, s3 INTEGER NOT NULL, s4 INTEGER NOT NULL);
INSERT INTO sequence_lead_steps
SELECT id, CAST(substr(steps, 1, c1 - 1) AS INTEGER), CAST(substr(steps, c1 + 1, c2 - 1) AS INTEGER), CAST(substr(rest, 1, c3 - 1) AS INTEGER), CAST(substr(rest, c3 + 1) AS INTEGER)
FROM (SELECT id, steps, c1, c2, rest, instr(rest, ',') AS c3
      FROM (SELECT id, steps, c1, c2, substr(steps, c1 + c2 + 1) AS rest
            FROM (SELECT id, steps, c1, instr(substr(steps, c1 + 1), ',') AS c2
                  FROM (SELECT id, steps, instr(steps, ',') AS c1 FROM sequence_lead_keys))))
ORDER BY id;
CREATE UNIQUE INDEX ix_sequence_lead_steps ON sequence_lead_steps(s1, s2, s3, s4);
DROP TABLE sequence_lead_keys;
CREATE VIEW sequence_lead_keys AS
SELECT id, s1 || ',' || s2 || ',' || s3 || ',' || s4 AS steps FROM sequence_lead_steps;", transaction: tx);
        }

        /// <summary>Each pattern's survivor (merges followed) and that survivor's class: how an error step is named and a run keyed.</summary>
        internal sealed class Classes
        {
            private readonly Dictionary<long, (long Survivor, string Class)> _resolved;

            private Classes(Dictionary<long, (long, string)> resolved) { _resolved = resolved; }

            /// <summary>A pattern's survivor and class; an unknown pattern (or 0, an error without one) is its own, named "error".</summary>
            public (long Survivor, string Class) Resolve(long pattern) => _resolved.TryGetValue(pattern, out var r) ? r : (pattern, "error");

            /// <summary>An error step's mark after its name: its pattern's class; none for a step that is no error (-1).</summary>
            public string Mark(long pattern) => pattern < 0 ? "" : " ✗" + Resolve(pattern).Class;

            /// <summary>As the patterns table says now.</summary>
            public static Classes Current(SqliteConnection c, SqliteTransaction? tx)
            {
                var rows = c.Query<(long id, long? mergedInto, string? errorClass)>("SELECT id, merged_into, error_class FROM patterns", transaction: tx)
                    .ToDictionary(r => r.id);
                long Survivor(long id)
                {
                    for (var hops = 0; hops < 64 && rows.TryGetValue(id, out var r) && r.mergedInto.HasValue && r.mergedInto.Value != id; hops++) id = r.mergedInto.Value;
                    return id;
                }
                return new Classes(rows.Keys.ToDictionary(id => id, id =>
                {
                    var s = Survivor(id);
                    return (s, rows.TryGetValue(s, out var r) && r.errorClass != null ? r.errorClass : "error");
                }));
            }

            /// <summary>As the cells were counted (sequence_patterns).</summary>
            public static Classes Counted(SqliteConnection c, SqliteTransaction? tx) =>
                new Classes(c.Query<(long id, long survivor, string errorClass)>("SELECT pattern_id, survivor, error_class FROM sequence_patterns", transaction: tx)
                    .ToDictionary(r => r.id, r => (r.survivor, r.errorClass)));

            /// <summary>The patterns this mapping and <paramref name="other"/> resolve differently.</summary>
            public List<long> Differences(Classes other) =>
                _resolved.Keys.Union(other._resolved.Keys).Where(id => Resolve(id) != other.Resolve(id)).OrderBy(id => id).ToList();

            public void Save(SqliteConnection c, SqliteTransaction tx, IEnumerable<long> patterns) =>
                PreparedBatch.Run(c, tx, "INSERT OR REPLACE INTO sequence_patterns VALUES ($1, $2, $3)",
                    patterns.Select(id => { var r = Resolve(id); return new object?[] { id, r.Survivor, r.Class }; }).ToList());
        }

        /// <summary>A session as session_sequences holds it: the cells it counts in.</summary>
        internal readonly struct SessionCell : IEquatable<SessionCell>
        {
            public SessionCell(string? story, long firstTs, long lastTs, bool inOrder)
            {
                Story = story; FirstDay = IsoWeeks.DayOf(firstTs); LastDay = IsoWeeks.DayOf(lastTs); InOrder = inOrder;
            }

            public readonly string? Story; // null: several
            public readonly long FirstDay, LastDay;
            public readonly bool InOrder;

            /// <summary>One cell per scope (scope, first day, last day, story); none for a session read from its events.</summary>
            public IEnumerable<(int Scope, long First, long Last, string Story)> Cells()
            {
                if (!InOrder) yield break;
                yield return (WholeStore, 0, 0, "");
                if (Story != null)
                {
                    yield return (SequenceCells.Story, 0, 0, Story);
                    yield return (Days, FirstDay, LastDay, Story);
                }
                else yield return (DaysOfSeveralStories, FirstDay, LastDay, "");
            }

            [MethodImpl(Hot.Small)]
            public bool Equals(SessionCell o) => Story == o.Story && FirstDay == o.FirstDay && LastDay == o.LastDay && InOrder == o.InOrder;
            public override bool Equals(object? o) => o is SessionCell s && Equals(s);
            [MethodImpl(Hot.Small)]
            public override int GetHashCode() => (Story, FirstDay, LastDay, InOrder).GetHashCode();
        }

        /// <summary>
        /// Each in-order session's leads that <paramref name="sessionsSql"/> selects (a query of session ids), named with
        /// <paramref name="classes"/>, from its error trail (each error after three steps holds them, its lead):
        /// <paramref name="add"/> gets each session that has a lead once, with each lead it had and how often.
        /// </summary>
        [MethodImpl(Hot.Path)]
        internal static void Leads(SqliteConnection c, SqliteTransaction? tx, string sessionsSql, object? p, Classes classes, Action<string, Dictionary<Lead, long>> add)
        {
            using var numbers = new LeadNumbers(c, tx);
            var names = new Dictionary<(long Name, long Pattern), string>();
            string Step((long Name, long Pattern) s)
            {
                if (!names.TryGetValue(s, out var name)) names[s] = name = numbers.StepName(s.Name) + classes.Mark(s.Pattern);
                return name;
            }
            using var reader = c.ExecuteReader($@"
                SELECT t.session_id, t.errors FROM ({sessionsSql}) x CROSS JOIN sequence_session_errors t ON t.session_id = x.session_id", p, tx);
            while (reader.Read())
            {
                var leads = new Dictionary<Lead, long>();
                // The errors' times are not needed here: read from 0.
                foreach (var e in ErrorTrail.Read(0, (byte[])reader.GetValue(1)))
                {
                    if (e.LeadFrom == null) continue;
                    var lead = new Lead(Step(e.Steps[0]), Step(e.Steps[1]), Step(e.Steps[2]), Step(e.Own));
                    leads[lead] = (leads.TryGetValue(lead, out var n) ? n : 0) + 1;
                }
                if (leads.Count > 0) add(reader.GetString(0), leads);
            }
        }

        /// <summary>
        /// Each selected in-order session's retry loops, from its error trail (its errors in order, each with its pattern):
        /// runs of errors of one pattern's survivor (0: an error without one, which joins none), <paramref name="add"/>
        /// getting each session with its runs of two or more errors (and none for a session without such runs).
        /// </summary>
        [MethodImpl(Hot.Path)]
        internal static void Runs(SqliteConnection c, SqliteTransaction? tx, string sessionsSql, object? p, Classes classes, Action<string, List<(long Pattern, long Length)>> add)
        {
            using var reader = c.ExecuteReader($@"
                SELECT t.session_id, t.errors FROM ({sessionsSql}) x CROSS JOIN sequence_session_errors t ON t.session_id = x.session_id", p, tx);
            while (reader.Read())
            {
                var runs = RetryLoops(ErrorTrail.Patterns((byte[])reader.GetValue(1)), classes);
                if (runs.Count > 0) add(reader.GetString(0), runs);
            }
        }

        /// <summary>The runs of two or more errors of one survivor in a session's errors (their own pattern ids, in time order).</summary>
        [MethodImpl(Hot.Path)]
        internal static List<(long Pattern, long Length)> RetryLoops(IEnumerable<long> patterns, Classes classes)
        {
            var runs = new List<(long, long)>();
            long pattern = 0, length = 0;
            foreach (var own in patterns)
            {
                var survivor = own == 0 ? 0 : classes.Resolve(own).Survivor;
                if (survivor != 0 && survivor == pattern) { length++; continue; }
                if (pattern != 0 && length >= 2) runs.Add((pattern, length));
                pattern = survivor; length = 1;
            }
            if (pattern != 0 && length >= 2) runs.Add((pattern, length));
            return runs;
        }

        /// <summary>Changes to the cells, added up in memory and written once.</summary>
        internal sealed class Delta
        {
            private readonly Dictionary<(int Scope, long First, long Last, string Story, Lead Lead), (long N, long Sessions)> _leads =
                new Dictionary<(int, long, long, string, Lead), (long, long)>();
            private readonly Dictionary<(int Scope, long First, long Last, string Story, long Pattern, long Length), (long Runs, long Sessions)> _runs =
                new Dictionary<(int, long, long, string, long, long), (long, long)>();
            // Each session's leads as they are to be stored in sequence_session_leads (null: none any more).
            private readonly Dictionary<string, Dictionary<Lead, long>?> _sessions = new Dictionary<string, Dictionary<Lead, long>?>(StringComparer.Ordinal);

            /// <summary>Adds (sign 1) or takes back (-1) a session's leads in each of its cells, and its own numbered leads.</summary>
            [MethodImpl(Hot.Path)]
            public void AddLeads(string id, SessionCell session, Dictionary<Lead, long> leads, int sign)
            {
                if (sign > 0 && session.InOrder) _sessions[id] = leads;
                else if (!_sessions.ContainsKey(id)) _sessions[id] = null;
                foreach (var (scope, first, last, story) in session.Cells())
                    foreach (var l in leads)
                    {
                        var key = (scope, first, last, story, l.Key);
                        _leads.TryGetValue(key, out var v);
                        _leads[key] = (v.N + sign * l.Value, v.Sessions + sign);
                    }
            }

            /// <summary>
            /// Adds or takes back a session's runs of two or more in each of its cells; the session is counted once per
            /// pattern, at the length of its longest run of it.
            /// </summary>
            public void AddRuns(SessionCell session, List<(long Pattern, long Length)> runs, int sign)
            {
                var longest = new Dictionary<long, long>();
                foreach (var (pattern, length) in runs) longest[pattern] = Math.Max(length, longest.TryGetValue(pattern, out var l) ? l : 0);
                foreach (var (scope, first, last, story) in session.Cells())
                {
                    foreach (var (pattern, length) in runs)
                    {
                        var key = (scope, first, last, story, pattern, length);
                        _runs.TryGetValue(key, out var v);
                        _runs[key] = (v.Runs + sign, v.Sessions);
                    }
                    foreach (var l in longest)
                    {
                        var key = (scope, first, last, story, l.Key, l.Value);
                        var v = _runs[key];
                        _runs[key] = (v.Runs, v.Sessions + sign);
                    }
                }
            }

            [MethodImpl(Hot.Path)]
            public void Write(SqliteConnection c, SqliteTransaction tx)
            {
                using var numbers = new LeadNumbers(c, tx);
                // Plain loops, not LINQ: a query's ToList over these large value tuples compiled an array pool of their own
                // (SharedArrayPool of the tuple, 0.3 s of the JIT's time at 1M) for a few thousand rows per commit.
                var leads = _leadRows;
                leads.Clear();
                foreach (var kv in _leads)
                    if (kv.Value.N != 0 || kv.Value.Sessions != 0)
                        leads.Add(((kv.Key.Scope, kv.Key.First, kv.Key.Last, kv.Key.Story), numbers.Of(kv.Key.Lead), kv.Value.N, kv.Value.Sessions));
                AddToLeadCells(c, tx, leads);
                var runs = _runRows;
                runs.Clear();
                foreach (var kv in _runs)
                    if (kv.Value.Runs != 0 || kv.Value.Sessions != 0) runs.Add(kv);
                PreparedBatch.Run(c, tx, "INSERT INTO sequence_runs VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO UPDATE SET runs = runs + excluded.runs, sessions = sessions + excluded.sessions",
                    runs.Select(kv => new object?[] { kv.Key.Scope, kv.Key.First, kv.Key.Last, kv.Key.Story, kv.Key.Pattern, kv.Key.Length, kv.Value.Runs, kv.Value.Sessions }));
                PreparedBatch.Run(c, tx, "DELETE FROM sequence_runs WHERE scope = $1 AND first_day = $2 AND last_day = $3 AND story_id = $4 AND pattern_id = $5 AND length = $6 AND runs = 0",
                    runs.Where(kv => kv.Value.Runs < 0).Select(kv => new object?[] { kv.Key.Scope, kv.Key.First, kv.Key.Last, kv.Key.Story, kv.Key.Pattern, kv.Key.Length }));
                PreparedBatch.Run(c, tx, $"DELETE FROM sequence_lead_sets WHERE session = {SessionNumber}", _sessions.Where(kv => kv.Value == null).Select(kv => new object?[] { kv.Key }));
                PreparedBatch.Run(c, tx, "INSERT OR REPLACE INTO sequence_lead_sets SELECT id, $2 FROM names WHERE text = $1",
                    _sessions.Where(kv => kv.Value != null).Select(kv => new object?[] { kv.Key, Pack(kv.Value!.Select(l => (numbers.Of(l.Key), l.Value))) }).ToList());
                Clear();
            }

            // The rows of one Write, kept (empty) for the next with their room.
            private readonly List<((int Scope, long First, long Last, string Story) Cell, long Lead, long N, long Sessions)> _leadRows =
                new List<((int, long, long, string), long, long, long)>();
            private readonly List<KeyValuePair<(int Scope, long First, long Last, string Story, long Pattern, long Length), (long Runs, long Sessions)>> _runRows =
                new List<KeyValuePair<(int, long, long, string, long, long), (long, long)>>();

            /// <summary>Forgets every change (Write does, once written): the tables keep their room for the next ones.</summary>
            public void Clear()
            {
                _leads.Clear(); _runs.Clear(); _sessions.Clear(); _leadRows.Clear(); _runRows.Clear();
            }
        }

        /// <summary>A lead: the three steps before an error and the error's step, each error step marked with its class.</summary>
        internal readonly struct Lead : IEquatable<Lead>
        {
            public Lead(string step1, string step2, string step3, string error) { Step1 = step1; Step2 = step2; Step3 = step3; Error = error; }

            public readonly string Step1, Step2, Step3, Error;

            /// <summary>As a question shows it.</summary>
            public override string ToString() => string.Join(SummaryTables.SequenceArrow, Step1, Step2, Step3, Error);

            [MethodImpl(Hot.Small)]
            public bool Equals(Lead o) => string.Equals(Step1, o.Step1, StringComparison.Ordinal) && string.Equals(Step2, o.Step2, StringComparison.Ordinal)
                && string.Equals(Step3, o.Step3, StringComparison.Ordinal) && string.Equals(Error, o.Error, StringComparison.Ordinal);
            public override bool Equals(object? o) => o is Lead l && Equals(l);
            [MethodImpl(Hot.Small)]
            public override int GetHashCode() => (Step1, Step2, Step3, Error).GetHashCode();
        }

        /// <summary>
        /// Leads numbered (sequence_lead_steps: the numbers of its four steps in sequence_steps, which numbers each marked
        /// step, and its number), so a cell's row holds a small number instead of the lead's text.
        /// </summary>
        internal sealed class LeadNumbers : IDisposable
        {
            private readonly SqliteConnection _c;
            private readonly SqliteTransaction? _tx;
            private readonly Dictionary<string, long> _steps = new Dictionary<string, long>(StringComparer.Ordinal);
            private readonly Dictionary<long, string> _stepNames = new Dictionary<long, string>();
            private readonly Dictionary<Lead, long> _leads = new Dictionary<Lead, long>();

            public LeadNumbers(SqliteConnection c, SqliteTransaction? tx)
            {
                _c = c; _tx = tx;
                foreach (var (id, step) in c.Query<(long, string)>("SELECT id, step FROM sequence_steps", transaction: tx)) { _steps[step] = id; _stepNames[id] = step; }
            }

            /// <summary>A step's number, numbering it when it is new.</summary>
            public long Number(string step) => Step(step, true)!.Value;

            /// <summary>The step a number stands for.</summary>
            public string StepName(long id) => _stepNames[id];

            private long? Step(string step, bool add)
            {
                if (_steps.TryGetValue(step, out var id)) return id;
                if (!add) return null;
                id = (long)Scalar(ref _addStep, "INSERT INTO sequence_steps(step) VALUES ($1) RETURNING id", step)!;
                _steps[step] = id; _stepNames[id] = step;
                return id;
            }

            // Statements prepared once (an import numbers thousands of leads per transaction).
            private SqliteCommand? _addStep, _findLead, _addLead;

            public void Dispose()
            {
                _addStep?.Dispose();
                _findLead?.Dispose();
                _addLead?.Dispose();
            }

            private object? Scalar(ref SqliteCommand? command, string sql, params object[] values)
            {
                if (command == null)
                {
                    command = _c.CreateCommand();
                    command.Transaction = _tx;
                    command.CommandText = sql;
                    for (var i = 0; i < values.Length; i++) command.Parameters.Add(new SqliteParameter("$" + (i + 1).ToString(CultureInfo.InvariantCulture), values[i]));
                }
                for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i];
                return command.ExecuteScalar();
            }

            // A lead's key: its four steps' numbers (sequence_lead_steps' s1..s4); null when a step has no number and may not get one.
            private (long S1, long S2, long S3, long S4)? Key(Lead lead, bool add)
            {
                if (Step(lead.Step1, add) is not { } s1 || Step(lead.Step2, add) is not { } s2 || Step(lead.Step3, add) is not { } s3 || Step(lead.Error, add) is not { } s4) return null;
                return (s1, s2, s3, s4);
            }

            /// <summary>A lead's number, numbering it when it is new.</summary>
            [MethodImpl(Hot.Path)]
            public long Of(Lead lead)
            {
                if (_leads.TryGetValue(lead, out var id)) return id;
                var k = Key(lead, true)!.Value;
                id = Scalar(ref _findLead, "SELECT id FROM sequence_lead_steps WHERE s1 = $1 AND s2 = $2 AND s3 = $3 AND s4 = $4", k.S1, k.S2, k.S3, k.S4) is long found ? found
                    : (long)Scalar(ref _addLead, "INSERT INTO sequence_lead_steps(s1, s2, s3, s4) VALUES ($1, $2, $3, $4) RETURNING id", k.S1, k.S2, k.S3, k.S4)!;
                return _leads[lead] = id;
            }

            /// <summary>The numbers of those leads that have one (one statement for all: a statement per lead cost more than the rest of a question).</summary>
            public Dictionary<Lead, long> Find(IEnumerable<Lead> leads)
            {
                var keys = new Dictionary<(long, long, long, long), Lead>();
                foreach (var l in leads) if (Key(l, false) is { } key) keys[key] = l;
                var found = new Dictionary<Lead, long>();
                if (keys.Count == 0) return found;
                foreach (var (id, s1, s2, s3, s4) in _c.Query<(long, long, long, long, long)>(
                             "SELECT l.id, l.s1, l.s2, l.s3, l.s4 FROM json_each(@keys) j JOIN sequence_lead_steps l ON l.s1 = json_extract(j.value, '$[0]') AND l.s2 = json_extract(j.value, '$[1]') AND l.s3 = json_extract(j.value, '$[2]') AND l.s4 = json_extract(j.value, '$[3]')",
                             new { keys = System.Text.Json.JsonSerializer.Serialize(keys.Keys.Select(k => new[] { k.Item1, k.Item2, k.Item3, k.Item4 })) }, _tx))
                    found[keys[(s1, s2, s3, s4)]] = id;
                return found;
            }

            /// <summary>The leads these numbers stand for (bound as one JSON array: any number of them; read through the view, which a store before 80 has as its table).</summary>
            public Dictionary<long, Lead> Named(IEnumerable<long> ids)
            {
                var named = new Dictionary<long, Lead>();
                foreach (var (id, key) in _c.Query<(long, string)>("SELECT id, steps FROM sequence_lead_keys WHERE id IN (SELECT value FROM json_each(@ids))",
                             new { ids = System.Text.Json.JsonSerializer.Serialize(ids) }, _tx))
                {
                    var s = key.Split(',').Select(x => _stepNames[long.Parse(x, CultureInfo.InvariantCulture)]).ToArray();
                    named[id] = new Lead(s[0], s[1], s[2], s[3]);
                }
                return named;
            }
        }

        /// <summary>
        /// Adds changes of cells' leads (occurrences and sessions per numbered lead) into sequence_lead_cells, a row per cell
        /// with its leads packed (<see cref="PackCell"/>): each cell's row is read, changed and written once. A lead that no
        /// session has any more leaves its cell (n and sessions are 0 together), and a cell without leads its table.
        /// </summary>
        [MethodImpl(Hot.Path)]
        internal static void AddToLeadCells(SqliteConnection c, SqliteTransaction tx, IEnumerable<((int Scope, long First, long Last, string Story) Cell, long Lead, long N, long Sessions)> changes)
        {
            // Sorted by cell in place and walked run by run (a GroupBy copied each cell's changes into arrays of its own, the
            // largest in the large object heap, at every commit). A lead comes once per cell from every caller (the delta's
            // table and the old sequence_leads are keyed by both), so the order within a cell changes nothing.
            var sorted = changes as List<((int Scope, long First, long Last, string Story) Cell, long Lead, long N, long Sessions)> ?? changes.ToList();
            if (sorted.Count == 0) return;
            sorted.Sort(ByCell);
            using var read = c.CreateCommand();
            read.Transaction = tx;
            read.CommandText = "SELECT leads FROM sequence_lead_cells WHERE scope = $1 AND first_day = $2 AND last_day = $3 AND story_id = $4";
            foreach (var name in new[] { "$1", "$2", "$3", "$4" }) read.Parameters.Add(new SqliteParameter(name, 0));
            var write = new List<object?[]>();
            var empty = new List<object?[]>();
            for (int from = 0, to; from < sorted.Count; from = to)
            {
                var (scope, first, last, story) = sorted[from].Cell;
                for (to = from + 1; to < sorted.Count && sorted[to].Cell.Equals(sorted[from].Cell); to++) { }
                read.Parameters[0].Value = scope; read.Parameters[1].Value = first; read.Parameters[2].Value = last; read.Parameters[3].Value = story;
                var leads = read.ExecuteScalar() is byte[] stored ? UnpackCell(stored).ToDictionary(l => l.Lead, l => (l.N, l.Sessions)) : new Dictionary<long, (long N, long Sessions)>();
                for (var i = from; i < to; i++)
                {
                    var x = sorted[i];
                    leads.TryGetValue(x.Lead, out var v);
                    v = (v.N + x.N, v.Sessions + x.Sessions);
                    if (v.N == 0) leads.Remove(x.Lead); else leads[x.Lead] = v;
                }
                if (leads.Count == 0) empty.Add(new object?[] { scope, first, last, story });
                else write.Add(new object?[] { scope, first, last, story, PackCell(leads.Select(l => (l.Key, l.Value.N, l.Value.Sessions))) });
            }
            PreparedBatch.Run(c, tx, "DELETE FROM sequence_lead_cells WHERE scope = $1 AND first_day = $2 AND last_day = $3 AND story_id = $4", empty);
            PreparedBatch.Run(c, tx, "INSERT OR REPLACE INTO sequence_lead_cells VALUES ($1, $2, $3, $4, $5)", write);
        }

        private static readonly Comparison<((int Scope, long First, long Last, string Story) Cell, long Lead, long N, long Sessions)> ByCell = (a, b) =>
        {
            var c = a.Cell.Scope.CompareTo(b.Cell.Scope);
            if (c == 0) c = a.Cell.First.CompareTo(b.Cell.First);
            if (c == 0) c = a.Cell.Last.CompareTo(b.Cell.Last);
            return c != 0 ? c : string.CompareOrdinal(a.Cell.Story, b.Cell.Story);
        };

        /// <summary>A cell's leads as sequence_lead_cells stores them: in lead order, each the gap from the previous lead's number, its occurrences and sessions (variable-length integers).</summary>
        [MethodImpl(Hot.Path)]
        internal static byte[] PackCell(IEnumerable<(long Lead, long N, long Sessions)> leads)
        {
            var bytes = new List<byte>();
            long previous = 0;
            foreach (var (lead, n, sessions) in leads.OrderBy(l => l.Lead))
            {
                Varint.Put(bytes, lead - previous); Varint.Put(bytes, n); Varint.Put(bytes, sessions);
                previous = lead;
            }
            return bytes.ToArray();
        }

        /// <summary>The leads <see cref="PackCell"/> wrote.</summary>
        internal static IEnumerable<(long Lead, long N, long Sessions)> UnpackCell(byte[] bytes)
        {
            var at = 0;
            long lead = 0;
            while (at < bytes.Length)
            {
                lead += Varint.Get(bytes, ref at);
                yield return (lead, Varint.Get(bytes, ref at), Varint.Get(bytes, ref at));
            }
        }

        /// <summary>
        /// The cells' leads packed a row per cell (schema 41): creates sequence_lead_cells and moves the rows of
        /// sequence_leads (a row per cell and lead, schemas 18-40) into it, then drops that table. Run by the migrations
        /// that count cells before 41 (19, 38) too, so what they count is written where the code writes it.
        /// </summary>
        internal static void PackLeadCells(SqliteConnection c, SqliteTransaction tx)
        {
            c.Execute(Schema.LeadCellsTable, transaction: tx);
            if (c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sequence_leads'", transaction: tx) == 0) return;
            AddToLeadCells(c, tx, c.Query<(long scope, long first, long last, string story, long lead, long n, long sessions)>(
                    "SELECT scope, first_day, last_day, story_id, lead_id, n, sessions FROM sequence_leads", transaction: tx)
                .Select(r => (((int)r.scope, r.first, r.last, r.story), r.lead, r.n, r.sessions)).ToList());
            c.Execute("DROP TABLE sequence_leads", transaction: tx);
        }

        /// <summary>A session's numbered leads and their occurrences as sequence_session_leads stores them: pairs of variable-length integers.</summary>
        internal static byte[] Pack(IEnumerable<(long Lead, long N)> leads)
        {
            var bytes = new List<byte>();
            foreach (var (lead, n) in leads.OrderBy(l => l.Lead)) { Varint.Put(bytes, lead); Varint.Put(bytes, n); }
            return bytes.ToArray();
        }

        /// <summary>The pairs <see cref="Pack"/> wrote.</summary>
        internal static IEnumerable<(long Lead, long N)> Unpack(byte[] bytes)
        {
            var at = 0;
            while (at < bytes.Length) yield return (Varint.Get(bytes, ref at), Varint.Get(bytes, ref at));
        }

        /// <summary>The sessions (ids) a temporary table lists, for <see cref="Leads"/> and <see cref="Runs"/>.</summary>
        private const string Listed = "SELECT session_id FROM temp.sequence_sessions";

        private static void List(SqliteConnection c, SqliteTransaction tx, IEnumerable<string> sessions)
        {
            c.Execute("CREATE TEMP TABLE IF NOT EXISTS sequence_sessions (session_id TEXT PRIMARY KEY) WITHOUT ROWID; DELETE FROM temp.sequence_sessions;", transaction: tx);
            PreparedBatch.Run(c, tx, "INSERT OR IGNORE INTO temp.sequence_sessions VALUES ($1)", sessions.Select(s => new object?[] { s }));
        }

        /// <summary>Adds to <paramref name="delta"/> (sign 1) or takes back (-1) the listed sessions' rows as they are stored, in the cells <paramref name="cellOf"/> gives.</summary>
        [MethodImpl(Hot.Path)]
        internal static void Count(SqliteConnection c, SqliteTransaction tx, IReadOnlyCollection<string> sessions, Func<string, SessionCell> cellOf, Classes classes, Delta delta, int sign)
        {
            if (sessions.Count == 0) return;
            List(c, tx, sessions);
            Leads(c, tx, Listed, null, classes, (s, leads) => delta.AddLeads(s, cellOf(s), leads, sign));
            Runs(c, tx, Listed, null, classes, (s, runs) => delta.AddRuns(cellOf(s), runs, sign));
        }

        /// <summary>
        /// Applies to the cells every change of a pattern's survivor or class since they were counted (merges, re-keys):
        /// the sessions whose rows name a changed pattern are taken back as counted and added as named now (a pattern in
        /// a lead is one of the session's errors, so its trail names it as an error's own pattern too). Returns the classes as they are now.
        /// </summary>
        internal static Classes Reconcile(SqliteConnection c, SqliteTransaction tx)
        {
            var now = Classes.Current(c, tx);
            var counted = Classes.Counted(c, tx);
            var changed = now.Differences(counted);
            if (changed.Count == 0) return now;
            // The sessions whose trails name one as an error's own pattern (a trail is a few bytes per error: read whole).
            var named = new HashSet<long>(changed);
            var sessions = new Dictionary<string, SessionCell>(StringComparer.Ordinal);
            using (var reader = c.ExecuteReader(@"
                SELECT n.text, s.story_id, s.first_ts, s.last_ts, t.errors FROM sequence_spans s
                CROSS JOIN sequence_trails t ON t.session = s.session JOIN names n ON n.id = s.session WHERE s.in_order = 1 AND length(t.errors) > 0", transaction: tx))
                while (reader.Read())
                    if (ErrorTrail.Patterns((byte[])reader.GetValue(4)).Any(named.Contains))
                        sessions[reader.GetString(0)] = new SessionCell(reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), true);
            var delta = new Delta();
            Count(c, tx, sessions.Keys, s => sessions[s], counted, delta, -1);
            Count(c, tx, sessions.Keys, s => sessions[s], now, delta, 1);
            delta.Write(c, tx);
            now.Save(c, tx, changed);
            return now;
        }

        /// <summary>Counts the cells again from the per-session rows and the trails, filled anew from the events (an upgrade, retention's rebuild).</summary>
        internal static void Fill(SqliteConnection c, SqliteTransaction tx)
        {
            foreach (var t in Tables) c.Execute($"DELETE FROM {t}", transaction: tx);
            FillTrails(c, tx, "SELECT session_id, first_ts FROM session_sequences WHERE in_order = 1");
            var now = Classes.Current(c, tx);
            now.Save(c, tx, c.Query<long>("SELECT id FROM patterns", transaction: tx));
            var sessions = c.Query<(string id, string? story, long first, long last)>(
                    "SELECT session_id, story_id, first_ts, last_ts FROM session_sequences WHERE in_order = 1", transaction: tx)
                .ToDictionary(s => s.id, s => new SessionCell(s.story, s.first, s.last, true), StringComparer.Ordinal);
            var delta = new Delta();
            const string inOrder = "SELECT session_id FROM session_sequences WHERE in_order = 1";
            Leads(c, tx, inOrder, null, now, (s, leads) => delta.AddLeads(s, sessions[s], leads, 1));
            Runs(c, tx, inOrder, null, now, (s, runs) => delta.AddRuns(sessions[s], runs, 1));
            delta.Write(c, tx);
        }

        /// <summary>
        /// Gives a trail to each in-order session that has none (schema 34: the leads are read from the trails; a fill
        /// before it left none to the sessions whose events were stored out of time order). The cells stay as counted.
        /// </summary>
        internal static void FillMissingTrails(SqliteConnection c, SqliteTransaction tx) =>
            FillTrails(c, tx, @"SELECT s.session_id, s.first_ts FROM session_sequences s
                WHERE s.in_order = 1 AND NOT EXISTS (SELECT 1 FROM sequence_session_errors t WHERE t.session_id = s.session_id)");

        /// <summary>
        /// The error trails of the in-order sessions <paramref name="sessionsSql"/> lists (session_id, first_ts) from their
        /// events (those a condition on the events view, alias e, selects: <paramref name="events"/>, null: all) in time order, as SummaryTables.SequenceFill orders them (time, then id): read once in the order they were
        /// stored, and again, ordered by time, for the sessions whose events were stored out of time order.
        /// </summary>
        private static void FillTrails(SqliteConnection c, SqliteTransaction tx, string sessionsSql, string? events = null)
        {
            var first = c.Query<(string id, long first)>(sessionsSql, transaction: tx).ToDictionary(s => s.id, s => s.first, StringComparer.Ordinal);
            if (first.Count == 0) return;
            var trails = new Dictionary<string, (ErrorTrail trail, long last)>(StringComparer.Ordinal);
            var unordered = new HashSet<string>(StringComparer.Ordinal);
            using var numbers = new LeadNumbers(c, tx);
            var steps = $"SELECT e.session_id, e.timestamp, {Steps.NameSql}, {Errors.InEvents}, coalesce(e.pattern_id, 0) FROM events e WHERE e.session_id IS NOT NULL AND e.event_type <> 'llm_call'"
                + (events == null ? "" : " AND " + events);
            void Add(System.Data.IDataReader reader)
            {
                var session = reader.GetString(0);
                if (!first.TryGetValue(session, out var f) || unordered.Contains(session)) return;
                var ts = reader.GetInt64(1);
                if (!trails.TryGetValue(session, out var t)) t = (new ErrorTrail(f), long.MinValue);
                if (ts < t.last) { unordered.Add(session); trails.Remove(session); return; }
                t.trail.Add(ts, numbers.Number(reader.GetString(2)), reader.GetInt64(3) != 0 ? reader.GetInt64(4) : -1);
                trails[session] = (t.trail, ts);
            }
            using (var reader = c.ExecuteReader(steps + " ORDER BY e.id", transaction: tx))
                while (reader.Read()) Add(reader);
            if (unordered.Count > 0)
            {
                var again = unordered.ToList();
                unordered.Clear();
                foreach (var chunk in Chunks(again))
                    using (var reader = c.ExecuteReader(steps + " AND e.session_id IN @chunk ORDER BY e.timestamp, e.id", new { chunk }, tx))
                        while (reader.Read()) Add(reader);
            }
            WriteTrails(c, tx, trails.Select(kv => (kv.Key, (ErrorTrail?)kv.Value.trail)));
        }

        /// <summary>
        /// Counts some sessions again from their events (their events changed in a way the stored rows cannot follow):
        /// each taken back from the cells as stored, its per-session rows (session_sequences, sequence_session_errors) filled again by
        /// SummaryTables.SequenceFill's definitions and its trail from its events, and added back as filled.
        /// <paramref name="events"/> selects, on the events view (alias e), at least all of these sessions' events.
        /// </summary>
        internal static void Recount(SqliteConnection c, SqliteTransaction tx, IReadOnlyCollection<string> sessions, string events)
        {
            if (sessions.Count == 0) return;
            var classes = Reconcile(c, tx);
            var cells = "SELECT session_id, story_id, first_ts, last_ts, in_order FROM session_sequences WHERE session_id IN (" + Listed + ")";
            Dictionary<string, SessionCell> Cells()
            {
                List(c, tx, sessions);
                return c.Query<(string id, string? story, long first, long last, long inOrder)>(cells, transaction: tx)
                    .ToDictionary(s => s.id, s => new SessionCell(s.story, s.first, s.last, s.inOrder != 0), StringComparer.Ordinal);
            }
            var before = Cells();
            var delta = new Delta();
            Count(c, tx, before.Where(kv => kv.Value.InOrder).Select(kv => kv.Key).ToList(), id => before[id], classes, delta, -1);
            List(c, tx, sessions); // (Count lists the sessions it counts)
            SummaryTables.DeleteSequences(c, tx, Listed);
            c.Execute($"DELETE FROM sequence_trails WHERE session IN (SELECT id FROM names WHERE text IN ({Listed}))", transaction: tx);
            c.Execute(SummaryTables.SequenceFillOf($"e.session_id IN ({Listed}) AND {events}"), transaction: tx);
            FillTrails(c, tx, $"SELECT session_id, first_ts FROM session_sequences WHERE in_order = 1 AND session_id IN ({Listed})", events);
            var after = Cells();
            Count(c, tx, after.Where(kv => kv.Value.InOrder).Select(kv => kv.Key).ToList(), id => after[id], classes, delta, 1);
            delta.Write(c, tx);
        }

        // Lists bound as parameters, in pieces SQLite takes.
        private static IEnumerable<List<T>> Chunks<T>(List<T> items)
        {
            for (var i = 0; i < items.Count; i += 500) yield return items.GetRange(i, Math.Min(500, items.Count - i));
        }

        /// <summary>Stores sessions' error trails (none: the session has none any more, its events are read instead).</summary>
        internal static void WriteTrails(SqliteConnection c, SqliteTransaction tx, IEnumerable<(string Session, ErrorTrail? Trail)> trails)
        {
            var all = trails.ToList();
            PreparedBatch.Run(c, tx, $"DELETE FROM sequence_trails WHERE session = {SessionNumber}", all.Where(t => t.Trail == null).Select(t => new object?[] { t.Session }));
            PreparedBatch.Run(c, tx, "INSERT OR REPLACE INTO sequence_trails SELECT id, $2, $3 FROM names WHERE text = $1",
                all.Where(t => t.Trail != null).Select(t => new object?[] { t.Session, t.Trail!.Times(), t.Trail.Errors }));
        }

        /// <summary>A stored session's trail, carrying on from its last steps (as session_sequences.steps names them, oldest first); null when it has none.</summary>
        [MethodImpl(Hot.Path)]
        internal static ErrorTrail? LoadTrail(SummaryTables.SessionLookup lookup, string session, long first, IReadOnlyList<(string Name, long Pattern)> lastSteps, LeadNumbers numbers)
        {
            var row = lookup.Trail(session);
            if (row == null) return null;
            var times = ErrorTrail.ReadTimes(first, row.Value.Times);
            if (times.Count != lastSteps.Count) return null;
            // A loop, not LINQ's indexed Select, whose iterator over these tuples was compiled for this call alone.
            var last = new List<(long Ts, long Name, long Pattern)>(lastSteps.Count);
            for (var i = 0; i < lastSteps.Count; i++) last.Add((times[i], numbers.Number(lastSteps[i].Name), lastSteps[i].Pattern));
            return new ErrorTrail(first, row.Value.Errors, last);
        }
    }
}

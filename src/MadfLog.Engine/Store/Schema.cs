using System.Linq;
using System.Collections.Generic;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Forward-only schema migrations. Version N's script turns a version N-1 database into version N.
    /// Never edit a released script; add the next one, and update docs/schema.sql (SchemaSnapshotTests says how).
    /// 1 foundation, (2 unused), 3 patterns, 4 query summaries, 5 rules, 6 lifecycle, 7 compact events, 8 errors per
    /// pattern and story, 9 pattern re-keying to error signatures, 10 workflow duration histograms, 11 day-grain summaries
    /// per story (day_rollup, day_hist, session_day), 12 error sequences per session (session_sequences, session_runs,
    /// session_leads), 13 eight details values per row (d5..d8), 14 dedup keys packed by key range (event_keys,
    /// response_keys), 15 each block's time span per day and story (event_block_days), 16 indexes on contexts' story and
    /// agent, 17 recent dedup keys apart (event_keys_recent), 18 error sequences summed per cell (sequence_leads,
    /// sequence_runs, sequence_patterns), 19 the cells' leads numbered by their steps (sequence_lead_keys, sequence_steps),
    /// each session's numbered leads packed (sequence_session_leads) and error trail (sequence_session_errors), 20 the hour
    /// twins of the day-grain summaries (hour_rollup, hour_hist, session_hour) and each story's span per hour
    /// (hour_stories), (21 unused: two changes were numbered apart while they were built), 22 the rarely set columns in a
    /// side table (event_extras), (23, 24 unused: numbered for work that needed no migration), 25 the events changed in place (event_changes) and what a
    /// combined store was brought up to date with (combined_state), (26-31 unused: numbered for work that needed none, or
    /// renumbered), 32 five details values per row (d6..d8 dropped), 33 a rejected Claude Code call counted as one error,
    /// not two (data only: EventStorage.CountRejectionsOnce; after 32, whose view it reads; done at 38 since), 34 the leads read from the
    /// sessions' error trails (session_leads dropped), 35 day_rollup and hour_rollup as views of their cells keyed by
    /// number (rollup_keys, day_rollup_cells, hour_rollup_cells), (36, 37 unused: numbered for work that needed none), 38 migration 33's fix run after 34 and 35
    /// and recounting only the rows it moves (an earlier 33 left nothing to move), 39 a transcript's
    /// tool calls and human acts given the context figure of the response that made the call (data only:
    /// EventStorage.CarryContextToCalls), 40 the retry loops read from the sessions' error trails (session_runs dropped), 41 the cells' leads packed a row per cell
    /// (sequence_lead_cells in place of sequence_leads), 42 the duration histograms' blobs as runs of neighbouring buckets
    /// (DayHistogram), 43 the dedup keys' offsets packed as Elias-Fano (EventKeys, SortedOffsets) instead of a fixed byte
    /// width, 45 each file cursor's identical-lines numbering state (import_files.numbering), so a grown file is
    /// read from its cursor without replaying the lines before, 48 an edit's text found in several places classed apart
    /// from text not found (the sequences' cells reconciled after), 49 a row's details shape folded into its kind (kinds.details_shape;
    /// event_rows.details_shape dropped), 50 the responses' dedup keys packed by key range with
    /// their event ids (response_keys, response_keys_recent; EventKeys.Responses), 55 the patterns classed again by the next import
    /// (PatternRekey: a script without its execute bit and a package the registry lacks got classes of their own), 56 the
    /// time saved or wasted moved into event_extras (event_rows.time_saved_or_wasted_ms dropped: a byte of record header
    /// on every row for a value 2.6 % of events have), 60 the patterns classed again (a service not listening, as libpq,
    /// Prisma, kubectl, Docker and Go say it, is Network), 61 a row's time as an offset from its block's base
    /// (event_rows.ts, event_blocks.base_ts; a row with a pattern keeps its time whole, which the pattern index orders by),
    /// 65 the patterns classed again (a port something else holds is
    /// PortInUse), 66 the patterns classed again (out of memory, disk full, open files or watchers over the limit, a
    /// managed environment's refusal, conflicting dependency versions and refused credentials have classes of their own),
    /// 71 the patterns classed again (curl's and wget's exit codes decide over output that may be an earlier step's; a
    /// registry out of reach is Network; a script or target the project lacks is TaskNotFound), 72 the sessions' error
    /// trails and numbered leads keyed by the session's names id in rowid tables (sequence_trails, sequence_lead_sets;
    /// sequence_session_errors and sequence_session_leads are views of them), 73 the duration histograms (day_hist,
    /// hour_hist) keyed by the number of their story, scope and key (hist_keys), 76 the patterns keyed
    /// again (a pipeline failed in the stage its output names, else in its last stage that is not a filter: "cat f | jq"
    /// is jq's), 77 the patterns classed again (a lock another process holds is LockHeld), 78 the sessions' sequences
    /// keyed by the session's names id in a rowid table (sequence_spans; session_sequences is a view of it), 79
    /// session_rollup keyed by the session's names id (session_rollup_cells; session_rollup is a view of it), 80 the leads'
    /// numbers with their four steps' numbers as integers, unique on them (sequence_lead_steps; sequence_lead_keys, the
    /// steps as text with a unique index on the text, is a view of it), 81 the details literals of 22 base-62 characters
    /// (Claude Code message and tool-use ids) in d1 packed into 17-byte BLOBs (PackedId), which the events view unpacks,
    /// 82 session_day and session_hour keyed by the session's names id (session_day_cells, session_hour_cells; each is a
    /// view of its cells), 83 the events view unpacking an id once per row instead of in each of its details branches, 84
    /// three details values per row (d4 and d5 dropped), the last packing up to three small integers (DetailsShape.PackedPart).
    /// </summary>
    public static class Schema
    {
        private static readonly SortedDictionary<int, string> Scripts = new SortedDictionary<int, string>
        {
            [1] = Foundation,
            [3] = Patterns,
            [4] = Summaries,
            [5] = Rules,
            [6] = Lifecycle,
            [7] = CompactEvents,
            [8] = PatternStoryCounts,
            [9] = PatternRekeyMigration,
            [10] = WorkflowDurations,
            [11] = DaySummaries,
            [12] = SessionSequences,
            [13] = EightDetailsValues,
            [14] = PackedKeys,
            [15] = BlockDays,
            [16] = ContextIndexes,
            [17] = RecentKeys,
            [18] = SequenceCellTables,
            [19] = SequenceTrails,
            [20] = HourSummaries,
            [22] = RareColumnsApart,
            [25] = EventChanges,
            [32] = FiveDetailsSlots,
            [33] = RejectionsOnce,
            [34] = LeadsFromTrails,
            [35] = KeyedRollups,
            [38] = RejectionsOnceRecounted,
            [39] = ContextOfCalls,
            [40] = RunsFromTrails,
            [41] = PackedLeadCells,
            [42] = HistogramRuns,
            [43] = KeysAsEliasFano,
            [45] = CursorNumbering,
            [48] = EditNotUniqueClass,
            [49] = ShapesInKinds,
            [50] = PackedResponseKeys,
            [55] = PatternsClassedAgain,
            [56] = WastedApart,
            [60] = PatternsRekeyed,
            [61] = TimesFromBlocks,
            [65] = PatternsRekeyed,
            [66] = PatternsRekeyed,
            [71] = PatternsRekeyed,
            [72] = SessionsKeyedByNumber,
            [73] = HistogramsKeyedByNumber,
            [76] = PatternsRekeyed,
            [77] = PatternsRekeyed,
            [78] = SequencesKeyedByNumber,
            [79] = SessionRollupKeyedByNumber,
            [80] = LeadsKeyedBySteps,
            [81] = PackedIds,
            [82] = SessionGrainsKeyedByNumber,
            [83] = ViewUnpackingIdsOnce,
            [84] = DetailsInThreeSlots,
        };

        /// <summary>
        /// What a migration does that SQL cannot, run in its transaction right after its script (14: packing the keys, 19: counting the cells, 22: moving the rare columns, 32: re-splitting details into five slots, 34: a trail for every in-order session, 35: the rollups keyed by number, 38: counting rejections once (33's), 39: the calls' context figures, 41: the cells' leads packed a row per cell, also before 19's and 38's counts, 43: the dedup keys' rows rewritten, 45: the cursors' numbering column, 49: the rows and kinds rewritten with the shape in the kind, 50: the responses' keys packed, 56: the time wasted moved into event_extras and the rows rewritten without it, 61: the rows rewritten with their times as offsets from their blocks' bases, 81: the rows rewritten with their ids packed, 84: the rows of four or five values split again into three and the rows rewritten without d4 and d5, 72 and every migration from 19: the sessions' sequence rows keyed by number, 73 and every migration from 11: the histograms keyed by number, 78 and every migration from 12: the sessions' sequences keyed by number, 79 and every migration from 7: session_rollup keyed by number, 80 and every migration from 19: the leads' steps as integers, 82 and every migration from 11: session_day and session_hour keyed by number).
        /// </summary>
        public static void AfterScript(int version, Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction transaction)
        {
            // The per-session sequence rows keyed by number (72) and the leads' steps as integers (80) before the code of any
            // migration from 19 on (which creates them) writes them.
            if (version >= 19)
            {
                SequenceCells.KeySessions(connection, transaction);
                SequenceCells.KeyLeads(connection, transaction);
            }
            // And the sessions' sequences (78), from the migration that creates them on (its script keys them before its fill).
            if (version >= 12) SummaryTables.KeySequences(connection, transaction);
            // And session_rollup (79), from the migration that names the sessions on (7; 4 creates the table).
            if (version >= 7) SummaryTables.KeySessionRollup(connection, transaction);
            // And session_day and session_hour (82), each from the migration that creates it on.
            if (version >= 11) SummaryTables.KeySessionGrain(connection, transaction, SummaryTables.Grain.Day);
            if (version >= 20) SummaryTables.KeySessionGrain(connection, transaction, SummaryTables.Grain.Hour);
            // And the histograms (73), from the migration that creates day_hist on.
            if (version >= 11) SummaryTables.KeyHistograms(connection, transaction);
            if (version == 14) EventKeys.ConvertLegacy(connection, transaction);
            // The cells' leads are written a row per cell (41) by the code that counts them, here too.
            if (version == 19 || version == 38 || version == 41) SequenceCells.PackLeadCells(connection, transaction);
            // 18's tables are replaced by 19's before any is filled.
            if (version == 19) SequenceCells.Fill(connection, transaction);
            if (version == 22) EventStorage.MoveRareColumnsApart(connection, transaction);
            if (version == 32) EventStorage.MoveToFiveSlots(connection, transaction);
            // 33's data fix is done at 38 (after 34 and 35, whose layouts its recount writes): the moved rows are counted again
            // (SummaryTables.Recount), not every event.
            if (version == 38) EventStorage.CountRejectionsOnce(connection, transaction);
            // The leads are read from the trails now: an in-order session that had none (a fill from events stored out of time order) gets one.
            if (version == 34) SequenceCells.FillMissingTrails(connection, transaction);
            if (version == 35) SummaryTables.KeyRollups(connection, transaction);
            // The counts split events and errors at 80 % context: the calls that got a figure are counted again (the error
            // sequences do not depend on it).
            if (version == 39) EventStorage.CarryContextToCalls(connection, transaction);
            if (version == 43) EventKeys.Repack(connection, transaction);
            // A store turned back to an older version by deleting its schema_version rows (as tests do) keeps the column.
            if (version == 45 && Dapper.SqlMapper.ExecuteScalar<long>(connection, "SELECT count(*) FROM pragma_table_info('import_files') WHERE name = 'numbering'", transaction: transaction) == 0)
                Dapper.SqlMapper.Execute(connection, "ALTER TABLE import_files ADD COLUMN numbering BLOB", transaction: transaction);
            // An edit whose text matched several places was classed as text not found (and advised to re-read the file);
            // its patterns take their own class, and the error sequences, which name steps by class, follow.
            if (version == 48) SequenceCells.Reconcile(connection, transaction);
            if (version == 49) EventStorage.FoldShapesIntoKinds(connection, transaction);
            if (version == 50) EventKeys.ConvertResponses(connection, transaction);
            if (version == 56) EventStorage.MoveWastedApart(connection, transaction);
            if (version == 61) EventStorage.TimesFromBlocks(connection, transaction);
            if (version == 81) EventStorage.PackIds(connection, transaction);
            if (version == 84) EventStorage.MoveToThreeSlots(connection, transaction);
            else if (version < 84) EventStorage.KeepViewOfThreeSlots(connection, transaction);
        }

        /// <summary>The schema version this build writes.</summary>
        public static int CurrentVersion
        {
            get { var last = 0; foreach (var k in Scripts.Keys) last = k; return last; }
        }

        public static IEnumerable<KeyValuePair<int, string>> MigrationsAfter(int version)
        {
            foreach (var pair in Scripts)
                if (pair.Key > version) yield return pair;
        }

        // Error patterns mined from messages; ids are stable across imports (templates are refined in place).
        private const string Patterns = @"
CREATE TABLE patterns (
    id INTEGER PRIMARY KEY,
    template TEXT NOT NULL,
    token_count INTEGER NOT NULL,
    error_class TEXT NOT NULL DEFAULT 'Other',
    event_count INTEGER NOT NULL DEFAULT 0,
    first_seen INTEGER,
    last_seen INTEGER,
    example TEXT,
    created INTEGER NOT NULL,
    merged_into INTEGER,
    display TEXT
);
-- Partial: only error events carry a pattern, so the index stays small and cheap to maintain at import.
CREATE INDEX ix_events_pattern ON events(pattern_id, timestamp) WHERE pattern_id IS NOT NULL;
-- Every distinct masked message seen, and its pattern: the miner's exact-group index, reloaded on each import.
CREATE TABLE pattern_signatures (signature TEXT PRIMARY KEY, pattern_id INTEGER NOT NULL) WITHOUT ROWID;
";

        // Summaries kept at import so whole-store questions do not scan events (and survive retention):
        // one row per agent, workflow, type, category, step (tool or workflow step), pattern and outcome (no time or story
        // column, so whole-store questions stay flat as stories and weeks accumulate); per story, per week and per
        // session figures in their own small tables; which agents worked on a story and which stories a pattern hit;
        // duration histograms (8 buckets per doubling) per agent and per step for medians and p95s;
        // where each pattern first occurred, for repeated-error counts.
        private const string Summaries = @"
CREATE TABLE event_rollup (
    agent_name TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    category TEXT NOT NULL,
    step TEXT NOT NULL,
    pattern_id INTEGER NOT NULL,
    outcome INTEGER NOT NULL,
    events INTEGER NOT NULL,
    timed INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    ctx_known INTEGER NOT NULL,
    ctx_hot INTEGER NOT NULL,
    wasted_ms INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (agent_name, workflow_id, event_type, category, step, pattern_id, outcome)
) WITHOUT ROWID;
CREATE TABLE story_rollup (
    story_id TEXT PRIMARY KEY,
    events INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    patterned INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    human INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL
);
CREATE TABLE story_agents (story_id TEXT NOT NULL, agent_name TEXT NOT NULL, PRIMARY KEY (story_id, agent_name)) WITHOUT ROWID;
CREATE TABLE pattern_stories (pattern_id INTEGER NOT NULL, story_id TEXT NOT NULL, PRIMARY KEY (pattern_id, story_id)) WITHOUT ROWID;
CREATE TABLE session_rollup (
    session_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    story_id TEXT,
    events INTEGER NOT NULL,
    max_context REAL NOT NULL,
    ctx_hot INTEGER NOT NULL,
    ctx_hot_errors INTEGER NOT NULL,
    ctx_cool INTEGER NOT NULL,
    ctx_cool_errors INTEGER NOT NULL,
    PRIMARY KEY (session_id, agent_name)
) WITHOUT ROWID;
CREATE INDEX ix_session_rollup_context ON session_rollup(max_context);
CREATE TABLE human_groups (
    category TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    story_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (category, agent_name, story_id)
) WITHOUT ROWID;
CREATE INDEX ix_human_groups_n ON human_groups(n);
CREATE TABLE human_rollup (
    category TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    story_id TEXT NOT NULL,
    pattern_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (category, agent_name, story_id, pattern_id)
) WITHOUT ROWID;
CREATE TABLE week_rollup (
    week INTEGER PRIMARY KEY,
    events INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    patterned INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    human INTEGER NOT NULL
);
CREATE TABLE duration_hist (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (scope, key, bucket)
) WITHOUT ROWID;
ALTER TABLE patterns ADD COLUMN first_story TEXT;
";

        // Prevention rules (one per pattern, never duplicated) and the weekly revisions that proposed them.
        private const string Rules = @"
CREATE TABLE rules (
    id INTEGER PRIMARY KEY,
    pattern_id INTEGER NOT NULL UNIQUE,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    created INTEGER NOT NULL,
    activated INTEGER,
    retired INTEGER,
    evidence TEXT NOT NULL
);
CREATE TABLE revisions (
    week TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    window_end INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    report_path TEXT
);
";

        // Rotation journal: a weekly archive is 'writing' until its gzip is complete, then 'written' until
        // its sources are removed ('done'); a run that finds 'written' finishes the removal.
        // archived_keys keeps the dedup keys of events moved to archive databases so a re-import cannot
        // bring them back into the active store (the trigger is created when retention first moves events).
        private const string Lifecycle = @"
CREATE TABLE log_archives (
    id INTEGER PRIMARY KEY,
    archive_path TEXT NOT NULL UNIQUE,
    period TEXT NOT NULL,
    sources TEXT NOT NULL,
    bytes_before INTEGER NOT NULL,
    bytes_after INTEGER,
    state TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE archived_keys (dedup_key INTEGER PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE event_archives (
    period TEXT PRIMARY KEY,
    archive_path TEXT NOT NULL,
    events INTEGER NOT NULL,
    first_timestamp INTEGER,
    last_timestamp INTEGER,
    moved INTEGER NOT NULL
);
";

        // Compact storage (about 240 -> under 100 bytes per event with indexes). Events live in event_rows, where every
        // repeated text is stored once in names and referenced by id, through one row per distinct combination: what
        // the event is in kinds (type, category, success (-1 for none), pattern_detected, needs_review), and who and
        // where in contexts (session, story, workflow, agent; 0 for none).
        // Details are split into a shape (the keys and literals, kept once in names) and up to four values d1..d4:
        // placeholder \u000k in the shape is value k as a literal (a number, or JSON text), \u000(k+4) is value k as
        // the id of a short string in names (see DetailsShape); details that do not fit (not an object, more than
        // four values) stay whole in d1 with no shape.
        // context_percent is exact hundredths as an integer when it can be (no column affinity, so 2 bytes not 8).
        // The dedup key moves to event_keys, whose rowid it is; retention moves keys along with their events, and the
        // writer looks in the archive for events of archived months (archived_keys and its trigger are folded in).
        // event_blocks holds each block of ids' time span, so time and story filters read an id range (no indexes).
        // `events` is a view with the design's columns and plain text values, for every query and for any SQLite tool;
        // each coded column is a subquery, so a query pays only for the columns it reads (SQLite kept unused LEFT JOINs);
        // kind and context are there too, so hot filters can test set membership (see Domain.Errors.InEvents, QueryFilter).
        // Rows migrated from version 6 keep their details whole (d1); new rows are shaped.
        private const string CompactEvents = @"
CREATE TABLE names (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE kinds (
    id INTEGER PRIMARY KEY,
    event_type INTEGER NOT NULL,
    category INTEGER NOT NULL,
    success INTEGER NOT NULL,
    pattern_detected INTEGER NOT NULL,
    needs_review INTEGER NOT NULL,
    UNIQUE (event_type, category, success, pattern_detected, needs_review)
);
CREATE TABLE contexts (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL,
    story_id INTEGER NOT NULL,
    workflow_id INTEGER NOT NULL,
    agent_name INTEGER NOT NULL,
    UNIQUE (session_id, story_id, workflow_id, agent_name)
);
CREATE TABLE event_keys (key INTEGER PRIMARY KEY, event_id INTEGER NOT NULL);
CREATE TABLE event_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    context INTEGER NOT NULL,
    duration_ms INTEGER,
    tokens_used INTEGER,
    context_percent,
    pattern_id INTEGER,
    details_shape INTEGER,
    d1, d2, d3, d4,
    confidence_score REAL,
    impact_score REAL,
    time_saved_or_wasted_ms INTEGER,
    user_satisfaction_delta REAL,
    created_rule INTEGER
);

INSERT OR IGNORE INTO names(text)
    SELECT event_type FROM events UNION SELECT category FROM events UNION SELECT session_id FROM events WHERE session_id IS NOT NULL
    UNION SELECT story_id FROM events WHERE story_id IS NOT NULL UNION SELECT workflow_id FROM events WHERE workflow_id IS NOT NULL
    UNION SELECT agent_name FROM events WHERE agent_name IS NOT NULL;
CREATE TEMP TABLE old_contexts AS
    SELECT DISTINCT coalesce((SELECT id FROM names WHERE text = e.session_id), 0) AS s, coalesce((SELECT id FROM names WHERE text = e.story_id), 0) AS st,
        coalesce((SELECT id FROM names WHERE text = e.workflow_id), 0) AS w, coalesce((SELECT id FROM names WHERE text = e.agent_name), 0) AS a
    FROM events e;
INSERT INTO contexts(session_id, story_id, workflow_id, agent_name) SELECT s, st, w, a FROM temp.old_contexts;
DROP TABLE temp.old_contexts;
INSERT OR IGNORE INTO kinds(event_type, category, success, pattern_detected, needs_review)
    SELECT DISTINCT (SELECT id FROM names WHERE text = e.event_type), (SELECT id FROM names WHERE text = e.category),
        coalesce(e.success, -1), e.pattern_detected, e.needs_review FROM events e;
INSERT INTO event_rows(id, timestamp, kind, context, duration_ms, tokens_used,
        context_percent, pattern_id, details_shape, d1,
        confidence_score, impact_score, time_saved_or_wasted_ms, user_satisfaction_delta, created_rule)
    SELECT e.id, e.timestamp,
        (SELECT k.id FROM kinds k WHERE k.event_type = (SELECT id FROM names WHERE text = e.event_type) AND k.category = (SELECT id FROM names WHERE text = e.category)
            AND k.success = coalesce(e.success, -1) AND k.pattern_detected = e.pattern_detected AND k.needs_review = e.needs_review),
        (SELECT x.id FROM contexts x WHERE x.session_id = coalesce((SELECT id FROM names WHERE text = e.session_id), 0)
            AND x.story_id = coalesce((SELECT id FROM names WHERE text = e.story_id), 0)
            AND x.workflow_id = coalesce((SELECT id FROM names WHERE text = e.workflow_id), 0)
            AND x.agent_name = coalesce((SELECT id FROM names WHERE text = e.agent_name), 0)),
        e.duration_ms, e.tokens_used, e.context_percent, e.pattern_id, NULL, e.details,
        e.confidence_score, e.impact_score, e.time_saved_or_wasted_ms, e.user_satisfaction_delta, e.created_rule
    FROM events e ORDER BY e.id;
INSERT INTO event_keys(key, event_id) SELECT dedup_key, id FROM events;
INSERT OR IGNORE INTO event_keys(key, event_id) SELECT dedup_key, 0 FROM archived_keys;
DROP TABLE archived_keys;
DROP TABLE events;

-- Time span of each block of ids (EventStorage.BlockSize): time and story filters become id ranges (no index needed).
CREATE TABLE event_blocks (block INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL);
INSERT INTO event_blocks SELECT id / 512, min(timestamp), max(timestamp) FROM event_rows GROUP BY 1;
CREATE INDEX ix_event_rows_pattern ON event_rows(pattern_id, timestamp) WHERE pattern_id IS NOT NULL;

CREATE VIEW events AS
SELECT r.id, r.timestamp,
    (SELECT n.text FROM kinds k JOIN names n ON n.id = k.event_type WHERE k.id = r.kind) AS event_type,
    (SELECT n.text FROM kinds k JOIN names n ON n.id = k.category WHERE k.id = r.kind) AS category,
    (SELECT n.text FROM contexts x JOIN names n ON n.id = x.session_id WHERE x.id = r.context) AS session_id,
    (SELECT n.text FROM contexts x JOIN names n ON n.id = x.story_id WHERE x.id = r.context) AS story_id,
    (SELECT n.text FROM contexts x JOIN names n ON n.id = x.workflow_id WHERE x.id = r.context) AS workflow_id,
    (SELECT n.text FROM contexts x JOIN names n ON n.id = x.agent_name WHERE x.id = r.context) AS agent_name,
    r.duration_ms, r.tokens_used,
    CASE WHEN typeof(r.context_percent) = 'integer' THEN r.context_percent / 100.0 ELSE r.context_percent END AS context_percent,
    (SELECT nullif(success, -1) FROM kinds WHERE id = r.kind) AS success, r.confidence_score,
    CASE WHEN r.details_shape IS NULL THEN r.d1
         ELSE (SELECT replace(replace(replace(replace(
             CASE WHEN instr(sh.text, char(5)) + instr(sh.text, char(6)) + instr(sh.text, char(7)) + instr(sh.text, char(8)) = 0 THEN sh.text
                  ELSE replace(replace(replace(replace(sh.text,
                      char(5), coalesce('""' || (SELECT text FROM names WHERE id = r.d1) || '""', '')),
                      char(6), coalesce('""' || (SELECT text FROM names WHERE id = r.d2) || '""', '')),
                      char(7), coalesce('""' || (SELECT text FROM names WHERE id = r.d3) || '""', '')),
                      char(8), coalesce('""' || (SELECT text FROM names WHERE id = r.d4) || '""', ''))
             END,
             char(1), coalesce(r.d1, '')), char(2), coalesce(r.d2, '')), char(3), coalesce(r.d3, '')), char(4), coalesce(r.d4, ''))
             FROM names sh WHERE sh.id = r.details_shape)
    END AS details,
    r.impact_score, r.time_saved_or_wasted_ms, r.user_satisfaction_delta, r.created_rule,
    (SELECT pattern_detected FROM kinds WHERE id = r.kind) AS pattern_detected, (SELECT needs_review FROM kinds WHERE id = r.kind) AS needs_review, r.pattern_id,
    r.kind, r.context
FROM event_rows r;
";

        // How many errors of each pattern each story had, so comparing two stories reads summaries, not their events.
        // Patterns are mined over error signatures since schema 9: stored patterns are re-keyed once, by
        // Patterns.PatternRekey (C#: signatures are computed, not SQL), at the next import; this marks it pending.
        private const string PatternRekeyMigration = @"
CREATE TABLE pattern_rekey (pending INTEGER NOT NULL);
INSERT INTO pattern_rekey SELECT 1 WHERE EXISTS (SELECT 1 FROM patterns);
";

        private const string PatternStoryCounts = @"
ALTER TABLE pattern_stories ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;
UPDATE pattern_stories SET errors = (SELECT count(*) FROM events e WHERE e.pattern_id = pattern_stories.pattern_id AND e.story_id = pattern_stories.story_id
    AND " + Domain.Errors.InEvents + @");
";

        // Duration histograms per workflow, for the workflow rows' medians and p95s; stores from earlier versions are
        // filled from the events they still hold (madf_duration_bucket is Domain.DurationBuckets.Of, registered by MadfDatabase).
        private const string WorkflowDurations = @"
INSERT INTO duration_hist(scope, key, bucket, n)
    SELECT 'workflow', workflow_id, madf_duration_bucket(duration_ms), count(*) FROM events
    WHERE workflow_id IS NOT NULL AND duration_ms IS NOT NULL GROUP BY 2, 3;
";

        // Day-grain summaries per story, for questions with a story or whole days (-Since/-Until at midnight UTC): a week
        // reads 7 days of rows, not its events. day_rollup has event_rollup's key and figures plus the day (days since
        // 1970-01-01 UTC) and the story ('' for none); day_hist has duration_hist's histograms per day and story, one
        // blob per key (DayHistogram); no story index: a story reads the days of its span (story_rollup);
        // session_day has each session's figures per day, story and agent (sessions and context pressure).
        // Filled from the events the store holds; the import and retention keep them (Summaries.RollupStage, SummaryTables.Rebuild).
        private static string DaySummaries => @"
CREATE TABLE day_rollup (
    day INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    category TEXT NOT NULL,
    step TEXT NOT NULL,
    pattern_id INTEGER NOT NULL,
    outcome INTEGER NOT NULL,
    events INTEGER NOT NULL,
    timed INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    ctx_known INTEGER NOT NULL,
    ctx_hot INTEGER NOT NULL,
    wasted_ms INTEGER NOT NULL,
    PRIMARY KEY (day, story_id, agent_name, workflow_id, event_type, category, step, pattern_id, outcome)
) WITHOUT ROWID;
CREATE TABLE day_hist (
    day INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    buckets BLOB NOT NULL,
    PRIMARY KEY (day, story_id, scope, key)
) WITHOUT ROWID;
CREATE TABLE session_day (
    day INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    events INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    human INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    ctx_events INTEGER NOT NULL,
    max_context REAL,
    ctx_hot INTEGER NOT NULL,
    ctx_hot_errors INTEGER NOT NULL,
    ctx_cool INTEGER NOT NULL,
    ctx_cool_errors INTEGER NOT NULL,
    PRIMARY KEY (day, story_id, session_id, agent_name)
) WITHOUT ROWID;
CREATE TEMP TABLE day_fill AS " + SummaryTables.ColumnsBefore61 + @";
" + SummaryTables.DayFill("temp.day_fill", keyed: false) + @"
DROP TABLE temp.day_fill;
";

        // The day-grain summaries' hour twins: the same columns and definitions with the hour (hours since 1970-01-01 UTC)
        // for the day, so a window that cuts a day (-Since (Get-Date).AddDays(-7)) reads the whole hours of its cut days
        // here and only the parts of hours at its ends from their events; hour_stories holds each story's first and last
        // time per hour (the stories' spans, which the day grain takes from event_block_days). Filled from the events the
        // store holds (replaced, so a store taken back to an earlier version gets them anew); the import and retention
        // keep them (Summaries.RollupStage, SummaryTables.Rebuild).
        private static string HourSummaries => @"
DROP TABLE IF EXISTS hour_rollup;
DROP TABLE IF EXISTS hour_hist;
DROP TABLE IF EXISTS session_hour;
DROP TABLE IF EXISTS hour_stories;
CREATE TABLE hour_rollup (
    hour INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    category TEXT NOT NULL,
    step TEXT NOT NULL,
    pattern_id INTEGER NOT NULL,
    outcome INTEGER NOT NULL,
    events INTEGER NOT NULL,
    timed INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    ctx_known INTEGER NOT NULL,
    ctx_hot INTEGER NOT NULL,
    wasted_ms INTEGER NOT NULL,
    PRIMARY KEY (hour, story_id, agent_name, workflow_id, event_type, category, step, pattern_id, outcome)
) WITHOUT ROWID;
CREATE TABLE hour_hist (
    hour INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    buckets BLOB NOT NULL,
    PRIMARY KEY (hour, story_id, scope, key)
) WITHOUT ROWID;
CREATE TABLE session_hour (
    hour INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    events INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    human INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    ctx_events INTEGER NOT NULL,
    max_context REAL,
    ctx_hot INTEGER NOT NULL,
    ctx_hot_errors INTEGER NOT NULL,
    ctx_cool INTEGER NOT NULL,
    ctx_cool_errors INTEGER NOT NULL,
    PRIMARY KEY (hour, story_id, session_id, agent_name)
) WITHOUT ROWID;
CREATE TABLE hour_stories (
    hour INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (hour, story_id)
) WITHOUT ROWID;
CREATE TEMP TABLE hour_fill AS " + SummaryTables.ColumnsBefore61 + @";
" + SummaryTables.HourFill("temp.hour_fill", keyed: false) + @"
DROP TABLE temp.hour_fill;
";

        // What Get-MadfErrorSequence reads per session, kept at import (Summaries.SequenceStage), filled here from the events.
        private static string SessionSequences => @"
CREATE TABLE session_sequences (
    session_id TEXT PRIMARY KEY,
    story_id TEXT,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    in_order INTEGER NOT NULL,
    steps TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE session_runs (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    pattern_id INTEGER NOT NULL,
    length INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE session_leads (
    session_id TEXT NOT NULL,
    step1 TEXT NOT NULL,
    pattern1 INTEGER NOT NULL,
    step2 TEXT NOT NULL,
    pattern2 INTEGER NOT NULL,
    step3 TEXT NOT NULL,
    pattern3 INTEGER NOT NULL,
    error_step TEXT NOT NULL,
    error_pattern INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (session_id, step1, pattern1, step2, pattern2, step3, pattern3, error_step, error_pattern)
) WITHOUT ROWID;
" + SummaryTables.KeySequencesSql + SummaryTables.SequenceFill;

        // Error sequences summed over sessions per cell (Store.SequenceCells): the whole store, a story, a first and last
        // day per story; each session's leads by number; leads numbered by their names; the pattern survivors and classes
        // they were counted with. Filled
        // from the per-session rows by Schema.AfterScript (which empties them first: IF NOT EXISTS lets a store that was
        // taken back to an earlier version keep them).
        private const string SequenceCellTables = @"
CREATE TABLE IF NOT EXISTS sequence_lead_names (id INTEGER PRIMARY KEY, lead TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS sequence_leads (
    scope INTEGER NOT NULL,
    first_day INTEGER NOT NULL,
    last_day INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    lead_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (scope, first_day, last_day, story_id, lead_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sequence_runs (
    scope INTEGER NOT NULL,
    first_day INTEGER NOT NULL,
    last_day INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    pattern_id INTEGER NOT NULL,
    length INTEGER NOT NULL,
    runs INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (scope, first_day, last_day, story_id, pattern_id, length)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sequence_session_leads (
    session_id TEXT NOT NULL,
    lead_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (session_id, lead_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sequence_patterns (pattern_id INTEGER PRIMARY KEY, survivor INTEGER NOT NULL, error_class TEXT NOT NULL);
";

        // Migration 19: the cells in fewer bytes, and each session's error trail. A lead is numbered by its four steps'
        // numbers (sequence_lead_keys, sequence_steps: a few bytes each instead of its text and a unique index on it); a
        // session's numbered leads are packed in one row (pairs of varints) instead of a row each; each in-order session's
        // errors with their leads and times (Store.ErrorTrail), for the sessions a window cuts. Filled by
        // Schema.AfterScript from the per-session rows and the events (which empties the cells first).
        private const string SequenceTrails = @"
DROP TABLE IF EXISTS sequence_lead_names;
DROP TABLE IF EXISTS sequence_session_leads;
CREATE TABLE IF NOT EXISTS sequence_steps (id INTEGER PRIMARY KEY, step TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS sequence_lead_keys (id INTEGER PRIMARY KEY, steps TEXT NOT NULL UNIQUE);
CREATE TABLE sequence_session_leads (session_id TEXT PRIMARY KEY, leads BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sequence_session_errors (session_id TEXT PRIMARY KEY, times BLOB NOT NULL, errors BLOB NOT NULL) WITHOUT ROWID;
";

        // Eight details values per row instead of four (d5..d8): a Claude Code response's seven members fit in place, where
        // its usage tail was one literal of about 110 bytes (16% of the realistic logs' events, 19 of their 78 bytes per
        // row). Values 5-8 have their own placeholders (DetailsShape.Placeholder: 14-17 literal, 18-21 names id), so rows
        // written before keep their shapes and the view reads both; a row's tail literal stays where it was. The view
        // decodes a row without a fifth value (d5 NULL) exactly as before, so details cost what they did for most rows;
        // the names and the literals are put back in two nested selects rather than one expression, because SQLite's
        // parser has a fixed stack in versions before 3.46 (Debian 12's sqlite3 is 3.40): sixteen nested replace()
        // calls overflowed it, and a view a tool cannot parse makes the whole schema unreadable to that tool.
        private const string EightDetailsValues = @"
ALTER TABLE event_rows ADD COLUMN d5;
ALTER TABLE event_rows ADD COLUMN d6;
ALTER TABLE event_rows ADD COLUMN d7;
ALTER TABLE event_rows ADD COLUMN d8;
DROP VIEW events;
CREATE VIEW events AS
SELECT r.id, r.timestamp,
    (SELECT n.text FROM kinds k JOIN names n ON n.id = k.event_type WHERE k.id = r.kind) AS event_type,
    (SELECT n.text FROM kinds k JOIN names n ON n.id = k.category WHERE k.id = r.kind) AS category,
    (SELECT n.text FROM contexts x JOIN names n ON n.id = x.session_id WHERE x.id = r.context) AS session_id,
    (SELECT n.text FROM contexts x JOIN names n ON n.id = x.story_id WHERE x.id = r.context) AS story_id,
    (SELECT n.text FROM contexts x JOIN names n ON n.id = x.workflow_id WHERE x.id = r.context) AS workflow_id,
    (SELECT n.text FROM contexts x JOIN names n ON n.id = x.agent_name WHERE x.id = r.context) AS agent_name,
    r.duration_ms, r.tokens_used,
    CASE WHEN typeof(r.context_percent) = 'integer' THEN r.context_percent / 100.0 ELSE r.context_percent END AS context_percent,
    (SELECT nullif(success, -1) FROM kinds WHERE id = r.kind) AS success, r.confidence_score,
    CASE WHEN r.details_shape IS NULL THEN r.d1
         WHEN r.d5 IS NULL THEN
             (SELECT replace(replace(replace(replace(t,
                 char(1), coalesce(r.d1, '')), char(2), coalesce(r.d2, '')), char(3), coalesce(r.d3, '')), char(4), coalesce(r.d4, ''))
              FROM (SELECT CASE WHEN instr(sh.text, char(5)) + instr(sh.text, char(6)) + instr(sh.text, char(7)) + instr(sh.text, char(8)) = 0 THEN sh.text
                 ELSE replace(replace(replace(replace(sh.text,
                     char(5), coalesce('""' || (SELECT text FROM names WHERE id = r.d1) || '""', '')),
                     char(6), coalesce('""' || (SELECT text FROM names WHERE id = r.d2) || '""', '')),
                     char(7), coalesce('""' || (SELECT text FROM names WHERE id = r.d3) || '""', '')),
                     char(8), coalesce('""' || (SELECT text FROM names WHERE id = r.d4) || '""', ''))
                 END AS t
                 FROM names sh WHERE sh.id = r.details_shape))
         ELSE
             (SELECT replace(replace(replace(replace(replace(replace(replace(replace(t,
                 char(1), coalesce(r.d1, '')), char(2), coalesce(r.d2, '')), char(3), coalesce(r.d3, '')), char(4), coalesce(r.d4, '')),
                 char(14), coalesce(r.d5, '')), char(15), coalesce(r.d6, '')), char(16), coalesce(r.d7, '')), char(17), coalesce(r.d8, ''))
              FROM (SELECT CASE WHEN instr(sh.text, char(5)) + instr(sh.text, char(6)) + instr(sh.text, char(7)) + instr(sh.text, char(8)) + instr(sh.text, char(18)) + instr(sh.text, char(19)) + instr(sh.text, char(20)) + instr(sh.text, char(21)) = 0 THEN sh.text
                 ELSE replace(replace(replace(replace(replace(replace(replace(replace(sh.text,
                     char(5), coalesce('""' || (SELECT text FROM names WHERE id = r.d1) || '""', '')),
                     char(6), coalesce('""' || (SELECT text FROM names WHERE id = r.d2) || '""', '')),
                     char(7), coalesce('""' || (SELECT text FROM names WHERE id = r.d3) || '""', '')),
                     char(8), coalesce('""' || (SELECT text FROM names WHERE id = r.d4) || '""', '')),
                     char(18), coalesce('""' || (SELECT text FROM names WHERE id = r.d5) || '""', '')),
                     char(19), coalesce('""' || (SELECT text FROM names WHERE id = r.d6) || '""', '')),
                     char(20), coalesce('""' || (SELECT text FROM names WHERE id = r.d7) || '""', '')),
                     char(21), coalesce('""' || (SELECT text FROM names WHERE id = r.d8) || '""', ''))
                 END AS t
                 FROM names sh WHERE sh.id = r.details_shape))
    END AS details,
    r.impact_score, r.time_saved_or_wasted_ms, r.user_satisfaction_delta, r.created_rule,
    (SELECT pattern_detected FROM kinds WHERE id = r.kind) AS pattern_detected, (SELECT needs_review FROM kinds WHERE id = r.kind) AS needs_review, r.pattern_id,
    r.kind, r.context
FROM event_rows r;
";

        // The four rarely set columns (confidence_score, impact_score, user_satisfaction_delta, created_rule) move to
        // event_extras, a row only for events that have one: every event_rows row paid a byte of record header for each
        // (and the writer four binds), about 4 of the 1M realistic store's 86 bytes per event. time_saved_or_wasted_ms
        // stays, as the scans sum it. The view reads each through a subquery by id, so a query that does not name them
        // is planned exactly as before, and plain SQLite still reads every column. The rows are rewritten by
        // AfterScript (EventStorage.MoveRareColumnsApart: DROP COLUMN, SQLite 3.35, keeps AUTOINCREMENT's counter), which
        // then creates the view; a store that has no such columns any more is left as it is.
        private const string RareColumnsApart = @"
CREATE TABLE IF NOT EXISTS event_extras (
    id INTEGER PRIMARY KEY,
    confidence_score REAL,
    impact_score REAL,
    user_satisfaction_delta REAL,
    created_rule INTEGER
);
DROP VIEW IF EXISTS events;
";

        // -IncludeArchive's combined store (Lifecycle.CombinedStore) is brought up to date with the active store by what
        // changed since: the events above the last id it copied (ids are never reused), and the events changed in place
        // (a review flag, a merged pattern, a response's grown usage, a created rule), which triggers list here with the
        // number of the change (row -1 holds the last number; row -2 counts deleted events, which the combined store
        // cannot follow: it is built again). combined_state is used by combined stores only: the active store's state
        // they describe.
        // Data only, in AfterScript: the rejections a transcript import stored as a second error (EventStorage.CountRejectionsOnce).
        private const string RejectionsOnce = "-- data only";

        // Migration 33's data fix, run by AfterScript(38) since it recounts only the rows it moves (SummaryTables.Recount)
        // in the summaries' layouts of 34 and 35 (a store that 33 fixed before has nothing left to move).
        private const string RejectionsOnceRecounted = "-- data only";
        // Data only, in AfterScript: a transcript's calls and human acts get their response's context figure (EventStorage.CarryContextToCalls).
        private const string ContextOfCalls = "-- data only";
        // The patterns of an edit whose text matched several places (Claude Code's message, as ErrorClasses matched it
        // when this was written) were ContentNotFound; the error sequences follow in AfterScript (SequenceCells.Reconcile).
        // The classes a pattern's errors get changed (exit 126 is a script that cannot be executed, not a permission to
        // write; a package the registry does not have is a wrong name, not a build failure): the next import re-keys every
        // pattern from its events' signatures as 9 did (PatternRekey; patterns that now agree merge, none split).
        private const string PatternsClassedAgain = @"
INSERT INTO pattern_rekey SELECT 1 WHERE EXISTS (SELECT 1 FROM patterns) AND NOT EXISTS (SELECT 1 FROM pattern_rekey);
-- 49's index of the error kinds came after 49 itself on main: a store a build in between took to 49 gets it here.
CREATE INDEX IF NOT EXISTS ix_kinds_outcome ON kinds(success, category);
";

        // The classes changed again; the next import or revision re-keys every pattern as 55 did. 60: a service not
        // listening is Network however its client says it (a missing socket was PathNotFound, "Can't reach database
        // server" and "Cannot connect to the Docker daemon" Other). 65: a server whose port something else holds
        // (EADDRINUSE as Node, Go, Python, .NET, Rails, Spring, Vite and Docker say it) is PortInUse, not Other. 66: the
        // machine's limits (OutOfMemory, DiskFull, ResourceLimit), PEP 668's ManagedEnvironment and DependencyConflict have
        // classes of their own (a build or test run out of memory was BuildFailure or TestFailure), sudo's password prompt
        // is InteractiveInput, a branch or ref git does not know is GitState, and credentials a service refused or could
        // not find are Authentication (they were Permission, whose advice is about where the agent writes). 71: curl's and
        // wget's exit codes name what failed (curl 7: no connection) before any line of output, which may be an earlier
        // step's ("docker logs app; curl localhost:3030" was Authentication from the app's log); wget's 6 is refused
        // credentials, not the network. A package "not found" while the network warnings say the registry was out of reach
        // is Network; a script, target or recipe the project does not define is TaskNotFound (npm's "Missing script: test"
        // was TestFailure, told to fix the tests). 76: a pipeline is keyed by the stage that failed, not its first: the stage
        // its output names ("jq: error ..."), else its last that is not a filter (the status is the last stage's; head,
        // tail, tee ... exit 0), so "cat f | jq ." and "echo '{}' | python3 -c ..." were cat's and echo's.
        // 77: a lock another process holds (git's index.lock, apt's, Terraform's state, SQLite's "database is locked", a
        // busy file) is LockHeld: apt-get's and npm's were BuildFailure, told to fix the build's first error.
        private const string PatternsRekeyed = @"
INSERT INTO pattern_rekey SELECT 1 WHERE EXISTS (SELECT 1 FROM patterns) AND NOT EXISTS (SELECT 1 FROM pattern_rekey);
";

        private const string EditNotUniqueClass = @"
UPDATE patterns SET error_class = 'ContentNotUnique'
WHERE error_class = 'ContentNotFound'
  AND (example LIKE '%matches of the string to replace%' OR example LIKE '%replace_all is false%'
       OR example LIKE '%is not unique in the file%' OR example LIKE '%multiple matches of the string%');
";

        // session_leads (a row per session and lead, with the session's id and four step names as text: 2.5 bytes/event at
        // 1M realistic events) held nothing that an in-order session's error trail (sequence_session_errors: each error with
        // its lead's steps and patterns) does not, and it was only read for in-order sessions: the leads are counted from the
        // trails (SequenceCells.Leads). AfterScript gives a trail to the in-order sessions that had none.
        private const string LeadsFromTrails = @"
DROP TABLE IF EXISTS session_leads;
";

        // session_runs (a row per session and run of one pattern: the session's 36-character id, the run's number, pattern
        // and length; 1.1 bytes/event at 1M realistic events) held nothing that an in-order session's error trail does not
        // (each error's own pattern, in time order), and it was only read for in-order sessions: the runs are read from the
        // trails (SequenceCells.Runs), and Reconcile finds a changed pattern's sessions by decoding the trails.
        private const string RunsFromTrails = @"
DROP TABLE IF EXISTS session_runs;
";

        // sequence_leads held a row per cell and lead (scope, days, story, lead number, occurrences, sessions: 21 bytes a row,
        // 61k rows over 59 cells at 1M realistic events, 1.3 bytes/event); sequence_lead_cells holds a row per cell with its
        // leads packed (SequenceCells.PackCell: 3-4 bytes a lead). A question reads a cell's leads whole anyway, and a
        // commit changes a few cells, each read and written once. The rows are moved by AfterScript (PackLeadCells).
        private const string PackedLeadCells = "-- in AfterScript";

        // The duration histograms' blobs (day_hist, hour_hist: 1.8 bytes/event at 1M realistic events, most of it blobs of
        // (bucket gap, count) pairs, two bytes a bucket) as runs of neighbouring buckets (DayHistogram: about one byte a
        // bucket). Blobs of pairs are still read (and any add writes runs), so this only re-encodes the stored ones through
        // madf_hist_add, which every MadfLog connection has before it migrates (MadfDatabase.Open).
        // The state a resumed file's identical-lines numbering continues from (IdenticalLines.State), saved with the cursor's
        // offset: import_files.numbering, added in AfterScript (once).
        private const string CursorNumbering = "-- import_files.numbering (AfterScript)";

        private const string HistogramRuns = @"
UPDATE day_hist SET buckets = madf_hist_add(buckets, NULL) WHERE length(buckets) > 0 AND substr(buckets, 1, 2) <> x'8000';
UPDATE hour_hist SET buckets = madf_hist_add(buckets, NULL) WHERE length(buckets) > 0 AND substr(buckets, 1, 2) <> x'8000';
";

        // The dedup keys' offsets from their row's first key took a fixed byte width (7 at a million keys: the width of
        // the row's range, whose keys are 128 or fewer); packed as Elias-Fano (SortedOffsets) they take about log2 of their
        // mean gap plus 2 bits (46 at a million keys). Rows of the old layout are still read; AfterScript rewrites them all.
        private const string KeysAsEliasFano = "-- in AfterScript";

        // response_keys held a row per Claude Code response (its 64-bit key as the rowid, 9 bytes, and its event's id) in a
        // b-tree filled in random key order: about 20 bytes a key at 1M realistic events, 3.1 bytes/event. Its keys are
        // packed by key range as event_keys' are (EventKeys.Responses: Elias-Fano offsets, each key's event id after its
        // month's keys), with recent rows and merges of their own. AfterScript makes the tables and moves the keys
        // (EventKeys.ConvertResponses).
        private const string PackedResponseKeys = "-- in AfterScript";

        /// <summary>sequence_lead_cells (schema 41; created by the migrations before it that count cells, 19 and 38).</summary>
        internal const string LeadCellsTable = @"
CREATE TABLE IF NOT EXISTS sequence_lead_cells (
    scope INTEGER NOT NULL,
    first_day INTEGER NOT NULL,
    last_day INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    leads BLOB NOT NULL,
    PRIMARY KEY (scope, first_day, last_day, story_id)
) WITHOUT ROWID;";

        // day_rollup and hour_rollup keyed by number: SummaryTables.KeyRollups (in AfterScript; also run by a rebuild that
        // an earlier migration starts, so a store upgraded through it already has them).
        private const string KeyedRollups = "-- in AfterScript";

        // The sessions' error trails and numbered leads keyed by the session's names id (sequence_trails,
        // sequence_lead_sets; sequence_session_errors and sequence_session_leads are views): SequenceCells.KeySessions, in
        // AfterScript (also after every migration from 19 on, whose code writes these rows).
        private const string SessionsKeyedByNumber = "-- in AfterScript";

        // day_hist and hour_hist keyed by number (hist_keys: story, scope and key once): SummaryTables.KeyHistograms, in
        // AfterScript (also after every migration from 11 on, whose code writes these rows).
        private const string HistogramsKeyedByNumber = "-- in AfterScript";

        // The sessions' sequences keyed by the session's names id (sequence_spans; session_sequences is a view):
        // SummaryTables.KeySequences, in AfterScript (also after every migration from 12 on, whose code writes these rows).
        private const string SequencesKeyedByNumber = "-- in AfterScript";

        // session_rollup keyed by the session's names id (session_rollup_cells and its index; session_rollup is a view):
        // SummaryTables.KeySessionRollup, in AfterScript (also after every migration from 7 on, which numbers the sessions' names).
        private const string SessionRollupKeyedByNumber = "-- in AfterScript";

        // The leads' numbers with their four steps' numbers as integers (sequence_lead_steps; sequence_lead_keys is a view):
        // SequenceCells.KeyLeads, in AfterScript (also after every migration from 19 on, whose code numbers leads).
        private const string LeadsKeyedBySteps = "-- in AfterScript";

        // session_day and session_hour keyed by the session's names id (session_day_cells, session_hour_cells; each a view):
        // SummaryTables.KeySessionGrain, in AfterScript (also after every migration from 11 on, which creates session_day; session_hour from 20 on).
        private const string SessionGrainsKeyedByNumber = "-- in AfterScript";

        private const string EventChanges = @"
CREATE TABLE IF NOT EXISTS event_changes (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
INSERT OR IGNORE INTO event_changes VALUES (-1, 0);
INSERT OR IGNORE INTO event_changes VALUES (-2, 0);
CREATE TRIGGER IF NOT EXISTS event_rows_updated AFTER UPDATE ON event_rows BEGIN
    UPDATE event_changes SET seq = seq + 1 WHERE id = -1;
    INSERT OR REPLACE INTO event_changes VALUES (new.id, (SELECT seq FROM event_changes WHERE id = -1));
END;
CREATE TRIGGER IF NOT EXISTS event_rows_deleted AFTER DELETE ON event_rows BEGIN
    UPDATE event_changes SET seq = seq + 1 WHERE id = -2;
    DELETE FROM event_changes WHERE id = old.id;
END;
CREATE TRIGGER IF NOT EXISTS event_extras_inserted AFTER INSERT ON event_extras BEGIN
    UPDATE event_changes SET seq = seq + 1 WHERE id = -1;
    INSERT OR REPLACE INTO event_changes VALUES (new.id, (SELECT seq FROM event_changes WHERE id = -1));
END;
CREATE TRIGGER IF NOT EXISTS event_extras_updated AFTER UPDATE ON event_extras BEGIN
    UPDATE event_changes SET seq = seq + 1 WHERE id = -1;
    INSERT OR REPLACE INTO event_changes VALUES (new.id, (SELECT seq FROM event_changes WHERE id = -1));
END;
CREATE TABLE IF NOT EXISTS combined_state (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
";

        // Five details values per row instead of eight: a key's first few short strings are written into the shape
        // (DetailsShape.Splitter.InShape), so a Claude Code response (model, message id, four usage counts, stop reason)
        // needs five slots, and d6..d8 cost every row three bytes of record header for nothing. Rows that use them are
        // split again into five values (an object with more keeps its members from the fifth on as one literal in d5),
        // then the columns are dropped and the view decodes five values (EventStorage.MoveToFiveSlots, which joins the
        // old rows' details in C#, DetailsShape.Join, the view's own rule, and creates the view).
        private const string FiveDetailsSlots = @"
DROP VIEW IF EXISTS events;
";

        /// <summary>
        /// The events view since schema 32: schema 22's with five details values (d1..d5): the second branch (a row with a
        /// fifth value) puts back placeholders 14 and 18 for it and no longer 15-17 and 19-21.
        /// </summary>
        internal static string EventsViewOf32 => Replaced(EventsViewOf22,
            ("(SELECT replace(replace(replace(replace(replace(replace(replace(replace(t,", "(SELECT replace(replace(replace(replace(replace(t,"),
            ("char(14), coalesce(r.d5, '')), char(15), coalesce(r.d6, '')), char(16), coalesce(r.d7, '')), char(17), coalesce(r.d8, ''))", "char(14), coalesce(r.d5, ''))"),
            (" + instr(sh.text, char(19)) + instr(sh.text, char(20)) + instr(sh.text, char(21)) = 0", " = 0"),
            ("ELSE replace(replace(replace(replace(replace(replace(replace(replace(sh.text,", "ELSE replace(replace(replace(replace(replace(sh.text,"),
            ("char(18), coalesce('\"' || (SELECT text FROM names WHERE id = r.d5) || '\"', '')),\n                     char(19), coalesce('\"' || (SELECT text FROM names WHERE id = r.d6) || '\"', '')),\n                     char(20), coalesce('\"' || (SELECT text FROM names WHERE id = r.d7) || '\"', '')),\n                     char(21), coalesce('\"' || (SELECT text FROM names WHERE id = r.d8) || '\"', ''))",
             "char(18), coalesce('\"' || (SELECT text FROM names WHERE id = r.d5) || '\"', ''))"));

        // A row's details shape is part of its kind (kinds.details_shape, 0 for details stored whole or none): the 1M
        // realistic events have 459 distinct pairs of kind and shape, so the kind's id stays 1-2 bytes while every row saves
        // the shape's value (2 bytes) and its byte of record header. EventStorage.FoldShapesIntoKinds (AfterScript) numbers
        // the pairs, most frequent first, rewrites event_rows without the column (densely, into a new table) and creates
        // the view, which reads the shape through the kind.
        private const string ShapesInKinds = @"
DROP VIEW IF EXISTS events;
";

        // The time saved or wasted (time_saved_or_wasted_ms) moves into event_extras, as the four rarely set values did at
        // 22: 2.6 % of the realistic events report one, and every row paid a byte of record header for the column (about
        // 1 byte/event, 0.3 back for the extras rows). The rows are copied by AfterScript (EventStorage.MoveWastedApart),
        // which creates the triggers and the view again. An extras row that holds only the time wasted is a new event's
        // (it is never set in place), so its insert is no change an -IncludeArchive cache must take again.
        private const string WastedApart = @"
DROP VIEW IF EXISTS events;
DROP TRIGGER IF EXISTS event_extras_inserted;
DROP TRIGGER IF EXISTS event_extras_updated;
";

        /// <summary>event_rows since schema 56 (49's without time_saved_or_wasted_ms).</summary>
        internal const string RowsTableOf56 = @"CREATE TABLE event_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    context INTEGER NOT NULL,
    duration_ms INTEGER,
    tokens_used INTEGER,
    context_percent,
    pattern_id INTEGER,
    d1, d2, d3, d4, d5);";

        /// <summary>
        /// event_extras' change triggers since schema 56: 25's, but an insert of the time wasted alone is a new event's, and
        /// an event listed before is listed again by a delete and an insert: an upsert into event_extras (a created rule,
        /// EventStorage.SetCreatedRule) runs its triggers under its own conflict policy, which overrides their INSERT OR
        /// REPLACE, so an event already listed failed the upsert on event_changes' key.
        /// </summary>
        internal const string ExtrasTriggersOf56 = @"
CREATE TRIGGER IF NOT EXISTS event_extras_inserted AFTER INSERT ON event_extras
WHEN new.confidence_score IS NOT NULL OR new.impact_score IS NOT NULL OR new.user_satisfaction_delta IS NOT NULL OR new.created_rule IS NOT NULL BEGIN
    UPDATE event_changes SET seq = seq + 1 WHERE id = -1;
    DELETE FROM event_changes WHERE id = new.id;
    INSERT INTO event_changes VALUES (new.id, (SELECT seq FROM event_changes WHERE id = -1));
END;
CREATE TRIGGER IF NOT EXISTS event_extras_updated AFTER UPDATE ON event_extras BEGIN
    UPDATE event_changes SET seq = seq + 1 WHERE id = -1;
    DELETE FROM event_changes WHERE id = new.id;
    INSERT INTO event_changes VALUES (new.id, (SELECT seq FROM event_changes WHERE id = -1));
END;
";

        // A row's time (6 bytes of epoch milliseconds) becomes an offset from its block's base, which takes about 3: the
        // blocks of ids (EventStorage.BlockSize) are written in import order, so a block's events lie minutes to days apart.
        // A row with a pattern keeps its time whole, so the pattern index (pattern_id, ts) still orders a pattern's events
        // by time (4 % of the realistic events; a pattern id changes only to another's, by a merge). The rows are copied by
        // AfterScript (EventStorage.TimesFromBlocks), which creates the index and the view again.
        private const string TimesFromBlocks = @"
DROP VIEW IF EXISTS events;
DROP INDEX IF EXISTS ix_event_rows_pattern;
";

        /// <summary>event_rows since schema 61: 56's with the time as ts (EventStorage.TimeOf).</summary>
        internal const string RowsTableOf61 = @"CREATE TABLE event_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    context INTEGER NOT NULL,
    duration_ms INTEGER,
    tokens_used INTEGER,
    context_percent,
    pattern_id INTEGER,
    d1, d2, d3, d4, d5);";

        /// <summary>event_blocks since schema 61: each block's time span and the base its rows' offsets are from (fixed by its first write).</summary>
        internal const string BlocksTableOf61 = "CREATE TABLE event_blocks (block INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, base_ts INTEGER NOT NULL);";

        /// <summary>The pattern index since schema 61: a pattern's rows hold their time whole.</summary>
        internal const string PatternIndexOf61 = "CREATE INDEX IF NOT EXISTS ix_event_rows_pattern ON event_rows(pattern_id, ts) WHERE pattern_id IS NOT NULL;";

        // The details literals of exactly 22 base-62 characters (the Claude Code message and tool-use ids after their shared
        // start, 31 % of the realistic events) take 17 bytes as a BLOB instead of 22 (Text.PackedId). The rows are copied
        // by AfterScript (EventStorage.PackIds), which creates the view again: it unpacks a BLOB value in SQL.
        private const string PackedIds = @"
DROP VIEW IF EXISTS events;
";

        /// <summary>
        /// The events view since schema 81: 61's with a BLOB value (a packed id, Text.PackedId) unpacked in SQL in the slots
        /// the writer packs ids in; a row without one pays a typeof().
        /// </summary>
        internal static string EventsViewOf81
        {
            get
            {
                var view = EventsViewOf61;
                for (var k = 1; k <= Text.PackedId.Slots; k++) view = view.Replace(SlotValueOf61(view, k), $"coalesce({UnpackedSlot(k)}, '')");
                return view;
            }
        }

        // The events view with the packed ids unpacked once per row, beside the details' two branches (by whether d5 is set),
        // instead of in each: SQLite copies a view's whole text into every statement that reads it, so 81's, with the
        // unpacking twice, cost every statement on the view about 0.2 ms more to prepare (docs/storage.md, schema 83).
        private static string ViewUnpackingIdsOnce => "DROP VIEW IF EXISTS events;\n" + EventsViewOf83;

        /// <summary>
        /// The events view since schema 83: 61's with the details put together from the slot values of a derived row u, where
        /// a slot the writer packs ids in (Text.PackedId) holds its value unpacked; the row without a shape keeps d1 whole.
        /// </summary>
        internal static string EventsViewOf83
        {
            get
            {
                var view = EventsViewOf61;
                var (from, to) = DetailsOf(view, "END AS details", 61);
                var details = view.Substring(from, to - from);
                var unpacked = new List<string>();
                for (var k = 1; k <= Text.PackedId.Slots; k++)
                {
                    details = details.Replace(SlotValueOf61(details, k), "coalesce(u.d" + k + ", '')");
                    unpacked.Add($"{UnpackedSlot(k)} AS d{k}");
                }
                // LIMIT: SQLite would otherwise put the unpacking in at each use of u's columns.
                return view.Substring(0, from) + $"(SELECT {details} FROM (SELECT {string.Join(", ", unpacked)} LIMIT 1) u)" + view.Substring(to);
            }
        }

        // How the events view's details start since schema 49: details stored whole (no shape) are d1.
        private const string DetailsStart = "CASE WHEN (SELECT details_shape FROM kinds WHERE id = r.kind) = 0 THEN r.d1";

        // Where a view's details expression is: from its test of the shape to the END before <paramref name="end"/>
        // (checked present: a view derived from one that changed must fail here, not decode wrongly).
        private static (int from, int to) DetailsOf(string view, string end, int schema)
        {
            var from = view.IndexOf(DetailsStart, System.StringComparison.Ordinal);
            var to = view.IndexOf(end, from < 0 ? 0 : from, System.StringComparison.Ordinal);
            if (from < 0 || to < 0) throw new System.InvalidOperationException("The events view of schema " + schema + " changed: its details are not where the next schema's view looks.");
            return (from, to + "END".Length);
        }

        // How 61's view puts slot k's value into the details (checked present: 81 and 83 replace it).
        private static string SlotValueOf61(string view, int k)
        {
            var value = "coalesce(r.d" + k + ", '')";
            if (view.IndexOf(value, System.StringComparison.Ordinal) < 0)
                throw new System.InvalidOperationException("The events view of schema 61 changed: '" + value + "' is not in it.");
            return value;
        }

        // Slot k's value with a packed id (Text.PackedId) unpacked in plain SQL: a row without one pays a typeof().
        private static string UnpackedSlot(int k) => $"CASE WHEN typeof(r.d{k}) = 'blob' THEN {Text.PackedId.Sql("r.d" + k)} ELSE r.d{k} END";

        // Three details values per row instead of five: only a Claude Code response used d4 and d5 (its four usage counts),
        // and each column costs every row a byte of record header. The last slot holds up to three small integers packed
        // into one (DetailsShape.PackedPart), so a response takes an id, a count and three counts packed. The rows that use
        // d4 or d5 are split again and every row copied without them by AfterScript (EventStorage.MoveToThreeSlots), which
        // drops the view it reads their details through and creates 84's.
        private const string DetailsInThreeSlots = "-- in AfterScript";

        /// <summary>event_rows since schema 84: 61's with three details values.</summary>
        internal static string RowsTableOf84 => Replaced(RowsTableOf61, ("d1, d2, d3, d4, d5);", "d1, d2, d3);"));

        /// <summary>
        /// The events view since schema 84: 83's with the details put together from three values, in one branch (83's second
        /// branch was for rows with a fifth value), and the last slot's packed integers (DetailsShape.PackedPart) taken
        /// apart with shifts and masks: plain SQL still reads every event's details.
        /// </summary>
        internal static string EventsViewOf84
        {
            get
            {
                var view = EventsViewOf83;
                var (from, to) = DetailsOf(view, "END FROM (SELECT ", 83);
                var last = Events.DetailsShape.Slots;
                string Value(int k) => k <= Text.PackedId.Slots ? "u.d" + k : "r.d" + k;
                var literals = Enumerable.Range(1, last).Select(k => (c: (int)Events.DetailsShape.Placeholder(k, name: false), value: $"coalesce({Value(k)}, '')"))
                    .Concat(Enumerable.Range(0, Events.DetailsShape.MostPacked).Select(j => Events.DetailsShape.PackedPart(j, Events.DetailsShape.MostPacked)).Select(part =>
                        (c: (int)part, value: $"coalesce((r.d{last} >> {Events.DetailsShape.PackedShift(part)}) & {Events.DetailsShape.PackedMask}, '')")))
                    .ToList();
                var names = Enumerable.Range(1, last).Select(k => (c: (int)Events.DetailsShape.Placeholder(k, name: true), k)).ToList();
                var nameValues = string.Join(",\n                     ", names.Select(n => $"char({n.c}), coalesce('\"' || (SELECT text FROM names WHERE id = r.d{n.k}) || '\"', ''))"));
                var details = $@"{DetailsStart}
         ELSE
             (SELECT {string.Concat(literals.Select(_ => "replace("))}t,
                 {string.Join(", ", literals.Select(l => $"char({l.c}), {l.value})"))}
              FROM (SELECT CASE WHEN {string.Join(" + ", names.Select(n => $"instr(sh.text, char({n.c}))"))} = 0 THEN sh.text
                 ELSE {string.Concat(names.Select(_ => "replace("))}sh.text,
                     {nameValues}
                 END AS t
                 FROM kinds kd JOIN names sh ON sh.id = kd.details_shape WHERE kd.id = r.kind))
    END";
                return view.Substring(0, from) + details + view.Substring(to);
            }
        }

        /// <summary>The events view since schema 61: 56's with the time read through the row's block (one lookup by its key per row).</summary>
        internal static string EventsViewOf61 => TimesFromBlocksView(EventsViewOf56);

        /// <summary>An events view (of schema 13 or later) reading the time through the row's block.</summary>
        internal static string TimesFromBlocksView(string view) => Replaced(view,
            ("SELECT r.id, r.timestamp,", "SELECT r.id, " + EventStorage.TimeOf("r", "b") + " AS timestamp,"),
            ("FROM event_rows r;", "FROM event_rows r LEFT JOIN event_blocks b ON b.block = r.id / " + EventStorage.BlockSize + ";"));

        /// <summary>The events view since schema 56: schema 49's with the time saved or wasted read from event_extras.</summary>
        internal static string EventsViewOf56 => WastedFromExtras(EventsViewOf49);

        /// <summary>An events view (of schema 13 or later) reading the time saved or wasted from event_extras.</summary>
        internal static string WastedFromExtras(string view) => Replaced(view,
            ("r.time_saved_or_wasted_ms,", "(SELECT time_saved_or_wasted_ms FROM event_extras WHERE id = r.id) AS time_saved_or_wasted_ms,"));

        /// <summary>The events view since schema 49: schema 32's with the details shape read through the row's kind.</summary>
        internal static string EventsViewOf49 => Replaced(EventsViewOf32,
            ("CASE WHEN r.details_shape IS NULL THEN r.d1", "CASE WHEN (SELECT details_shape FROM kinds WHERE id = r.kind) = 0 THEN r.d1"),
            ("FROM names sh WHERE sh.id = r.details_shape))\n         ELSE", "FROM kinds kd JOIN names sh ON sh.id = kd.details_shape WHERE kd.id = r.kind))\n         ELSE"),
            ("FROM names sh WHERE sh.id = r.details_shape))\n    END AS details", "FROM kinds kd JOIN names sh ON sh.id = kd.details_shape WHERE kd.id = r.kind))\n    END AS details"));

        // Each replacement must match exactly once: a view derived from one that changed must fail here, not decode wrongly.
        private static string Replaced(string text, params (string from, string to)[] changes)
        {
            text = text.Replace("\r\n", "\n");
            foreach (var (from, to) in changes)
            {
                var at = text.IndexOf(from, System.StringComparison.Ordinal);
                if (at < 0 || text.IndexOf(from, at + 1, System.StringComparison.Ordinal) >= 0)
                    throw new System.InvalidOperationException("An earlier schema's text changed: '" + from + "' is not in it once.");
                text = text.Substring(0, at) + to + text.Substring(at + from.Length);
            }
            return text;
        }

        /// <summary>The events view since schema 22: migration 13's with the rarely set values read from event_extras.</summary>
        internal static string EventsViewOf22 => EventsViewOf13
            .Replace("r.confidence_score,", "(SELECT confidence_score FROM event_extras WHERE id = r.id) AS confidence_score,")
            .Replace("r.impact_score,", "(SELECT impact_score FROM event_extras WHERE id = r.id) AS impact_score,")
            .Replace("r.user_satisfaction_delta,", "(SELECT user_satisfaction_delta FROM event_extras WHERE id = r.id) AS user_satisfaction_delta,")
            .Replace("r.created_rule,", "(SELECT created_rule FROM event_extras WHERE id = r.id) AS created_rule,");

        // Migration 13's view (its columns and details decoding), which later migrations change by its parts.
        private static string EventsViewOf13 => EightDetailsValues.Substring(EightDetailsValues.IndexOf("CREATE VIEW events AS", System.StringComparison.Ordinal));

        // event_blocks' zone map at a finer grain: each block's time span per day and story (a names id, 0 for none). A
        // block of transcripts spans many days but holds a few sessions of each, so a window or a story meets far fewer
        // blocks here than through event_blocks alone (EventStorage.BlockRanges). The writer keeps it; retention rebuilds it.
        // -Story and -Agent test an event's context against the contexts of the named stories or agents
        // (QueryFilter.InContexts): SQLite builds that list once per statement, and without these indexes each list scans
        // every context (33k at 10M events), which questions that run a statement per pattern or session paid each time.
        // A transaction's new dedup keys go to rows of their own, merged into event_keys once they hold a quarter of the
        // keys (EventKeys): hashed keys meet every row, so writing them into event_keys at each commit rewrote the whole
        // table per transaction, which made a large import quadratic.
        private static string RecentKeys => @"
CREATE TABLE IF NOT EXISTS event_keys_recent (lo INTEGER PRIMARY KEY, keys BLOB NOT NULL);
";

        private static string ContextIndexes => @"
CREATE INDEX IF NOT EXISTS ix_contexts_story ON contexts(story_id);
CREATE INDEX IF NOT EXISTS ix_contexts_agent ON contexts(agent_name);
";

        private static string BlockDays => @"
CREATE TABLE event_block_days (
    day INTEGER NOT NULL,
    story INTEGER NOT NULL,
    block INTEGER NOT NULL,
    min_ts INTEGER NOT NULL,
    max_ts INTEGER NOT NULL,
    PRIMARY KEY (day, story, block)
) WITHOUT ROWID;
" + EventStorage.BlockDaysFill("main", wholeTimes: true) + @";
";

        // timestamp is Unix epoch milliseconds (UTC); success/pattern_detected/needs_review are 0/1.
        // dedup_key is a 64-bit hash of what makes an event unique (the raw line, or a format's own id),
        // so re-importing a file or a copy of its lines adds nothing.
        private const string Foundation = @"
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    category TEXT NOT NULL,
    session_id TEXT,
    story_id TEXT,
    workflow_id TEXT,
    agent_name TEXT,
    duration_ms INTEGER,
    tokens_used INTEGER,
    context_percent REAL,
    success INTEGER,
    confidence_score REAL,
    details TEXT,
    impact_score REAL,
    time_saved_or_wasted_ms INTEGER,
    user_satisfaction_delta REAL,
    created_rule INTEGER,
    pattern_detected INTEGER NOT NULL DEFAULT 0,
    needs_review INTEGER NOT NULL DEFAULT 0,
    pattern_id INTEGER,
    dedup_key INTEGER NOT NULL
);
CREATE UNIQUE INDEX ix_events_dedup ON events(dedup_key);
CREATE INDEX ix_events_timestamp ON events(timestamp);
CREATE INDEX ix_events_story ON events(story_id, timestamp);

-- One row per input file ever seen: its identity (hash of its first bytes) and how far it has been read.
CREATE TABLE import_files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    head_length INTEGER NOT NULL,
    head_hash INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    size INTEGER NOT NULL,
    last_write_utc INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    first_imported INTEGER NOT NULL,
    last_imported INTEGER NOT NULL
);
CREATE INDEX ix_import_files_path ON import_files(path);
CREATE INDEX ix_import_files_head ON import_files(head_hash);

-- Every line that could not become an event, with why; nothing is silently dropped.
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    file_path TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    byte_offset INTEGER NOT NULL,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    quarantined_at INTEGER NOT NULL,
    UNIQUE(file_path, byte_offset, raw)
);

-- One row per Import-MadfLog run, for health checks (when did the logger last deliver?).
CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY,
    started INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    files INTEGER NOT NULL,
    lines_read INTEGER NOT NULL,
    imported INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    quarantined INTEGER NOT NULL
);
";
    
        // Dedup keys packed: event_keys holds the keys of a range of the key space per row, as offsets from the range's
        // first key in a blob, grouped by their event's month (EventKeys: about 7 bytes per key instead of 20 for a
        // 64-bit rowid and an event id per key, and one row rewritten per range and transaction instead of a b-tree
        // insert per key). Only Claude Code responses need their row's id back (a repeated line updates the row): their
        // keys go to response_keys with the id. The old keys are packed by EventKeys.ConvertLegacy (Schema.AfterScript);
        // responses' keys are copied to response_keys too, since their repeated lines look them up there.
        private const string PackedKeys = @"
ALTER TABLE event_keys RENAME TO legacy_event_keys;
CREATE TABLE event_keys (lo INTEGER PRIMARY KEY, keys BLOB NOT NULL);
CREATE TABLE response_keys (key INTEGER PRIMARY KEY, event_id INTEGER NOT NULL);
INSERT INTO response_keys(key, event_id)
SELECT k.key, k.event_id FROM legacy_event_keys k JOIN events e ON e.id = k.event_id WHERE e.event_type = 'llm_call';
";
    }
}

using System.Collections.Generic;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// Forward-only schema migrations. Version N's script turns a version N-1 database into version N.
    /// Never edit a released script; add the next one. Numbers are reserved per concern so parallel work
    /// does not collide: 1 foundation, 2 transcript import, 3 patterns, 4 query summaries, 5 rules, 6 lifecycle.
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
        };

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
    }
}

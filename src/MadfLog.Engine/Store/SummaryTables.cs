using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Domain;
using Microsoft.Data.Sqlite;
using MadfLog.Engine.Text;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// The summary tables' SQL (event_rollup, duration_hist, story_rollup, story_agents, pattern_stories, session_rollup,
    /// human_rollup, human_groups, week_rollup and the day grain: day_rollup, day_hist, session_day): their rebuild
    /// from the events, the moving of a merged pattern's rows, the consistency check, and the upsert of the rows the
    /// import adds up (<see cref="Write"/>, from Summaries.RollupStage).
    /// </summary>
    public static class SummaryTables
    {
        /// <summary>A session_sequences row (mapped by column name): a session's span, its story ('' none; null: several), in_order, its last steps as SequenceStage encodes them.</summary>
        internal sealed class SessionSequenceRow
        {
            public string SessionId { get; set; } = "";
            public string? StoryId { get; set; }
            public long FirstTs { get; set; }
            public long LastTs { get; set; }
            public long InOrder { get; set; }
            public string Steps { get; set; } = "";
        }

        /// <summary>
        /// A session's stored sequence rows, looked up by statements prepared once per transaction (the import meets
        /// thousands of sessions per transaction; a query built and prepared per session was most of its cost).
        /// </summary>
        internal sealed class SessionLookup : System.IDisposable
        {
            private readonly SqliteCommand _sequence, _trail;

            public SessionLookup(SqliteConnection c, SqliteTransaction tx)
            {
                _sequence = Command(c, tx, "SELECT story_id, first_ts, last_ts, in_order, steps FROM sequence_spans WHERE session = (SELECT id FROM names WHERE text = $s)");
                _trail = Command(c, tx, "SELECT times, errors FROM sequence_session_errors WHERE session_id = $s");
            }

            private static SqliteCommand Command(SqliteConnection c, SqliteTransaction tx, string sql)
            {
                var command = c.CreateCommand();
                command.Transaction = tx;
                command.CommandText = sql;
                command.Parameters.Add(new SqliteParameter("$s", ""));
                return command;
            }

            private static SqliteDataReader Read(SqliteCommand command, string session)
            {
                command.Parameters[0].Value = session;
                return command.ExecuteReader();
            }

            /// <summary>The session's stored sequence, or null when none is stored yet.</summary>
            public SessionSequenceRow? Sequence(string session)
            {
                using var r = Read(_sequence, session);
                if (!r.Read()) return null;
                return new SessionSequenceRow
                {
                    SessionId = session, StoryId = r.IsDBNull(0) ? null : r.GetString(0), FirstTs = r.GetInt64(1), LastTs = r.GetInt64(2),
                    InOrder = r.GetInt64(3), Steps = r.GetString(4),
                };
            }

            /// <summary>The session's stored error trail (times, errors), or null when it has none.</summary>
            [MethodImpl(Hot.Path)]
            public (byte[] Times, byte[] Errors)? Trail(string session)
            {
                using var r = Read(_trail, session);
                return r.Read() ? ((byte[])r.GetValue(0), (byte[])r.GetValue(1)) : ((byte[], byte[])?)null;
            }

            public void Dispose()
            {
                _sequence.Dispose();
                _trail.Dispose();
            }
        }

        /// <summary>
        /// Upserts the import's sequence rows: each session's sequence (replaced). Its leads and runs are in its error trail
        /// (SequenceCells.WriteTrails).
        /// </summary>
        internal static void WriteSequences(SqliteConnection c, SqliteTransaction tx, IEnumerable<SessionSequenceRow> sessions)
        {
            // Keyed by the session's names id (schema 78): every session's text is a name (its events' context names it).
            PreparedBatch.Run(c, tx, "INSERT OR REPLACE INTO sequence_spans SELECT id, $2, $3, $4, $5, $6 FROM names WHERE text = $1",
                sessions.Select(s => new object?[] { s.SessionId, s.StoryId, s.FirstTs, s.LastTs, s.InOrder, s.Steps }));
        }

        /// <summary>Deletes the sequences of the sessions a query of session ids selects (SequenceCells.Recount fills them again).</summary>
        internal static void DeleteSequences(SqliteConnection c, SqliteTransaction tx, string sessionsSql) =>
            c.Execute($"DELETE FROM sequence_spans WHERE session IN (SELECT id FROM names WHERE text IN ({sessionsSql}))", transaction: tx);

        /// <summary>
        /// Schema 78: the sessions' sequence rows (session_sequences) keyed by the session's names id in a rowid table,
        /// sequence_spans, instead of its text in a WITHOUT ROWID table; session_sequences is a view with the old
        /// columns, so readers and plain SQLite read it as before. Rows keyed by text arrive in no order (leaves about 85 %
        /// full) and the interior pages copy the keys; a session's names id grows as sessions arrive. Migration 12's
        /// script runs it on the table it creates, before filling it; <see cref="KeySequences"/> runs it on a store made
        /// before (Schema.AfterScript, for 78 and every migration from 12 on, whose code writes the new table).
        /// </summary>
        // Left-aligned: sqlite_master keeps the text as written (docs/schema.sql).
        internal const string KeySequencesSql = @"
CREATE TABLE sequence_spans (session INTEGER PRIMARY KEY, story_id TEXT, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, in_order INTEGER NOT NULL, steps TEXT NOT NULL);
INSERT INTO sequence_spans SELECT n.id, s.story_id, s.first_ts, s.last_ts, s.in_order, s.steps FROM session_sequences s JOIN names n ON n.text = s.session_id ORDER BY n.id;
DROP TABLE session_sequences;
CREATE VIEW session_sequences AS
SELECT n.text AS session_id, s.story_id, s.first_ts, s.last_ts, s.in_order, s.steps FROM sequence_spans s JOIN names n ON n.id = s.session;
";

        /// <summary>
        /// Schema 79: session_rollup keyed by the session's names id (session_rollup_cells, with the index on the highest
        /// context); session_rollup is a view with the old columns. Its text key was in every row, in the interior pages
        /// and again in every entry of the index. Run by Schema.AfterScript for 79 and every migration from 7 on (which
        /// numbers the sessions' names), so the code those migrations run writes the new table; nothing once it is a view.
        /// </summary>
        internal static void KeySessionRollup(SqliteConnection c, SqliteTransaction tx)
        {
            if (c.ExecuteScalar<string?>("SELECT type FROM sqlite_master WHERE name = 'session_rollup'", transaction: tx) != "table") return;
            // Left-aligned: sqlite_master keeps the text as written (docs/schema.sql).
            c.Execute(@"
CREATE TABLE session_rollup_cells (
    session INTEGER NOT NULL,
    agent_name TEXT NOT NULL,
    story_id TEXT,
    events INTEGER NOT NULL,
    max_context REAL NOT NULL,
    ctx_hot INTEGER NOT NULL,
    ctx_hot_errors INTEGER NOT NULL,
    ctx_cool INTEGER NOT NULL,
    ctx_cool_errors INTEGER NOT NULL,
    PRIMARY KEY (session, agent_name)
) WITHOUT ROWID;
" + InsertSessionRollupCells("session_rollup") + @";
DROP TABLE session_rollup;
CREATE INDEX ix_session_rollup_context ON session_rollup_cells(max_context);
CREATE VIEW session_rollup AS
SELECT n.text AS session_id, r.agent_name, r.story_id, r.events, r.max_context, r.ctx_hot, r.ctx_hot_errors, r.ctx_cool, r.ctx_cool_errors
FROM session_rollup_cells r JOIN names n ON n.id = r.session;", transaction: tx);
        }

        /// <summary>session_rollup's rows (session_id, agent_name, ...) from a table or subquery into session_rollup_cells, each session under its names id, in key order.</summary>
        private static string InsertSessionRollupCells(string rows) =>
            $@"INSERT INTO session_rollup_cells SELECT n.id, r.agent_name, r.story_id, r.events, r.max_context, r.ctx_hot, r.ctx_hot_errors, r.ctx_cool, r.ctx_cool_errors
    FROM {rows} r JOIN names n ON n.text = r.session_id ORDER BY 1, 2";

        /// <summary>
        /// Schema 82: session_day and session_hour keyed by the session's names id (session_day_cells, session_hour_cells);
        /// each is a view with its old columns, so every reader and plain SQLite read them as before. The session's text
        /// (23 characters on average in the realistic logs) was in every row and in the interior pages. Run by
        /// Schema.AfterScript for 82 and every migration from the one that creates the table on (11: session_day, 20:
        /// session_hour, whose script replaces a table of that name), so the code those migrations run writes the new
        /// tables; nothing for a table that is already a view.
        /// </summary>
        internal static void KeySessionGrain(SqliteConnection c, SqliteTransaction tx, Grain g)
        {
            if (c.ExecuteScalar<string?>("SELECT type FROM sqlite_master WHERE name = @t", new { t = g.Sessions }, tx) != "table") return;
            // Left-aligned: sqlite_master keeps the text as written (docs/schema.sql).
            c.Execute($@"
CREATE TABLE {g.SessionCells} (
    {g.Column} INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    session INTEGER NOT NULL,
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
    PRIMARY KEY ({g.Column}, story_id, session, agent_name)
) WITHOUT ROWID;
{InsertSessionCells(g, "SELECT * FROM " + g.Sessions)};
DROP TABLE {g.Sessions};
CREATE VIEW {g.Sessions} AS
SELECT r.{g.Column}, r.story_id, n.text AS session_id, r.agent_name, {SessionCounts("r")}
FROM {g.SessionCells} r CROSS JOIN names n ON n.id = r.session;", transaction: tx);
        }

        /// <summary>session_day's columns as readers read them (session_hour's with hour for day): its key, then its counts.</summary>
        internal static readonly string[] SessionDayColumns =
            { "day", "story_id", "session_id", "agent_name", "events", "errors", "tokens", "human", "first_ts", "last_ts", "ctx_events", "max_context", "ctx_hot", "ctx_hot_errors", "ctx_cool", "ctx_cool_errors" };

        // The session tables' columns after their key (day or hour, story, session, agent), prefixed by an alias.
        private static string SessionCounts(string alias) => string.Join(", ", SessionDayColumns.Skip(4).Select(x => alias + "." + x));

        /// <summary>session_day's rows (session_hour's with the hour grain) of a query into their cells, each session under its names id, in key order.</summary>
        private static string InsertSessionCells(Grain g, string rows) =>
            $@"INSERT INTO {g.SessionCells} SELECT r.{g.Column}, r.story_id, n.id, r.agent_name, {SessionCounts("r")}
    FROM ({rows}) r JOIN names n ON n.text = r.session_id ORDER BY 1, 2, 3, 4";

        /// <summary><see cref="KeySequencesSql"/> on a store whose session_sequences is still a table; nothing once it is a view.</summary>
        internal static void KeySequences(SqliteConnection c, SqliteTransaction tx)
        {
            if (c.ExecuteScalar<string?>("SELECT type FROM sqlite_master WHERE name = 'session_sequences'", transaction: tx) == "table")
                c.Execute(KeySequencesSql, transaction: tx);
        }

        /// <summary>Upserts summary rows kept in memory (the import's, once per transaction) into their tables.</summary>
        [MethodImpl(Hot.Path)]
        internal static void Write(SqliteConnection c, SqliteTransaction tx, SummaryRows p)
        {
            PreparedBatch.Run(c, tx, @"INSERT INTO event_rollup VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                    ON CONFLICT DO UPDATE SET events = events + excluded.events, timed = timed + excluded.timed, duration_ms = duration_ms + excluded.duration_ms,
                        tokens = tokens + excluded.tokens, ctx_known = ctx_known + excluded.ctx_known, ctx_hot = ctx_hot + excluded.ctx_hot, wasted_ms = wasted_ms + excluded.wasted_ms,
                        first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
                p.Rollup.Select(kv => new object?[] { kv.Key.Agent, kv.Key.Workflow, kv.Key.EventType, kv.Key.Category, kv.Key.Step, kv.Key.Pattern, kv.Key.Outcome,
                    kv.Value.Events, kv.Value.Timed, kv.Value.DurationMs, kv.Value.Tokens, kv.Value.CtxKnown, kv.Value.CtxHot, kv.Value.WastedMs, kv.Value.First, kv.Value.Last }));
            // Keys are built here, once per histogram cell, not once per event.
            PreparedBatch.Run(c, tx, "INSERT INTO duration_hist VALUES ($1, $2, $3, $4) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                p.AgentHist.Select(kv => new object?[] { "agent", kv.Key.Agent, kv.Key.Bucket, kv.Value })
                    .Concat(p.StepHist.Select(kv => new object?[] { "step", kv.Key.Kind + ":" + kv.Key.Step, kv.Key.Bucket, kv.Value }))
                    .Concat(p.WorkflowHist.Select(kv => new object?[] { "workflow", kv.Key.Workflow, kv.Key.Bucket, kv.Value })));
            PreparedBatch.Run(c, tx, @"INSERT INTO story_rollup VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                            ON CONFLICT DO UPDATE SET events = events + excluded.events, errors = errors + excluded.errors, patterned = patterned + excluded.patterned,
                                tokens = tokens + excluded.tokens, human = human + excluded.human, first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
                p.Stories.Select(kv => new object?[] { kv.Key, kv.Value.Events, kv.Value.Errors, kv.Value.Patterned, kv.Value.Tokens, kv.Value.Human, kv.Value.First, kv.Value.Last }));
            PreparedBatch.Run(c, tx, "INSERT OR IGNORE INTO story_agents VALUES ($1, $2)", p.StoryAgents.Select(k => new object?[] { k.Story, k.Agent }));
            PreparedBatch.Run(c, tx, "INSERT INTO pattern_stories VALUES ($1, $2, $3) ON CONFLICT DO UPDATE SET errors = errors + excluded.errors",
                p.PatternStories.Select(kv => new object?[] { kv.Key.Pattern, kv.Key.Story, kv.Value }));
            // Keyed by the session's names id (schema 79): every session's text is a name (its events' context names it).
            PreparedBatch.Run(c, tx, @"INSERT INTO session_rollup_cells SELECT id, $2, $3, $4, $5, $6, $7, $8, $9 FROM names WHERE text = $1
                            ON CONFLICT DO UPDATE SET story_id = max(coalesce(story_id, ''), coalesce(excluded.story_id, '')), events = events + excluded.events,
                                max_context = max(max_context, excluded.max_context), ctx_hot = ctx_hot + excluded.ctx_hot, ctx_hot_errors = ctx_hot_errors + excluded.ctx_hot_errors,
                                ctx_cool = ctx_cool + excluded.ctx_cool, ctx_cool_errors = ctx_cool_errors + excluded.ctx_cool_errors",
                p.Sessions.Select(kv => new object?[] { kv.Key.Session, kv.Key.Agent, kv.Value.Story, kv.Value.CtxEvents, kv.Value.MaxContext,
                    kv.Value.Hot, kv.Value.HotErrors, kv.Value.Cool, kv.Value.CoolErrors }));
            PreparedBatch.Run(c, tx, "INSERT INTO human_rollup VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                p.Human.Select(kv => new object?[] { kv.Key.Category, kv.Key.Agent, kv.Key.Story, kv.Key.Pattern, kv.Value }));
            PreparedBatch.Run(c, tx, "INSERT INTO human_groups VALUES ($1, $2, $3, $4) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                p.Human.GroupBy(kv => (kv.Key.Category, kv.Key.Agent, kv.Key.Story)).Select(g => new object?[] { g.Key.Category, g.Key.Agent, g.Key.Story, g.Sum(kv => kv.Value) }));
            PreparedBatch.Run(c, tx, @"INSERT INTO week_rollup VALUES ($1, $2, $3, $4, $5, $6)
                            ON CONFLICT DO UPDATE SET events = events + excluded.events, errors = errors + excluded.errors, patterned = patterned + excluded.patterned,
                                tokens = tokens + excluded.tokens, human = human + excluded.human",
                p.Weeks.Select(kv => new object?[] { kv.Key, kv.Value.Events, kv.Value.Errors, kv.Value.Patterned, kv.Value.Tokens, kv.Value.Human }));
            using var keys = new RollupKeys(c, tx);
            WriteGrain(c, tx, Grain.Day, keys, p.Days, p.DayHist, p.SessionDays.Select(kv => (kv.Key.Day, kv.Key.Story, kv.Key.Session, kv.Key.Agent, kv.Value)));
            WriteGrain(c, tx, Grain.Hour, keys, p.Hours, p.HourHist, p.SessionHours.Select(kv => (kv.Key.Hour, kv.Key.Story, kv.Key.Session, kv.Key.Agent, kv.Value)));
            PreparedBatch.Run(c, tx, "INSERT INTO hour_stories VALUES ($1, $2, $3, $4) ON CONFLICT DO UPDATE SET first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
                p.HourStories.Select(kv => new object?[] { kv.Key.Hour, kv.Key.Story, kv.Value.First, kv.Value.Last }));
        }

        // The rows of one grain (day or hour; the key's first element): rollup (its story and key numbered), histograms and session rows.
        [MethodImpl(Hot.Path)]
        private static void WriteGrain(SqliteConnection c, SqliteTransaction tx, Grain g, RollupKeys keys, Dictionary<(long, string, RollupKey), RollupCounts> rollup,
            Dictionary<(long, string, string, string), BucketCounts> hist, IEnumerable<(long At, string? Story, string Session, string Agent, SessionDayCounts Counts)> sessions)
        {
            PreparedBatch.Run(c, tx, $@"INSERT INTO {g.Cells} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    ON CONFLICT DO UPDATE SET events = events + excluded.events, timed = timed + excluded.timed, duration_ms = duration_ms + excluded.duration_ms,
                        tokens = tokens + excluded.tokens, ctx_known = ctx_known + excluded.ctx_known, ctx_hot = ctx_hot + excluded.ctx_hot, wasted_ms = wasted_ms + excluded.wasted_ms",
                rollup.Select(kv => new object?[] { kv.Key.Item1, keys.Id(kv.Key.Item2, kv.Key.Item3),
                    kv.Value.Events, kv.Value.Timed, kv.Value.DurationMs, kv.Value.Tokens, kv.Value.CtxKnown, kv.Value.CtxHot, kv.Value.WastedMs }).ToList());
            // A histogram's key (story, scope, key) numbered once in hist_keys (a few hundred keys), its blob per grain under that number.
            PreparedBatch.Run(c, tx, "INSERT OR IGNORE INTO hist_keys(story_id, scope, key) VALUES ($1, $2, $3)",
                hist.Keys.Select(k => (k.Item2, k.Item3, k.Item4)).Distinct().Select(k => new object?[] { k.Item1, k.Item2, k.Item3 }));
            PreparedBatch.Run(c, tx, $@"INSERT INTO {g.Hist} SELECT $1, id, $5 FROM hist_keys WHERE story_id = $2 AND scope = $3 AND key = $4
                    ON CONFLICT DO UPDATE SET buckets = madf_hist_add(buckets, excluded.buckets)",
                hist.Select(kv => new object?[] { kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Key.Item4,
                    DayHistogram.Encode(kv.Value) }));
            // Keyed by the session's names id (schema 82), as session_rollup_cells.
            PreparedBatch.Run(c, tx, $@"INSERT INTO {g.SessionCells} SELECT $1, $2, id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 FROM names WHERE text = $3
                    ON CONFLICT DO UPDATE SET events = events + excluded.events, errors = errors + excluded.errors, tokens = tokens + excluded.tokens, human = human + excluded.human,
                        first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts), ctx_events = ctx_events + excluded.ctx_events,
                        max_context = CASE WHEN max_context IS NULL THEN excluded.max_context WHEN excluded.max_context IS NULL THEN max_context ELSE max(max_context, excluded.max_context) END,
                        ctx_hot = ctx_hot + excluded.ctx_hot, ctx_hot_errors = ctx_hot_errors + excluded.ctx_hot_errors, ctx_cool = ctx_cool + excluded.ctx_cool, ctx_cool_errors = ctx_cool_errors + excluded.ctx_cool_errors",
                sessions.Select(x => new object?[] { x.At, x.Story ?? "", x.Session, x.Agent, x.Counts.Events, x.Counts.Errors, x.Counts.Tokens, x.Counts.Human,
                    x.Counts.First, x.Counts.Last, x.Counts.CtxEvents, x.Counts.MaxContext, x.Counts.Hot, x.Counts.HotErrors, x.Counts.Cool, x.Counts.CoolErrors }));
        }

        /// <summary>The summary tables that count events (every figure but the error sequences).</summary>
        private static readonly string[] CountNames =
            { "event_rollup", "duration_hist", "story_rollup", "story_agents", "pattern_stories", "session_rollup_cells", "human_rollup", "human_groups", "week_rollup", "day_rollup_cells", "day_hist", "session_day_cells",
              "hour_rollup_cells", "hour_hist", "session_hour_cells", "hour_stories", "rollup_keys", "hist_keys" };

        /// <summary>The summary tables that describe the active events (patterns keep their own history).</summary>
        public static readonly string[] Names = CountNames.Concat(new[] { "sequence_spans" }).Concat(SequenceCells.Tables).ToArray();

        /// <summary>
        /// Recomputes every summary from the events the active store holds, with the same definitions as the import
        /// (Summaries.RollupStage). Retention calls it once it has moved events to archives, so the
        /// summaries and a scan always describe the same events: the active window.
        /// </summary>
        public static void Rebuild(SqliteConnection c, SqliteTransaction tx)
        {
            RebuildCounts(c, tx);
            foreach (var t in Names.Except(CountNames)) c.Execute($"DELETE FROM {t}", transaction: tx);
            c.Execute(SequenceFill, transaction: tx);
            SequenceCells.Fill(c, tx);
        }

        /// <summary>Recomputes the summaries that count events (all but the error sequences) from the events.</summary>
        private static void RebuildCounts(SqliteConnection c, SqliteTransaction tx)
        {
            DayHistogram.Register(c);
            // A store upgraded through a migration that rebuilds (33) before schema 35 gets the keyed rollups first.
            KeyRollups(c, tx);
            foreach (var t in CountNames) c.Execute($"DELETE FROM {t}", transaction: tx);
            // One pass over the events into a temporary table with the columns every summary needs.
            c.Execute(@"DROP TABLE IF EXISTS temp.rebuild_events;
                CREATE TEMP TABLE rebuild_events AS " + Columns(c, tx), transaction: tx);
            c.Execute($"INSERT INTO event_rollup {EventRollupRows("temp.rebuild_events")}", transaction: tx);
            c.Execute(@"INSERT INTO duration_hist
                SELECT 'agent', coalesce(agent, ''), madf_duration_bucket(duration), count(*) FROM temp.rebuild_events WHERE duration IS NOT NULL GROUP BY 2, 3
                UNION ALL SELECT 'step', kind || ':' || step, madf_duration_bucket(duration), count(*) FROM temp.rebuild_events WHERE duration IS NOT NULL GROUP BY 2, 3
                UNION ALL SELECT 'workflow', workflow, madf_duration_bucket(duration), count(*) FROM temp.rebuild_events WHERE duration IS NOT NULL AND workflow IS NOT NULL GROUP BY 2, 3",
                transaction: tx);
            c.Execute($"INSERT INTO story_rollup {StoryRows("temp.rebuild_events")}", transaction: tx);
            c.Execute("INSERT INTO story_agents SELECT DISTINCT story, agent FROM temp.rebuild_events WHERE story IS NOT NULL AND agent IS NOT NULL", transaction: tx);
            c.Execute($"INSERT INTO pattern_stories {PatternStoryRows("temp.rebuild_events")}", transaction: tx);
            c.Execute(InsertSessionRollupCells($"({SessionRollupRows("temp.rebuild_events")})"), transaction: tx);
            c.Execute(@"INSERT INTO human_rollup SELECT category, coalesce(agent, ''), coalesce(story, ''), coalesce(pattern, 0), count(*)
                FROM temp.rebuild_events WHERE type = 'human_interaction' GROUP BY 1, 2, 3, 4", transaction: tx);
            c.Execute(@"INSERT INTO human_groups SELECT category, coalesce(agent, ''), coalesce(story, ''), count(*)
                FROM temp.rebuild_events WHERE type = 'human_interaction' GROUP BY 1, 2, 3", transaction: tx);
            c.Execute($"INSERT INTO week_rollup {WeekRows("temp.rebuild_events")}", transaction: tx);
            c.Execute(DayFill("temp.rebuild_events"), transaction: tx);
            c.Execute(HourFill("temp.rebuild_events"), transaction: tx);
            c.Execute("DROP TABLE temp.rebuild_events", transaction: tx);
        }

        /// <summary>
        /// Counts a change of some events' outcome (their success) or a context figure they gain (none before) into the
        /// summaries without reading the other events: the events <paramref name="ids"/> selects (a query of event ids,
        /// read before the change) are taken back from each summary row an outcome or a figure counts in as they were
        /// counted, and counted again as <paramref name="change"/> (returning the events it changed) leaves them, by the
        /// definitions <see cref="Rebuild"/> fills the tables with; when an outcome changed, their sessions' error
        /// sequences are counted again from those sessions' events (SequenceCells.Recount; the sequences do not read the
        /// figures). A change of anything else of an event (its time, context, type, category, step, tokens, duration,
        /// pattern, or a figure it had) is not followed: the summaries are rebuilt instead. Returns what
        /// <paramref name="change"/> returned.
        /// </summary>
        internal static int Recount(SqliteConnection c, SqliteTransaction tx, string ids, System.Func<string, int> change)
        {
            c.Execute($@"DROP TABLE IF EXISTS temp.recount_ids; CREATE TEMP TABLE recount_ids (id INTEGER PRIMARY KEY);
                INSERT INTO temp.recount_ids {ids};
                DROP TABLE IF EXISTS temp.recount_before; CREATE TEMP TABLE recount_before AS {IdAndColumns(c, tx)} WHERE e.id IN (SELECT id FROM temp.recount_ids);", transaction: tx);
            var changed = change("id IN (SELECT id FROM temp.recount_ids)");
            if (changed > 0)
            {
                c.Execute($"DROP TABLE IF EXISTS temp.recount_after; CREATE TEMP TABLE recount_after AS {IdAndColumns(c, tx)} WHERE e.id IN (SELECT id FROM temp.recount_ids);", transaction: tx);
                // Each event as it was and as it is: the same but for its outcome, and its figure where it had none (a
                // figure that appears only adds to the counts and raises the maxima, which the delta's maxima follow).
                var same = string.Join(" AND ", "ts, type, category, session, story, workflow, agent, duration, tokens, pattern, saved, kind, step"
                    .Split(',').Select(x => $"b.{x.Trim()} IS a.{x.Trim()}"));
                var followed = c.ExecuteScalar<long>($@"SELECT (SELECT count(*) FROM temp.recount_before) = (SELECT count(*) FROM temp.recount_after)
                    AND NOT EXISTS (SELECT 1 FROM temp.recount_before b LEFT JOIN temp.recount_after a ON a.id = b.id
                        WHERE a.id IS NULL OR NOT ({same} AND (b.ctx IS NULL OR b.ctx IS a.ctx)))", transaction: tx) == 1;
                if (!followed) Rebuild(c, tx);
                else
                {
                    foreach (var t in OutcomeCounts) Recount(c, tx, t);
                    RecountFirstAndLast(c, tx);
                }
                if (followed && c.ExecuteScalar<long>("SELECT EXISTS (SELECT 1 FROM temp.recount_before b JOIN temp.recount_after a USING (id) WHERE b.success IS NOT a.success)", transaction: tx) == 1)
                {
                    c.Execute(@"DROP TABLE IF EXISTS temp.recount_sessions; CREATE TEMP TABLE recount_sessions AS
                            SELECT DISTINCT session FROM temp.recount_before WHERE session IS NOT NULL AND type <> 'llm_call';
                        DROP TABLE IF EXISTS temp.recount_session_events; CREATE TEMP TABLE recount_session_events (id INTEGER PRIMARY KEY);
                        INSERT INTO temp.recount_session_events SELECT r.id FROM event_rows r WHERE r.context IN (
                            SELECT x.id FROM contexts x JOIN names n ON n.id = x.session_id WHERE n.text IN (SELECT session FROM temp.recount_sessions));", transaction: tx);
                    SequenceCells.Recount(c, tx, c.Query<string>("SELECT session FROM temp.recount_sessions", transaction: tx).ToList(),
                        "e.id IN (SELECT id FROM temp.recount_session_events)");
                    c.Execute("DROP TABLE temp.recount_sessions; DROP TABLE temp.recount_session_events;", transaction: tx);
                }
                c.Execute("DROP TABLE temp.recount_after", transaction: tx);
            }
            c.Execute("DROP TABLE temp.recount_ids; DROP TABLE temp.recount_before;", transaction: tx);
            return changed;
        }

        /// <summary>A summary table as <see cref="Recount"/> changes it: its rows of a source, their key, and how each other column adds up.</summary>
        private sealed class Counted
        {
            public Counted(string table, System.Func<string, string> rows, string keys, string sums, string mins = "", string maxes = "", Grain? cells = null, string? sessionNumberedIn = null)
            {
                Table = table; Rows = rows; Cells = cells;
                Keys = keys.Split(',').Select(k => k.Trim()).ToArray();
                Stored = sessionNumberedIn ?? table;
                StoredKeys = sessionNumberedIn == null ? Keys : Keys.Select(k => k == "session_id" ? "session" : k).ToArray();
                Sums = sums.Split(',').Select(k => k.Trim()).ToArray();
                Mins = mins.Length == 0 ? System.Array.Empty<string>() : mins.Split(',').Select(k => k.Trim()).ToArray();
                Maxes = maxes.Length == 0 ? System.Array.Empty<string>() : maxes.Split(',').Select(k => k.Trim()).ToArray();
            }

            public string Table { get; }
            /// <summary>The table the rows are written to: Table, or the table a view named Table reads with each session_id stored as its names id in column session (session_rollup_cells, schema 79).</summary>
            public string Stored { get; }
            public string[] StoredKeys { get; }
            public bool SessionNumbered => Stored != Table;
            /// <summary>The grain whose rollup this is: its rows are stored as cells keyed by rollup_keys (schema 35), Table is their view.</summary>
            public Grain? Cells { get; }
            public System.Func<string, string> Rows { get; }
            public string[] Keys { get; }
            /// <summary>Added up; the first is the row's count: a row whose count is 0 counts nothing and goes.</summary>
            public string[] Sums { get; }
            public string[] Mins { get; }
            public string[] Maxes { get; }
        }

        private const string RollupSums = "events, timed, duration_ms, tokens, ctx_known, ctx_hot, wasted_ms";
        private const string RollupKey = "agent_name, workflow_id, event_type, category, step, pattern_id, outcome";
        private const string SessionSums = "events, errors, tokens, human, ctx_events, ctx_hot, ctx_hot_errors, ctx_cool, ctx_cool_errors";

        /// <summary>The tables whose rows an event's outcome or context figure is counted in (its key's outcome, errors, time wasted, the figures' counts and maxima); the others depend on neither.</summary>
        private static readonly Counted[] OutcomeCounts =
        {
            new Counted("event_rollup", EventRollupRows, RollupKey, RollupSums, "first_ts", "last_ts"),
            new Counted("story_rollup", StoryRows, "story_id", "events, errors, patterned, tokens, human", "first_ts", "last_ts"),
            new Counted("pattern_stories", PatternStoryRows, "pattern_id, story_id", "errors"),
            new Counted("session_rollup", SessionRollupRows, "session_id, agent_name", "events, ctx_hot, ctx_hot_errors, ctx_cool, ctx_cool_errors", "", "story_id, max_context", sessionNumberedIn: "session_rollup_cells"),
            new Counted("week_rollup", WeekRows, "week", "events, errors, patterned, tokens, human"),
            new Counted("day_rollup", src => RollupRows(src, Grain.Day), "day, " + RollupKeyColumns, RollupSums, cells: Grain.Day),
            new Counted("hour_rollup", src => RollupRows(src, Grain.Hour), "hour, " + RollupKeyColumns, RollupSums, cells: Grain.Hour),
            new Counted("session_day", src => SessionRows(src, Grain.Day), "day, story_id, session_id, agent_name", SessionSums, "first_ts", "last_ts, max_context", sessionNumberedIn: Grain.Day.SessionCells),
            new Counted("session_hour", src => SessionRows(src, Grain.Hour), "hour, story_id, session_id, agent_name", SessionSums, "first_ts", "last_ts, max_context", sessionNumberedIn: Grain.Hour.SessionCells),
        };

        // One table: the rows of the events as they are now added, as they were taken back (their first/last times and
        // maxima are the ones now: an event's time and figures do not change), rows left counting nothing deleted.
        private static void Recount(SqliteConnection c, SqliteTransaction tx, Counted t)
        {
            string List(System.Collections.Generic.IEnumerable<string> columns) => string.Join(", ", columns);
            var keys = List(t.Keys);
            var all = List(t.Keys.Concat(t.Sums).Concat(t.Mins).Concat(t.Maxes));
            var extreme = t.Mins.Select(m => (m, "min")).Concat(t.Maxes.Select(m => (m, "max"))).ToList();
            c.Execute($@"DROP TABLE IF EXISTS temp.recount_delta;
                CREATE TEMP TABLE recount_delta AS SELECT {List(t.Keys.Concat(t.Sums.Select(x => $"sum(sign * {x}) AS {x}")).Concat(extreme.Select(x => $"{x.Item2}(CASE WHEN sign > 0 THEN {x.m} END) AS {x.m}")))}
                FROM (SELECT 1 AS sign, * FROM ({t.Rows("temp.recount_after")}) UNION ALL SELECT -1 AS sign, * FROM ({t.Rows("temp.recount_before")}))
                GROUP BY {keys};", transaction: tx);
            if (t.Cells != null) { RecountCells(c, tx, t.Cells, t.Sums); return; }
            var table = t.Stored;
            var stored = t.StoredKeys;
            if (t.SessionNumbered)
            {
                keys = List(stored);
                all = List(stored.Concat(t.Sums).Concat(t.Mins).Concat(t.Maxes));
                c.Execute("ALTER TABLE temp.recount_delta ADD COLUMN session INTEGER; UPDATE temp.recount_delta SET session = (SELECT id FROM names WHERE text = session_id);", transaction: tx);
            }
            c.Execute($@"
                UPDATE {table} SET {List(t.Sums.Select(x => $"{x} = {table}.{x} + d.{x}").Concat(extreme.Select(x =>
                    $"{x.m} = CASE WHEN d.{x.m} IS NULL THEN {table}.{x.m} WHEN {table}.{x.m} IS NULL THEN d.{x.m} ELSE {x.Item2}({table}.{x.m}, d.{x.m}) END")))}
                FROM temp.recount_delta d WHERE {string.Join(" AND ", stored.Select(k => $"{table}.{k} = d.{k}"))};
                INSERT INTO {table} ({all}) SELECT {all} FROM temp.recount_delta d
                WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE {string.Join(" AND ", stored.Select(k => $"x.{k} = d.{k}"))});
                DELETE FROM {table} WHERE {t.Sums[0]} = 0 AND ({keys}) IN (SELECT {keys} FROM temp.recount_delta);", transaction: tx);
            if (t.Table == "event_rollup")
                c.Execute($@"DROP TABLE IF EXISTS temp.recount_lost; CREATE TEMP TABLE recount_lost AS
                    SELECT {List(t.Keys.Select(k => "d." + k))} FROM temp.recount_delta d JOIN event_rollup r USING ({keys}) WHERE d.events < 0", transaction: tx);
            c.Execute("DROP TABLE temp.recount_delta", transaction: tx);
        }

        // A day or hour rollup's delta (temp.recount_delta: the grain, the key's texts, the counts) on its cells: keys met
        // for the first time numbered, cells left counting nothing deleted, and keys no cell of either grain uses any more.
        private static void RecountCells(SqliteConnection c, SqliteTransaction tx, Grain g, string[] sums)
        {
            var col = g.Column;
            c.Execute($@"INSERT OR IGNORE INTO rollup_keys({RollupKeyColumns}) SELECT DISTINCT {RollupKeyColumns} FROM temp.recount_delta;
                DROP TABLE IF EXISTS temp.recount_cells; CREATE TEMP TABLE recount_cells AS
                    SELECT d.{col} AS {col}, k.id AS key, {Prefixed("d", string.Join(", ", sums))} FROM temp.recount_delta d JOIN rollup_keys k ON {RollupKeyMatch("k", "d")};
                UPDATE {g.Cells} SET {string.Join(", ", sums.Select(x => $"{x} = {g.Cells}.{x} + d.{x}"))}
                FROM temp.recount_cells d WHERE {g.Cells}.{col} = d.{col} AND {g.Cells}.key = d.key;
                INSERT INTO {g.Cells} ({col}, key, {string.Join(", ", sums)}) SELECT {col}, key, {string.Join(", ", sums)} FROM temp.recount_cells d
                WHERE NOT EXISTS (SELECT 1 FROM {g.Cells} x WHERE x.{col} = d.{col} AND x.key = d.key);
                DELETE FROM {g.Cells} WHERE {sums[0]} = 0 AND ({col}, key) IN (SELECT {col}, key FROM temp.recount_cells);
                DELETE FROM rollup_keys WHERE id IN (SELECT key FROM temp.recount_cells)
                    AND NOT EXISTS (SELECT 1 FROM day_rollup_cells x WHERE x.key = rollup_keys.id) AND NOT EXISTS (SELECT 1 FROM hour_rollup_cells x WHERE x.key = rollup_keys.id);
                DROP TABLE temp.recount_cells; DROP TABLE temp.recount_delta;", transaction: tx);
        }

        // event_rollup's rows that lost events and still count some: their first and last times read again from the events
        // of their kinds (the one table whose key has the outcome and that keeps times).
        private static void RecountFirstAndLast(SqliteConnection c, SqliteTransaction tx)
        {
            if (c.ExecuteScalar<long>("SELECT count(*) FROM temp.recount_lost", transaction: tx) > 0)
            {
                var match = string.Join(" AND ", new[] { "coalesce(x.agent, '') = event_rollup.agent_name", "coalesce(x.workflow, '') = event_rollup.workflow_id", "x.type = event_rollup.event_type",
                    "x.category = event_rollup.category", "x.step = event_rollup.step", "coalesce(x.pattern, 0) = event_rollup.pattern_id", "coalesce(x.success, -1) = event_rollup.outcome" });
                c.Execute($@"DROP TABLE IF EXISTS temp.recount_keyed;
                    CREATE TEMP TABLE recount_keyed AS {Columns(c, tx)} WHERE e.kind IN (SELECT k.id FROM kinds k JOIN names t ON t.id = k.event_type JOIN names cat ON cat.id = k.category
                        WHERE EXISTS (SELECT 1 FROM temp.recount_lost l WHERE l.event_type = t.text AND l.category = cat.text AND l.outcome = coalesce(k.success, -1)));
                    UPDATE event_rollup SET first_ts = (SELECT min(x.ts) FROM temp.recount_keyed x WHERE {match}), last_ts = (SELECT max(x.ts) FROM temp.recount_keyed x WHERE {match})
                    WHERE ({RollupKey}) IN (SELECT {RollupKey} FROM temp.recount_lost);
                    DROP TABLE temp.recount_keyed;", transaction: tx);
            }
            c.Execute("DROP TABLE temp.recount_lost", transaction: tx);
        }

        /// <summary>Whether the summaries count events the store no longer holds (retention moved them and was interrupted before the rebuild).</summary>
        public static bool CountsMoreThanTheEvents(SqliteConnection c) =>
            (c.ExecuteScalar<long?>("SELECT sum(events) FROM event_rollup") ?? 0) > c.ExecuteScalar<long>("SELECT count(*) FROM event_rows");

        /// <summary>
        /// The events as the summaries read them (one row per event; alias e is event_rows, so a filter's conditions on
        /// e.id and e.context apply; its time is ts, read through its block eb since schema 61, EventStorage.TimeOf). The names are joined once per row as the events view decodes them, and
        /// the details, the costly part of the view, are read from it only for the tool calls and steps whose step they
        /// name, and the time saved or wasted from it (a column of the rows until schema 56, in event_extras since: a
        /// migration before 56 reads the rows as they are then): the view's columns would look up the kind and context again for every column that names them (a cut
        /// day's events decoded 3-4 times faster).
        /// </summary>
        internal static string Columns(SqliteConnection c, SqliteTransaction tx) => EventStorage.TimesAreOffsets(c, tx) ? ColumnsOf61 : ColumnsBefore61;

        private static readonly string ColumnsOf61 = ColumnsOf(EventStorage.TimeOf("e", "eb"), " " + EventStorage.BlockJoin("e", "eb"));
        // Migrations 11 and 20 in their scripts: the time through the view, which is as the rows are (whole before 61,
        // offsets on a store turned back by deleting version rows, as upgrade tests do).
        internal static readonly string ColumnsBefore61 = ColumnsOf("(SELECT d.timestamp FROM events d WHERE d.id = e.id)", "");

        private static string ColumnsOf(string time, string blockJoin) => @"SELECT " + time + @" AS ts, t.text AS type, cat.text AS category, s.text AS session, st.text AS story,
                       w.text AS workflow, a.text AS agent, e.duration_ms AS duration, e.tokens_used AS tokens,
                       " + EventWriter.ContextPercentSql("e") + @" AS ctx,
                       nullif(k.success, -1) AS success, e.pattern_id AS pattern, (SELECT d.time_saved_or_wasted_ms FROM events d WHERE d.id = e.id) AS saved, " + Errors.InEvents + @" AS is_error,
                       " + Steps.KindSqlOf("t.text") + " AS kind, " + Steps.NameSqlOf("t.text", "(SELECT d.details FROM events d WHERE d.id = e.id)") + @" AS step
                FROM event_rows e
                LEFT JOIN kinds k ON k.id = e.kind LEFT JOIN names t ON t.id = k.event_type LEFT JOIN names cat ON cat.id = k.category
                LEFT JOIN contexts x ON x.id = e.context LEFT JOIN names s ON s.id = x.session_id LEFT JOIN names st ON st.id = x.story_id
                LEFT JOIN names w ON w.id = x.workflow_id LEFT JOIN names a ON a.id = x.agent_name" + blockJoin;

        /// <summary><see cref="Columns"/> with each event's id first (Recount matches an event as it was with it as it is).</summary>
        private static string IdAndColumns(SqliteConnection c, SqliteTransaction tx) => "SELECT e.id AS id, " + Columns(c, tx).Substring("SELECT ".Length);

        /// <summary>
        /// The grain of the time-keyed summaries: the day (day_rollup, day_hist, session_day: days since 1970-01-01 UTC)
        /// or the hour (hour_rollup, hour_hist, session_hour, hour_stories: hours since 1970-01-01 UTC), the same rows by
        /// the same definitions, so a window that cuts a day reads its whole hours from the hour tables.
        /// </summary>
        internal sealed class Grain
        {
            private Grain(string column, string rollup, string hist, string sessions, System.Func<string, string> sql)
            {
                Column = column; Rollup = rollup; Cells = rollup + "_cells"; Hist = hist; Sessions = sessions; SessionCells = sessions + "_cells"; _sql = sql;
            }

            private readonly System.Func<string, string> _sql;
            /// <summary>The key column: day or hour.</summary>
            public string Column { get; }
            /// <summary>The rollup as readers read it (a view since schema 35: its cells with their keys' texts).</summary>
            public string Rollup { get; }
            /// <summary>The rollup's stored rows: the grain, the number of its key in rollup_keys, the counts.</summary>
            public string Cells { get; }
            /// <summary>The histograms (since schema 73: the grain, the number of the key in hist_keys, the blob).</summary>
            public string Hist { get; }
            /// <summary>The histograms with their keys' texts (grain, story_id, scope, key, buckets), as a table expression for FROM.</summary>
            public string HistRows => $"(SELECT x.{Column}, k.story_id, k.scope, k.key, x.buckets FROM {Hist} x CROSS JOIN hist_keys k ON k.id = x.key)";
            /// <summary>The sessions' rows as readers read them (a view since schema 82: its cells with each session's text).</summary>
            public string Sessions { get; }
            /// <summary>The sessions' stored rows: each session under its names id (schema 82).</summary>
            public string SessionCells { get; }
            /// <summary>The grain of a timestamp in SQL (IsoWeeks.DaySql or HourSql).</summary>
            public string Of(string ts) => _sql(ts);

            public static readonly Grain Day = new Grain("day", "day_rollup", "day_hist", "session_day", IsoWeeks.DaySql);
            public static readonly Grain Hour = new Grain("hour", "hour_rollup", "hour_hist", "session_hour", IsoWeeks.HourSql);
        }

        /// <summary>event_rollup's rows (its columns, by name) of a source with <see cref="Columns"/>.</summary>
        internal static string EventRollupRows(string source) => $@"
                SELECT coalesce(agent, '') AS agent_name, coalesce(workflow, '') AS workflow_id, type AS event_type, category, step, coalesce(pattern, 0) AS pattern_id,
                       coalesce(success, -1) AS outcome, count(*) AS events, count(duration) AS timed, coalesce(sum(duration), 0) AS duration_ms,
                       coalesce(sum(tokens), 0) AS tokens, count(ctx) AS ctx_known, coalesce(sum({HighContext.Sql("ctx")}), 0) AS ctx_hot,
                       coalesce(sum(CASE WHEN success = 0 THEN coalesce(duration, 0) ELSE 0 END + CASE WHEN saved < 0 THEN -saved ELSE 0 END), 0) AS wasted_ms,
                       min(ts) AS first_ts, max(ts) AS last_ts
                FROM {source} GROUP BY 1, 2, 3, 4, 5, 6, 7";

        /// <summary>story_rollup's rows of a source with <see cref="Columns"/>.</summary>
        internal static string StoryRows(string source) => $@"
                SELECT story AS story_id, count(*) AS events, sum(is_error) AS errors, sum(is_error AND pattern IS NOT NULL) AS patterned, coalesce(sum(tokens), 0) AS tokens,
                       sum(type = 'human_interaction') AS human, min(ts) AS first_ts, max(ts) AS last_ts
                FROM {source} WHERE story IS NOT NULL GROUP BY 1";

        /// <summary>pattern_stories' rows of a source with <see cref="Columns"/>: each pattern's errors per story.</summary>
        internal static string PatternStoryRows(string source) => $@"
                SELECT pattern AS pattern_id, story AS story_id, count(*) AS errors FROM {source}
                WHERE is_error AND pattern IS NOT NULL AND story IS NOT NULL GROUP BY 1, 2";

        /// <summary>session_rollup's rows of a source with <see cref="Columns"/>: the events with a context figure, per session and agent.</summary>
        internal static string SessionRollupRows(string source) => $@"
                SELECT session AS session_id, coalesce(agent, '') AS agent_name, coalesce(max(story), '') AS story_id, count(*) AS events, max(ctx) AS max_context,
                       sum({HighContext.Sql("ctx")}) AS ctx_hot, sum({HighContext.Sql("ctx")} AND is_error) AS ctx_hot_errors,
                       sum(NOT {HighContext.Sql("ctx")}) AS ctx_cool, sum(NOT {HighContext.Sql("ctx")} AND is_error) AS ctx_cool_errors
                FROM {source} WHERE session IS NOT NULL AND ctx IS NOT NULL GROUP BY 1, 2";

        /// <summary>week_rollup's rows of a source with <see cref="Columns"/>. The week is IsoWeeks.MondayDay: the Monday of the event's day (days since 1970-01-01, a Thursday).</summary>
        internal static string WeekRows(string source) => $@"
                SELECT day - ((day + 3) % 7 + 7) % 7 AS week, count(*) AS events, sum(is_error) AS errors, sum(is_error AND pattern IS NOT NULL) AS patterned,
                       coalesce(sum(tokens), 0) AS tokens, sum(type = 'human_interaction') AS human
                FROM (SELECT {IsoWeeks.DaySql("ts")} AS day, * FROM {source}) GROUP BY 1";

        /// <summary>
        /// Fills day_rollup, day_hist and session_day from a source with <see cref="Columns"/> (the import's definitions,
        /// in SQL); <paramref name="keyed"/> false: day_rollup as the table it was before schema 35 (migration 11's fill).
        /// </summary>
        internal static string DayFill(string source, bool keyed = true) => Fill(source, Grain.Day, keyed);

        /// <summary>Fills the hour twins of the day tables and hour_stories from a source with <see cref="Columns"/> (<paramref name="keyed"/>: as <see cref="DayFill"/>).</summary>
        internal static string HourFill(string source, bool keyed = true) => Fill(source, Grain.Hour, keyed) + $@"
            INSERT INTO hour_stories {HourStoryRows(source)};";

        private static string Fill(string source, Grain g, bool keyed) => (keyed ? $@"
            CREATE TEMP TABLE rollup_fill AS {RollupRows(source, g)};
            INSERT OR IGNORE INTO rollup_keys({RollupKeyColumns}) SELECT DISTINCT {RollupKeyColumns} FROM temp.rollup_fill;
            INSERT INTO {g.Cells} SELECT f.{g.Column}, k.id, {Prefixed("f", RollupCountColumns)} FROM temp.rollup_fill f JOIN rollup_keys k ON {RollupKeyMatch("k", "f")};
            DROP TABLE temp.rollup_fill;" : $@"
            INSERT INTO {g.Rollup} {RollupRows(source, g)};") + (keyed ? $@"
            CREATE TEMP TABLE hist_fill AS
                SELECT {g.Column} AS at, story_id, scope, key, madf_hist_of(group_concat(bucket || ':' || n)) AS buckets FROM ({Buckets(source, g)})
                GROUP BY 1, 2, 3, 4;
            INSERT OR IGNORE INTO hist_keys(story_id, scope, key) SELECT story_id, scope, key FROM temp.hist_fill GROUP BY 1, 2, 3;
            INSERT INTO {g.Hist} SELECT f.at, k.id, f.buckets FROM temp.hist_fill f JOIN hist_keys k ON k.story_id = f.story_id AND k.scope = f.scope AND k.key = f.key;
            DROP TABLE temp.hist_fill;" : $@"
            INSERT INTO {g.Hist}
                SELECT {g.Column}, story_id, scope, key, madf_hist_of(group_concat(bucket || ':' || n)) FROM ({Buckets(source, g)})
                GROUP BY 1, 2, 3, 4;") + $@"
            {(keyed ? InsertSessionCells(g, SessionRows(source, g)) : $"INSERT INTO {g.Sessions} {SessionRows(source, g)}")};";

        /// <summary>day_rollup's rows (its columns, by name; hour_rollup's with the hour grain) of a source with <see cref="Columns"/>.</summary>
        internal static string RollupRows(string source, Grain g) => $@"
                SELECT {g.Of("ts")} AS {g.Column}, coalesce(story, '') AS story_id, coalesce(agent, '') AS agent_name, coalesce(workflow, '') AS workflow_id,
                       type AS event_type, category, step, coalesce(pattern, 0) AS pattern_id, coalesce(success, -1) AS outcome,
                       count(*) AS events, count(duration) AS timed, coalesce(sum(duration), 0) AS duration_ms, coalesce(sum(tokens), 0) AS tokens,
                       count(ctx) AS ctx_known, coalesce(sum({HighContext.Sql("ctx")}), 0) AS ctx_hot,
                       coalesce(sum({TimeWasted.Sql("success", "duration", "saved")}), 0) AS wasted_ms
                FROM {source} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9";

        /// <summary>day_hist's buckets (day, story_id, scope, key, bucket, n; hour_hist's with the hour grain) of a source with <see cref="Columns"/>, one row per bucket.</summary>
        internal static string Buckets(string source, Grain g) => $@"
                    SELECT {g.Of("ts")} AS {g.Column}, coalesce(story, '') AS story_id, 'agent' AS scope, coalesce(agent, '') AS key, madf_duration_bucket(duration) AS bucket, count(*) AS n
                    FROM {source} WHERE duration IS NOT NULL GROUP BY 1, 2, 4, 5
                    UNION ALL SELECT {g.Of("ts")}, coalesce(story, ''), 'step', kind || ':' || step, madf_duration_bucket(duration), count(*) FROM {source} WHERE duration IS NOT NULL GROUP BY 1, 2, 4, 5
                    UNION ALL SELECT {g.Of("ts")}, coalesce(story, ''), 'workflow', workflow, madf_duration_bucket(duration), count(*) FROM {source} WHERE duration IS NOT NULL AND workflow IS NOT NULL GROUP BY 1, 2, 4, 5";

        /// <summary>session_day's rows (its columns, by name; session_hour's with the hour grain) of a source with <see cref="Columns"/>.</summary>
        internal static string SessionRows(string source, Grain g) => $@"
                SELECT {g.Of("ts")} AS {g.Column}, coalesce(story, '') AS story_id, session AS session_id, coalesce(agent, '') AS agent_name, count(*) AS events,
                       sum(is_error) AS errors, coalesce(sum(tokens), 0) AS tokens, sum(type = 'human_interaction') AS human, min(ts) AS first_ts, max(ts) AS last_ts,
                       count(ctx) AS ctx_events, max(ctx) AS max_context, coalesce(sum({HighContext.Sql("ctx")}), 0) AS ctx_hot,
                       coalesce(sum({HighContext.Sql("ctx")} AND is_error), 0) AS ctx_hot_errors, coalesce(sum(NOT {HighContext.Sql("ctx")}), 0) AS ctx_cool,
                       coalesce(sum(NOT {HighContext.Sql("ctx")} AND is_error), 0) AS ctx_cool_errors
                FROM {source} WHERE session IS NOT NULL GROUP BY 1, 2, 3, 4";

        /// <summary>hour_stories' rows: each named story's first and last time per hour (story_rollup's span, per hour).</summary>
        internal static string HourStoryRows(string source) => $@"
                SELECT {IsoWeeks.HourSql("ts")} AS hour, story AS story_id, min(ts) AS first_ts, max(ts) AS last_ts FROM {source} WHERE story IS NOT NULL GROUP BY 1, 2";

        /// <summary>Between the steps of an error sequence's lead (Get-MadfErrorSequence).</summary>
        public const string SequenceArrow = " → ";

        /// <summary>How many steps before an error a lead holds.</summary>
        public const int LeadSteps = 3;

        /// <summary>
        /// Fills the error sequences' per-session table (session_sequences; kept at import by
        /// Summaries.SequenceStage) from the events, with the import's definitions in SQL (window functions over each
        /// session's events in time order): for an upgraded store and after retention. The tables must be empty. The
        /// sessions' leads are counted from their error trails (SequenceCells.Fill).
        /// </summary>
        internal static readonly string SequenceFill = SequenceFillOf(null);

        /// <summary><see cref="SequenceFill"/> of the events a condition on the events view (alias e) selects: all of some sessions' events.</summary>
        internal static string SequenceFillOf(string? events) => $@"
            CREATE TEMP TABLE sequence_events AS SELECT *, name || CASE WHEN mark >= 0 THEN char(1) || mark ELSE '' END AS step FROM (
                SELECT e.session_id AS session, coalesce(e.story_id, '') AS story, e.timestamp AS ts, e.id AS id, {Errors.InEvents} AS is_error,
                       coalesce(e.pattern_id, 0) AS pattern, {Steps.NameSql} AS name, CASE WHEN {Errors.InEvents} THEN coalesce(e.pattern_id, 0) ELSE -1 END AS mark
                FROM events e WHERE e.session_id IS NOT NULL AND e.event_type <> 'llm_call'{(events == null ? "" : " AND " + events)});
            INSERT INTO sequence_spans
                SELECT n.id, a.story, a.first_ts, a.last_ts, 1, l.steps FROM
                    (SELECT session, CASE WHEN min(story) = max(story) THEN min(story) END AS story, min(ts) AS first_ts, max(ts) AS last_ts
                     FROM temp.sequence_events GROUP BY session) a
                JOIN (SELECT session, coalesce(s2 || char(2), '') || coalesce(s1 || char(2), '') || step AS steps FROM (
                          SELECT session, step, lag(step, 1) OVER w AS s1, lag(step, 2) OVER w AS s2,
                                 row_number() OVER (PARTITION BY session ORDER BY ts DESC, id DESC) AS back
                          FROM temp.sequence_events WINDOW w AS (PARTITION BY session ORDER BY ts, id))
                      WHERE back = 1) l ON l.session = a.session
                JOIN names n ON n.text = a.session ORDER BY n.id;
            DROP TABLE temp.sequence_events;";

        /// <summary>When a pattern merges into another, its summary rows follow it.</summary>
        public static void MovePattern(SqliteConnection c, SqliteTransaction tx, long from, long into)
        {
            c.Execute(@"INSERT INTO pattern_stories SELECT @into, story_id, errors FROM pattern_stories WHERE pattern_id = @from
                        ON CONFLICT DO UPDATE SET errors = errors + excluded.errors", new { from, into }, tx);
            c.Execute(@"INSERT INTO human_rollup SELECT category, agent_name, story_id, @into, n FROM human_rollup WHERE pattern_id = @from
                        ON CONFLICT DO UPDATE SET n = n + excluded.n", new { from, into }, tx);
            c.Execute("DELETE FROM human_rollup WHERE pattern_id = @from", new { from }, tx);
            c.Execute("DELETE FROM pattern_stories WHERE pattern_id = @from", new { from }, tx);
            c.Execute(@"INSERT INTO event_rollup SELECT agent_name, workflow_id, event_type, category, step, @into, outcome, events, timed, duration_ms, tokens, ctx_known, ctx_hot, wasted_ms, first_ts, last_ts
                        FROM event_rollup WHERE pattern_id = @from
                        ON CONFLICT DO UPDATE SET events = events + excluded.events, timed = timed + excluded.timed, duration_ms = duration_ms + excluded.duration_ms, tokens = tokens + excluded.tokens,
                            ctx_known = ctx_known + excluded.ctx_known, ctx_hot = ctx_hot + excluded.ctx_hot, wasted_ms = wasted_ms + excluded.wasted_ms,
                            first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
                new { from, into }, tx);
            c.Execute("DELETE FROM event_rollup WHERE pattern_id = @from", new { from }, tx);
            // The day and hour cells of the pattern's keys move to the same keys with the survivor's pattern.
            c.Execute($@"INSERT OR IGNORE INTO rollup_keys({RollupKeyColumns})
                        SELECT story_id, agent_name, workflow_id, event_type, category, step, @into, outcome FROM rollup_keys WHERE pattern_id = @from", new { from, into }, tx);
            foreach (var g in new[] { Grain.Day, Grain.Hour })
            {
                c.Execute($@"INSERT INTO {g.Cells} SELECT x.{g.Column}, n.id, {Prefixed("x", RollupCountColumns)}
                            FROM {g.Cells} x JOIN rollup_keys o ON o.id = x.key
                            JOIN rollup_keys n ON {RollupKeyMatch("n", "o", except: "pattern_id")} AND n.pattern_id = @into
                            WHERE o.pattern_id = @from
                            ON CONFLICT DO UPDATE SET events = events + excluded.events, timed = timed + excluded.timed, duration_ms = duration_ms + excluded.duration_ms, tokens = tokens + excluded.tokens,
                                ctx_known = ctx_known + excluded.ctx_known, ctx_hot = ctx_hot + excluded.ctx_hot, wasted_ms = wasted_ms + excluded.wasted_ms",
                    new { from, into }, tx);
                c.Execute($"DELETE FROM {g.Cells} WHERE key IN (SELECT id FROM rollup_keys WHERE pattern_id = @from)", new { from }, tx);
            }
            c.Execute("DELETE FROM rollup_keys WHERE pattern_id = @from", new { from }, tx);
        }

        /// <summary>A day_rollup or hour_rollup row's key after its grain: the story ('' for none) and event_rollup's key (rollup_keys' columns).</summary>
        private const string RollupKeyColumns = "story_id, agent_name, workflow_id, event_type, category, step, pattern_id, outcome";

        /// <summary>A day_rollup or hour_rollup row's counts.</summary>
        private const string RollupCountColumns = "events, timed, duration_ms, tokens, ctx_known, ctx_hot, wasted_ms";

        private static string Prefixed(string alias, string columns) => string.Join(", ", columns.Split(',').Select(x => alias + "." + x.Trim()));

        // The key columns of two aliases equal (a join on rollup_keys' unique index), but for the one named by except.
        private static string RollupKeyMatch(string a, string b, string? except = null) =>
            string.Join(" AND ", RollupKeyColumns.Split(',').Select(x => x.Trim()).Where(x => x != except).Select(x => $"{a}.{x} = {b}.{x}"));

        /// <summary>
        /// The day and hour rollups keyed by number (schema 35): each row's story and event_rollup key (six texts, a
        /// pattern and an outcome: 40-50 bytes a row, 3.7 bytes/event for hour_rollup at 1M realistic events) is a row of
        /// rollup_keys, a few thousand in all, and day_rollup_cells and hour_rollup_cells hold the grain, the key's number
        /// and the counts. day_rollup and hour_rollup become views with the same columns, so readers (and plain SQLite)
        /// read them as before. Converts a store whose rollups are still tables (the migration, or a rebuild before it);
        /// a store already converted is left as it is.
        /// </summary>
        internal static void KeyRollups(SqliteConnection c, SqliteTransaction tx)
        {
            if (c.ExecuteScalar<string?>("SELECT type FROM sqlite_master WHERE name = 'day_rollup'", transaction: tx) == "view") return;
            // Left-aligned: sqlite_master keeps the text as written (docs/schema.sql).
            c.Execute($@"
CREATE TABLE rollup_keys (
    id INTEGER PRIMARY KEY,
    story_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    category TEXT NOT NULL,
    step TEXT NOT NULL,
    pattern_id INTEGER NOT NULL,
    outcome INTEGER NOT NULL,
    UNIQUE ({RollupKeyColumns})
);
INSERT INTO rollup_keys({RollupKeyColumns}) SELECT {RollupKeyColumns} FROM day_rollup UNION SELECT {RollupKeyColumns} FROM hour_rollup;", transaction: tx);
            foreach (var g in new[] { Grain.Day, Grain.Hour })
                c.Execute($@"
CREATE TABLE {g.Cells} (
    {g.Column} INTEGER NOT NULL,
    key INTEGER NOT NULL,
    events INTEGER NOT NULL,
    timed INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    ctx_known INTEGER NOT NULL,
    ctx_hot INTEGER NOT NULL,
    wasted_ms INTEGER NOT NULL,
    PRIMARY KEY ({g.Column}, key)
) WITHOUT ROWID;
INSERT INTO {g.Cells} SELECT r.{g.Column}, k.id, {Prefixed("r", RollupCountColumns)} FROM {g.Rollup} r JOIN rollup_keys k ON {RollupKeyMatch("k", "r")};
DROP TABLE {g.Rollup};
CREATE VIEW {g.Rollup} AS
SELECT x.{g.Column}, {Prefixed("k", RollupKeyColumns)}, {Prefixed("x", RollupCountColumns)}
FROM {g.Cells} x CROSS JOIN rollup_keys k ON k.id = x.key;", transaction: tx);
        }

        /// <summary>
        /// Schema 73: day_hist and hour_hist keyed by number. Their rows were keyed by the story, scope and key as texts
        /// (about 18 bytes of a 72-byte row); hist_keys numbers each (story_id, scope, key) once (a few hundred at a million
        /// events) and the tables hold (day or hour, key: its number, buckets). The tables keep their names, so migration
        /// 42's re-encoding of the blobs reads them in either layout. Run by Schema.AfterScript for 73 and after every
        /// migration from 11 on (which creates day_hist; 20 hour_hist), so the code later migrations run (a rebuild's
        /// fill) writes this layout; a table keyed already is left as it is.
        /// </summary>
        internal static void KeyHistograms(SqliteConnection c, SqliteTransaction tx)
        {
            foreach (var g in new[] { Grain.Day, Grain.Hour })
            {
                if (c.ExecuteScalar<long>($"SELECT count(*) FROM pragma_table_info('{g.Hist}') WHERE name = 'story_id'", transaction: tx) == 0) continue;
                // Left-aligned: sqlite_master keeps the text as written (docs/schema.sql).
                c.Execute($@"
CREATE TABLE IF NOT EXISTS hist_keys (
    id INTEGER PRIMARY KEY,
    story_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    UNIQUE (story_id, scope, key)
);
INSERT OR IGNORE INTO hist_keys(story_id, scope, key) SELECT story_id, scope, key FROM {g.Hist} GROUP BY 1, 2, 3;
CREATE TEMP TABLE hist_text AS
SELECT h.{g.Column} AS at, k.id AS key, h.buckets FROM {g.Hist} h JOIN hist_keys k ON k.story_id = h.story_id AND k.scope = h.scope AND k.key = h.key;
DROP TABLE {g.Hist};
CREATE TABLE {g.Hist} (
    {g.Column} INTEGER NOT NULL,
    key INTEGER NOT NULL,
    buckets BLOB NOT NULL,
    PRIMARY KEY ({g.Column}, key)
) WITHOUT ROWID;
INSERT INTO {g.Hist} SELECT at, key, buckets FROM temp.hist_text ORDER BY 1, 2;
DROP TABLE temp.hist_text;", transaction: tx);
            }
        }

        /// <summary>rollup_keys' numbers, read once per flush; a key met for the first time is numbered.</summary>
        private sealed class RollupKeys : System.IDisposable
        {
            private readonly SqliteConnection _c;
            private readonly SqliteTransaction _tx;
            private readonly Dictionary<(string Story, RollupKey Key), long> _ids = new Dictionary<(string, RollupKey), long>();
            private SqliteCommand? _add;

            public RollupKeys(SqliteConnection c, SqliteTransaction tx)
            {
                _c = c; _tx = tx;
                using var reader = c.ExecuteReader($"SELECT id, {RollupKeyColumns} FROM rollup_keys", transaction: tx);
                while (reader.Read())
                    _ids[(reader.GetString(1), new RollupKey(reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6),
                        reader.GetInt64(7), (int)reader.GetInt64(8)))] = reader.GetInt64(0);
            }

            public long Id(string story, RollupKey key)
            {
                if (_ids.TryGetValue((story, key), out var id)) return id;
                if (_add == null)
                {
                    _add = _c.CreateCommand();
                    _add.Transaction = _tx;
                    _add.CommandText = $"INSERT INTO rollup_keys({RollupKeyColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
                    for (var i = 1; i <= 8; i++) _add.Parameters.Add(new SqliteParameter("$" + i, ""));
                }
                var values = new object[] { story, key.Agent, key.Workflow, key.EventType, key.Category, key.Step, key.Pattern, key.Outcome };
                for (var i = 0; i < values.Length; i++) _add.Parameters[i].Value = values[i];
                return _ids[(story, key)] = (long)_add.ExecuteScalar()!;
            }

            public void Dispose() => _add?.Dispose();
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Dapper;
using MadfLog.Engine.Import;
using MadfLog.Engine.Patterns;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>The per-session summaries of error sequences (SequenceStage) answer as a scan of the events does.</summary>
    public class ErrorSequenceSummaryTests
    {
        /// <summary>Takes a store back to before the sequence summaries' migration (with the version rows deleted by the caller).</summary>
        internal const string DropSequenceTables = "DROP VIEW IF EXISTS session_sequences; DROP TABLE IF EXISTS session_sequences; DROP TABLE IF EXISTS sequence_spans; DROP TABLE IF EXISTS session_runs; DROP TABLE IF EXISTS session_leads;";

        /// <summary>Turns the sessions' sequences back to their layout before schema 78: a table keyed by the session's text.</summary>
        internal const string UndoKeyedSequences = @"
            CREATE TABLE sequences_text (session_id TEXT PRIMARY KEY, story_id TEXT, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, in_order INTEGER NOT NULL, steps TEXT NOT NULL) WITHOUT ROWID;
            INSERT INTO sequences_text SELECT session_id, story_id, first_ts, last_ts, in_order, steps FROM session_sequences;
            DROP VIEW session_sequences; DROP TABLE sequence_spans;
            ALTER TABLE sequences_text RENAME TO session_sequences; ";

        /// <summary>Turns the leads' numbers back to their layout before schema 80: keyed by their steps' numbers as text, in a rowid table with a unique index.</summary>
        internal const string UndoLeadSteps = @"
            CREATE TABLE lead_keys_text (id INTEGER PRIMARY KEY, steps TEXT NOT NULL UNIQUE);
            INSERT INTO lead_keys_text SELECT id, steps FROM sequence_lead_keys;
            DROP VIEW sequence_lead_keys; DROP TABLE sequence_lead_steps;
            ALTER TABLE lead_keys_text RENAME TO sequence_lead_keys; ";

        /// <summary>Turns the per-session sequence rows back to their layout before schema 72: tables keyed by the session's text
        /// (and the leads' numbers before 80, which came after).</summary>
        internal const string UndoKeyedSessions = UndoLeadSteps + @"
            CREATE TABLE trails_text (session_id TEXT PRIMARY KEY, times BLOB NOT NULL, errors BLOB NOT NULL) WITHOUT ROWID;
            INSERT INTO trails_text SELECT session_id, times, errors FROM sequence_session_errors;
            CREATE TABLE leads_text (session_id TEXT PRIMARY KEY, leads BLOB NOT NULL) WITHOUT ROWID;
            INSERT INTO leads_text SELECT session_id, leads FROM sequence_session_leads;
            DROP VIEW sequence_session_errors; DROP VIEW sequence_session_leads; DROP TABLE sequence_trails; DROP TABLE sequence_lead_sets;
            ALTER TABLE trails_text RENAME TO sequence_session_errors; ALTER TABLE leads_text RENAME TO sequence_session_leads; ";

        private static readonly QueryFilter Scan = SummaryConsistencyTests.Scan;

        private static IEnumerable<string> Logs => Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "examples", "logs"), "*.jsonl").OrderBy(f => f);

        private static string Dump(SqliteConnection c, string table) => string.Join("\n", c.Query($"SELECT * FROM {table}")
            .Select(r => string.Join("|", ((IDictionary<string, object>)r).Values)).OrderBy(x => x, StringComparer.Ordinal));

        /// <summary>
        /// The cells (SequenceCells), each session's numbered leads and its error trail, named and in order: each lead by its
        /// name, each run and trail step by its pattern's survivor (the import stores pattern ids as they were).
        /// </summary>
        internal static string DumpCells(SqliteConnection c, SqliteTransaction? tx = null)
        {
            var numbers = new SequenceCells.LeadNumbers(c, tx);
            var classes = SequenceCells.Classes.Current(c, tx);
            var names = numbers.Named(c.Query<long>("SELECT id FROM sequence_lead_keys", transaction: tx));
            var trails = c.Query<(string session, long first, byte[] times, byte[] errors)>(
                    "SELECT t.session_id, s.first_ts, t.times, t.errors FROM sequence_session_errors t JOIN session_sequences s ON s.session_id = t.session_id", transaction: tx)
                .Select(t => $"trail|{t.session}|{string.Join(",", ErrorTrail.ReadTimes(t.first, t.times))}|" + string.Join(";", ErrorTrail.Read(t.first, t.errors)
                    .Select(e => $"{e.Ts},{e.LeadFrom}," + string.Join(",", e.Steps.Select(x => numbers.StepName(x.Name) + ":" + (x.Pattern < 0 ? x.Pattern : classes.Resolve(x.Pattern).Survivor))))));
            return string.Join("\n", c.Query<(long scope, long first, long last, string story, byte[] leads)>(
                    "SELECT scope, first_day, last_day, story_id, leads FROM sequence_lead_cells", transaction: tx)
                .SelectMany(r => SequenceCells.UnpackCell(r.leads).Select(l => $"{r.scope}|{r.first}|{r.last}|{r.story}|{names[l.Lead]}|{l.N}|{l.Sessions}"))
                .Concat(c.Query<(string session, byte[] leads)>("SELECT session_id, leads FROM sequence_session_leads", transaction: tx)
                    .SelectMany(r => SequenceCells.Unpack(r.leads).Select(l => $"session|{r.session}|{names[l.Lead]}|{l.N}")))
                .Concat(c.Query<string>("SELECT 'run|' || scope || '|' || first_day || '|' || last_day || '|' || story_id || '|' || pattern_id || '|' || length || '|' || runs || '|' || sessions FROM sequence_runs",
                    transaction: tx))
                .Concat(trails)
                .OrderBy(x => x, StringComparer.Ordinal));
        }

        /// <summary>
        /// The cells as the imports (and merges since) kept them equal the cells counted afresh from the per-session rows,
        /// with the classes as they are now (so questions read them).
        /// </summary>
        internal static void AssertCellsAsCounted(SqliteConnection c)
        {
            Assert.Empty(SequenceCells.Classes.Current(c, null).Differences(SequenceCells.Classes.Counted(c, null)));
            var kept = DumpCells(c);
            Assert.Contains("run|", kept);
            Assert.Contains("session|", kept);
            Assert.Contains("trail|", kept);
            Assert.Contains(" → ", kept);
            using var tx = c.BeginTransaction();
            SequenceCells.Fill(c, tx);
            Assert.Equal(DumpCells(c, tx), kept);
            tx.Rollback();
        }

        /// <summary>Each session with an error trail (ordered by id): its first and last time, story, and its errors' runs of one pattern id in order.</summary>
        internal static List<(string Session, long First, long Last, string? Story, List<(long Pattern, int Length)> Runs)> TrailRuns(SqliteConnection c) =>
            c.Query<(string session, long first, long last, string? story, byte[] errors)>(
                    "SELECT s.session_id, s.first_ts, s.last_ts, s.story_id, t.errors FROM session_sequences s JOIN sequence_session_errors t ON t.session_id = s.session_id ORDER BY s.session_id")
                .Select(r =>
                {
                    var runs = new List<(long Pattern, int Length)>();
                    foreach (var p in ErrorTrail.Patterns(r.errors))
                        if (runs.Count > 0 && runs[^1].Pattern == p) runs[^1] = (p, runs[^1].Length + 1);
                        else runs.Add((p, 1));
                    return (r.session, r.first, r.last, r.story, runs);
                }).ToList();

        /// <summary>The two different patterns (both set) whose runs are most often next to each other in a session's errors.</summary>
        internal static (long From, long Into) MostAdjacentPatterns(SqliteConnection c) =>
            TrailRuns(c).SelectMany(s => s.Runs.Zip(s.Runs.Skip(1), (a, b) => (a.Pattern, b.Pattern)))
                .Where(x => x.Item1 != 0 && x.Item2 != 0 && x.Item1 != x.Item2)
                .GroupBy(x => x).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Item1).ThenBy(g => g.Key.Item2).First().Key;

        internal static void AssertMatchesScan(SqliteConnection c)
        {
            SummaryConsistencyTests.AssertSequencesMatch(c, Scan, new QueryFilter());
            var story = c.Query<string>("SELECT story_id FROM story_rollup ORDER BY story_id").First();
            SummaryConsistencyTests.AssertSequencesMatch(c, new QueryFilter { Stories = new[] { story }, ScanEvents = true }, new QueryFilter { Stories = new[] { story } });
            var (first, last) = c.QuerySingle<(long, long)>("SELECT min(timestamp), max(timestamp) FROM events");
            var window = new QueryFilter { Since = DateTimeOffset.FromUnixTimeMilliseconds(first + (last - first) / 4), Until = DateTimeOffset.FromUnixTimeMilliseconds(last - (last - first) / 4) };
            SummaryConsistencyTests.AssertSequencesMatch(c, new QueryFilter { Since = window.Since, Until = window.Until, ScanEvents = true }, window);
            // Whole days (from the cells only), and whole days with a story.
            var days = new QueryFilter { Since = DateTimeOffset.FromUnixTimeMilliseconds(first).UtcDateTime.Date.AddDays(1), Until = DateTimeOffset.FromUnixTimeMilliseconds(last).UtcDateTime.Date };
            SummaryConsistencyTests.AssertSequencesMatch(c, new QueryFilter { Since = days.Since, Until = days.Until, ScanEvents = true }, days);
            SummaryConsistencyTests.AssertSequencesMatch(c, new QueryFilter { Stories = new[] { story }, Since = days.Since, Until = window.Until, ScanEvents = true },
                new QueryFilter { Stories = new[] { story }, Since = days.Since, Until = window.Until });
        }

        [Fact]
        public void UpgradingFillsTheSequenceSummariesAsTheImportKeepsThem()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs.Take(3));
            Dictionary<string, string> imported;
            using (var c = MadfDatabase.Open(t.Db))
            {
                imported = Summaries.SequenceStage.Tables.ToDictionary(x => x, x => Dump(c, x));
                Assert.All(imported.Values, Assert.NotEmpty);
                // A store from before the sequence summaries' migration (12).
                Store.EventKeysTests.UnpackKeys(c);
                Store.CompactStorageTests.UndoEightDetailsValues(c);
                c.Execute(UndoKeyedSessions + SummaryConsistencyTests.UndoKeyedRollups + "DELETE FROM schema_version WHERE version >= 12; " + DropSequenceTables + BlockDayTests.DropBlockDays);
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                foreach (var x in Summaries.SequenceStage.Tables) Assert.Equal(imported[x], Dump(c, x));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void UpgradingCountsTheCellsAsTheImportKeepsThem()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs);
            string imported;
            using (var c = MadfDatabase.Open(t.Db))
            {
                imported = DumpCells(c);
                // A store from before the cells' migrations (18, 19).
                Store.CompactStorageTests.UndoRareColumnsApart(c);
                c.Execute(SummaryConsistencyTests.UndoKeyedRollups + "DELETE FROM schema_version WHERE version >= 18; " + string.Concat(SequenceCells.Tables.Select(x => $"DROP TABLE {x}; "))
                    + "DROP VIEW sequence_session_errors; DROP VIEW sequence_session_leads; DROP VIEW sequence_lead_keys;");
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(imported, DumpCells(c));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void UpgradingFromTheFirstCellsCountsThemAgainWithNumberedStepsAndTrails()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs);
            string imported;
            using (var c = MadfDatabase.Open(t.Db))
            {
                imported = DumpCells(c);
                // A store at migration 18: leads named in full, a row per session and lead, no steps, keys or trails.
                Store.CompactStorageTests.UndoRareColumnsApart(c);
                c.Execute(UndoKeyedSessions + SummaryConsistencyTests.UndoKeyedRollups + @"DELETE FROM schema_version WHERE version >= 19;
                    DROP TABLE sequence_session_leads; DROP TABLE sequence_lead_keys; DROP TABLE sequence_steps; DROP TABLE sequence_session_errors;
                    CREATE TABLE sequence_lead_names (id INTEGER PRIMARY KEY, lead TEXT NOT NULL UNIQUE);
                    CREATE TABLE sequence_session_leads (session_id TEXT NOT NULL, lead_id INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (session_id, lead_id)) WITHOUT ROWID;
                    INSERT INTO sequence_lead_names VALUES (1, 'Read → Read → Read → Bash ✗error');
                    INSERT INTO sequence_session_leads SELECT session_id, 1, 1 FROM session_sequences;
                    DROP TABLE sequence_lead_cells;
                    CREATE TABLE sequence_leads (scope INTEGER NOT NULL, first_day INTEGER NOT NULL, last_day INTEGER NOT NULL, story_id TEXT NOT NULL,
                        lead_id INTEGER NOT NULL, n INTEGER NOT NULL, sessions INTEGER NOT NULL, PRIMARY KEY (scope, first_day, last_day, story_id, lead_id)) WITHOUT ROWID;
                    INSERT INTO sequence_leads VALUES (0, 0, 0, '', 1, 8, 1);");
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'sequence_lead_names'"));
                Assert.Equal(imported, DumpCells(c));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void TheCellsKeptOverManyCommitsMergesAndAReimportEqualTheCellsCountedAfresh()
        {
            using var t = TestPaths.NewTemp();
            // Small transactions, one log per import: sessions continue across commits and imports, and patterns merge
            // in between (the miner refines its templates as it sees more messages).
            foreach (var log in Logs) new LogImporter(new ImportOptions { DatabasePath = t.Db, BatchSize = 40, CommitEvents = 200 }).Import(new[] { log });
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM patterns WHERE merged_into IS NOT NULL") > 0);
                AssertCellsAsCounted(c);
                // A session with retry loops goes on past its day's midnight: its cells move to its new last day.
                var s = TrailRuns(c).Where(x => x.Runs.Any(r => r.Length >= 2)).Select(x => (session: x.Session, last: x.Last, story: x.Story)).First();
                var midnight = DateTimeOffset.FromUnixTimeMilliseconds(s.last).UtcDateTime.Date.AddDays(1);
                string Line(DateTime at, bool success, string tool, string? error) =>
                    $"{{\"timestamp\":\"{at:yyyy-MM-ddTHH:mm:ss.fffZ}\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"{s.session}\",\"story_id\":\"{s.story}\",\"agent_name\":\"dev\",\"success\":{(success ? "true" : "false")},\"details\":{{\"tool\":\"{tool}\"" + (error == null ? "" : $",\"error\":\"{error}\"") + "}}";
                File.WriteAllLines(t.File("late.jsonl"), new[]
                {
                    Line(midnight.AddMinutes(-2), true, "Read", null), Line(midnight.AddMinutes(-1), false, "Bash", "npm ERR! missing script: lint"),
                    Line(midnight.AddMinutes(1), false, "Bash", "npm ERR! missing script: lint"), Line(midnight.AddMinutes(2), true, "Edit", null),
                    Line(midnight.AddMinutes(3), false, "Bash", "npm ERR! missing script: lint"),
                });
            }
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("late.jsonl") });
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM sequence_lead_cells WHERE scope = 2 AND first_day < last_day") > 0);
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
            var before = "";
            using (var c = MadfDatabase.Open(t.Db)) before = DumpCells(c);
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs.Concat(new[] { t.File("late.jsonl") })); // every line a duplicate now
            using (var c = MadfDatabase.Open(t.Db)) Assert.Equal(before, DumpCells(c));
        }

        [Fact]
        public void ASessionWhoseEventsArriveOutOfOrderIsReadFromItsEvents()
        {
            using var t = TestPaths.NewTemp();
            var logs = Logs.ToList();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(logs);
            string session;
            using (var c = MadfDatabase.Open(t.Db))
            {
                // A later file holds earlier events of a session with errors: an error and a success before its first event.
                var s = TrailRuns(c).Where(x => x.Runs.Any(r => r.Length >= 2)).Select(x => (session: x.Session, first: x.First, story: x.Story)).First();
                session = s.session;
                var at = DateTimeOffset.FromUnixTimeMilliseconds(s.first - 60_000).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
                var at2 = DateTimeOffset.FromUnixTimeMilliseconds(s.first - 30_000).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
                File.WriteAllLines(t.File("late.jsonl"), new[]
                {
                    $"{{\"timestamp\":\"{at}\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"{session}\",\"story_id\":\"{s.story}\",\"agent_name\":\"dev\",\"success\":false,\"details\":{{\"tool\":\"Bash\",\"error\":\"npm ERR! missing script: lint\"}}}}",
                    $"{{\"timestamp\":\"{at2}\",\"event_type\":\"tool_call\",\"category\":\"tool\",\"session_id\":\"{session}\",\"story_id\":\"{s.story}\",\"agent_name\":\"dev\",\"success\":true,\"details\":{{\"tool\":\"Read\"}}}}",
                });
            }
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { t.File("late.jsonl") });
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT in_order FROM session_sequences WHERE session_id = @session", new { session }));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
                // Retention's rebuild orders each session's events by time: the session is in order again, with a trail in
                // time order that holds its leads (the cells count the leads from the trails).
                using (var tx = c.BeginTransaction())
                {
                    SummaryTables.Rebuild(c, tx);
                    tx.Commit();
                }
                Assert.Equal(1, c.ExecuteScalar<long>("SELECT in_order FROM session_sequences WHERE session_id = @session", new { session }));
                Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM sequence_session_errors WHERE session_id = @session", new { session }));
                Assert.Equal(1, c.ExecuteScalar<long>("SELECT count(*) FROM sequence_session_leads WHERE session_id = @session", new { session }));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void UpgradingKeysTheSessionsTrailsAndLeadsByNumberAnswersTheSameAndImportsOnAsAFreshStore() =>
            // A store at schema 71: the trails and leads keyed by the session's text.
            AssertUpgradedBeforeTheLastFileImportsOnAsAFreshStore(UndoKeyedSessions, 72,
                turnedBack: c => Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('sequence_session_errors', 'sequence_session_leads')")),
                upgraded: c =>
                {
                    Assert.Equal(2, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name IN ('sequence_session_errors', 'sequence_session_leads')"));
                    // Every session's trail and leads are kept, under the number of its name.
                    Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sequence_trails t LEFT JOIN names n ON n.id = t.session WHERE n.text IS NULL OR n.text NOT IN (SELECT session_id FROM session_sequences)"));
                });

        [Fact]
        public void UpgradingKeysTheSessionsSequencesByNumberAnswersTheSameAndImportsOnAsAFreshStore() =>
            // A store at schema 77: the sessions' sequences keyed by the session's text.
            AssertUpgradedBeforeTheLastFileImportsOnAsAFreshStore(UndoKeyedSequences, 78,
                turnedBack: c => Assert.Equal("table", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'session_sequences'")),
                upgraded: c =>
                {
                    Assert.Equal("view", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'session_sequences'"));
                    // Every session's row is kept, under the number of its name.
                    Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sequence_spans s LEFT JOIN names n ON n.id = s.session WHERE n.text IS NULL"));
                });

        [Fact]
        public void UpgradingKeysTheLeadsByTheirStepsNumbersAnswersTheSameAndImportsOnAsAFreshStore()
        {
            string? keys = null;
            // A store at schema 79: the leads keyed by their steps' numbers as text ("6,5,5,9") with a unique index on it.
            AssertUpgradedBeforeTheLastFileImportsOnAsAFreshStore(UndoLeadSteps, 80,
                turnedBack: c =>
                {
                    Assert.Equal("table", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'sequence_lead_keys'"));
                    keys = Dump(c, "sequence_lead_keys");
                    Assert.NotEmpty(keys);
                },
                upgraded: c =>
                {
                    Assert.Equal("view", c.ExecuteScalar<string>("SELECT type FROM sqlite_master WHERE name = 'sequence_lead_keys'"));
                    // Every lead keeps its number and its steps (the cells name leads by number), and the view reads as the table did.
                    Assert.Equal(keys, Dump(c, "sequence_lead_keys"));
                    Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE tbl_name = 'sequence_lead_keys' AND type = 'index'"));
                });
        }

        /// <summary>
        /// All but the last log into two stores; one is turned back below <paramref name="migration"/> by
        /// <paramref name="undo"/> (its sequences and cells read the same), then upgraded (the same again, counted as
        /// afresh, answering as a scan); the last file into both: the upgraded store holds the fresh one's rows and
        /// answers its error sequences, whole store and one story.
        /// </summary>
        private static void AssertUpgradedBeforeTheLastFileImportsOnAsAFreshStore(string undo, int migration, Action<SqliteConnection> turnedBack, Action<SqliteConnection> upgraded)
        {
            using var t = TestPaths.NewTemp();
            var logs = Logs.ToList();
            var fresh = Path.Combine(Path.GetDirectoryName(t.Db)!, "fresh.db");
            foreach (var db in new[] { t.Db, fresh }) new LogImporter(new ImportOptions { DatabasePath = db }).Import(logs.Take(logs.Count - 1));
            string sequences, cells;
            using (var c = MadfDatabase.Open(t.Db))
            {
                sequences = Dump(c, "session_sequences");
                cells = DumpCells(c);
                Assert.NotEmpty(sequences);
                c.Execute(undo + $"DELETE FROM schema_version WHERE version >= {migration};");
                turnedBack(c);
                Assert.Equal(sequences, Dump(c, "session_sequences"));
                Assert.Equal(cells, DumpCells(c));
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                upgraded(c);
                Assert.Equal(sequences, Dump(c, "session_sequences"));
                Assert.Equal(cells, DumpCells(c));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
            foreach (var db in new[] { t.Db, fresh }) new LogImporter(new ImportOptions { DatabasePath = db }).Import(logs);
            using (var c = MadfDatabase.Open(t.Db))
            using (var f = MadfDatabase.Open(fresh))
            {
                Assert.Equal(Dump(f, "session_sequences"), Dump(c, "session_sequences"));
                Assert.Equal(DumpCells(f), DumpCells(c));
                foreach (var filter in new[] { new QueryFilter(), new QueryFilter { Stories = new[] { c.Query<string>("SELECT story_id FROM story_rollup ORDER BY story_id").First() } } })
                    Assert.Equal(PatternAnalysis.ErrorSequences(f, filter, 100_000, 1).Select(x => (x.Kind, x.Sequence, x.Occurrences, x.Sessions, x.PatternId, x.LongestRun)),
                                 PatternAnalysis.ErrorSequences(c, filter, 100_000, 1).Select(x => (x.Kind, x.Sequence, x.Occurrences, x.Sessions, x.PatternId, x.LongestRun)));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void UpgradingDropsTheSessionLeadsAndGivesEveryInOrderSessionATrail()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs);
            string imported;
            using (var c = MadfDatabase.Open(t.Db))
            {
                imported = DumpCells(c);
                // A store at schema 33: session_leads, and an in-order session without a trail (as a fill left the sessions
                // whose events were stored out of time order) whose leads the cells count.
                var session = c.QueryFirst<string>("SELECT session_id FROM sequence_session_leads ORDER BY session_id");
                c.Execute(UndoKeyedSessions + @"DELETE FROM schema_version WHERE version >= 34;
                    CREATE TABLE session_leads (session_id TEXT NOT NULL, step1 TEXT NOT NULL, pattern1 INTEGER NOT NULL, step2 TEXT NOT NULL, pattern2 INTEGER NOT NULL,
                        step3 TEXT NOT NULL, pattern3 INTEGER NOT NULL, error_step TEXT NOT NULL, error_pattern INTEGER NOT NULL, n INTEGER NOT NULL,
                        PRIMARY KEY (session_id, step1, pattern1, step2, pattern2, step3, pattern3, error_step, error_pattern)) WITHOUT ROWID;
                    DELETE FROM sequence_session_errors WHERE session_id = @session;", new { session });
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'session_leads'"));
                Assert.Equal(imported, DumpCells(c));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void UpgradingDropsTheSessionRunsAndReadsTheRetryLoopsFromTheTrails()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs);
            string imported;
            using (var c = MadfDatabase.Open(t.Db))
            {
                imported = DumpCells(c);
                Assert.Contains(TrailRuns(c), s => s.Runs.Any(r => r.Pattern != 0 && r.Length >= 2));
                // A store at schema 39: session_runs, with a row per session and run (what the import kept there).
                c.Execute(@"DELETE FROM schema_version WHERE version >= 40;
                    CREATE TABLE session_runs (session_id TEXT NOT NULL, seq INTEGER NOT NULL, pattern_id INTEGER NOT NULL, length INTEGER NOT NULL,
                        PRIMARY KEY (session_id, seq)) WITHOUT ROWID;");
                foreach (var s in TrailRuns(c))
                    for (var i = 0; i < s.Runs.Count; i++)
                        c.Execute("INSERT INTO session_runs VALUES (@Session, @seq, @pattern, @length)", new { s.Session, seq = i + 1, pattern = s.Runs[i].Pattern, length = s.Runs[i].Length });
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'session_runs'"));
                Assert.Equal(imported, DumpCells(c));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void UpgradingPacksTheCellsLeadsARowPerCell()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs);
            string imported;
            long cells;
            using (var c = MadfDatabase.Open(t.Db))
            {
                imported = DumpCells(c);
                cells = c.ExecuteScalar<long>("SELECT count(*) FROM sequence_lead_cells");
                // A store at schema 40: a row per cell and lead in sequence_leads.
                c.Execute(@"DELETE FROM schema_version WHERE version >= 41;
                    CREATE TABLE sequence_leads (scope INTEGER NOT NULL, first_day INTEGER NOT NULL, last_day INTEGER NOT NULL, story_id TEXT NOT NULL,
                        lead_id INTEGER NOT NULL, n INTEGER NOT NULL, sessions INTEGER NOT NULL, PRIMARY KEY (scope, first_day, last_day, story_id, lead_id)) WITHOUT ROWID;");
                foreach (var (scope, first, last, story, leads) in c.Query<(long, long, long, string, byte[])>("SELECT scope, first_day, last_day, story_id, leads FROM sequence_lead_cells").ToList())
                    foreach (var l in SequenceCells.UnpackCell(leads))
                        c.Execute("INSERT INTO sequence_leads VALUES (@scope, @first, @last, @story, @Lead, @N, @Sessions)", new { scope, first, last, story, l.Lead, l.N, l.Sessions });
                Assert.True(c.ExecuteScalar<long>("SELECT count(*) FROM sequence_leads") > cells);
                c.Execute("DROP TABLE sequence_lead_cells");
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'sequence_leads'"));
                Assert.Equal(cells, c.ExecuteScalar<long>("SELECT count(*) FROM sequence_lead_cells"));
                Assert.Equal(imported, DumpCells(c));
                AssertCellsAsCounted(c);
                AssertMatchesScan(c);
            }
        }

        [Fact]
        public void UpgradingGivesAnEditWhoseTextMatchedSeveralPlacesItsOwnClassInPatternsAndSequences()
        {
            // A committed chat.json dump with three Edit calls whose old_string was found more than once.
            var chat = Path.Combine(TestPaths.Shared, "data", "claude-code-shapes", "chat-json", "chat.json");
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(new[] { chat });
            string fresh;
            using (var c = MadfDatabase.Open(t.Db))
            {
                var notUnique = c.Query<long>("SELECT id FROM patterns WHERE error_class = 'ContentNotUnique'").ToList();
                Assert.NotEmpty(notUnique);
                fresh = System.Text.Json.JsonSerializer.Serialize(PatternAnalysis.ErrorSequences(c, new QueryFilter(), 100_000, 1));
                Assert.Contains("ContentNotUnique", fresh);
                // The store as schema 47 left it: those patterns classed as text not found, the cells counted so.
                using var tx = c.BeginTransaction();
                c.Execute("UPDATE patterns SET error_class = 'ContentNotFound' WHERE id IN @notUnique; DELETE FROM schema_version WHERE version >= 48", new { notUnique }, tx);
                SequenceCells.Reconcile(c, tx);
                tx.Commit();
                Assert.DoesNotContain("ContentNotUnique", System.Text.Json.JsonSerializer.Serialize(PatternAnalysis.ErrorSequences(c, new QueryFilter(), 100_000, 1)));
            }
            using (var c = MadfDatabase.Open(t.Db))
            {
                Assert.Equal(0, c.ExecuteScalar<long>("SELECT count(*) FROM patterns WHERE error_class = 'ContentNotFound' AND example LIKE '%matches of the string to replace%'"));
                Assert.Empty(SequenceCells.Classes.Current(c, null).Differences(SequenceCells.Classes.Counted(c, null)));
                Assert.Equal(fresh, System.Text.Json.JsonSerializer.Serialize(PatternAnalysis.ErrorSequences(c, new QueryFilter(), 100_000, 1)));
            }
        }

        [Fact]
        public void PatternsMergedAfterImportJoinRunsAndTakeTheSurvivorsClass()
        {
            using var t = TestPaths.NewTemp();
            new LogImporter(new ImportOptions { DatabasePath = t.Db }).Import(Logs);
            using var c = MadfDatabase.Open(t.Db);
            // The two patterns most often next to each other in a session's errors merge (as the miner merges templates).
            var (from, into) = MostAdjacentPatterns(c);
            var before = PatternAnalysis.ErrorSequences(c, new QueryFilter(), 100_000, 1);
            using (var tx = c.BeginTransaction())
            {
                c.Execute("UPDATE patterns SET error_class = 'Merged' WHERE id = @into", new { into }, tx);
                // As the import merges (its commit reconciles the cells): here without the commit's reconcile.
                PatternStore.Move(c, tx, from, into, MadfLog.Engine.Rules.RuleStore.MovePattern);
                tx.Commit();
            }
            // The cells were counted with the classes before: questions read the per-session rows until they are reconciled.
            Assert.NotEmpty(SequenceCells.Classes.Current(c, null).Differences(SequenceCells.Classes.Counted(c, null)));
            AssertMatchesScan(c);
            using (var tx = c.BeginTransaction())
            {
                SequenceCells.Reconcile(c, tx);
                tx.Commit();
            }
            AssertCellsAsCounted(c);
            AssertMatchesScan(c);
            var after = PatternAnalysis.ErrorSequences(c, new QueryFilter(), 100_000, 1);
            Assert.NotEqual(before.Select(x => (x.Sequence, x.Occurrences)), after.Select(x => (x.Sequence, x.Occurrences)));
            Assert.Contains(after, x => x.Kind == "LeadsToError" && x.Sequence.Contains("✗Merged"));
        }
    }
}

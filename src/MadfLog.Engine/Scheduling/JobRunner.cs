using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using MadfLog.Engine.Config;
using MadfLog.Engine.Import;
using MadfLog.Engine.Insights;
using MadfLog.Engine.Lifecycle;
using MadfLog.Engine.Revisions;
using MadfLog.Engine.Store;

namespace MadfLog.Engine.Scheduling
{
    /// <summary>One run of a scheduled job, as appended to the run log.</summary>
    public sealed class JobRun
    {
        public MadfJob Job { get; set; }
        public DateTimeOffset Started { get; set; }
        public DateTimeOffset Finished { get; set; }
        /// <summary>Succeeded, Warning (health warnings), Failed (an error, or health Critical) or Skipped (not due).</summary>
        public string Result { get; set; } = "";
        /// <summary>The process exit code the scheduled command ends with: 1 when Failed, so the scheduler's failure notice fires.</summary>
        public int ExitCode { get; set; }
        public string? Message { get; set; }
        public long EventsImported { get; set; }
        public long LinesQuarantined { get; set; }
        /// <summary>The first quarantined lines, as file:line: reason.</summary>
        public List<string> Quarantine { get; set; } = new List<string>();
        public string? ReportPath { get; set; }
        public string? Health { get; set; }
        public List<string> Problems { get; set; } = new List<string>();
    }

    /// <summary>The run log: one JSON line per scheduled run, beside the database and named after it (&lt;db&gt;.runs.jsonl).</summary>
    public static class RunLog
    {
        private static readonly JsonSerializerOptions Json = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Converters = { new JsonStringEnumConverter() },
        };

        public static string PathFor(string databasePath)
        {
            var db = Path.GetFullPath(databasePath);
            return Path.Combine(Path.GetDirectoryName(db) ?? ".", Path.GetFileNameWithoutExtension(db) + ".runs.jsonl");
        }

        public static void Append(string databasePath, JobRun run)
        {
            var path = PathFor(databasePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(run, Json) + "\n");
            // One write of a whole line with the file opened for append: concurrent runs do not interleave.
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    using var f = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
                    f.Write(line, 0, line.Length);
                    return;
                }
                catch (IOException) when (attempt < 20) { Thread.Sleep(50); }
            }
        }

        /// <summary>Every run recorded for the database, oldest first; unreadable lines are skipped (the log is informational).</summary>
        public static List<JobRun> Read(string databasePath)
        {
            var path = PathFor(databasePath);
            var runs = new List<JobRun>();
            if (!File.Exists(path)) return runs;
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                if (line.Trim().Length == 0) continue;
                try { var r = JsonSerializer.Deserialize<JobRun>(line, Json); if (r != null) runs.Add(r); }
                catch (JsonException) { }
            }
            return runs;
        }

        public static JobRun? Last(string databasePath, MadfJob job, bool includeSkipped) =>
            Read(databasePath).Where(r => r.Job == job && (includeSkipped || r.Result != "Skipped")).OrderBy(r => r.Started).LastOrDefault();
    }

    public sealed class JobRunOptions
    {
        public MadfJob Job { get; set; }
        public string DatabasePath { get; set; } = "";
        /// <summary>The configuration the command names; it must be the database's own.</summary>
        public string? ConfigPath { get; set; }
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;
        /// <summary>Run only when no run started since the latest time of this schedule (the catch-up guard).</summary>
        public JobSchedule? IfDue { get; set; }
        /// <summary>Local wall-clock time, for the schedule (tests set it).</summary>
        public DateTime? LocalNow { get; set; }
        public int QuarantineSamples { get; set; } = 10;
    }

    /// <summary>
    /// Runs a scheduled job and records it: daily maintenance imports the configured log folders then rotates;
    /// the weekly revision runs Invoke-MadfRevision. Each run appends to the run log, counts and names the lines
    /// quarantined on the way, checks health, and ends Failed (exit code 1) on an error or a Critical health check.
    /// </summary>
    public static class JobRunner
    {
        public static JobRun Run(JobRunOptions o)
        {
            var db = Path.GetFullPath(o.DatabasePath);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var run = new JobRun { Job = o.Job, Started = o.Now };
            var config = MadfConfig.Load(db);
            if (o.ConfigPath != null && !PathsEqual(Path.GetFullPath(o.ConfigPath), config.Path))
                throw new MadfException("ConfigNotForDatabase", MadfErrorKind.InvalidArgument,
                    string.Format(Messages.Culture, Messages.ConfigNotForDatabase, o.ConfigPath, db, config.Path), o.ConfigPath);

            if (o.IfDue != null)
            {
                var last = RunLog.Last(db, o.Job, includeSkipped: false);
                var localNow = o.LocalNow ?? o.Now.LocalDateTime;
                if (!o.IfDue.IsDue(last?.Started.LocalDateTime, localNow))
                {
                    run.Result = "Skipped";
                    run.Message = string.Format(Messages.Culture, Messages.JobNotDue, last!.Started.LocalDateTime, o.IfDue.Next(localNow));
                    run.Finished = o.Now;
                    return run; // skips are not logged: an hourly cron guard would fill the log
                }
            }

            var quarantined = 0L;
            void OnIssue(ImportIssue issue)
            {
                if (issue.ErrorId != "LineQuarantined") { run.Problems.Add(issue.ToString()); return; }
                quarantined++;
                if (run.Quarantine.Count < o.QuarantineSamples) run.Quarantine.Add(issue.ToString());
            }

            try
            {
                if (o.Job == MadfJob.Maintenance)
                {
                    var paths = config.ResolvedLogPaths.Where(p => Directory.Exists(p) || File.Exists(p)).ToArray();
                    foreach (var missing in config.ResolvedLogPaths.Except(paths)) run.Problems.Add(string.Format(Messages.Culture, Messages.JobLogFolderMissing, missing));
                    if (paths.Length > 0)
                        run.EventsImported = new LogImporter(new ImportOptions { DatabasePath = db, OnIssue = OnIssue }).Import(paths).Imported;
                    var rotation = new Rotation(new RotationOptions { DatabasePath = db, Now = o.Now }).Run();
                    run.Problems.AddRange(rotation.Notes);
                    run.Message = string.Format(Messages.Culture, Messages.JobMaintenanceDone, run.EventsImported, rotation.FilesClosed, rotation.ArchivesWritten, rotation.EventsMoved);
                }
                else
                {
                    var revision = new Revision(new RevisionOptions { DatabasePath = db, Now = o.Now, OnImportIssue = OnIssue, AutoApprove = config.AutoApprove }).Run();
                    run.EventsImported = revision.EventsImported;
                    run.ReportPath = revision.ReportPath;
                    run.Message = string.Format(Messages.Culture, Messages.JobRevisionDone, revision.EventsImported, revision.RulesProposed.Count, revision.RulesActivated.Count, revision.ReportPath);
                }
                run.LinesQuarantined = quarantined;
                if (quarantined > 0) run.Problems.Add(string.Format(Messages.Culture, Messages.JobLinesQuarantined, quarantined, run.Quarantine[0]));
                var health = Health.Check(db, o.Now);
                run.Health = health.Status.ToString();
                run.Problems.AddRange(health.Problems.Select(p => $"{p.Status} {p.Name}: {p.Message}"));
                run.Result = health.Status == HealthStatus.Critical ? "Failed" : health.Status == HealthStatus.Warning || run.Problems.Count > 0 ? "Warning" : "Succeeded";
                if (health.Status == HealthStatus.Critical) run.Message = string.Format(Messages.Culture, Messages.JobHealthCritical, string.Join("; ", health.Problems.Where(p => p.Status == HealthStatus.Critical).Select(p => p.Message)), run.Message);
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                // Any failure ends up in the run log and the exit code: nobody is watching an unattended run.
                run.LinesQuarantined = quarantined;
                run.Result = "Failed";
                run.Message = ex.Message;
            }
            run.ExitCode = run.Result == "Failed" ? 1 : 0;
            run.Finished = o.Now + clock.Elapsed;
            RunLog.Append(db, run);
            return run;
        }

        private static bool PathsEqual(string a, string b) =>
            string.Equals(a, b, SchedulerEnvironment.IsWindows || SchedulerEnvironment.IsMac ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }
}

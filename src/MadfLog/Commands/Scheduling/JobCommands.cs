using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using MadfLog.Engine;
using MadfLog.Engine.Scheduling;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Scheduling
{
    /// <summary>Shared by the job cmdlets: which jobs, which scheduler, and the Windows PowerShell scheduled-job path.</summary>
    public abstract class JobCommand : MadfCmdlet
    {
        /// <summary>Which jobs: Maintenance (daily import and rotation), Revision (weekly); default both. Binds Get-MadfJob's output by property name.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        public MadfJob[] Job { get; set; } = { MadfJob.Maintenance, MadfJob.Revision };

        /// <summary>The scheduler; default: ScheduledJob in Windows PowerShell, TaskScheduler in PowerShell 7 on Windows, Systemd (else Cron) on Linux, Launchd on macOS (Get-MadfJob: every one usable here).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public SchedulerKind Scheduler { get; set; }

        protected bool SchedulerGiven => MyInvocation.BoundParameters.ContainsKey(nameof(Scheduler));

        protected bool IsDesktopEdition =>
            string.Equals(SessionState.PSVariable.GetValue("PSEdition") as string, "Desktop", StringComparison.OrdinalIgnoreCase);

        protected static JobScheduler NewScheduler() => new JobScheduler(new SchedulerEnvironment());

        protected IEnumerable<string> Names => Job.Distinct().Select(j => JobSpec.NameOf(j, DatabasePath));

        /// <summary>PSScheduledJob only exists in Windows PowerShell; its cmdlets are called through this session.</summary>
        protected System.Collections.ObjectModel.Collection<PSObject> RunScheduledJobScript(string script)
        {
            if (!IsDesktopEdition)
                ThrowTerminatingError(new ErrorRecord(new PlatformNotSupportedException(Messages.ScheduledJobNeedsWindowsPowerShell),
                    "ScheduledJobNotAvailable", ErrorCategory.NotImplemented, Scheduler));
            return InvokeCommand.InvokeScript(script);
        }
    }

    /// <summary>Registers MadfLog's unattended jobs: daily maintenance (import the configured log folders, then rotation) and the weekly revision.</summary>
    /// <remarks>
    /// <para>The command each job runs names the database and its configuration file explicitly (schedulers do not inherit $env:MADFLOG_DB). A missed run catches up: systemd user timers with Persistent=true (run 'loginctl enable-linger' to run without a login), Task Scheduler with StartWhenAvailable, launchd with RunAtLoad, cron hourly with -IfDue so the job runs once per scheduled time. Windows PowerShell 5.1 without -Scheduler uses Register-ScheduledJob.</para>
    /// <para>Registration is all-or-nothing: when any step fails, files, crontab and timers are put back as they were. -WhatIf prints the exact files and commands. Registering again replaces the jobs. Each run appends to the run log (&lt;database&gt;.runs.jsonl) that Get-MadfJob reads.</para>
    /// </remarks>
    /// <example>
    /// <code>Register-MadfJob -Scheduler Systemd -MaintenanceAt 02:30 -RevisionDay Sunday -RevisionAt 22:00 -WhatIf</code>
    /// Prints the systemd unit files and the systemctl commands that would be written and run, each naming the database and its configuration.
    /// </example>
    /// <example>
    /// <code>Register-MadfJob Revision -Scheduler Systemd -Database ~/madflog/team.db -WhatIf</code>
    /// Shows only the weekly revision's timer for ~/madflog/team.db (without -WhatIf: registers it and outputs the job with its next run).
    /// </example>
    /// <returns>One JobInfo per job registered (or, under -WhatIf, that would be): its scheduler, schedule, command and next run.</returns>
    [Cmdlet(VerbsLifecycle.Register, "MadfJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [Alias("Register-MadfRevisionJob")]
    [OutputType(typeof(JobInfo))]
    public sealed class RegisterMadfJobCommand : JobCommand
    {
        /// <summary>Time of day (local) of the daily maintenance; default 03:00.</summary>
        [Parameter] public TimeSpan MaintenanceAt { get; set; } = new TimeSpan(3, 0, 0);

        /// <summary>Time of day (local) of the weekly revision; default 23:00.</summary>
        [Parameter][Alias("At")] public TimeSpan RevisionAt { get; set; } = new TimeSpan(23, 0, 0);

        /// <summary>Day of the weekly revision; default Sunday.</summary>
        [Parameter][Alias("DayOfWeek")] public DayOfWeek RevisionDay { get; set; } = DayOfWeek.Sunday;

        protected override void EndProcessing()
        {
            var moduleFolder = Path.GetDirectoryName(typeof(RegisterMadfJobCommand).Assembly.Location)!;
            string? current;
            try { current = Process.GetCurrentProcess().MainModule?.FileName; } catch (System.ComponentModel.Win32Exception) { current = null; }
            var executable = JobExecutable.Choose(current, moduleFolder);
            var specs = Job.Distinct().Select(j => new JobSpec(j, DatabasePath) // always the path: schedulers do not inherit $env:MADFLOG_DB
            {
                Executable = executable,
                ModuleManifest = Path.Combine(moduleFolder, "MadfLog.psd1"),
                Schedule = Engine(() => j == MadfJob.Maintenance ? new JobSchedule(MaintenanceAt) : new JobSchedule(RevisionAt, RevisionDay)),
            }).ToList();
            var scheduler = NewScheduler();
            var kind = SchedulerGiven ? Scheduler : Engine(() => scheduler.Default(IsDesktopEdition));
            var target = $"{kind} jobs {string.Join(", ", specs.Select(s => $"{s.Name} ({s.Schedule})"))}";

            if (kind == SchedulerKind.ScheduledJob)
            {
                var script = string.Join("\n", specs.Select(JobDefinitions.ScheduledJobRegistration));
                if (!ShouldProcess("Run in Windows PowerShell:\n" + script, "Register " + target + "?", "Register-MadfJob")) return;
                RunScheduledJobScript(script);
                foreach (var s in specs)
                {
                    var info = new JobInfo { Name = s.Name, Job = s.Job, Scheduler = kind, Command = s.Script, Registered = true }.Describe(DateTime.Now);
                    info.Definitions.Add("ScheduledJob " + s.Name);
                    WriteObject(info);
                }
                return;
            }
            // The scheduler must exist before anything is planned or promised (also under -WhatIf).
            Engine(() => { scheduler.EnsureUsable(kind); return true; });
            var plan = Engine(() => scheduler.PlanRegister(specs, kind));
            if (!ShouldProcess(target + ":\n" + plan, "Register " + target + "?", "Register-MadfJob")) return;
            foreach (var info in Engine(() => scheduler.Register(specs, kind))) WriteObject(info);
        }
    }

    /// <summary>Lists the registered MadfLog jobs with their scheduler, schedule, command line, last run and result, and next run.</summary>
    /// <remarks><para>Without -Scheduler every scheduler usable on this machine is asked; one that is not installed is skipped, never an error. Last run and result come from the run log beside the job's database.</para></remarks>
    /// <example>
    /// <code>Get-MadfJob | Format-List Name, Scheduler, Schedule, LastRun, LastResult, NextRun</code>
    /// Shows when each job last ran, how it went, and when it runs next.
    /// </example>
    /// <example>
    /// <code>Get-MadfJob Revision -Scheduler Systemd | Select-Object -ExpandProperty Definitions</code>
    /// The systemd unit files of the weekly revision, when it is registered.
    /// </example>
    /// <returns>One JobInfo per registered job: scheduler, schedule, command, last run and its result, next run.</returns>
    [Cmdlet(VerbsCommon.Get, "MadfJob")]
    [Alias("Get-MadfRevisionJob")]
    [OutputType(typeof(JobInfo))]
    public sealed class GetMadfJobCommand : JobCommand
    {
        protected override void EndProcessing()
        {
            var kinds = SchedulerGiven ? new[] { Scheduler } : SchedulerEnvironment.Candidates(IsDesktopEdition);
            var scheduler = NewScheduler();
            foreach (var kind in kinds)
            {
                if (kind == SchedulerKind.ScheduledJob)
                {
                    if (!IsDesktopEdition) continue;
                    foreach (var name in Names)
                    {
                        var job = InvokeCommand.InvokeScript($"Get-ScheduledJob -Name '{name}' -ErrorAction SilentlyContinue").FirstOrDefault();
                        if (job == null) continue;
                        var info = new JobInfo { Name = name, Scheduler = kind, Registered = true, Command = job.Properties["Command"]?.Value?.ToString() ?? "" }.Describe(DateTime.Now);
                        info.Definitions.Add("ScheduledJob " + name);
                        WriteObject(info);
                    }
                    continue;
                }
                List<JobInfo> infos;
                try
                {
                    infos = scheduler.List(kind, Names).ToList();
                }
                catch (MadfException ex) when (!SchedulerGiven)
                {
                    // One scheduler's trouble does not hide the others' jobs.
                    WriteWarning($"{kind}: {ex.Message}");
                    continue;
                }
                catch (MadfException ex)
                {
                    ThrowTerminatingError(ToErrorRecord(ex)); // the scheduler asked for: its error id, as Engine() gives
                    throw;
                }
                foreach (var info in infos) WriteObject(info);
            }
        }
    }

    /// <summary>Removes MadfLog's jobs (both by default).</summary>
    /// <example>
    /// <code>Get-MadfJob -Scheduler Systemd | Unregister-MadfJob -WhatIf</code>
    /// Shows which registered systemd jobs would be removed, with the files and systemctl commands; without -WhatIf they are removed.
    /// </example>
    /// <example>
    /// <code>Get-MadfJob | Where-Object Job -eq Maintenance | Unregister-MadfJob -Confirm:$false</code>
    /// Removes the daily maintenance job, wherever it is registered, without asking; the weekly revision stays.
    /// </example>
    /// <returns>Nothing: the jobs are removed from their scheduler (-WhatIf shows which).</returns>
    [Cmdlet(VerbsLifecycle.Unregister, "MadfJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [Alias("Unregister-MadfRevisionJob")]
    public sealed class UnregisterMadfJobCommand : JobCommand
    {
        protected override void ProcessRecord()
        {
            var scheduler = NewScheduler();
            var kind = SchedulerGiven ? Scheduler : Engine(() => scheduler.Default(IsDesktopEdition));
            var names = Names.ToList();
            if (kind == SchedulerKind.ScheduledJob)
            {
                var script = string.Join("\n", names.Select(JobDefinitions.ScheduledJobRemoval));
                if (!ShouldProcess("Run in Windows PowerShell:\n" + script, $"Unregister {string.Join(", ", names)}?", "Unregister-MadfJob")) return;
                RunScheduledJobScript(script);
                return;
            }
            Engine(() => { scheduler.EnsureUsable(kind); return true; });
            var present = names.Where(n => Engine(() => scheduler.Get(n, kind)) != null).ToList();
            foreach (var missing in names.Except(present))
                WriteError(new ErrorRecord(new ItemNotFoundException(string.Format(Messages.Culture, Messages.JobNotFound, kind, missing)), "JobNotFound", ErrorCategory.ObjectNotFound, missing));
            if (present.Count == 0) return;
            var plan = Engine(() => scheduler.PlanUnregister(present, kind));
            if (!ShouldProcess($"{kind} jobs {string.Join(", ", present)}:\n{plan}", $"Unregister {string.Join(", ", present)}?", "Unregister-MadfJob")) return;
            Engine(() => scheduler.Unregister(present, kind));
        }
    }

    /// <summary>Runs one scheduled job now, as the scheduler does: appends to the run log, reports quarantined lines, and fails when health is Critical.</summary>
    /// <remarks>
    /// <para>Maintenance imports the configured log folders (Set-MadfConfig -LogPath) and then rotates: closes finished daily logs, compresses closed weeks, moves events past the retention window into archives and keeps the active database under its budget. Revision runs Invoke-MadfRevision, which writes the weekly report.</para>
    /// <para>Problems are written as warnings; an error or a Critical health check is written as an error (JobFailed), so pwsh and madflog exit with 1 and the scheduler's failure notification fires. -IfDue -Schedule runs only when no run started since the schedule's latest time: that is how cron and launchd catch up.</para>
    /// </remarks>
    /// <example>
    /// <code>Invoke-MadfJob Maintenance</code>
    /// Imports the configured log folders and rotates now, warns about quarantined lines, and records the run in madflog.runs.jsonl beside the database.
    /// </example>
    /// <example>
    /// <code>Invoke-MadfJob Revision -Schedule 'Sun 23:00' -IfDue -Verbose</code>
    /// What the scheduler runs: the weekly revision, only when it has not run since the latest Sunday 23:00.
    /// </example>
    /// <returns>One JobRun: the job, when it started and finished, its result and what it did, as appended to the run log. Nothing with -IfDue when the job is not due.</returns>
    [Cmdlet(VerbsLifecycle.Invoke, "MadfJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(JobRun))]
    public sealed class InvokeMadfJobCommand : MadfCmdlet
    {
        /// <summary>Maintenance (daily) or Revision (weekly).</summary>
        [Parameter(Mandatory = true, Position = 0)] public MadfJob Job { get; set; }

        /// <summary>The database's configuration file; it must be the database's own (the registered command names both).</summary>
        [Parameter] public string? ConfigPath { get; set; }

        /// <summary>With -IfDue: the job's schedule, 'daily HH:mm' or e.g. 'Sun 23:00'.</summary>
        [Parameter] public string? Schedule { get; set; }

        /// <summary>Run only when no run started since the latest scheduled time.</summary>
        [Parameter] public SwitchParameter IfDue { get; set; }

        protected override void EndProcessing()
        {
            if (IfDue && Schedule == null)
                ThrowTerminatingError(new ErrorRecord(new ArgumentException(Messages.ScheduleMissing), "ScheduleMissing", ErrorCategory.InvalidArgument, null));
            var options = new JobRunOptions
            {
                Job = Job, DatabasePath = DatabasePath,
                ConfigPath = ConfigPath == null ? null : ResolveOutputPath(ConfigPath),
                IfDue = IfDue ? Engine(() => JobSchedule.Parse(Schedule!)) : null,
            };
            if (!ShouldProcess(DatabasePath, $"Run the {Job} job")) return;
            var run = Engine(() => JobRunner.Run(options));
            if (run.Result == "Skipped") { WriteVerbose($"{Job}: {run.Message}"); return; }
            foreach (var p in run.Problems) WriteWarning(p);
            WriteObject(run);
            if (run.Result == "Failed")
                WriteError(new ErrorRecord(new InvalidOperationException(string.Format(Messages.Culture, Messages.JobFailed, Job, run.Message)), "JobFailed", ErrorCategory.OperationStopped, DatabasePath));
        }
    }
}

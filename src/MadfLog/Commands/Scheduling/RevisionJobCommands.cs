using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using MadfLog.Engine.Scheduling;

namespace MadfLog.Commands.Scheduling
{
    /// <summary>Shared by the revision-job cmdlets: which scheduler, and the Windows PowerShell scheduled-job path.</summary>
    public abstract class RevisionJobCommand : MadfCmdlet
    {
        /// <summary>The job's name; default MadfLogRevision.</summary>
        [Parameter]
        [ValidatePattern(@"^[A-Za-z0-9_.-]+$")]
        public string Name { get; set; } = RevisionJobSpec.DefaultName;

        /// <summary>The scheduler to use; default: ScheduledJob in Windows PowerShell, TaskScheduler in PowerShell 7 on Windows, Systemd (else Cron) on Linux, Launchd on macOS.</summary>
        [Parameter]
        public SchedulerKind Scheduler { get; set; }

        protected SchedulerKind ChosenScheduler =>
            MyInvocation.BoundParameters.ContainsKey(nameof(Scheduler)) ? Scheduler : RevisionJobScheduler.Default(IsDesktopEdition);

        protected bool IsDesktopEdition =>
            string.Equals(SessionState.PSVariable.GetValue("PSEdition") as string, "Desktop", StringComparison.OrdinalIgnoreCase);

        protected static RevisionJobScheduler Engine_Scheduler() => new RevisionJobScheduler(new SchedulerEnvironment());

        /// <summary>PSScheduledJob only exists in Windows PowerShell; its cmdlets are called through this session.</summary>
        protected System.Collections.ObjectModel.Collection<PSObject> RunScheduledJobScript(string script)
        {
            if (!IsDesktopEdition)
                ThrowTerminatingError(new ErrorRecord(new PlatformNotSupportedException("Register-ScheduledJob exists only in Windows PowerShell 5.1; in PowerShell 7 use -Scheduler TaskScheduler."),
                    "ScheduledJobNotAvailable", ErrorCategory.NotImplemented, Name));
            return InvokeCommand.InvokeScript(script);
        }
    }

    /// <summary>Registers the weekly revision (Invoke-MadfRevision -IfDue) with this machine's scheduler, by default on Sunday at 23:00.</summary>
    /// <remarks>
    /// <para>Windows PowerShell 5.1: a scheduled job (Register-ScheduledJob, weekly trigger). PowerShell 7 on Windows: a Task Scheduler task with StartWhenAvailable, so a missed Sunday runs when the machine is next on. Linux: a systemd user timer with Persistent=true (catches up after power-off; run 'loginctl enable-linger' to run without a login), else a crontab entry. macOS: a launchd agent.</para>
    /// <para>The job runs pwsh when present, else the madflog host. Registering again replaces the job; it is never duplicated.</para>
    /// </remarks>
    /// <example>
    /// <code>Register-MadfRevisionJob -At 22:30 -DayOfWeek Sunday -WhatIf</code>
    /// Shows the job that would be registered, and where.
    /// </example>
    /// <example>
    /// <code>Register-MadfRevisionJob -Scheduler Systemd -Database ~/madflog/team.db -WhatIf</code>
    /// Shows the systemd user timer that would run the revision on ~/madflog/team.db.
    /// </example>
    [Cmdlet(VerbsLifecycle.Register, "MadfRevisionJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(RevisionJobInfo))]
    public sealed class RegisterMadfRevisionJobCommand : RevisionJobCommand
    {
        /// <summary>Time of day (local time), e.g. 23:00.</summary>
        [Parameter] public TimeSpan At { get; set; } = new TimeSpan(23, 0, 0);

        /// <summary>Day of the week; default Sunday.</summary>
        [Parameter] public DayOfWeek DayOfWeek { get; set; } = DayOfWeek.Sunday;

        protected override void EndProcessing()
        {
            var moduleFolder = Path.GetDirectoryName(typeof(RegisterMadfRevisionJobCommand).Assembly.Location)!;
            string? current;
            try { current = Process.GetCurrentProcess().MainModule?.FileName; } catch (System.ComponentModel.Win32Exception) { current = null; }
            var spec = new RevisionJobSpec
            {
                Name = Name, Day = DayOfWeek, At = At,
                Executable = JobExecutable.Choose(current, moduleFolder),
                ModuleManifest = Path.Combine(moduleFolder, "MadfLog.psd1"),
                Database = DatabasePath, // always: schedulers do not inherit $env:MADFLOG_DB
            };
            var kind = ChosenScheduler;
            if (!ShouldProcess($"{kind} job '{Name}' ({spec.Schedule})", $"Register: {JobDefinitions.CommandLine(spec)}")) return;
            if (kind == SchedulerKind.ScheduledJob)
            {
                RunScheduledJobScript(JobDefinitions.ScheduledJobRegistration(spec));
                var info = new RevisionJobInfo { Name = Name, Scheduler = kind, Schedule = spec.Schedule, Command = spec.Script, Registered = true };
                info.Definitions.Add("ScheduledJob " + Name);
                WriteObject(info);
                return;
            }
            WriteObject(Engine(() => Engine_Scheduler().Register(spec, kind)));
        }
    }

    /// <summary>Shows the registered weekly revision job, if any.</summary>
    /// <example>
    /// <code>Get-MadfRevisionJob -Scheduler Systemd</code>
    /// Shows the schedule and command of the revision job's systemd user timer, if one is registered (without -Scheduler: this machine's scheduler).
    /// </example>
    /// <example>
    /// <code>Get-MadfRevisionJob -Scheduler Launchd | Select-Object -ExpandProperty Definitions</code>
    /// The launchd agent file of the job (macOS), when one is registered.
    /// </example>
    [Cmdlet(VerbsCommon.Get, "MadfRevisionJob")]
    [OutputType(typeof(RevisionJobInfo))]
    public sealed class GetMadfRevisionJobCommand : RevisionJobCommand
    {
        protected override void EndProcessing()
        {
            var kind = ChosenScheduler;
            if (kind == SchedulerKind.ScheduledJob)
            {
                var job = RunScheduledJobScript($"Get-ScheduledJob -Name '{Name}' -ErrorAction SilentlyContinue").FirstOrDefault();
                if (job != null)
                {
                    var info = new RevisionJobInfo { Name = Name, Scheduler = kind, Registered = true, Command = job.Properties["Command"]?.Value?.ToString() ?? "" };
                    info.Definitions.Add("ScheduledJob " + Name);
                    WriteObject(info);
                }
                return;
            }
            var found = Engine(() => Engine_Scheduler().Get(Name, kind));
            if (found != null) WriteObject(found);
        }
    }

    /// <summary>Removes the weekly revision job.</summary>
    /// <example>
    /// <code>Unregister-MadfRevisionJob -WhatIf</code>
    /// Shows which job would be removed; without -WhatIf it is removed (add -Confirm:$false in scripts).
    /// </example>
    /// <example>
    /// <code>Get-MadfRevisionJob -Scheduler Systemd | ForEach-Object { Unregister-MadfRevisionJob -Name $_.Name -Scheduler $_.Scheduler -WhatIf }</code>
    /// Shows which registered systemd job would be removed.
    /// </example>
    [Cmdlet(VerbsLifecycle.Unregister, "MadfRevisionJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    public sealed class UnregisterMadfRevisionJobCommand : RevisionJobCommand
    {
        protected override void EndProcessing()
        {
            var kind = ChosenScheduler;
            if (!ShouldProcess($"{kind} job '{Name}'", "Unregister")) return;
            if (kind == SchedulerKind.ScheduledJob)
            {
                RunScheduledJobScript($"Get-ScheduledJob -Name '{Name}' -ErrorAction SilentlyContinue | Unregister-ScheduledJob -Force");
                return;
            }
            if (!Engine(() => Engine_Scheduler().Unregister(Name, kind)))
                WriteError(new ErrorRecord(new ItemNotFoundException($"There is no {kind} job named '{Name}'."), "RevisionJobNotFound", ErrorCategory.ObjectNotFound, Name));
        }
    }
}

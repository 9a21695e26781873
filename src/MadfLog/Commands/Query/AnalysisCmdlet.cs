using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using MadfLog.Engine;
using MadfLog.Engine.Facade;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;

namespace MadfLog.Commands.Query
{
    /// <summary>Story/agent/time filters, bindable from the pipeline by property name; shared by every cmdlet that reads events.</summary>
    public abstract class FilteredCmdlet : MadfCmdlet
    {
        /// <summary>Only these stories (e.g. 1.2, or 1.* with wildcards); completes from the database. A name the database does not know is a non-terminating StoryNotFound error.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("StoryId")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(StoryCompleter))]
        public string[]? Story { get; set; }

        /// <summary>Only these agents (wildcards allowed, e.g. dev*); completes from the database. A name the database does not know is a non-terminating AgentNotFound error.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("AgentName")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(AgentCompleter))]
        public string[]? Agent { get; set; }

        /// <summary>Only events at or after this time (a local time unless its Kind is Utc).</summary>
        [Parameter] public DateTime Since { get; set; }

        /// <summary>Only events before this time (a local time unless its Kind is Utc). Must be after -Since.</summary>
        [Parameter] public DateTime Until { get; set; }

        /// <summary>
        /// Cover the archived events too (the months retention moved to archive/madflog-YYYY-MM.db), not only the active
        /// window: answered from a store of both, cached beside the archives and kept by rotation, brought up to date with the active store by each call and built where there is none.
        /// </summary>
        [Parameter] public SwitchParameter IncludeArchive { get; set; }

        protected override bool IncludesArchives => IncludeArchive;

        /// <summary>
        /// The filter with -Story/-Agent names and wildcards matched against the names in the database (case-insensitive);
        /// null, after saying why, when it can match nothing (every name unknown, or -Since not before -Until).
        /// </summary>
        protected QueryFilter? ResolveFilter(MadfStore store)
        {
            var since = Bound(nameof(Since), Since);
            var until = Bound(nameof(Until), Until);
            if (EmptyWindow(since, until) is { } empty)
            {
                WriteError(empty);
                return null;
            }
            var stories = Match(store, "story_id", Story, "Story");
            var agents = Match(store, "agent_name", Agent, "Agent");
            if (stories is { Length: 0 } || agents is { Length: 0 }) return null;
            return new QueryFilter { Stories = stories, Agents = agents, Since = since, Until = until };
        }
    }

    /// <summary>Shared by the analysis questions: the filters, -Brief, and one answer per pipeline input.</summary>
    public abstract class AnalysisCmdlet : FilteredCmdlet
    {
        /// <summary>Return one compact text for an agent, guaranteed to fit this question's token budget, instead of objects.</summary>
        [Parameter] public SwitchParameter Brief { get; set; }

        protected override void ProcessRecord()
        {
            // One answer per pipeline input (e.g. stories piped by property name), all from the pipeline's one database.
            var store = Store();
            Engine(() =>
            {
                var filter = ResolveFilter(store);
                if (filter != null) Answer(store, filter);
            });
        }

        protected abstract void Answer(MadfStore store, QueryFilter filter);

        protected void WriteAll<T>(IEnumerable<T> items)
        {
            foreach (var i in items) WriteObject(i);
        }
    }

    /// <summary>Completes values of one events column from the database named by -Database (or the default one).</summary>
    public abstract class ColumnCompleter : IArgumentCompleter
    {
        protected abstract string Column { get; }

        /// <summary>
        /// A path typed on the command line, as the cmdlet will resolve it: against PowerShell's current location (not the
        /// process folder, which Set-Location does not change), with ~ for the home folder.
        /// </summary>
        internal static string FromPowerShellLocation(string path)
        {
            var p = path.Trim('\'', '"');
            if (p == "~" || p.StartsWith("~/", StringComparison.Ordinal) || p.StartsWith("~\\", StringComparison.Ordinal))
                p = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), p.Substring(Math.Min(2, p.Length)));
            string? here = null;
            // Completers run on the session's own thread, where a script block reads its current location.
            try { here = ScriptBlock.Create("$ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath").Invoke().FirstOrDefault()?.BaseObject as string; }
            catch (Exception) { } // no session on this thread: the process folder
            return System.IO.Path.GetFullPath(here != null ? System.IO.Path.Combine(here, p) : p);
        }

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            try
            {
                var db = FromPowerShellLocation(fakeBoundParameters?["Database"] as string ?? StoreLocation.DefaultDatabasePath());
                var prefix = (wordToComplete ?? "").Trim('\'', '"');
                // With -IncludeArchive the archived months' names too (the question covers them).
                var archived = fakeBoundParameters?["IncludeArchive"] switch { SwitchParameter s => s.IsPresent, bool b => b, _ => false };
                return MadfStore.CompletionValues(db, Column, prefix, archived)
                    .Select(v => new CompletionResult(v.IndexOfAny(new[] { ' ', '\'', '$', ';', ',' }) >= 0 ? "'" + v.Replace("'", "''") + "'" : v, v, CompletionResultType.ParameterValue, v))
                    .ToList();
            }
            catch (Exception)
            {
                return Enumerable.Empty<CompletionResult>(); // completion must never throw at the user
            }
        }
    }

    public sealed class StoryCompleter : ColumnCompleter { protected override string Column => "story_id"; }
    public sealed class AgentCompleter : ColumnCompleter { protected override string Column => "agent_name"; }
    public sealed class SessionCompleter : ColumnCompleter { protected override string Column => "session_id"; }
}

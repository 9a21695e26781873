using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MadfLog.Commands.Query
{
    /// <summary>Story/agent/time filters, bindable from the pipeline by property name; shared by every cmdlet that reads events.</summary>
    public abstract class FilteredCmdlet : MadfCmdlet
    {
        /// <summary>Only these stories (e.g. 1.2); completes from the database.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("StoryId")]
        [ArgumentCompleter(typeof(StoryCompleter))]
        public string[]? Story { get; set; }

        /// <summary>Only these agents; completes from the database.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("AgentName")]
        [ArgumentCompleter(typeof(AgentCompleter))]
        public string[]? Agent { get; set; }

        /// <summary>Only events at or after this time.</summary>
        [Parameter] public DateTime Since { get; set; }

        /// <summary>Only events before this time.</summary>
        [Parameter] public DateTime Until { get; set; }

        protected QueryFilter Filter => new QueryFilter
        {
            Stories = Story, Agents = Agent, Since = Bound(nameof(Since), Since), Until = Bound(nameof(Until), Until),
        };

        protected SqliteConnection OpenRead() => Engine(() => MadfDatabase.Open(DatabasePath, forWrite: false));
    }

    /// <summary>Shared by the analysis questions: the filters, -Brief, and one answer per pipeline input.</summary>
    public abstract class AnalysisCmdlet : FilteredCmdlet
    {
        /// <summary>Return one compact text for an agent, guaranteed to fit this question's token budget, instead of objects.</summary>
        [Parameter] public SwitchParameter Brief { get; set; }

        protected override void ProcessRecord()
        {
            using var c = OpenRead();
            Answer(c, Filter);
        }

        protected abstract void Answer(SqliteConnection c, QueryFilter filter);

        protected void WriteAll<T>(IEnumerable<T> items)
        {
            foreach (var i in items) WriteObject(i);
        }
    }

    /// <summary>Completes values of one events column from the database named by -Database (or the default one).</summary>
    public abstract class ColumnCompleter : IArgumentCompleter
    {
        protected abstract string Column { get; }

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            try
            {
                var db = fakeBoundParameters?["Database"] as string ?? StoreLocation.DefaultDatabasePath();
                using var c = MadfDatabase.Open(System.IO.Path.GetFullPath(db), forWrite: false);
                var prefix = (wordToComplete ?? "").Trim('\'', '"');
                return Analysis.DistinctValues(c, Column, prefix)
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

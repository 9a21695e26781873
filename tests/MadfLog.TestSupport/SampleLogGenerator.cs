using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using MadfLog.Engine.Events;
using MadfLog.Engine.Domain;
using MadfLog.Engine.Import;

namespace MadfLog.TestSupport
{
    /// <summary>One generated event, with the true template of its error message (for scoring pattern mining).</summary>
    public sealed class GeneratedEvent
    {
        public GeneratedEvent(EventRow row, Hashtable details, int? trueTemplate) { Row = row; Details = details; TrueTemplate = trueTemplate; }
        public EventRow Row { get; }
        public Hashtable Details { get; }
        /// <summary>Index into <see cref="SampleLogGenerator.ErrorTemplates"/>, or null when the event is not an error.</summary>
        public int? TrueTemplate { get; }
    }

    public sealed class SampleOptions
    {
        public int Seed { get; set; } = 42;
        /// <summary>Stories in order; each spans DaysPerStory days.</summary>
        public string[] Stories { get; set; } = { "1.1", "1.2" };
        public int DaysPerStory { get; set; } = 3;
        public int SessionsPerAgentPerDay { get; set; } = 2;
        public int StepsPerSession { get; set; } = 40;
        public DateTimeOffset Start { get; set; } = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);
        public string WorkflowId { get; set; } = "bmad-greenfield";
    }

    /// <summary>
    /// Realistic QuickLogger events of a multi-agent workflow: agents work through stories in sessions of tool calls,
    /// LLM calls (tokens, rising context), workflow steps and human interactions, with recurring errors whose messages
    /// vary in paths, numbers and names. Later stories repeat fewer errors (the rules are working). Deterministic per seed.
    /// Regenerate the bundled examples with: dotnet run -c Release --project bench/MadfLog.Bench -- samples examples/logs
    /// </summary>
    public sealed class SampleLogGenerator
    {
        /// <summary>The true templates of generated error messages (&lt;*&gt; marks variable parts).</summary>
        public static readonly string[] ErrorTemplates =
        {
            "File does not exist: <*>",
            "String to replace not found in file: <*>",
            "pytest failed: <*> failed, <*> passed in <*>s",
            "Command timed out after <*> seconds: <*>",
            "Permission denied: <*>",
            "ModuleNotFoundError: No module named '<*>'",
            "SyntaxError: invalid syntax (<*>, line <*>)",
            "File has not been read yet. Read it first before writing to it.",
            "npm ERR! 404 Not Found - GET https://registry.npmjs.org/<*> - Not found",
            "Rate limit exceeded: retry after <*> ms",
            "TypeError: Cannot read properties of undefined (reading '<*>') at <*>:<*>",
            "fatal: not a git repository (or any of the parent directories): .git",
        };

        // Error class (template index) → tool that raises it, and how often it recurs in the first story.
        private static readonly (string Tool, double Weight)[] ErrorSources =
        {
            ("Read", 9), ("Edit", 7), ("Bash", 8), ("Bash", 3), ("Write", 2), ("Bash", 4), ("Bash", 3), ("Write", 5), ("Bash", 1.5), ("llm", 1), ("Bash", 2), ("Bash", 1),
        };

        private static readonly string[] Agents = { "analyst", "architect", "pm", "sm", "dev", "qa" };
        private static readonly string[] Dirs = { "src", "src/api", "src/core", "src/ui/components", "tests", "tests/unit", "docs", "scripts", "src/My Project/legacy" };
        private static readonly string[] Names = { "main", "user_service", "auth", "models", "router", "config", "utils", "payment gateway", "cart", "orders", "schema", "index" };
        private static readonly string[] Exts = { ".py", ".ts", ".cs", ".md", ".json", ".tsx" };
        private static readonly string[] Modules = { "requests", "numpy", "pydantic", "fastapi", "sqlalchemy", "jwt", "redis", "boto3" };
        private static readonly string[] Packages = { "left-pad", "@acme/ui-kit", "reactt", "lodash.merge2", "expresss" };
        private static readonly string[] Commands = { "npm test", "pytest -x", "dotnet build", "make e2e", "docker compose up", "npm run lint" };
        private static readonly string[] Props = { "map", "length", "id", "user", "then", "data" };
        private static readonly string[] Tools = { "Read", "Read", "Read", "Edit", "Edit", "Bash", "Bash", "Glob", "Grep", "Write" };
        private static readonly string[] Clarifications = { "Which database should the orders service use?", "Should the API return 404 or 204 for an empty cart?", "Is the payment gateway sandbox available?", "What is the expected page size for listings?" };
        private static readonly string[] Steps = { "create-story", "design", "implement", "review", "test", "done" };

        private readonly SampleOptions _o;
        public SampleLogGenerator(SampleOptions options) { _o = options; }

        public IEnumerable<GeneratedEvent> Generate()
        {
            var rnd = new Random(_o.Seed);
            for (var s = 0; s < _o.Stories.Length; s++)
            {
                var story = _o.Stories[s];
                // The self-improvement story: each later story has fewer errors and far fewer retries of the same one.
                var errorRate = 0.16 * Math.Pow(0.7, s);
                var retryChance = 0.45 * Math.Pow(0.35, s);
                for (var d = 0; d < _o.DaysPerStory; d++)
                {
                    var day = _o.Start.AddDays(s * _o.DaysPerStory + d);
                    foreach (var agent in Agents)
                        for (var k = 0; k < _o.SessionsPerAgentPerDay; k++)
                        {
                            var session = $"{story}-{agent}-{d}-{k}-{rnd.Next(0x10000, 0xFFFFF):x}";
                            var t = day.AddMinutes(rnd.Next(0, 8 * 60));
                            foreach (var e in Session(rnd, story, agent, session, t, errorRate, retryChance)) yield return e;
                        }
                }
            }
        }

        private IEnumerable<GeneratedEvent> Session(Random rnd, string story, string agent, string session, DateTimeOffset t, double errorRate, double retryChance)
        {
            var context = 5.0 + rnd.NextDouble() * 10;
            var steps = _o.StepsPerSession / 2 + rnd.Next(_o.StepsPerSession);
            yield return Make(t, "step", "workflow", story, agent, session, rnd.Next(200, 2000), null, null, true, new Hashtable { ["step"] = Steps[rnd.Next(Steps.Length)], ["message"] = "session started" }, null);
            for (var i = 0; i < steps; i++)
            {
                t = t.AddMilliseconds(rnd.Next(800, 30000));
                context = Math.Min(99, context + rnd.NextDouble() * 4.5);
                var tokens = rnd.Next(400, 6000);
                yield return Make(t, "llm_call", "model", story, agent, session, rnd.Next(800, 12000), tokens, Math.Round(context, 1), true,
                    new Hashtable { ["model"] = "claude-sonnet-4", ["input_tokens"] = tokens * 3 / 4, ["output_tokens"] = tokens / 4 }, null);
                t = t.AddMilliseconds(rnd.Next(100, 3000));
                // Errors get likelier as the context fills up (what Get-MadfContextPressure looks for).
                var failing = rnd.NextDouble() < errorRate * (HighContext.IsHigh(context) ? 1.8 : 1);
                if (!failing)
                {
                    var tool = Tools[rnd.Next(Tools.Length)];
                    yield return Make(t, "tool_call", "tool", story, agent, session, rnd.Next(20, tool == "Bash" ? 60000 : 900), null, Math.Round(context, 1), true,
                        new Hashtable { ["tool"] = tool, ["target"] = Path(rnd) }, null);
                }
                else
                {
                    var template = Pick(rnd);
                    var attempts = 1;
                    while (rnd.NextDouble() < retryChance && attempts < 5) attempts++;
                    for (var a = 0; a < attempts; a++)
                    {
                        t = t.AddMilliseconds(rnd.Next(500, 5000));
                        var (tool, message) = Error(rnd, template);
                        var wasted = rnd.Next(2000, 90000);
                        var row = Make(t, "tool_call", "tool", story, agent, session, rnd.Next(50, 120000), null, Math.Round(context, 1), false,
                            new Hashtable { ["tool"] = tool, ["message"] = message, ["attempt"] = a + 1 }, template);
                        row.Row.TimeSavedOrWastedMs = -wasted;
                        yield return row;
                    }
                }
                if (rnd.NextDouble() < 0.012)
                {
                    t = t.AddSeconds(rnd.Next(30, 600));
                    var kind = rnd.NextDouble();
                    var (category, about) = kind < 0.5 ? ("clarification", Clarifications[rnd.Next(Clarifications.Length)])
                        : kind < 0.75 ? ("approval", "Approve the plan for " + Names[rnd.Next(Names.Length)])
                        : kind < 0.9 ? ("correction", "Use the existing " + Names[rnd.Next(Names.Length)] + " helper instead of a new one")
                        : ("rejection", "The user doesn't want to proceed with this tool use.");
                    yield return Make(t, "human_interaction", category, story, agent, session, rnd.Next(10000, 600000), null, Math.Round(context, 1), category != "rejection",
                        new Hashtable { ["message"] = about }, null);
                }
            }
            yield return Make(t.AddSeconds(5), "step", "workflow", story, agent, session, rnd.Next(200, 2000), null, Math.Round(context, 1), true,
                new Hashtable { ["step"] = "handoff", ["message"] = "session ended" }, null);
        }

        private static int Pick(Random rnd)
        {
            var total = ErrorSources.Sum(e => e.Weight);
            var x = rnd.NextDouble() * total;
            for (var i = 0; i < ErrorSources.Length; i++) { x -= ErrorSources[i].Weight; if (x <= 0) return i; }
            return 0;
        }

        private static string Path(Random rnd) => Dirs[rnd.Next(Dirs.Length)] + "/" + Names[rnd.Next(Names.Length)] + Exts[rnd.Next(Exts.Length)];

        private static (string tool, string message) Error(Random rnd, int template)
        {
            var inv = CultureInfo.InvariantCulture;
            var tool = ErrorSources[template].Tool;
            switch (template)
            {
                case 0: return (tool, "File does not exist: " + Path(rnd));
                case 1: return (tool, "String to replace not found in file: " + Path(rnd));
                case 2: return (tool, $"pytest failed: {rnd.Next(1, 30)} failed, {rnd.Next(0, 400)} passed in {(rnd.NextDouble() * 90).ToString("0.00", inv)}s");
                case 3: return (tool, $"Command timed out after {rnd.Next(1, 10) * 60} seconds: {Commands[rnd.Next(Commands.Length)]}");
                case 4: return (tool, "Permission denied: " + (rnd.Next(2) == 0 ? "/etc/" + Names[rnd.Next(Names.Length)] : "/usr/local/lib/" + Names[rnd.Next(Names.Length)] + ".so"));
                case 5: return (tool, $"ModuleNotFoundError: No module named '{Modules[rnd.Next(Modules.Length)]}'");
                case 6: return (tool, $"SyntaxError: invalid syntax ({Names[rnd.Next(Names.Length)]}.py, line {rnd.Next(1, 900)})");
                case 7: return (tool, "File has not been read yet. Read it first before writing to it.");
                case 8: return (tool, $"npm ERR! 404 Not Found - GET https://registry.npmjs.org/{Packages[rnd.Next(Packages.Length)]} - Not found");
                case 9: return (tool, $"Rate limit exceeded: retry after {rnd.Next(100, 60000)} ms");
                case 10: return (tool, $"TypeError: Cannot read properties of undefined (reading '{Props[rnd.Next(Props.Length)]}') at {Path(rnd)}:{rnd.Next(1, 400)}");
                default: return (tool, "fatal: not a git repository (or any of the parent directories): .git");
            }
        }

        private GeneratedEvent Make(DateTimeOffset t, string type, string category, string story, string agent, string session, long duration, long? tokens, double? context, bool success, Hashtable details, int? template) =>
            new GeneratedEvent(new EventRow
            {
                Timestamp = t.ToUnixTimeMilliseconds(), EventType = type, Category = category, SessionId = session, StoryId = story, WorkflowId = _o.WorkflowId,
                AgentName = agent, DurationMs = duration, TokensUsed = tokens, ContextPercent = context, Success = success,
                Message = details["message"] as string,
            }, details, template);

        /// <summary>Writes the events as daily QuickLogger files (madf-YYYY-MM-DD.jsonl) into a folder; returns the files.</summary>
        public static List<string> WriteDailyFiles(IEnumerable<GeneratedEvent> events, string folder)
        {
            Directory.CreateDirectory(folder);
            var written = new List<string>();
            FileStream? current = null;
            string? currentName = null;
            try
            {
                foreach (var e in events.OrderBy(e => e.Row.Timestamp))
                {
                    var name = EventLogWriter.FileNameFor(DateTimeOffset.FromUnixTimeMilliseconds(e.Row.Timestamp));
                    if (name != currentName)
                    {
                        current?.Dispose();
                        currentName = name;
                        var path = System.IO.Path.Combine(folder, name);
                        current = new FileStream(path, FileMode.Create, FileAccess.Write);
                        written.Add(path);
                    }
                    var line = EventLogWriter.Serialize(e.Row, e.Details);
                    current!.Write(line, 0, line.Length);
                }
            }
            finally { current?.Dispose(); }
            return written;
        }
    }
}

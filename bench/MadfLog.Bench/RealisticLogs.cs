using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using MadfLog.Engine.Events;
using MadfLog.Engine.Import;

namespace MadfLog.Bench
{
    /// <summary>
    /// The logs `bench import`, `bench queries` and the DuckDB bench measure: what one team's agents write in four weeks.
    /// N events (about; every session is whole) in a folder, written as MadfLog's real inputs are:
    /// <list type="bullet">
    /// <item>about 75 % as the MADF event log, daily QuickLogger files (<c>madf/madf-YYYY-MM-DD.jsonl</c>, every line with its
    ///   own event_id, sessions interleaved in time order as they happen): 4 stories (3.1-3.4) over 28 days, each active
    ///   for about 10 days with overlaps; 7 agents (dev and qa the busiest) in thousands of sessions whose length varies
    ///   from a few events to a few thousand (log-normal, median about 200); per turn an llm_call (tokens, context filling
    ///   up to a compaction), tool calls (Read, Edit, Bash, Grep, Glob, Write, Task) with their target or command in
    ///   details, workflow steps, human interactions;</item>
    /// <item>about 25 % as Claude Code transcripts (<c>claude/projects/-work-shop/&lt;session&gt;.jsonl</c>, one file per
    ///   session, the story in the git branch): assistant responses with usage and tool_use blocks, user tool_result
    ///   blocks, rejections.</item>
    /// </list>
    /// Failed tool calls (about 6 %, more when context is high, retried up to 4 times) carry the output a developer sees,
    /// in details: shell failures with exit codes and stderr, pytest/jest/tsc/eslint output, file-not-found, edit misses,
    /// timeouts, permission and git errors, rate limits; each with varied paths, names, numbers and line counts.
    /// Deterministic for a given N. Memory stays small: sessions are generated lazily and merged by time.
    /// </summary>
    public static class RealisticLogs
    {
        /// <summary>Bumped when the output changes, so the benches regenerate their cached folders (v3: a script that
        /// cannot execute is the command that ran, not always deploy.sh beside a message naming another).</summary>
        public const string Version = "realistic-v3";

        public static readonly string[] Stories = { "3.1", "3.2", "3.3", "3.4" };
        private static readonly string[] StoryBranches = { "story/3-1-catalog-search", "story/3-2-checkout", "story/3-3-order-history", "story/3-4-payment-webhooks" };
        private static readonly (string Agent, double Weight)[] Agents =
            { ("analyst", 0.5), ("pm", 0.6), ("architect", 0.7), ("sm", 0.8), ("ux-expert", 0.4), ("dev", 4.0), ("qa", 2.0) };
        public static readonly DateTimeOffset Start = new DateTimeOffset(2026, 10, 5, 0, 0, 0, TimeSpan.Zero);
        public const int Days = 28;

        private static readonly string[] Dirs = { "src/api", "src/api/routes", "src/core", "src/core/pricing", "src/ui/components", "src/ui/pages", "src/db/migrations", "tests/unit", "tests/integration", "tests/e2e", "scripts", "docs" };
        private static readonly string[] Stems = { "cart", "checkout", "order", "orders", "payment", "payment_webhook", "catalog", "search", "product", "user", "session", "auth", "discount", "tax", "inventory", "shipping", "invoice", "config", "router", "index", "utils", "schema", "client", "handlers" };
        private static readonly string[] Exts = { ".ts", ".ts", ".tsx", ".py", ".py", ".sql", ".json", ".md" };
        private static readonly string[] Models = { "claude-sonnet-4-5", "claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5" };
        private static readonly string[] Commands = { "npm test", "npm run build", "npx tsc --noEmit", "npm run lint", "pytest -x -q", "pytest tests/unit -q", "git status", "git diff --stat", "docker compose up -d db", "npm run e2e", "make migrate", "ls -la src", "git log --oneline -5", "npx prisma migrate dev" };
        private static readonly string[] PyModules = { "requests", "pydantic", "fastapi", "sqlalchemy", "jwt", "redis", "stripe", "httpx", "dateutil" };
        private static readonly string[] NpmPackages = { "zod", "@shop/ui-kit", "stripe", "date-fns", "@tanstack/react-query", "lodash-es", "supertest" };
        private static readonly string[] Props = { "total", "items", "id", "price", "currency", "customer", "lines", "status", "sku" };
        private static readonly string[] Types = { "Order", "Cart", "CartLine", "Product", "PaymentIntent", "Customer", "Invoice" };
        private static readonly string[] Steps = { "create-story", "validate-story", "design", "implement", "review", "test", "qa-gate", "retrospective" };
        private static readonly string[] Questions =
        {
            "Should a cart with only gift cards skip the shipping step?", "Is the payment provider sandbox key in .env.local the right one?",
            "Which currency should prices be rounded in?", "Do we keep soft-deleted orders in the history page?", "What page size should search results use?",
            "Should webhook retries be idempotent by event id or by payment id?",
        };

        private sealed class Plan
        {
            public int Index;
            public int Story;
            public string Agent = "";
            public long StartMs;
            public int Events;
            public bool ClaudeCode;
        }

        /// <summary>Writes about <paramref name="n"/> events into <paramref name="folder"/> (emptied first); returns the events written.</summary>
        public static long Write(string folder, int n)
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
            var plans = PlanSessions(n);
            long written = 0;
            // Claude Code sessions: one transcript file each.
            var projects = Path.Combine(folder, "claude", "projects", "-work-shop");
            Directory.CreateDirectory(projects);
            foreach (var p in plans)
                if (p.ClaudeCode) written += WriteTranscript(projects, p);
            // MADF sessions: interleaved by time into daily files, as QuickLogger appends them.
            var madf = Path.Combine(folder, "madf");
            Directory.CreateDirectory(madf);
            var heap = new SortedSet<(long Ts, int Session, long Seq)>();
            var open = new Dictionary<int, IEnumerator<(EventRow Row, Hashtable Details)>>();
            var ids = new Random(n);
            long seq = 0;
            FileStream? file = null;
            string? fileName = null;
            try
            {
                var next = 0;
                var madfPlans = plans.FindAll(p => !p.ClaudeCode);
                while (next < madfPlans.Count || heap.Count > 0)
                {
                    // Open every session that starts before the earliest pending event.
                    while (next < madfPlans.Count && (heap.Count == 0 || madfPlans[next].StartMs <= heap.Min.Ts))
                    {
                        var p = madfPlans[next++];
                        var e = MadfSession(p).GetEnumerator();
                        if (e.MoveNext()) { open[p.Index] = e; heap.Add((e.Current.Row.Timestamp, p.Index, seq++)); }
                    }
                    var top = heap.Min;
                    heap.Remove(top);
                    var it = open[top.Session];
                    var name = EventLogWriter.FileNameFor(DateTimeOffset.FromUnixTimeMilliseconds(it.Current.Row.Timestamp));
                    if (name != fileName)
                    {
                        file?.Dispose();
                        fileName = name;
                        file = new FileStream(Path.Combine(madf, name), FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
                    }
                    var line = EventLogWriter.Serialize(it.Current.Row, it.Current.Details, Hex(ids, 32));
                    file!.Write(line, 0, line.Length);
                    written++;
                    if (it.MoveNext()) heap.Add((it.Current.Row.Timestamp, top.Session, seq++));
                    else open.Remove(top.Session);
                }
            }
            finally { file?.Dispose(); }
            return written;
        }

        /// <summary>Sessions until their events reach N: who, which story, when, how long, and which log.</summary>
        private static List<Plan> PlanSessions(int n)
        {
            var rnd = new Random(18);
            var plans = new List<Plan>();
            long total = 0;
            var weightSum = 0.0;
            foreach (var a in Agents) weightSum += a.Weight;
            while (total < n)
            {
                // Log-normal lengths: median ~200 events, a long tail of marathon sessions.
                var len = (int)Math.Max(6, Math.Min(4000, Math.Exp(5.3 + 0.9 * Gaussian(rnd))));
                len = (int)Math.Min(len, n - total + 6);
                var day = rnd.Next(Days);
                // Story k is worked on from day 7k-2 to 7k+9 (overlapping), the ones around the day most.
                var story = Math.Max(0, Math.Min(Stories.Length - 1, (int)Math.Floor((day + 2 + rnd.Next(-3, 4)) / 7.0)));
                var x = rnd.NextDouble() * weightSum;
                var agent = Agents[Agents.Length - 1].Agent;
                foreach (var a in Agents) { x -= a.Weight; if (x <= 0) { agent = a.Agent; break; } }
                // Working hours, mostly: 07:00-20:00 UTC with a few night sessions.
                var minute = rnd.NextDouble() < 0.9 ? 7 * 60 + rnd.Next(13 * 60) : rnd.Next(24 * 60);
                var startMs = Start.AddDays(day).AddMinutes(minute).AddSeconds(rnd.Next(60)).ToUnixTimeMilliseconds();
                // Developers' own Claude Code sessions (dev and qa work) come as transcripts.
                var cc = (agent == "dev" || agent == "qa") && rnd.NextDouble() < 0.42;
                plans.Add(new Plan { Story = story, Agent = agent, StartMs = startMs, Events = len, ClaudeCode = cc });
                total += len;
            }
            plans.Sort((a, b) => a.StartMs.CompareTo(b.StartMs));
            for (var i = 0; i < plans.Count; i++) plans[i].Index = i;
            return plans;
        }

        private static double Gaussian(Random rnd) => Math.Sqrt(-2 * Math.Log(1 - rnd.NextDouble())) * Math.Cos(2 * Math.PI * rnd.NextDouble());

        /// <summary>One MADF session of exactly p.Events events, in time order.</summary>
        private static IEnumerable<(EventRow Row, Hashtable Details)> MadfSession(Plan p)
        {
            var rnd = new Random(1000 + p.Index);
            var story = Stories[p.Story];
            var session = $"{p.Agent}-{story}-{Hex(rnd, 8)}";
            var t = p.StartMs;
            var context = 4 + rnd.NextDouble() * 8;
            var left = p.Events;
            var errorRate = 0.045 + 0.02 * rnd.NextDouble() - 0.008 * p.Story; // later stories repeat fewer mistakes
            EventRow Row(string type, string category, long? duration, bool? ok) => new EventRow
            {
                Timestamp = t, EventType = type, Category = category, SessionId = session, StoryId = story, WorkflowId = "bmad-brownfield",
                AgentName = p.Agent, DurationMs = duration, Success = ok, ContextPercent = Math.Round(context, 1),
            };
            yield return (Row("step", "workflow", rnd.Next(50, 900), true), new Hashtable { ["step"] = Steps[rnd.Next(Steps.Length)], ["message"] = "session started" });
            left--;
            while (left > 1)
            {
                t += rnd.Next(400, 20000);
                var tokens = rnd.Next(300, 9000);
                context = Math.Min(99.9, context + tokens / 2000.0 * rnd.NextDouble()); // a full window, never past it
                if (context > 92 && rnd.NextDouble() < 0.5) context = 12 + rnd.NextDouble() * 10; // compaction
                var model = Models[rnd.Next(Models.Length)];
                var llm = Row("llm_call", "model", rnd.Next(900, 40000), true);
                llm.TokensUsed = tokens;
                yield return (llm, new Hashtable { ["model"] = model, ["input_tokens"] = tokens * 4 / 5, ["output_tokens"] = tokens / 5 });
                if (--left <= 1) break;
                // A turn runs one to three tools.
                var calls = 1 + (rnd.NextDouble() < 0.3 ? 1 : 0) + (rnd.NextDouble() < 0.1 ? 1 : 0);
                for (var c = 0; c < calls && left > 1; c++)
                {
                    t += rnd.Next(30, 3000);
                    var failing = rnd.NextDouble() < errorRate * (context > 80 ? 1.8 : 1);
                    if (!failing)
                    {
                        var (tool, details) = ToolCall(rnd);
                        yield return (Row("tool_call", "tool", Duration(rnd, tool), true), details);
                        left--;
                        continue;
                    }
                    var kind = rnd.Next(Failures.Length);
                    var attempts = 1;
                    while (attempts < 4 && rnd.NextDouble() < 0.35) attempts++;
                    for (var a = 0; a < attempts && left > 1; a++)
                    {
                        var (tool, target, message) = Failures[kind](rnd);
                        var row = Row("tool_call", "tool", Duration(rnd, tool), false);
                        row.TimeSavedOrWastedMs = -rnd.Next(1500, 120000);
                        row.Message = message;
                        var details = new Hashtable { ["tool"] = tool, ["message"] = message };
                        if (target != null) details["target"] = target;
                        if (a > 0) details["attempt"] = a + 1;
                        yield return (row, details);
                        left--;
                        t += rnd.Next(2000, 30000);
                    }
                }
                if (left > 1 && rnd.NextDouble() < 0.008)
                {
                    t += rnd.Next(20000, 900000);
                    var k = rnd.NextDouble();
                    var (category, about, ok) = k < 0.45 ? ("clarification", Questions[rnd.Next(Questions.Length)], true)
                        : k < 0.7 ? ("approval", "Approve the plan for " + FilePath(rnd), true)
                        : k < 0.9 ? ("correction", "Use the existing " + Stems[rnd.Next(Stems.Length)] + " helper in " + FilePath(rnd) + " instead of a new one", true)
                        : ("rejection", "The user doesn't want to proceed with this tool use. The tool use was rejected.", false);
                    var row = Row("human_interaction", category, rnd.Next(5000, 900000), ok);
                    if (!ok) row.Message = about;
                    yield return (row, new Hashtable { ["message"] = about });
                    left--;
                }
                if (left > 1 && rnd.NextDouble() < 0.01)
                {
                    yield return (Row("step", "workflow", rnd.Next(50, 900), true), new Hashtable { ["step"] = Steps[rnd.Next(Steps.Length)], ["message"] = "step completed" });
                    left--;
                }
            }
            t += rnd.Next(1000, 10000);
            yield return (Row("step", "workflow", rnd.Next(50, 900), true), new Hashtable { ["step"] = "handoff", ["message"] = "session ended" });
        }

        private static long Duration(Random rnd, string tool) => tool switch
        {
            "Bash" => (long)Math.Min(600000, Math.Exp(7 + 1.6 * Gaussian(rnd))),
            "Task" => rnd.Next(20000, 600000),
            _ => rnd.Next(5, 400),
        };

        private static (string Tool, Hashtable Details) ToolCall(Random rnd)
        {
            var x = rnd.Next(100);
            if (x < 34) return ("Read", new Hashtable { ["tool"] = "Read", ["target"] = FilePath(rnd) });
            if (x < 52) return ("Edit", new Hashtable { ["tool"] = "Edit", ["target"] = FilePath(rnd) });
            if (x < 74) return ("Bash", new Hashtable { ["tool"] = "Bash", ["target"] = Commands[rnd.Next(Commands.Length)], ["exit_code"] = 0 });
            if (x < 84) return ("Grep", new Hashtable { ["tool"] = "Grep", ["target"] = Props[rnd.Next(Props.Length)] + (rnd.Next(2) == 0 ? "" : "\\(") , ["matches"] = rnd.Next(0, 60) });
            if (x < 91) return ("Glob", new Hashtable { ["tool"] = "Glob", ["target"] = Dirs[rnd.Next(Dirs.Length)] + "/**/*" + Exts[rnd.Next(Exts.Length)] });
            if (x < 98) return ("Write", new Hashtable { ["tool"] = "Write", ["target"] = FilePath(rnd) });
            return ("Task", new Hashtable { ["tool"] = "Task", ["target"] = "Explore how " + Stems[rnd.Next(Stems.Length)] + " is wired" });
        }

        private static string FilePath(Random rnd) => Dirs[rnd.Next(Dirs.Length)] + "/" + Stems[rnd.Next(Stems.Length)] + Exts[rnd.Next(Exts.Length)];
        private static string Pick(Random rnd, string[] from) => from[rnd.Next(from.Length)];
        private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

        /// <summary>Failure kinds: the tool, its target and the output the agent saw (varied values, often several lines).</summary>
        private static readonly Func<Random, (string Tool, string? Target, string Message)>[] Failures =
        {
            r => { var f = FilePath(r); return ("Read", f, "File does not exist. Current working directory: /work/shop. Did you mean " + Path.ChangeExtension(f, Pick(r, Exts)) + "?"); },
            r => { var f = FilePath(r); return ("Edit", f, "String to replace not found in file.\nString: " + Pick(r, Props) + " = " + r.Next(0, 500) + ";"); },
            r => { var f = FilePath(r); return ("Edit", f, $"Found {r.Next(2, 9)} matches of the string to replace, but replace_all is false. To replace all occurrences, set replace_all to true. To replace only one occurrence, please provide more context to uniquely identify the instance.\nString: return {Pick(r, Props)};"); },
            r => ("Write", FilePath(r), "File has not been read yet. Read it first before writing to it."),
            r =>
            {
                var failed = r.Next(1, 6);
                var sb = new StringBuilder("Exit code 1\n============================= test session starts ==============================\nplatform linux -- Python 3.12.3, pytest-8.3.2\ncollected ");
                var passed = r.Next(40, 400);
                sb.Append(passed + failed).Append(" items\n\n");
                for (var i = 0; i < failed; i++)
                    sb.Append("FAILED tests/unit/test_").Append(Pick(r, Stems)).Append(".py::test_").Append(Pick(r, Props)).Append('_').Append(Pick(r, Stems))
                      .Append(" - AssertionError: assert ").Append(r.Next(0, 1000)).Append(" == ").Append(r.Next(0, 1000)).Append('\n');
                sb.Append($"========================= {failed} failed, {passed} passed in {F(r.NextDouble() * 60 + 1, "0.00")}s =========================");
                return ("Bash", "pytest -x -q", sb.ToString());
            },
            r =>
            {
                var stem = Pick(r, Stems);
                return ("Bash", "npm test", $"Exit code 1\n FAIL  src/core/{stem}.test.ts ({F(r.NextDouble() * 9 + 0.3, "0.0")} s)\n  ● {Pick(r, Types)} › computes {Pick(r, Props)} for {r.Next(1, 12)} lines\n\n    expect(received).toBe(expected) // Object.is equality\n\n    Expected: {r.Next(1, 900)}\n    Received: {r.Next(1, 900)}\n\n      at Object.<anonymous> (src/core/{stem}.test.ts:{r.Next(5, 300)}:{r.Next(5, 40)})\n\nTests:       {r.Next(1, 5)} failed, {r.Next(20, 300)} passed, {r.Next(25, 310)} total");
            },
            r =>
            {
                var sb = new StringBuilder("Exit code 2\n");
                var n = r.Next(1, 5);
                for (var i = 0; i < n; i++)
                    sb.Append("src/").Append(Pick(r, new[] { "api", "core", "ui/components" })).Append('/').Append(Pick(r, Stems)).Append(".ts(").Append(r.Next(1, 400)).Append(',').Append(r.Next(1, 60))
                      .Append("): error TS2339: Property '").Append(Pick(r, Props)).Append("' does not exist on type '").Append(Pick(r, Types)).Append("'.\n");
                sb.Append("\nFound ").Append(n).Append(n == 1 ? " error." : " errors.");
                return ("Bash", "npx tsc --noEmit", sb.ToString());
            },
            r => ("Bash", "npm run lint", $"Exit code 1\n/work/shop/src/ui/components/{Pick(r, Stems)}.tsx\n  {r.Next(1, 300)}:{r.Next(1, 40)}  error  '{Pick(r, Props)}' is assigned a value but never used  @typescript-eslint/no-unused-vars\n  {r.Next(1, 300)}:{r.Next(1, 40)}  warning  Unexpected any. Specify a different type  @typescript-eslint/no-explicit-any\n\n✖ {r.Next(2, 9)} problems ({r.Next(1, 5)} errors, {r.Next(0, 4)} warnings)"),
            r => { var m = Pick(r, PyModules); return ("Bash", "python -m app.main", $"Exit code 1\nTraceback (most recent call last):\n  File \"/work/shop/src/api/{Pick(r, Stems)}.py\", line {r.Next(1, 80)}, in <module>\n    import {m}\nModuleNotFoundError: No module named '{m}'"); },
            r => { var c = Pick(r, new[] { "pnpm", "poetry", "psql", "jq", "yarn", "uv" }); return ("Bash", c + " install", $"Exit code 127\n/bin/bash: line 1: {c}: command not found"); },
            r => { var c = Pick(r, Commands); return ("Bash", c, $"Command timed out after {r.Next(1, 10)}m {F(r.NextDouble() * 59, "0.0")}s"); },
            r => { var script = $"./scripts/{Pick(r, new[] { "deploy", "seed", "migrate", "release" })}.sh"; return ("Bash", script, $"Exit code 126\n/bin/bash: line 1: {script}: Permission denied"); },
            r => ("Bash", "git checkout main", $"Exit code 1\nerror: Your local changes to the following files would be overwritten by checkout:\n\t{FilePath(r)}\n\t{FilePath(r)}\nPlease commit your changes or stash them before you switch branches.\nAborting"),
            r => ("Bash", "docker compose up -d db", $"Exit code 1\nError response from daemon: driver failed programming external connectivity on endpoint shop-db-{r.Next(1, 4)}: Bind for 0.0.0.0:{Pick(r, new[] { "5432", "6379", "3000", "8080" })} failed: port is already allocated"),
            r => { var p = Pick(r, NpmPackages); return ("Bash", "npm install " + p, $"Exit code 1\nnpm ERR! code E404\nnpm ERR! 404 Not Found - GET https://registry.npmjs.org/{p.Replace("/", "%2f")}{(r.Next(2) == 0 ? "x" : "")} - Not found\nnpm ERR! A complete log of this run can be found in: /home/dev/.npm/_logs/2026-10-{r.Next(10, 31)}T{r.Next(10, 23)}_{r.Next(10, 59)}_{r.Next(10, 59)}_{r.Next(100, 999)}Z-debug-0.log"); },
            r => ("llm", null, $"API Error: 429 {{\"type\":\"error\",\"error\":{{\"type\":\"rate_limit_error\",\"message\":\"This request would exceed the rate limit for your organization of {r.Next(4, 40) * 10000} input tokens per minute.\"}}}}"),
            r => { var f = FilePath(r); return ("Read", f, $"File content ({r.Next(25001, 90000)} tokens) exceeds maximum allowed tokens (25000). Please use offset and limit parameters to read specific portions of the file, or use the GrepTool to search for specific content."); },
            r => ("Bash", "psql -c 'select 1'", $"Exit code 2\npsql: error: connection to server at \"localhost\" (127.0.0.1), port {Pick(r, new[] { "5432", "5433" })} failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"),
        };

        // ---- Claude Code transcripts ----

        /// <summary>One Claude Code session as a transcript; returns the events it imports as (one per response, one per tool result, one per rejection).</summary>
        private static long WriteTranscript(string folder, Plan p)
        {
            var rnd = new Random(5000 + p.Index);
            var session = Guid(rnd);
            var path = Path.Combine(folder, session + ".jsonl");
            long events = 0;
            var t = p.StartMs;
            var context = 15000 + rnd.Next(10000);
            string? parent = null;
            var model = Models[rnd.Next(2)];
            using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
            using var w = new Utf8JsonWriter(fs);
            void Envelope(string type, string uuid)
            {
                w.WriteString("parentUuid", parent);
                w.WriteBoolean("isSidechain", false);
                w.WriteString("userType", "external");
                w.WriteString("cwd", "/work/shop");
                w.WriteString("sessionId", session);
                w.WriteString("version", "2.1.38");
                w.WriteString("gitBranch", StoryBranches[p.Story]);
                w.WriteString("type", type);
                w.WriteString("uuid", uuid);
                w.WriteString("timestamp", DateTimeOffset.FromUnixTimeMilliseconds(t).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            }
            void End() { w.WriteEndObject(); w.Flush(); fs.WriteByte((byte)'\n'); w.Reset(fs); }

            // The developer's prompt.
            var uuid0 = Guid(rnd);
            w.WriteStartObject();
            Envelope("user", uuid0);
            w.WriteStartObject("message"); w.WriteString("role", "user"); w.WriteString("content", "Implement the next task of story " + Stories[p.Story] + " and run the tests"); w.WriteEndObject();
            End();
            parent = uuid0;
            while (events < p.Events)
            {
                t += rnd.Next(1500, 25000);
                context = Math.Min(195000, context + rnd.Next(200, 6000));
                if (context > 170000 && rnd.NextDouble() < 0.5) context = 20000 + rnd.Next(15000);
                var toolUse = events + 1 < p.Events;
                var toolId = "toolu_01" + Base62(rnd, 22);
                var failing = toolUse && rnd.NextDouble() < 0.07;
                string tool, target; string? message = null;
                if (failing)
                {
                    var f = Failures[rnd.Next(Failures.Length)](rnd);
                    tool = f.Tool == "llm" ? "Bash" : f.Tool; target = f.Target ?? "npm test"; message = f.Message;
                    if (tool == "Read" && message.StartsWith("File does not exist", StringComparison.Ordinal)) message = "<tool_use_error>File does not exist.</tool_use_error>";
                }
                else
                {
                    var (tl, d) = ToolCall(rnd);
                    tool = tl; target = (string)d["target"]!;
                }
                var rejected = toolUse && !failing && rnd.NextDouble() < 0.004;
                var msgUuid = Guid(rnd);
                w.WriteStartObject();
                Envelope("assistant", msgUuid);
                w.WriteStartObject("message");
                w.WriteString("model", model);
                w.WriteString("id", "msg_01" + Base62(rnd, 22));
                w.WriteString("type", "message");
                w.WriteString("role", "assistant");
                w.WriteStartArray("content");
                if (toolUse)
                {
                    w.WriteStartObject(); w.WriteString("type", "tool_use"); w.WriteString("id", toolId); w.WriteString("name", tool);
                    w.WriteStartObject("input");
                    w.WriteString(tool == "Bash" ? "command" : tool == "Grep" || tool == "Glob" ? "pattern" : tool == "Task" ? "description" : "file_path", tool is "Read" or "Edit" or "Write" ? "/work/shop/" + target : target);
                    w.WriteEndObject(); w.WriteEndObject();
                }
                else { w.WriteStartObject(); w.WriteString("type", "text"); w.WriteString("text", "Done: the tests pass."); w.WriteEndObject(); }
                w.WriteEndArray();
                w.WriteString("stop_reason", toolUse ? "tool_use" : "end_turn");
                w.WriteStartObject("usage");
                var output = rnd.Next(20, 1500);
                var created = rnd.Next(0, 4000);
                w.WriteNumber("input_tokens", rnd.Next(1, 12));
                w.WriteNumber("cache_creation_input_tokens", created);
                w.WriteNumber("cache_read_input_tokens", context - created);
                w.WriteNumber("output_tokens", output);
                w.WriteString("service_tier", "standard");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteString("requestId", "req_011C" + Base62(rnd, 20));
                End();
                parent = msgUuid;
                events++;
                if (!toolUse) break;

                t += tool == "Bash" ? (long)Math.Min(600000, Math.Exp(7 + 1.6 * Gaussian(rnd))) : rnd.Next(5, 400);
                var resultUuid = Guid(rnd);
                w.WriteStartObject();
                Envelope("user", resultUuid);
                w.WriteStartObject("message"); w.WriteString("role", "user");
                w.WriteStartArray("content");
                w.WriteStartObject(); w.WriteString("type", "tool_result"); w.WriteString("tool_use_id", toolId);
                var text = rejected ? "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed."
                    : message ?? (tool == "Bash" ? "ok" : tool == "Read" ? "     1\t// " + target + "\n     2\texport {};" : "Done");
                w.WriteString("content", text);
                if (failing || rejected) w.WriteBoolean("is_error", true);
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
                if (failing || rejected) w.WriteString("toolUseResult", "Error: " + text);
                End();
                parent = resultUuid;
                events += rejected ? 2 : 1;
            }
            return events;
        }

        private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        private static string Base62(Random rnd, int length)
        {
            var c = new char[length];
            for (var i = 0; i < length; i++) c[i] = Alphabet[rnd.Next(62)];
            return new string(c);
        }
        private static string Hex(Random rnd, int length)
        {
            var c = new char[length];
            for (var i = 0; i < length; i++) c[i] = "0123456789abcdef"[rnd.Next(16)];
            return new string(c);
        }
        private static string Guid(Random rnd)
        {
            var b = new byte[16];
            rnd.NextBytes(b);
            return new System.Guid(b).ToString();
        }
    }
}

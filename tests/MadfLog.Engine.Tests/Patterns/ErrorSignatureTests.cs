using System.IO;
using System.Linq;
using MadfLog.Engine.Patterns;
using Xunit;
using Xunit.Abstractions;
using MadfLog.TestSupport;

namespace MadfLog.Engine.Tests.Patterns
{
    public class ErrorSignatureTests
    {
        private readonly ITestOutputHelper _out;
        public ErrorSignatureTests(ITestOutputHelper output) { _out = output; }

        [Theory]
        [InlineData("5432")]
        [InlineData("3000")]
        [InlineData("8080")]
        public void ANumberEndingInZeroBeforeFailedIsNoPassingSummary(string port)
        {
            // "0 failed" (a runner's all-passed summary) is noise; "0.0.0.0:3000 failed" is docker's error. The port split
            // one mistake into two patterns: those ending in 0 had no decisive line.
            var sig = ErrorSignature.Of("Bash", "docker compose up -d db",
                $"Exit code 1\nError response from daemon: driver failed programming external connectivity on endpoint db-1: Bind for 0.0.0.0:{port} failed: port is already allocated");
            Assert.Contains("port is already allocated", sig.DecisiveLine);
            var count = ErrorSignature.Of("Bash", "npx tsc --noEmit", "Exit code 2\nsrc/a.ts(3,1): error TS2304: Cannot find name 'x'.\nFound 10 errors in 3 files.");
            Assert.DoesNotContain("Found 10 errors", count.DecisiveLines);
            Assert.Empty(ErrorSignature.FindDecisiveLines(new[] { "Tests: 0 failed, 12 passed", "0 errors" }));
        }

        [Theory]
        [InlineData("cd /repo && uv run ruff check src/x.py --fix", "ruff check")]
        [InlineData("npm test -- src/a.test.ts", "npm test")]
        [InlineData("npm run build 2>&1 | tail -20", "npm run build")]
        [InlineData("FOO=1 BAR=2 npx tsc --noEmit", "tsc")]
        [InlineData("git add . && git commit -m 'x' && git push", "git push")]
        [InlineData("ssh host \"cd /srv && docker compose up -d\" 2>&1", "docker compose up")]
        [InlineData("python3 -m pytest -q tests/", "pytest")]
        [InlineData("/home/u/.venv/bin/esphome compile device.yaml", "esphome compile")]
        [InlineData("timeout 30 cargo test --all", "cargo test")]
        [InlineData("echo start; sleep 2; curl -s http://localhost:8000/", "curl")]
        [InlineData("cat package.json | jq .scripts", "jq")]
        [InlineData("echo '{\"a\": 1}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"b\"])'", "python3")]
        [InlineData("find src -name '*.ts' | grep -v node_modules | xargs grep -l useTodos", "grep")]
        [InlineData("ps aux | grep -i node", "grep")]
        [InlineData("pytest -q 2>&1 | tee out.txt | tail -5", "pytest")]
        public void TheProgramIsTheStepThatDoesTheWork(string command, string expected) =>
            Assert.Equal(expected, ShellCommand.ProgramKey(command));

        [Fact]
        public void APipelineFailedInTheStageItsOutputNames()
        {
            // A pipeline's status is its last stage's, but the output may name an earlier one: curl could not connect, so
            // jq had nothing to read. (Before, every pipeline was keyed by its first stage: "cat f | jq" was cat's.)
            Assert.Equal("curl", ShellCommand.ProgramKey("curl -s http://api.local/x | jq .items", "curl: (6) Could not resolve host: api.local"));
            Assert.Equal("jq", ShellCommand.ProgramKey("cat data.json | jq .items | head -3", "jq: error (at <stdin>:3): Cannot iterate over null"));
            // "cat:" inside a line is not a stage naming itself.
            Assert.Equal("jq", ShellCommand.ProgramKey("cat data.json | jq .items", "parse error near cat: line 1"));
        }

        [Fact]
        public void AnErrorLineThatNamesItsProgramIsNotHeadedByItTwice()
        {
            var sig = ErrorSignature.Of("Bash", "cat package.json | jq .scripts.test", "Exit code 5\njq: error (at <stdin>:20): Cannot index string with string \"test\"");
            Assert.Equal("jq", sig.Program);
            Assert.StartsWith("Bash jq: error (at", sig.Text);
        }

        [Fact]
        public void AnAndChainWithoutOutputFailedAtItsFirstWorkingStep() =>
            Assert.Equal("ls", ShellCommand.ProgramKey("ls /x/y.bin 2>/dev/null && head -5 /x/y.bin", ""));

        [Fact]
        public void ColoursWrappersAndProgressAreRemoved()
        {
            Assert.Equal("File has not been read yet.", ErrorSignature.Clean("<tool_use_error>File has not been read yet.</tool_use_error>"));
            Assert.Equal("FAIL src/a.ts", ErrorSignature.Clean("\u001b[31mFAIL\u001b[0m src/a.ts"));
            Assert.Equal("100%", ErrorSignature.Clean("10%\r50%\r100%"));
        }

        [Fact]
        public void ATracebackIsDecidedByItsException()
        {
            var s = ErrorSignature.Of("Bash", "uv run python app.py", "Exit code 1\nTraceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n    main()\nKeyError: 'name'");
            Assert.Equal(1, s.ExitCode);
            Assert.Equal("KeyError: 'name'", s.DecisiveLine);
            Assert.Equal("Bash python: KeyError: 'name'", s.Text);
        }

        [Fact]
        public void LintRunsOfOneToolShareASignatureWhateverTheyReport()
        {
            var a = ErrorSignature.Of("Bash", "uv run ruff check src/a.py", "Exit code 1\nF401 `os` imported but unused\n --> src/a.py:1:8\n  |\n1 | import os\n  |");
            var b = ErrorSignature.Of("Bash", "cd /w && uv run ruff check --fix src/", "Exit code 1\nUsing CPython 3.12\nE501 Line too long (120 > 100)\n --> src/b.py:9:101");
            Assert.Equal(a.Text, b.Text);
            Assert.Equal(ErrorClasses.LintFailure, a.ErrorClass);
        }

        [Fact]
        public void ABannerSaysNothingAboutTheFailure()
        {
            var banner = "Exit code 1\n***************\n   AUTHORIZED ACCESS ONLY\n***************\nUnauthorized access is forbidden and denied.\n***************";
            var s = ErrorSignature.Of("Bash", "ssh box \"grep -r TOKEN /etc/app.env\"", banner);
            Assert.Equal(ErrorClasses.ProbeNoMatch, s.ErrorClass);
        }

        [Theory]
        [InlineData("Bash", "curl -s http://10.0.0.9/", "Exit code 7", "Network")]
        // curl's exit 7 (could not connect) is what failed; the lines before it are an earlier step's output.
        [InlineData("Bash", "docker logs api 2>&1; curl -s http://127.0.0.1:3030/health", "Exit code 7\nDatabase init failed: error: password authentication failed for user \"app\"\n    at /app/node_modules/pg-pool/index.js:45:11", "Network")]
        [InlineData("Bash", "ping -c 1 box.local", "Exit code 2", "Network")]
        [InlineData("Bash", "wget -q https://files.example.test/a.tgz", "Exit code 4", "Network")]
        // A registry out of reach lists no versions of anything: the warnings say why (a sandbox without network).
        [InlineData("Bash", "pip install requests", "Exit code 1\nWARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/requests/\nERROR: Could not find a version that satisfies the requirement requests (from versions: none)\nERROR: No matching distribution found for requests", "Network")]
        [InlineData("Bash", "sudo apt-get install -y jq", "Exit code 100\nW: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'\nE: Unable to locate package jq", "Network")]
        [InlineData("Bash", "pip install reqeusts", "Exit code 1\nERROR: Could not find a version that satisfies the requirement reqeusts (from versions: none)\nERROR: No matching distribution found for reqeusts", "PackageNotFound")]
        // wget's 6 is its credentials refused (curl's 6 is a host not resolved).
        [InlineData("Bash", "wget -q --user=ci https://files.example.test/a.tgz", "Exit code 6", "Authentication")]
        // A service not listening, as libpq, Prisma, kubectl and Go's net package say it (not a missing path or an unknown error).
        [InlineData("Bash", "psql -c \"select 1\"", "Exit code 2\npsql: error: connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: No such file or directory\n\tIs the server running locally and accepting connections on that socket?", "Network")]
        [InlineData("Bash", "npx prisma migrate dev", "Exit code 1\nError: P1001: Can't reach database server at `localhost`:`5432`", "Network")]
        [InlineData("Bash", "kubectl get pods", "Exit code 1\nThe connection to the server localhost:8080 was refused - did you specify the right host or port?", "Network")]
        [InlineData("Bash", "docker compose up -d", "Exit code 1\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", "Network")]
        // The same client's authentication failure over that socket is not the service being down, nor a file permission.
        [InlineData("Bash", "psql -U app", "Exit code 2\npsql: error: connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  Peer authentication failed for user \"app\"", "Authentication")]
        [InlineData("Bash", "go run ./cmd/api", "Exit code 1\n2026/11/30 10:00:00 dial tcp 127.0.0.1:6379: connect: connection refused", "Network")]
        [InlineData("Bash", "pnpm coverage", "Exit code 1\n MISSING DEPENDENCY  Cannot find dependency '@vitest/coverage-v8'", "DependencyMissing")]
        [InlineData("Bash", "cd app && make", "/bin/bash: line 1: cd: app: No such file or directory", "PathNotFound")]
        [InlineData("Bash", "ls -la /opt/x.bin 2>&1", "Exit code 1\nls: /opt/x.bin: No such file or directory", "ProbeNoMatch")]
        [InlineData("Bash", "rm /tmp/x* && node t.js", "Exit code 1\n(eval):1: no matches found: /tmp/x*", "UnquotedGlob")]
        // Credentials a service refused or could not find: who may call it, not which files may be written.
        [InlineData("Bash", "git push", "Exit code 128\nremote: Permission to a/b.git denied to c.\nfatal: unable to access", "Authentication")]
        [InlineData("Bash", "git push origin main", "Exit code 128\ngit@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.", "Authentication")]
        [InlineData("Bash", "aws s3 ls", "Exit code 255\n\nUnable to locate credentials. You can configure credentials by running \"aws configure\".", "Authentication")]
        [InlineData("Bash", "curl -sf -H @h https://api.github.com/user", "Exit code 22\ncurl: (22) The requested URL returned error: 401 Unauthorized", "Authentication")]
        [InlineData("Bash", "cp build/app /usr/local/bin/", "Exit code 1\ncp: cannot create regular file '/usr/local/bin/app': Permission denied", "Permission")]
        [InlineData("Bash", "composer install", "Exit code 2\nYour requirements could not be resolved to an installable set of packages.\n\n  Problem 1\n    - Root composer.json requires php ^8.3 but your php version (8.1.2) does not satisfy that requirement.", "DependencyConflict")]
        [InlineData("Bash", "uv sync", "Exit code 1\n  × No solution found when resolving dependencies:\n  ╰─▶ Because app depends on numpy>=3 and there are no versions of numpy that satisfy numpy>=3, we can conclude that your requirements are unsatisfiable.", "DependencyConflict")]
        [InlineData("Bash", "npm test", "FAIL src/a.test.ts\n  ● adds\n    expect(received).toBe(expected)", "TestFailure")]
        [InlineData("Bash", "npm run typecheck", "src/a.ts(3,1): error TS2322: Type 'string' is not assignable", "TypeCheckFailure")]
        [InlineData("Bash", "npm test", "Command timed out after 2m 0.0s", "Timeout")]
        [InlineData("Bash", "npm run test:unit", "sh: -c: line 0: syntax error near unexpected token `('", "ShellSyntax")]
        [InlineData("Bash", "python app.py", "  File \"app.py\", line 3\n    def f(:\nSyntaxError: invalid syntax", "Syntax")]
        [InlineData("Edit", "/src/a.ts", "<tool_use_error>File has been modified since read, either by the user or by a linter.</tool_use_error>", "FileChanged")]
        [InlineData("Read", "/src", "EISDIR: illegal operation on a directory, read", "ReadDirectory")]
        [InlineData("Read", "/big.ts", "File content (30000 tokens) exceeds maximum allowed tokens (25000).", "FileTooLarge")]
        [InlineData("Bash", "rm -rf build", "PreToolUse:Bash hook error: [hook.py]: BLOCKED: Dangerous rm command", "HookBlocked")]
        [InlineData("mcp__db__query", "{}", "Error: No such tool available: mcp__db__query", "ToolUnavailable")]
        public void ErrorsAreClassedByWhatWentWrong(string tool, string input, string text, string expected) =>
            Assert.Equal(expected, ErrorSignature.Of(tool, input, text).ErrorClass);

        [Fact]
        public void OneMistakeWithDifferentPayloadsIsOneSignature()
        {
            var a = ErrorSignature.Of("Bash", "curl -s https://api.example.test/a", "Exit code 6");
            var b = ErrorSignature.Of("Bash", "ping -c 2 host.local 2>&1; echo ---; curl -s --connect-timeout 5 http://192.168.1.4/", "Exit code 28\n---");
            Assert.Equal(a.Text, b.Text);
            var relative = ErrorSignature.Of("Bash", "ls -la types/", "ls: cannot access 'types/': No such file or directory");
            var cd = ErrorSignature.Of("Bash", "cd web && npm i", "/bin/bash: line 1: cd: web: No such file or directory");
            Assert.Equal(relative.Text, cd.Text);
        }

        [Fact]
        public void AUserRejectionIsOneMistakeWhateverTheToolAndGitStatesStayApart()
        {
            var rejection = "The user doesn't want to proceed with this tool use. The tool use was rejected.";
            Assert.Equal(ErrorSignature.Of("Task", "x", rejection).Text, ErrorSignature.Of("TaskOutput", "y", "[Request interrupted by user for tool use]").Text);
            var upstream = ErrorSignature.Of("Bash", "git push", "Exit code 128\nfatal: The current branch feat has no upstream branch.");
            var ignored = ErrorSignature.Of("Bash", "git add dist", "Exit code 1\nThe following paths are ignored by one of your .gitignore files:\ndist");
            Assert.Equal(ErrorClasses.GitState, upstream.ErrorClass);
            Assert.Equal(ErrorClasses.GitState, ignored.ErrorClass);
            Assert.NotEqual(upstream.Text, ignored.Text);
        }

        [Fact]
        public void RealAgentErrorsAreGroupedTheWayADeveloperWould()
        {
            var dir = Path.Combine(TestPaths.Shared, "data", "agent-errors");
            var errors = GroupingAccuracy.LoadAgentErrors(Path.Combine(dir, "errors.jsonl"), Path.Combine(dir, "labels.csv"), "User rejected or interrupted tool call");
            Assert.True(errors.Count > 100);
            var miner = new TemplateMiner();
            var signatures = errors.Select(e => ErrorSignature.Of(e.Tool, e.Input, e.Text)).ToList();
            var assigned = signatures.Select(s => miner.Add(s.Text)).ToList();
            var predicted = assigned.Select(p => miner.Resolve(p).Id).ToList();
            var ga = GroupingAccuracy.Score(predicted, errors.Select(e => e.Group).ToList());
            var other = signatures.Count(s => s.ErrorClass == ErrorClasses.Other) / (double)signatures.Count;
            _out.WriteLine($"GA {ga:F3}, Other {other:P0}");
            Assert.True(ga >= 0.85, $"GA {ga:F3}"); // measured 0.862 (was 0.39 before signatures)
            Assert.True(other <= 0.20, $"Other {other:P0}");
        }
    }
}

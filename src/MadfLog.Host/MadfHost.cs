using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace MadfLog.Host
{
    /// <summary>A console host: enough of PSHost for Out-Default, warnings, progress and 'exit N'.</summary>
    internal sealed class MadfHost : PSHost
    {
        private readonly Guid _id = Guid.NewGuid();
        private readonly ConsoleUI _ui = new ConsoleUI();

        public bool ShouldExit { get; private set; }
        public int ExitCode { get; private set; }

        public override string Name => "madflog";
        public override Version Version => typeof(MadfHost).Assembly.GetName().Version ?? new Version(0, 1);
        public override Guid InstanceId => _id;
        public override PSHostUserInterface UI => _ui;
        public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
        public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;
        public override void SetShouldExit(int exitCode) { ShouldExit = true; ExitCode = exitCode; }
        public override void EnterNestedPrompt() => throw new NotSupportedException("madflog has no nested prompt.");
        public override void ExitNestedPrompt() => throw new NotSupportedException("madflog has no nested prompt.");
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
    }

    internal sealed class ConsoleUI : PSHostUserInterface
    {
        private readonly ConsoleRawUI _raw = new ConsoleRawUI();
        public override PSHostRawUserInterface RawUI => _raw;

        // Colours only on a real terminal; redirected output stays plain text.
        public override bool SupportsVirtualTerminal => !Console.IsOutputRedirected;

        private static readonly System.Text.RegularExpressions.Regex Ansi = new System.Text.RegularExpressions.Regex("\u001b\\[[0-9;]*[A-Za-z]");

        private static string Out(string value) => Console.IsOutputRedirected ? Ansi.Replace(value, "") : value;
        private static string Err(string value) => Console.IsErrorRedirected ? Ansi.Replace(value, "") : value;

        public override void Write(string value) => Console.Out.Write(Out(value));
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Console.Out.Write(Out(value));
        public override void WriteLine(string value) => Console.Out.WriteLine(Out(value));
        public override void WriteErrorLine(string value) => Console.Error.WriteLine(Err(value));
        public override void WriteDebugLine(string message) => Console.Error.WriteLine("DEBUG: " + message);
        public override void WriteVerboseLine(string message) => Console.Error.WriteLine("VERBOSE: " + message);
        public override void WriteWarningLine(string message) => Console.Error.WriteLine("WARNING: " + message);
        public override void WriteInformation(InformationRecord record) { }
        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
            // Progress is for people at a terminal; keep redirected output clean.
            if (Console.IsErrorRedirected || record.RecordType == ProgressRecordType.Completed) return;
            Console.Error.Write($"\r{record.Activity}: {record.StatusDescription}".PadRight(Math.Min(_raw.BufferSize.Width - 1, 119)));
        }

        public override string ReadLine() => Console.ReadLine() ?? "";
        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException("madflog cannot read secure input.");

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
        {
            if (Console.IsInputRedirected) throw new PSInvalidOperationException("madflog cannot prompt: input is redirected (pass the value as a parameter).");
            var result = new Dictionary<string, PSObject>();
            Console.Out.WriteLine(caption);
            Console.Out.WriteLine(message);
            foreach (var d in descriptions)
            {
                Console.Out.Write(d.Name + ": ");
                result[d.Name] = new PSObject(Console.ReadLine() ?? "");
            }
            return result;
        }

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            if (Console.IsInputRedirected) throw new PSInvalidOperationException("madflog cannot ask for confirmation: input is redirected (use -Confirm:$false or -Force).");
            Console.Out.WriteLine(caption);
            Console.Out.WriteLine(message);
            for (var i = 0; i < choices.Count; i++)
                Console.Out.WriteLine($"[{i}] {choices[i].Label.Replace("&", "")}{(i == defaultChoice ? " (default)" : "")}");
            var answer = Console.ReadLine();
            return int.TryParse(answer, out var n) && n >= 0 && n < choices.Count ? n : defaultChoice;
        }

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            throw new NotSupportedException("madflog cannot prompt for credentials.");

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
            PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
            throw new NotSupportedException("madflog cannot prompt for credentials.");
    }

    internal sealed class ConsoleRawUI : PSHostRawUserInterface
    {
        private static int Width()
        {
            if (Console.IsOutputRedirected) return 120;
            try { return Console.WindowWidth > 0 ? Console.WindowWidth : 120; } catch (System.IO.IOException) { return 120; }
        }

        public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
        public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
        public override Size BufferSize { get => new Size(Width(), 9999); set { } }
        public override Coordinates CursorPosition { get; set; }
        public override int CursorSize { get; set; }
        public override bool KeyAvailable => false;
        public override Size MaxPhysicalWindowSize => new Size(Width(), 100);
        public override Size MaxWindowSize => new Size(Width(), 100);
        public override Coordinates WindowPosition { get; set; }
        public override Size WindowSize { get => new Size(Width(), 50); set { } }
        public override string WindowTitle { get; set; } = "madflog";
        public override void FlushInputBuffer() { }
        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();
        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException("madflog cannot read keys.");
        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
    }
}

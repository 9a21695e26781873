using System;
using System.Collections.Generic;
using MadfLog.Engine.Events;

namespace MadfLog.Engine.Import
{
    /// <summary>What became of one input line.</summary>
    public enum LineOutcome
    {
        /// <summary>The line was understood; it produced zero or more events.</summary>
        Parsed,
        /// <summary>A record type with nothing to analyse (e.g. a transcript's file-history-snapshot): neither an event nor bad input.</summary>
        Skipped,
        /// <summary>The line cannot be mapped; it goes to the quarantine table with the reason.</summary>
        Quarantined,
    }

    /// <summary>The file a parser is working on.</summary>
    public sealed class LogFileContext
    {
        public LogFileContext(string path, ImportOptions options)
        {
            Path = path;
            Options = options;
        }

        public string Path { get; }
        public ImportOptions Options { get; }

        /// <summary>
        /// Whether a format whose parser writes details itself keeps them as that UTF-8 (<see cref="UnsplitDetails"/>) for
        /// the import's preparing thread to split, instead of the preparing thread encoding their text again.
        /// </summary>
        internal bool KeepDetailsUnsplit { get; set; }
    }

    /// <summary>A log format Import-MadfLog understands (QuickLogger "Madf", Claude Code transcripts, ...).</summary>
    public interface ILogFormat
    {
        /// <summary>The name users pass to -Format.</summary>
        string Name { get; }

        /// <summary>True when the first non-blank line of a file looks like this format.</summary>
        bool Recognizes(string path, ReadOnlySpan<byte> firstLine);

        ILineParser CreateParser(LogFileContext file);
    }

    /// <summary>
    /// A format whose file is one JSON array (pretty-printed or not) whose elements are the records: each element is
    /// handed to the parser as one "line". Such a file is rewritten rather than appended to, so a changed file is read
    /// again from the start (dedup keys keep that exactly-once). <see cref="ILogFormat.Recognizes"/> gets the first element.
    /// </summary>
    public interface IJsonArrayFormat : ILogFormat
    {
    }

    /// <summary>A parser that holds events until it knows more (e.g. a time from a later record) and gives them out at the end of the file.</summary>
    public interface IEndOfFileParser : ILineParser
    {
        /// <summary>Called once all complete lines of the file were parsed: appends the events still held.</summary>
        void EndOfFile(List<EventRow> output);
    }

    /// <summary>Turns a file's lines into events; one instance per file per import run, used on one thread.</summary>
    public interface ILineParser
    {
        /// <summary>Parses one complete line (no terminator, BOM removed) and appends its events to <paramref name="output"/>.</summary>
        LineOutcome Parse(ReadOnlySpan<byte> line, long lineNumber, long lineOffset, List<EventRow> output, out string? reason);

        /// <summary>
        /// The offset of the earliest line whose meaning still depends on lines not read yet (e.g. a tool call
        /// waiting for its result), or null. The importer resumes there next time; dedup keys make re-reading safe.
        /// </summary>
        long? EarliestPendingOffset { get; }
    }

    /// <summary>
    /// A parser whose keys depend on the lines before (identical lines are told apart by their occurrence in the file):
    /// when a file is resumed, it continues from the state saved with the file's cursor, or else the importer shows it the
    /// lines before the resume point, as Parse would have seen them.
    /// </summary>
    public interface IReplaysEarlierLines
    {
        void Replay(ReadOnlySpan<byte> line);

        /// <summary>What the lines parsed so far left for the keys of the lines to come (what a replay of them rebuilds), saved with the cursor.</summary>
        byte[] SavedState();

        /// <summary>Continues from a <see cref="SavedState"/> instead of a replay of the lines before; false when it is not a state this version reads.</summary>
        bool ContinueFrom(byte[] state);
    }
}

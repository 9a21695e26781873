using System;
using System.Collections.Generic;
using MadfLog.Engine.Query.Questions;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>One error pattern with its breakdowns.</summary>
    public sealed class ErrorPattern
    {
        public long PatternId { get; set; }
        public string Template { get; set; } = "";
        public string ErrorClass { get; set; } = "Other";
        public long Count { get; set; }
        public double Share { get; set; }
        public Dictionary<string, long> ByStory { get; set; } = new Dictionary<string, long>();
        public Dictionary<string, long> ByAgent { get; set; } = new Dictionary<string, long>();
        public DateTime FirstSeen { get; set; }
        public DateTime LastSeen { get; set; }
        public string[] Examples { get; set; } = Array.Empty<string>();
    }

    /// <summary>A recurring sequence: a retry loop (the same failing pattern again and again in a session) or steps that often lead to an error.</summary>
    public sealed class ErrorSequence
    {
        /// <summary>RetryLoop or LeadsToError.</summary>
        public string Kind { get; set; } = "";
        public string Sequence { get; set; } = "";
        public long Occurrences { get; set; }
        public long Sessions { get; set; }
        public long? PatternId { get; set; }
        /// <summary>For retry loops: the longest run of the same error in one session.</summary>
        public int LongestRun { get; set; }
    }

    /// <summary>The pattern questions' entry points (each question is in Questions/).</summary>
    public static class PatternAnalysis
    {
        public static List<ErrorPattern> ErrorPatterns(SqliteConnection c, QueryFilter f, int top = 20) => ErrorPatternsQuestion.ErrorPatterns(c, f, top);

        /// <summary>Retry loops and leads-to-error sequences (see <see cref="ErrorSequencesQuestion"/>).</summary>
        public static List<ErrorSequence> ErrorSequences(SqliteConnection c, QueryFilter f, int top = 20, int minSupport = 3, string? kind = null) => ErrorSequencesQuestion.ErrorSequences(c, f, top, minSupport, kind);
    }
}

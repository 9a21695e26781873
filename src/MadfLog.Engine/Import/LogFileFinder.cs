using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace MadfLog.Engine.Import
{
    /// <summary>Expands files and folders (already resolved to file-system paths) into the log files to read.</summary>
    public static class LogFileFinder
    {
        public static bool IsLogFile(string path) =>
            path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ||
            path.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase);

        /// <summary>A .json file (or .json.gz) found in a folder is read only when it is a JSON array of records a format knows (e.g. chat.json dumps).</summary>
        private static bool IsRecordArray(string path)
        {
            if (!path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".json.gz", StringComparison.OrdinalIgnoreCase)) return false;
            try { return LogFormats.RecognizeArray(path, FileProbe.Read(path).Head) != null; }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return false; }
        }

        public static bool IsGzip(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// Files as given (any extension), folders walked recursively for *.jsonl and *.jsonl.gz (and *.json arrays of
        /// records), in a stable order.
        /// </summary>
        public static List<string> Expand(IEnumerable<string> paths)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var files = new List<string>();
            foreach (var p in paths)
            {
                var full = Path.GetFullPath(p);
                if (Directory.Exists(full))
                {
                    var found = Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Where(f => IsLogFile(f) || IsRecordArray(f)).ToList();
                    found.Sort(StringComparer.Ordinal);
                    foreach (var f in found) if (seen.Add(f)) files.Add(f);
                }
                else if (seen.Add(full))
                {
                    files.Add(full);
                }
            }
            return files;
        }
    }
}

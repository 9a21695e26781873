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
        /// records), in a stable order. Each
        /// real file is listed once, however many links lead to it; a folder reached again through a link (a loop) is not
        /// walked again, and a folder that cannot be listed is skipped: both are reported to <paramref name="onIssue"/>.
        /// </summary>
        public static List<string> Expand(IEnumerable<string> paths, Action<ImportIssue>? onIssue = null)
        {
            var files = new List<string>();
            var seenFiles = new HashSet<string>(StringComparer.Ordinal);
            var seenFolders = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in paths)
            {
                var full = Path.GetFullPath(p);
                if (Directory.Exists(full))
                {
                    var found = new List<string>();
                    Walk(full, found, seenFolders, onIssue);
                    found.Sort(StringComparer.Ordinal);
                    foreach (var f in found) if (seenFiles.Add(FileIdentity.Of(f))) files.Add(f);
                }
                else if (seenFiles.Add(File.Exists(full) ? FileIdentity.Of(full) : full))
                {
                    files.Add(full);
                }
            }
            return files;
        }

        private static void Walk(string root, List<string> found, HashSet<string> seenFolders, Action<ImportIssue>? onIssue)
        {
            var pending = new Stack<string>();
            pending.Push(root);
            while (pending.Count > 0)
            {
                var folder = pending.Pop();
                var identity = FileIdentity.Of(folder);
                if (!seenFolders.Add(identity))
                {
                    if (!string.Equals(folder, root, StringComparison.Ordinal))
                        onIssue?.Invoke(new ImportIssue("FolderLoop", folder, 0,
                            string.Format(Messages.Culture, Messages.IssueFolderLoop, identity)));
                    continue;
                }
                string[] entries, folders;
                try
                {
                    entries = Directory.GetFiles(folder);
                    folders = Directory.GetDirectories(folder);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is System.Security.SecurityException)
                {
                    // One folder that cannot be listed must not stop the others.
                    onIssue?.Invoke(new ImportIssue("FolderUnreadable", folder, 0, string.Format(Messages.Culture, Messages.IssueFolderUnreadable, ex.Message)));
                    continue;
                }
                found.AddRange(entries.Where(f => IsLogFile(f) || IsRecordArray(f)));
                Array.Sort(folders, StringComparer.Ordinal);
                for (var i = folders.Length - 1; i >= 0; i--) pending.Push(folders[i]);
            }
        }
    }
}

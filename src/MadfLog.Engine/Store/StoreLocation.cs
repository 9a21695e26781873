using System;
using System.IO;
using System.Runtime.InteropServices;

namespace MadfLog.Engine.Store
{
    /// <summary>Where MadfLog keeps its data when the user does not say.</summary>
    public static class StoreLocation
    {
        public const string DatabaseVariable = "MADFLOG_DB";
        public const string DatabaseFileName = "madflog.db";

        /// <summary>$env:MADFLOG_DB, else the per-user data folder (LOCALAPPDATA on Windows, XDG data home elsewhere).</summary>
        public static string DefaultDatabasePath()
        {
            var fromEnv = Environment.GetEnvironmentVariable(DatabaseVariable);
            if (!string.IsNullOrWhiteSpace(fromEnv)) return Path.GetFullPath(fromEnv!);
            return Path.Combine(DataFolder(), DatabaseFileName);
        }

        /// <summary>
        /// What a database's companion files and jobs carry in their names (archive folder, revision reports, scheduled
        /// jobs), so two databases in one folder never share them: nothing for the default madflog.db (its files keep
        /// the names they always had), else "-" and the database's file name without extension ("team.db": "-team").
        /// </summary>
        public static string CompanionSuffix(string databasePath)
        {
            var stem = Path.GetFileNameWithoutExtension(databasePath);
            if (string.Equals(stem, Path.GetFileNameWithoutExtension(DatabaseFileName), StringComparison.OrdinalIgnoreCase)) return "";
            var safe = new char[stem.Length];
            for (var i = 0; i < stem.Length; i++) safe[i] = char.IsLetterOrDigit(stem[i]) || stem[i] == '_' || stem[i] == '-' ? stem[i] : '-';
            return "-" + new string(safe);
        }

        /// <summary>The per-user MadfLog data folder (not created here).</summary>
        public static string DataFolder()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
                return Path.Combine(local, "MadfLog");
            }
            var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            if (string.IsNullOrWhiteSpace(xdg))
            {
                var home = Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                xdg = Path.Combine(home, ".local", "share");
            }
            return Path.Combine(xdg!, "madflog");
        }

        /// <summary>The default folder Write-MadfEvent appends to: $env:MADFLOG_LOG_DIR, else logs/ under the data folder.</summary>
        public static string DefaultLogFolder()
        {
            var fromEnv = Environment.GetEnvironmentVariable("MADFLOG_LOG_DIR");
            if (!string.IsNullOrWhiteSpace(fromEnv)) return Path.GetFullPath(fromEnv!);
            return Path.Combine(DataFolder(), "logs");
        }
    }
}

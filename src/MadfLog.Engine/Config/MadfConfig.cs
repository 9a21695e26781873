using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MadfLog.Engine.Store;

namespace MadfLog.Engine.Config
{
    /// <summary>
    /// Settings of one database, shared by interactive sessions and the scheduled jobs, kept in one JSON file beside
    /// the database and named after it (madflog.db: madflog.config.json; team.db: team.config.json), so two databases
    /// in one folder never share settings. Unset values fall back to the defaults documented on each property.
    /// </summary>
    public sealed class MadfConfig
    {
        public const string FileName = "madflog.config.json";

        /// <summary>Folders (or files) Import-MadfLog and Invoke-MadfRevision read; default: the Write-MadfEvent log folder.</summary>
        public string[] LogPaths { get; set; } = Array.Empty<string>();

        /// <summary>Where rotated logs and archive databases go; default: archive/ next to the database (archive-NAME/ for NAME.db other than madflog.db).</summary>
        public string? ArchivePath { get; set; }

        /// <summary>The CLAUDE.md that rules are written into.</summary>
        public string? ClaudeMdPath { get; set; }

        /// <summary>Events older than this many days move out of the active database.</summary>
        public int RetentionDays { get; set; } = 90;

        /// <summary>The active database's size budget in MB; the retention window shrinks to stay under it.</summary>
        public int MaxActiveMB { get; set; } = 100;

        /// <summary>The unattended revision activates new rules at once (only when a CLAUDE.md is configured to hold them).</summary>
        public bool AutoApprove { get; set; }

        /// <summary>An error pattern at or above this share of errors gets a prevention rule.</summary>
        public double RuleThreshold { get; set; } = 0.03;

        /// <summary>Health: warn when the error rate rises more than this many percent week over week.</summary>
        public double ErrorRateIncreasePercent { get; set; } = 20;

        /// <summary>Health: warn when more than this percent of imported lines were quarantined.</summary>
        public double MaxQuarantinePercent { get; set; } = 1;

        /// <summary>Health: warn when the last import is older than this many days (the logger stopped).</summary>
        public double MaxImportAgeDays { get; set; } = 2;

        /// <summary>Model prices (US$ per million tokens) that add to or replace the bundled table for the cost figures.</summary>
        public System.Collections.Generic.List<ModelPrice> ModelPrices { get; set; } = new System.Collections.Generic.List<ModelPrice>();

        /// <summary>The file this configuration was read from or will be saved to.</summary>
        [JsonIgnore] public string Path { get; private set; } = "";

        /// <summary>The database this configuration belongs to.</summary>
        [JsonIgnore] public string DatabasePath { get; private set; } = "";

        /// <summary>The archive folder, resolved (default archive/ next to the database; archive-NAME/ for NAME.db, so databases in one folder keep their archives apart).</summary>
        [JsonIgnore]
        public string ResolvedArchivePath => string.IsNullOrWhiteSpace(ArchivePath)
            ? System.IO.Path.Combine(System.IO.Path.GetDirectoryName(DatabasePath) ?? ".", "archive" + Store.StoreLocation.CompanionSuffix(DatabasePath))
            : ArchivePath!;

        /// <summary>The log folders, resolved (default: the Write-MadfEvent folder).</summary>
        [JsonIgnore]
        public string[] ResolvedLogPaths => LogPaths.Length > 0 ? LogPaths : new[] { StoreLocation.DefaultLogFolder() };

        /// <summary>Where Write-MadfEvent appends: the first configured log path that is not a file, else the default log folder.</summary>
        [JsonIgnore]
        public string EventLogFolder => LogPaths.FirstOrDefault(p => !File.Exists(p)) ?? StoreLocation.DefaultLogFolder();

        private static readonly JsonSerializerOptions Json = new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        };

        /// <summary>Where each setting's value comes from: "default", "default ($env:...)" or the file it was read from.</summary>
        [JsonIgnore] public Dictionary<string, string> Sources { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

        /// <summary>The configuration file of a database: beside it, named after it.</summary>
        public static string PathFor(string databasePath)
        {
            var db = System.IO.Path.GetFullPath(databasePath);
            return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(db) ?? ".", System.IO.Path.GetFileNameWithoutExtension(db) + ".config.json");
        }

        /// <summary>The settable values, in a stable order (what Get-MadfConfig -Source lists).</summary>
        /// <remarks>Every public settable property that is saved: a setting added later is listed, saved and sourced without more code.</remarks>
        public static readonly string[] Settings = typeof(MadfConfig).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetSetMethod() != null && !p.IsDefined(typeof(JsonIgnoreAttribute), true))
            .OrderBy(p => p.MetadataToken).Select(p => p.Name).ToArray();

        /// <summary>Reads the configuration of a database (defaults when the file does not exist).</summary>
        public static MadfConfig Load(string? databasePath)
        {
            var db = System.IO.Path.GetFullPath(string.IsNullOrWhiteSpace(databasePath) ? StoreLocation.DefaultDatabasePath() : databasePath!);
            var path = PathFor(db);
            // Before configurations were per database, every database in a folder read madflog.config.json: keep reading it until this one is saved.
            var legacy = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(db) ?? ".", FileName);
            var source = File.Exists(path) ? path : File.Exists(legacy) ? legacy : null;
            MadfConfig config;
            HashSet<string>? present = null;
            if (source != null)
            {
                try
                {
                    var text = File.ReadAllText(source);
                    config = JsonSerializer.Deserialize<MadfConfig>(text, Json) ?? new MadfConfig();
                    using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
                    present = new HashSet<string>(doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.EnumerateObject().Select(p => p.Name) : Enumerable.Empty<string>(), StringComparer.OrdinalIgnoreCase);
                }
                catch (JsonException ex)
                {
                    throw new MadfException("ConfigInvalid", MadfErrorKind.InvalidData,
                        string.Format(Messages.Culture, Messages.ConfigNotJson, source, ex.LineNumber + 1, ex.Message), source, ex);
                }
            }
            else
            {
                config = new MadfConfig();
            }
            config.Path = path;
            config.DatabasePath = db;
            foreach (var name in Settings)
                config.Sources[name] = present != null && present.Contains(name) ? source! : "default";
            if (config.LogPaths.Length == 0 && !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("MADFLOG_LOG_DIR"))) config.Sources[nameof(LogPaths)] = "default ($env:MADFLOG_LOG_DIR)";
            config.Validate();
            return config;
        }

        public void Validate()
        {
            if (RetentionDays < 1) throw Invalid(nameof(RetentionDays), "must be at least 1");
            if (MaxActiveMB < 1) throw Invalid(nameof(MaxActiveMB), "must be at least 1");
            if (RuleThreshold <= 0 || RuleThreshold > 1) throw Invalid(nameof(RuleThreshold), "must be above 0 and at most 1");
            if (MaxQuarantinePercent < 0 || ErrorRateIncreasePercent < 0 || MaxImportAgeDays <= 0) throw Invalid("health thresholds", "must be positive");
            foreach (var m in ModelPrices)
                if (string.IsNullOrWhiteSpace(m.Model) || m.Input < 0 || m.Output < 0 || m.CacheWrite < 0 || m.CacheRead < 0)
                    throw Invalid($"model price '{m.Model}'", "needs a model name and prices of 0 or more");
        }

        private MadfException Invalid(string what, string why) =>
            new MadfException("ConfigInvalid", MadfErrorKind.InvalidArgument, string.Format(Messages.Culture, Messages.ConfigInvalid, Path, what, why), Path);

        /// <summary>Writes the file atomically (temp file, then replace).</summary>
        public void Save()
        {
            Validate();
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            var temp = Path + ".tmp";
            // Only what was set (or read from a file) is written, so a default stays a default and Sources stay true.
            var defaults = new MadfConfig();
            var values = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var name in Settings)
            {
                var property = typeof(MadfConfig).GetProperty(name)!;
                var value = property.GetValue(this);
                var set = Sources.TryGetValue(name, out var from) && from != "default" && !from.StartsWith("default", StringComparison.Ordinal);
                if (set || JsonSerializer.Serialize(value, Json) != JsonSerializer.Serialize(property.GetValue(defaults), Json))
                {
                    values[Json.PropertyNamingPolicy!.ConvertName(name)] = value;
                    Sources[name] = Path;
                }
            }
            File.WriteAllText(temp, JsonSerializer.Serialize(values, Json), new UTF8Encoding(false));
            if (File.Exists(Path)) File.Replace(temp, Path, null);
            else File.Move(temp, Path);
        }
    }
}

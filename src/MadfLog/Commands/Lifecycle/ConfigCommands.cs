using System.Management.Automation;
using MadfLog.Engine;
using MadfLog.Engine.Config;

namespace MadfLog.Commands.Lifecycle
{
    /// <summary>Shows the configuration of a database, shared by interactive sessions and the scheduled jobs.</summary>
    /// <remarks><para>Each database has its own file beside it, named after it (madflog.db: madflog.config.json). -Source lists each setting with its value and where the value comes from (the file, or a default).</para></remarks>
    /// <example>
    /// <code>(Get-MadfConfig).RetentionDays</code>
    /// Shows how many days of events the active database keeps.
    /// </example>
    /// <example>
    /// <code>Get-MadfConfig | Select-Object Path, ClaudeMdPath, LogPaths, RuleThreshold</code>
    /// Where the configuration file is, and the settings the weekly revision uses.
    /// </example>
    /// <returns>The database's MadfConfig (every setting, with its effective value). With -Source, instead one object per setting with Name, Value and Source (the file or environment variable it came from, or default).</returns>
    [Cmdlet(VerbsCommon.Get, "MadfConfig")]
    [OutputType(typeof(MadfConfig))]
    public sealed class GetMadfConfigCommand : MadfCmdlet
    {
        /// <summary>One row per setting: Name, Value, Source.</summary>
        [Parameter] public SwitchParameter Source { get; set; }

        protected override void EndProcessing()
        {
            var config = Engine(() => MadfConfig.Load(DatabasePath));
            if (!Source) { WriteObject(config); return; }
            foreach (var name in MadfConfig.Settings)
            {
                var value = typeof(MadfConfig).GetProperty(name)!.GetValue(config);
                if (name == nameof(MadfConfig.LogPaths) && config.LogPaths.Length == 0) value = config.ResolvedLogPaths;
                if (name == nameof(MadfConfig.ArchivePath) && config.ArchivePath == null) value = config.ResolvedArchivePath;
                var row = new PSObject();
                row.Properties.Add(new PSNoteProperty("Name", name));
                row.Properties.Add(new PSNoteProperty("Value", value));
                row.Properties.Add(new PSNoteProperty("Source", config.Sources[name]));
                WriteObject(row);
            }
        }
    }

    /// <summary>Changes the MadfLog configuration (log folders, archive path, CLAUDE.md path, retention, budget and thresholds).</summary>
    /// <remarks><para>Only the parameters given change; the file is written atomically next to the database.</para></remarks>
    /// <example>
    /// <code>Set-MadfConfig -LogPath ~/agent-logs, ~/.claude/projects -RetentionDays 60 -PassThru</code>
    /// Imports from two folders from now on and keeps 60 days of events in the active database.
    /// </example>
    /// <example>
    /// <code>Set-MadfConfig -ClaudeMdPath ./CLAUDE.md -RuleThreshold 0.05 -WhatIf</code>
    /// Shows the change (rules only for patterns at 5% of errors or more) without saving it.
    /// </example>
    /// <returns>Nothing by default; with -PassThru, the MadfConfig as saved.</returns>
    [Cmdlet(VerbsCommon.Set, "MadfConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(MadfConfig))]
    public sealed class SetMadfConfigCommand : MadfCmdlet
    {
        /// <summary>Folders (or files) the import and the weekly revision read.</summary>
        [Parameter] public string[]? LogPath { get; set; }
        /// <summary>Where rotated logs and archive databases go.</summary>
        [Parameter] public string? ArchivePath { get; set; }
        /// <summary>The CLAUDE.md that prevention rules are written into.</summary>
        [Parameter] public string? ClaudeMdPath { get; set; }
        /// <summary>The scheduled revision activates new rules at once (needs a CLAUDE.md).</summary>
        [Parameter] public bool AutoApprove { get; set; }
        /// <summary>Days of events the active database keeps.</summary>
        [Parameter][ValidateRange(1, 36500)] public int RetentionDays { get; set; }
        /// <summary>The active database's size budget in MB.</summary>
        [Parameter][ValidateRange(1, int.MaxValue)] public int MaxActiveMB { get; set; }
        /// <summary>Share of errors (0-1) at which a pattern gets a prevention rule.</summary>
        [Parameter][ValidateRange(0.0001, 1.0)] public double RuleThreshold { get; set; }
        /// <summary>Health: percent rise of the error rate week over week that raises a warning.</summary>
        [Parameter][ValidateRange(0.0, 10000.0)] public double ErrorRateIncreasePercent { get; set; }
        /// <summary>Health: percent of quarantined lines that raises a warning.</summary>
        [Parameter][ValidateRange(0.0, 100.0)] public double MaxQuarantinePercent { get; set; }
        /// <summary>Health: days without an import that raise a warning.</summary>
        [Parameter][ValidateRange(0.01, 3650.0)] public double MaxImportAgeDays { get; set; }
        /// <summary>
        /// Model prices for the cost figures, in US$ per million tokens, each a hashtable with Model (the id or its start)
        /// and Input, Output, CacheWrite, CacheRead (and optionally AsOf, a date); an entry for the same Model replaces the old one.
        /// </summary>
        [Parameter] public System.Collections.Hashtable[]? ModelPrice { get; set; }
        /// <summary>Write the new configuration to the pipeline.</summary>
        [Parameter] public SwitchParameter PassThru { get; set; }

        protected override void EndProcessing()
        {
            var config = Engine(() => MadfConfig.Load(DatabasePath));
            var bound = MyInvocation.BoundParameters;
            if (LogPath != null) config.LogPaths = System.Array.ConvertAll(LogPath, ResolveOutputPath);
            if (ArchivePath != null) config.ArchivePath = ResolveOutputPath(ArchivePath);
            if (ClaudeMdPath != null) config.ClaudeMdPath = ResolveOutputPath(ClaudeMdPath);
            if (bound.ContainsKey(nameof(AutoApprove))) config.AutoApprove = AutoApprove;
            if (bound.ContainsKey(nameof(RetentionDays))) config.RetentionDays = RetentionDays;
            if (bound.ContainsKey(nameof(MaxActiveMB))) config.MaxActiveMB = MaxActiveMB;
            if (bound.ContainsKey(nameof(RuleThreshold))) config.RuleThreshold = RuleThreshold;
            if (bound.ContainsKey(nameof(ErrorRateIncreasePercent))) config.ErrorRateIncreasePercent = ErrorRateIncreasePercent;
            if (bound.ContainsKey(nameof(MaxQuarantinePercent))) config.MaxQuarantinePercent = MaxQuarantinePercent;
            if (bound.ContainsKey(nameof(MaxImportAgeDays))) config.MaxImportAgeDays = MaxImportAgeDays;
            if (ModelPrice != null)
                foreach (var h in ModelPrice)
                {
                    var price = Engine(() => ToPrice(h));
                    config.ModelPrices.RemoveAll(m => string.Equals(m.Model, price.Model, System.StringComparison.OrdinalIgnoreCase));
                    config.ModelPrices.Add(price);
                }
            if (!ShouldProcess(config.Path, "Save MadfLog configuration")) return;
            Engine(() => { config.Save(); return true; });
            if (PassThru) WriteObject(config);
        }

        private static MadfLog.Engine.Config.ModelPrice ToPrice(System.Collections.Hashtable h)
        {
            double Number(string key)
            {
                var v = h.ContainsKey(key) ? h[key] : null;
                if (v is PSObject pso) v = pso.BaseObject;
                try { return v == null ? 0 : System.Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture); }
                catch (System.Exception ex) when (ex is System.FormatException || ex is System.InvalidCastException)
                {
                    throw new MadfLog.Engine.Store.MadfException("ModelPriceInvalid", MadfLog.Engine.Store.MadfErrorKind.InvalidArgument, string.Format(Messages.Culture, Messages.ModelPriceNotANumber, key, v), key, ex);
                }
            }
            var model = h.ContainsKey("Model") ? h["Model"]?.ToString() : null;
            if (string.IsNullOrWhiteSpace(model))
                throw new MadfLog.Engine.Store.MadfException("ModelPriceInvalid", MadfLog.Engine.Store.MadfErrorKind.InvalidArgument, string.Format(Messages.Culture, Messages.ModelPriceNeedsModel), "Model");
            return new MadfLog.Engine.Config.ModelPrice
            {
                Model = model!.Trim(), Input = Number("Input"), Output = Number("Output"), CacheWrite = Number("CacheWrite"), CacheRead = Number("CacheRead"),
                AsOf = h.ContainsKey("AsOf") ? h["AsOf"]?.ToString() ?? "" : System.DateTime.UtcNow.ToString("yyyy-MM-dd"),
            };
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace MadfLog.Isolation
{
    /// <summary>
    /// The load context of MadfLog's engine and its dependencies (Microsoft.Data.Sqlite, SQLitePCLRaw, Dapper, ...) on
    /// PowerShell 7, after PowerShellEditorServices' PsesLoadContext: the engine is hooked from the default context's
    /// Resolving event (by name, so only MadfLog.Engine comes here), and everything the engine references is then asked of
    /// this context first. So another module's Microsoft.Data.Sqlite, already in the default context at another version,
    /// is never used by MadfLog, and ours never reaches the default context.
    /// </summary>
    public sealed class DependencyContext : AssemblyLoadContext
    {
        /// <summary>The context's name, as AssemblyLoadContext.GetLoadContext(...).Name shows it.</summary>
        public const string ContextName = "MadfLog";

        private static readonly object Gate = new object();
        private static DependencyContext? _installed;

        private readonly string _folder;
        private readonly string? _precompiled;
        private readonly string _engine;
        private readonly string? _nativeSqlite;
        private readonly Dictionary<string, string> _platform;

        private DependencyContext(string folder, string? precompiled, string engine, string? nativeSqlite) : base(ContextName)
        {
            _folder = folder;
            _precompiled = precompiled;
            _engine = engine;
            _nativeSqlite = nativeSqlite;
            _platform = PlatformAssemblies();
        }

        /// <summary>The installed context (null before <see cref="Install"/>).</summary>
        public static DependencyContext? Current => _installed;

        /// <summary>
        /// Creates the context over <paramref name="folder"/> and sends the default context's failed lookups of
        /// <paramref name="engine"/> to it. Once per process: a second import finds the same engine.
        /// </summary>
        /// <param name="folder">The module's dependency folder (the engine and its dependencies).</param>
        /// <param name="precompiled">
        /// This platform's folder of ReadyToRun copies of some of them (src/MadfLog.ReadyToRun), asked first; null or
        /// missing for a platform built without them.
        /// </param>
        /// <param name="engine">The one assembly the cmdlets reference (MadfLog.Engine).</param>
        /// <param name="nativeSqlite">The e_sqlite3 library for this platform, or null to let the runtime probe.</param>
        public static void Install(string folder, string? precompiled, string engine, string? nativeSqlite)
        {
            lock (Gate)
            {
                if (_installed != null) return;
                var context = new DependencyContext(folder, precompiled, engine, nativeSqlite);
                Default.Resolving += context.ResolveEngine;
                _installed = context;
            }
        }

        private Assembly? ResolveEngine(AssemblyLoadContext defaultContext, AssemblyName name)
        {
            if (!string.Equals(name.Name, _engine, StringComparison.OrdinalIgnoreCase)) return null;
            var path = DependencyFile(_engine);
            return path != null ? LoadFromAssemblyPath(path) : null;
        }

        /// <summary>
        /// A dependency from the module's folder, unless the platform (the .NET runtime or $PSHOME) has it at the version
        /// asked or later: those (System.Text.Json, System.Memory, netstandard, ...) are shared with PowerShell, as
        /// PsesLoadContext does, so no second copy of a framework assembly is loaded.
        /// </summary>
        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name == null || SatisfiedByPlatform(name)) return null;
            var path = DependencyFile(name.Name);
            return path != null ? LoadFromAssemblyPath(path) : null;
        }

        /// <summary>
        /// The file of a shipped assembly: this platform's ReadyToRun copy when there is one (the same IL with native code
        /// beside it: a fresh process's first question does not wait for the JIT to compile the engine; a runtime that
        /// cannot use the code, an older .NET, compiles the IL as before), else the plain one. Null when not shipped.
        /// </summary>
        public string? DependencyFile(string name)
        {
            if (_precompiled != null)
            {
                var precompiled = Path.Combine(_precompiled, name + ".dll");
                if (File.Exists(precompiled)) return precompiled;
            }
            var plain = Path.Combine(_folder, name + ".dll");
            return File.Exists(plain) ? plain : null;
        }

        /// <summary>SQLitePCLRaw's DllImport of e_sqlite3, answered with the library shipped for this platform.</summary>
        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            if (_nativeSqlite != null && File.Exists(_nativeSqlite) &&
                (unmanagedDllName == "e_sqlite3" || unmanagedDllName == "libe_sqlite3"))
                return LoadUnmanagedDllFromPath(_nativeSqlite);
            return IntPtr.Zero;
        }

        private bool SatisfiedByPlatform(AssemblyName name)
        {
            if (!_platform.TryGetValue(name.Name!, out var path)) return false;
            try
            {
                var platform = AssemblyName.GetAssemblyName(path);
                // The same assembly (its strong-name token, when the reference has one) at the version asked or later.
                var wanted = name.GetPublicKeyToken();
                if (wanted != null && wanted.Length > 0 && !wanted.AsSpan().SequenceEqual(platform.GetPublicKeyToken() ?? Array.Empty<byte>()))
                    return false;
                return name.Version == null || (platform.Version != null && platform.Version >= name.Version);
            }
            catch (Exception ex) when (ex is IOException || ex is BadImageFormatException || ex is UnauthorizedAccessException)
            {
                return false;
            }
        }

        /// <summary>The platform's assemblies by name: the runtime's trusted list (which includes $PSHOME for pwsh).</summary>
        private static Dictionary<string, string> PlatformAssemblies()
        {
            var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string list)
                foreach (var path in list.Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries))
                    result[Path.GetFileNameWithoutExtension(path)] = path;
            return result;
        }
    }
}

using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MadfLog.Hosting
{
    /// <summary>
    /// The one place where the module's dependencies are arranged at Import-Module. The module folder holds MadfLog.dll
    /// (the cmdlets), this assembly and MadfLog.Isolation.dll; the engine and every package it uses are in dependencies/.
    /// It runs as a nested module, before MadfLog.dll: PowerShell reflects over the cmdlet types (GetExportedTypes) before
    /// it calls that assembly's initializer, and enum-typed parameters (RuleStatus, MadfJob) already need the engine.
    /// - PowerShell 7 (.NET): MadfLog.Isolation's DependencyContext, an AssemblyLoadContext after PowerShellEditorServices'
    ///   PsesLoadContext, gets MadfLog.Engine when the default context cannot find it (this assembly references only the
    ///   engine, never a dependency), and then loads the engine's dependencies from dependencies/ before the default
    ///   context is asked (this platform's ReadyToRun copies in dependencies/&lt;os&gt;-&lt;arch&gt;/ first, when the build
    ///   made them), and e_sqlite3 by path (LoadUnmanagedDll, musl included). Another module's Microsoft.Data.Sqlite
    ///   or SQLitePCLRaw in the session, at any version, is neither used by MadfLog nor disturbed by it.
    /// - Windows PowerShell 5.1 (.NET Framework, no load contexts): an AssemblyResolve handler returns the copies in
    ///   dependencies/, plain IL only (it also stands in for the binding redirects powershell.exe lacks for System.Memory/Buffers/Unsafe),
    ///   and the right-architecture e_sqlite3.dll is loaded by full path before SQLitePCLRaw's plain DllImport needs it.
    /// MadfLog.dll's initializer (Hosting/ModuleInitializer) then opens SQLite once, so a failure is one clear error at
    /// import, not a TypeInitializationException at the first query.
    /// </summary>
    public sealed class ModuleLoader : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly string ModuleFolder = Path.GetDirectoryName(typeof(ModuleLoader).Assembly.Location)!;

        /// <summary>Where the engine and its dependencies are shipped: &lt;module&gt;/dependencies.</summary>
        public static readonly string DependencyFolder = Path.Combine(ModuleFolder, "dependencies");

        /// <summary>The one assembly the cmdlets reference; everything else is the engine's to load.</summary>
        public const string EngineAssembly = "MadfLog.Engine";

        private static bool _initialized;

        public void OnImport()
        {
            if (_initialized) return;
            var nativePath = NativeLibraryPath();
            if (IsNetFramework)
            {
                AppDomain.CurrentDomain.AssemblyResolve += ResolveFromDependencies;
                if (File.Exists(nativePath) && LoadLibraryEx(nativePath, IntPtr.Zero, LoadWithAlteredSearchPath) == IntPtr.Zero)
                    Fail(nativePath, new System.ComponentModel.Win32Exception(Marshal.GetLastWin32Error()));
            }
            else
            {
                InstallLoadContext(nativePath);
            }
            _initialized = true;
        }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            // The handlers stay: assemblies cannot be unloaded, and a re-import must find the same copies.
        }

        /// <summary>True on Windows PowerShell (.NET Framework), which has no AssemblyLoadContext.</summary>
        public static bool IsNetFramework =>
            RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// The file in dependencies/ for an assembly .NET Framework could not find (its simple name, any version: this
        /// is the binding redirect powershell.exe does not have), or null when the module does not ship it.
        /// </summary>
        public static string? DependencyFile(string assemblyFullName)
        {
            string? name;
            try { name = new AssemblyName(assemblyFullName).Name; }
            catch (Exception ex) when (ex is FileLoadException || ex is ArgumentException) { return null; }
            if (string.IsNullOrEmpty(name) || name!.EndsWith(".resources", StringComparison.OrdinalIgnoreCase)) return null;
            var candidate = Path.Combine(DependencyFolder, name + ".dll");
            return File.Exists(candidate) ? candidate : null;
        }

        private static Assembly? ResolveFromDependencies(object? sender, ResolveEventArgs args)
        {
            var file = DependencyFile(args.Name);
            return file == null ? null : Assembly.LoadFrom(file);
        }

        /// <summary>
        /// The load context lives in MadfLog.Isolation.dll (netcoreapp3.1): a context must subclass AssemblyLoadContext
        /// so that its Load is asked before the default context, and this netstandard2.0 assembly (one build for 5.1 and 7)
        /// cannot name that type. So it is loaded by path, only here, and entered by one reflected call.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void InstallLoadContext(string nativePath)
        {
            var path = Path.Combine(ModuleFolder, "MadfLog.Isolation.dll");
            var install = Assembly.LoadFrom(path).GetType("MadfLog.Isolation.DependencyContext", throwOnError: true)!
                .GetMethod("Install", BindingFlags.Public | BindingFlags.Static)!;
            install.Invoke(null, new object?[] { DependencyFolder, PlatformFolder(), EngineAssembly, File.Exists(nativePath) ? nativePath : null });
        }

        /// <summary>The e_sqlite3 shipped for this OS and architecture: &lt;module&gt;/dependencies/&lt;os&gt;-&lt;arch&gt;/e_sqlite3.&lt;ext&gt;.</summary>
        public static string NativeLibraryPath()
        {
            string file;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) file = "e_sqlite3.dll";
            else if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX)) file = "e_sqlite3.dylib";
            else file = "e_sqlite3.so";
            return Path.Combine(PlatformFolder(), file);
        }

        /// <summary>
        /// This OS and architecture's folder, &lt;module&gt;/dependencies/&lt;os&gt;-&lt;arch&gt; (a .NET runtime identifier):
        /// its e_sqlite3 and, for PowerShell 7 only, ReadyToRun copies of the engine and its dependencies.
        /// </summary>
        public static string PlatformFolder()
        {
            var arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.X86 => "x86",
                Architecture.Arm64 => "arm64",
                Architecture.Arm => "arm",
                var other => other.ToString().ToLowerInvariant(),
            };
            var os = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "win"
                : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "osx"
                : IsMusl() ? "linux-musl" : "linux";
            return Path.Combine(DependencyFolder, os + "-" + arch);
        }

        private static bool IsMusl()
        {
            try { return Directory.Exists("/lib") && Directory.GetFiles("/lib", "ld-musl-*.so.1").Length > 0; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }

        /// <summary>Import fails with what is wrong with the native library, and SQLite's own message.</summary>
        public static void Fail(string nativePath, Exception ex)
        {
            var inner = ex is TypeInitializationException && ex.InnerException != null ? ex.InnerException : ex;
            var hint = File.Exists(nativePath)
                ? $"'{nativePath}' exists but could not be loaded (wrong architecture or missing system libraries?)"
                : $"'{nativePath}' is missing: this platform ({RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}) is not shipped with the module";
            throw new InvalidOperationException($"MadfLog cannot load its native SQLite library: {hint}. {inner.GetType().Name}: {inner.Message}", ex);
        }

        private const uint LoadWithAlteredSearchPath = 0x00000008;

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern IntPtr LoadLibraryEx(string fileName, IntPtr reserved, uint flags);
    }
}

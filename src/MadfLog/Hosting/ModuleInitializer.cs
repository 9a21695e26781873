using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MadfLog.Hosting
{
    /// <summary>
    /// The one place where the module's dependencies are arranged at Import-Module:
    /// - Windows PowerShell 5.1 (.NET Framework): an AssemblyResolve handler returns the copies shipped in the module
    ///   folder (it has no binding redirects for System.Memory/Buffers/Unsafe), and the right-architecture e_sqlite3.dll
    ///   is loaded by full path before SQLitePCLRaw's plain DllImport needs it.
    /// - PowerShell 7: a DllImport resolver on SQLitePCLRaw's provider loads &lt;module&gt;/&lt;rid&gt;/e_sqlite3.&lt;ext&gt;,
    ///   including musl, which PowerShell's own handler does not know.
    /// Then SQLite is initialised and opened once, so a failure is one clear error at import, not a
    /// TypeInitializationException at the first query.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly string ModuleFolder = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!;
        private static bool _initialized;

        public void OnImport()
        {
            if (_initialized) return;
            var netFramework = RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.OrdinalIgnoreCase);
            var nativePath = NativeLibraryPath();
            if (netFramework)
            {
                AppDomain.CurrentDomain.AssemblyResolve += ResolveFromModuleFolder;
                if (File.Exists(nativePath) && LoadLibraryEx(nativePath, IntPtr.Zero, LoadWithAlteredSearchPath) == IntPtr.Zero)
                    Fail(nativePath, new System.ComponentModel.Win32Exception(Marshal.GetLastWin32Error()));
            }
            else
            {
                RegisterNativeResolver();
            }
            try
            {
                InitializeSqlite();
            }
            catch (Exception ex)
            {
                Fail(nativePath, ex);
            }
            _initialized = true;
        }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            // The resolver stays: assemblies cannot be unloaded, and a re-import must find the same copies.
        }

        /// <summary>The e_sqlite3 shipped for this OS and architecture: &lt;module&gt;/&lt;os&gt;-&lt;arch&gt;/e_sqlite3.&lt;ext&gt;.</summary>
        public static string NativeLibraryPath()
        {
            var arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.X86 => "x86",
                Architecture.Arm64 => "arm64",
                Architecture.Arm => "arm",
                var other => other.ToString().ToLowerInvariant(),
            };
            string os, file;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) { os = "win"; file = "e_sqlite3.dll"; }
            else if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX)) { os = "osx"; file = "e_sqlite3.dylib"; }
            else { os = IsMusl() ? "linux-musl" : "linux"; file = "e_sqlite3.so"; }
            return Path.Combine(ModuleFolder, os + "-" + arch, file);
        }

        private static bool IsMusl()
        {
            try { return Directory.Exists("/lib") && Directory.GetFiles("/lib", "ld-musl-*.so.1").Length > 0; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }

        private static void Fail(string nativePath, Exception ex)
        {
            var inner = ex is TypeInitializationException && ex.InnerException != null ? ex.InnerException : ex;
            var hint = File.Exists(nativePath)
                ? $"'{nativePath}' exists but could not be loaded (wrong architecture or missing system libraries?)"
                : $"'{nativePath}' is missing: this platform ({RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}) is not shipped with the module";
            throw new InvalidOperationException($"MadfLog cannot load its native SQLite library: {hint}. {inner.GetType().Name}: {inner.Message}", ex);
        }

        // Kept out of OnImport so that JIT-compiling OnImport does not load SQLitePCLRaw before the resolvers exist.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void InitializeSqlite()
        {
            SQLitePCL.Batteries_V2.Init();
            using var probe = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
            probe.Open();
        }

        private static Assembly? ResolveFromModuleFolder(object? sender, ResolveEventArgs args)
        {
            var name = new AssemblyName(args.Name).Name;
            if (string.IsNullOrEmpty(name)) return null;
            var candidate = Path.Combine(ModuleFolder, name + ".dll");
            return File.Exists(candidate) ? Assembly.LoadFrom(candidate) : null;
        }

        // NativeLibrary and DllImportResolver exist only on .NET Core 3+; reach them by reflection from netstandard2.0.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void RegisterNativeResolver()
        {
            var nativeLibrary = Type.GetType("System.Runtime.InteropServices.NativeLibrary");
            var resolverType = Type.GetType("System.Runtime.InteropServices.DllImportResolver");
            if (nativeLibrary == null || resolverType == null) return;
            _nativeLoad = nativeLibrary.GetMethod("Load", new[] { typeof(string) });
            var set = nativeLibrary.GetMethod("SetDllImportResolver", new[] { typeof(Assembly), resolverType });
            var handler = Delegate.CreateDelegate(resolverType, typeof(ModuleInitializer).GetMethod(nameof(ResolveNative), BindingFlags.NonPublic | BindingFlags.Static)!);
            try
            {
                set?.Invoke(null, new object[] { ProviderAssembly(), handler });
            }
            catch (TargetInvocationException ex) when (ex.InnerException is InvalidOperationException)
            {
                // A resolver is already set (module imported before in this process): keep it.
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Assembly ProviderAssembly() => typeof(SQLitePCL.SQLite3Provider_e_sqlite3).Assembly;

        private static MethodInfo? _nativeLoad;

        private static IntPtr ResolveNative(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (libraryName != "e_sqlite3" || _nativeLoad == null) return IntPtr.Zero;
            var path = NativeLibraryPath();
            if (!File.Exists(path)) return IntPtr.Zero; // let the runtime try its own probing
            return (IntPtr)_nativeLoad.Invoke(null, new object[] { path })!;
        }

        private const uint LoadWithAlteredSearchPath = 0x00000008;

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern IntPtr LoadLibraryEx(string fileName, IntPtr reserved, uint flags);
    }
}

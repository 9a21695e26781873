using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Xunit;

namespace MadfLog.Module.Tests
{
    /// <summary>
    /// Where the module's assemblies load (issue #15 item 7). PowerShell 7 runs here; Windows PowerShell 5.1 cannot, so its
    /// path (AssemblyResolve from dependencies/) is checked through the same function it calls. The conflict with another
    /// module's SQLite is tested under real pwsh in tests/pester/Isolation.Tests.ps1.
    /// </summary>
    [Collection("module")]
    public class IsolationModuleTests
    {
        private readonly ModuleFixture _m;
        public IsolationModuleTests(ModuleFixture m) { _m = m; }

        private static string ModuleFolder => Path.Combine(ModuleFixture.RepoRoot, "out", "MadfLog");
        private static string Dependencies => Path.Combine(ModuleFolder, "dependencies");

        private static Assembly Loaded(string name) =>
            AppDomain.CurrentDomain.GetAssemblies().Single(a => a.GetName().Name == name);

        /// <summary>A public static member of the module's loader, called the way Windows PowerShell's handler calls it.</summary>
        private static object? Loader(string member, params object[] args)
        {
            var type = Loaded("MadfLog.Loader").GetType("MadfLog.Hosting.ModuleLoader", throwOnError: true)!;
            var method = type.GetMethod(member, BindingFlags.Public | BindingFlags.Static);
            return method != null ? method.Invoke(null, args) : type.GetProperty(member)!.GetValue(null);
        }

        [Fact]
        public void TheModuleFolderHoldsOnlyTheCmdletsAndTheirLoaders()
        {
            var top = Directory.GetFiles(ModuleFolder, "*.dll").Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray();
            Assert.Equal(new[] { "MadfLog.Isolation.dll", "MadfLog.Loader.dll", "MadfLog.dll" }.OrderBy(n => n, StringComparer.Ordinal), top);
            foreach (var dep in new[] { "MadfLog.Engine.dll", "Microsoft.Data.Sqlite.dll", "SQLitePCLRaw.core.dll", "Dapper.dll", "System.Text.Json.dll" })
                Assert.True(File.Exists(Path.Combine(Dependencies, dep)), dep + " is not in dependencies/");
        }

        [Fact]
        public void TheEngineAndSqliteLoadIntoMadfLogsContextAndTheCmdletsIntoTheDefaultOne()
        {
            // Something ran: the fixture imported the module and opened SQLite (ModuleInitializer).
            var r = _m.Run("Get-MadfErrorSummary -Database $db -ErrorAction SilentlyContinue", new System.Collections.Hashtable { ["db"] = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".db") });
            Assert.Contains(r.AllErrors, e => e.FullyQualifiedErrorId.StartsWith("DatabaseNotFound", StringComparison.Ordinal));

            Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(Loaded("MadfLog")));
            foreach (var name in new[] { "MadfLog.Engine", "Microsoft.Data.Sqlite", "SQLitePCLRaw.core", "SQLitePCLRaw.provider.e_sqlite3", "Dapper" })
            {
                var assembly = Loaded(name);
                Assert.Equal("MadfLog", AssemblyLoadContext.GetLoadContext(assembly)!.Name);
                Assert.StartsWith(Dependencies, assembly.Location);
            }
        }

        [Fact]
        public void WindowsPowerShellsResolverFindsEveryShippedDependencyAtAnyVersion()
        {
            Assert.False((bool)Loader("IsNetFramework")!);
            // powershell.exe asks for the versions its own references name; the module ships one of each (the redirect it lacks).
            Assert.Equal(Path.Combine(Dependencies, "System.Memory.dll"),
                Loader("DependencyFile", "System.Memory, Version=4.0.1.1, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51"));
            Assert.Equal(Path.Combine(Dependencies, "System.Runtime.CompilerServices.Unsafe.dll"),
                Loader("DependencyFile", "System.Runtime.CompilerServices.Unsafe, Version=4.0.4.1, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a"));
            Assert.Equal(Path.Combine(Dependencies, "MadfLog.Engine.dll"), Loader("DependencyFile", "MadfLog.Engine, Version=0.1.0.0, Culture=neutral, PublicKeyToken=null"));
            Assert.Equal(Path.Combine(Dependencies, "Microsoft.Data.Sqlite.dll"), Loader("DependencyFile", "Microsoft.Data.Sqlite"));
            Assert.Null(Loader("DependencyFile", "MadfLog.Engine.resources, Version=0.1.0.0, Culture=de, PublicKeyToken=null"));
            Assert.Null(Loader("DependencyFile", "Not.Shipped, Version=1.0.0.0"));
            Assert.Null(Loader("DependencyFile", "not a valid, , name=="));
        }

        [Fact]
        public void TheNativeLibraryForThisPlatformIsShippedInTheDependencyFolder()
        {
            var native = (string)Loader("NativeLibraryPath")!;
            Assert.StartsWith(Dependencies, native);
            Assert.True(File.Exists(native), native);
        }
    }
}

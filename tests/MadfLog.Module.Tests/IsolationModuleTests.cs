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
            // Something ran: an import and a question (a missing store's error needs no Dapper when the engine is precompiled).
            using var t = new Temp();
            var r = _m.Run("Import-MadfLog $logs -Database $db | Out-Null; Get-MadfErrorSummary -Database $db",
                new System.Collections.Hashtable { ["logs"] = Path.Combine(ModuleFixture.RepoRoot, "examples", "logs"), ["db"] = t.Db });
            Assert.Empty(r.AllErrors);
            Assert.NotEmpty(r.Output);

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
        public void PowerShell7LoadsThisPlatformsReadyToRunCopiesAndWindowsPowerShellThePlainOnes()
        {
            // The build precompiles for several platforms (src/MadfLog.ReadyToRun); every copy made holds native code.
            var precompiled = Directory.GetDirectories(Dependencies).Where(d => File.Exists(Path.Combine(d, "MadfLog.Engine.dll"))).ToList();
            Assert.NotEmpty(precompiled);
            foreach (var folder in precompiled)
                Assert.True(IsReadyToRun(Path.Combine(folder, "MadfLog.Engine.dll")), folder);

            // This process is PowerShell 7 on .NET: where the build made copies for this platform, they are what loaded.
            var platform = (string)Loader("PlatformFolder")!;
            Assert.StartsWith(Dependencies, platform);
            if (!precompiled.Contains(platform)) return; // a platform built without them: the plain copies (the test above)
            foreach (var name in new[] { "MadfLog.Engine", "Microsoft.Data.Sqlite", "SQLitePCLRaw.core", "Dapper" })
            {
                Assert.Equal(Path.Combine(platform, name + ".dll"), Loaded(name).Location);
                // Windows PowerShell 5.1 is given the plain IL (ReadyToRun code is for .NET, not .NET Framework).
                var plain = (string)Loader("DependencyFile", name)!;
                Assert.Equal(Path.Combine(Dependencies, name + ".dll"), plain);
                Assert.False(IsReadyToRun(plain), plain);
            }
        }

        private static bool IsReadyToRun(string path)
        {
            using var file = File.OpenRead(path);
            using var pe = new System.Reflection.PortableExecutable.PEReader(file);
            return pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0;
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

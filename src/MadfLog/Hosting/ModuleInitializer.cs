using System;
using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace MadfLog.Hosting
{
    /// <summary>
    /// Opens SQLite once at Import-Module, after MadfLog.Loader (a nested module, imported first) has arranged where the
    /// engine, its dependencies and e_sqlite3 load from (see ModuleLoader): a missing or wrong native library is then one
    /// clear error at import, not a TypeInitializationException at the first query.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        public void OnImport()
        {
            try
            {
                InitializeSqlite();
            }
            catch (Exception ex)
            {
                ModuleLoader.Fail(ModuleLoader.NativeLibraryPath(), ex);
            }
        }

        // Kept out of OnImport so that a failure to load the engine is caught there.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void InitializeSqlite() => MadfLog.Engine.Facade.MadfStore.InitializeSqlite();
    }
}

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MadfLog.Engine.Text;
using SQLitePCL;

namespace MadfLog.Engine.Store
{
    /// <summary>
    /// SQLite's statement calls made on the statement's pointer, for the loops that make one call per value (a question's
    /// rows, an import's rows): SQLitePCLRaw's calls pass the statement as a SafeHandle (a reference count taken and given
    /// back per call, in framework methods that tiered compilation instruments in PowerShell 7) through its provider, which
    /// cost about a third of reading a value. The same library: the name SQLitePCLRaw's provider imports, which the
    /// module's loader resolves to the copy it ships (ModuleLoader); used only when it answers with the version SQLitePCLRaw
    /// reports, else every call goes through the provider as before. The caller keeps the statement alive (undisposed)
    /// while it calls.
    /// </summary>
    internal static class SqliteNative
    {
        private const string Library = "e_sqlite3";

        /// <summary>SQLITE_TRANSIENT: SQLite copies a bound value before the call returns.</summary>
        private static readonly IntPtr Transient = new IntPtr(-1);

        /// <summary>Whether calls go straight to the library (else through SQLitePCLRaw's provider).</summary>
        public static readonly bool Usable = Check();

        private static bool Check()
        {
            try { return raw.GetNativeLibraryName() == Library && sqlite3_libversion_number() == raw.sqlite3_libversion_number(); }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException || e is BadImageFormatException) { return false; }
        }

        /// <summary>The statement's pointer where the calls can use it, else IntPtr.Zero (then use SQLitePCLRaw's calls).</summary>
        [MethodImpl(Hot.Small)]
        public static IntPtr HandleOf(sqlite3_stmt s) => Usable ? s.DangerousGetHandle() : IntPtr.Zero;

        [MethodImpl(Hot.Small)]
        public static int Step(sqlite3_stmt s) => Usable ? sqlite3_step(s.DangerousGetHandle()) : raw.sqlite3_step(s);

        [MethodImpl(Hot.Small)]
        public static int Reset(sqlite3_stmt s) => Usable ? sqlite3_reset(s.DangerousGetHandle()) : raw.sqlite3_reset(s);

        /// <summary>Runs a bound statement that returns no row (or whose row is not read) and resets it for its next
        /// binding; returns the step's result code (SQLITE_DONE when it ran).</summary>
        [MethodImpl(Hot.Small)]
        public static int StepAndReset(sqlite3_stmt s)
        {
            var rc = Step(s);
            Reset(s);
            return rc;
        }

        [MethodImpl(Hot.Small)]
        public static int BindInt64(sqlite3_stmt s, int i, long v) => Usable ? sqlite3_bind_int64(s.DangerousGetHandle(), i, v) : raw.sqlite3_bind_int64(s, i, v);

        [MethodImpl(Hot.Small)]
        public static int BindDouble(sqlite3_stmt s, int i, double v) => Usable ? sqlite3_bind_double(s.DangerousGetHandle(), i, v) : raw.sqlite3_bind_double(s, i, v);

        [MethodImpl(Hot.Small)]
        public static int BindNull(sqlite3_stmt s, int i) => Usable ? sqlite3_bind_null(s.DangerousGetHandle(), i) : raw.sqlite3_bind_null(s, i);

        /// <summary>Binds the characters as UTF-16 text (SQLite converts them as it stores them); no characters bind the
        /// empty text, never NULL.</summary>
        [MethodImpl(Hot.Path)]
        public static unsafe int BindText16(sqlite3_stmt s, int i, ReadOnlySpan<char> v)
        {
            if (!Usable) return raw.sqlite3_bind_text16(s, i, v);
            var empty = '\0';
            fixed (char* p = v)
                return sqlite3_bind_text16(s.DangerousGetHandle(), i, p == null ? &empty : p, v.Length * sizeof(char), Transient);
        }

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] private static extern int sqlite3_libversion_number();

        // The column functions of StatementRow (a reader's current row).
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int sqlite3_column_type(IntPtr stmt, int i);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern long sqlite3_column_int64(IntPtr stmt, int i);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern double sqlite3_column_double(IntPtr stmt, int i);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern IntPtr sqlite3_column_blob(IntPtr stmt, int i);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int sqlite3_column_bytes(IntPtr stmt, int i);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] private static extern int sqlite3_step(IntPtr stmt);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] private static extern int sqlite3_reset(IntPtr stmt);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] private static extern int sqlite3_bind_int64(IntPtr stmt, int i, long v);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] private static extern int sqlite3_bind_double(IntPtr stmt, int i, double v);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] private static extern int sqlite3_bind_null(IntPtr stmt, int i);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] private static extern unsafe int sqlite3_bind_text16(IntPtr stmt, int i, char* text, int bytes, IntPtr destructor);
    }
}

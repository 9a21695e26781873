using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace MadfLog.Engine.Import
{
    /// <summary>
    /// What a path really is, with every link resolved: the same file or folder reached through symlinks, junctions or
    /// "." segments has one identity, so a folder walk reads each real file once and notices link loops.
    /// </summary>
    internal static class FileIdentity
    {
        /// <summary>The canonical path (links resolved); the full path when the system cannot say.</summary>
        public static string Of(string path)
        {
            var full = Path.GetFullPath(path);
            try
            {
                var real = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? WindowsFinalPath(full) : UnixRealPath(full);
                return string.IsNullOrEmpty(real) ? full : real!;
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException)
            {
                return full;
            }
        }

        [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
        private static extern IntPtr RealPath(byte[] path, byte[] resolved);

        private static string? UnixRealPath(string path)
        {
            var buffer = new byte[8192]; // above PATH_MAX on Linux (4096) and macOS (1024)
            var name = Encoding.UTF8.GetBytes(path + "\0"); // UTF-8 whatever the runtime marshals strings as
            if (RealPath(name, buffer) == IntPtr.Zero) return null;
            var n = Array.IndexOf(buffer, (byte)0);
            return Encoding.UTF8.GetString(buffer, 0, n < 0 ? buffer.Length : n);
        }

        private const uint FileReadAttributes = 0x80, ShareAll = 7, OpenExisting = 3, BackupSemantics = 0x02000000;

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern IntPtr CreateFileW(string name, uint access, uint share, IntPtr security, uint disposition, uint flags, IntPtr template);

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern uint GetFinalPathNameByHandleW(IntPtr handle, [Out] char[] path, uint length, uint flags);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool CloseHandle(IntPtr handle);

        private static string? WindowsFinalPath(string path)
        {
            var handle = CreateFileW(path, FileReadAttributes, ShareAll, IntPtr.Zero, OpenExisting, BackupSemantics, IntPtr.Zero);
            if (handle == new IntPtr(-1)) return null;
            try
            {
                // The call returns the length it needs when the buffer is too small (long paths): ask again with that.
                var buffer = new char[260];
                var n = GetFinalPathNameByHandleW(handle, buffer, (uint)buffer.Length, 0);
                if (n >= buffer.Length)
                {
                    buffer = new char[n + 1];
                    n = GetFinalPathNameByHandleW(handle, buffer, (uint)buffer.Length, 0);
                }
                if (n == 0 || n >= buffer.Length) return null;
                var s = new string(buffer, 0, (int)n);
                return s.StartsWith(@"\\?\", StringComparison.Ordinal) ? s.Substring(4).ToUpperInvariant() : s.ToUpperInvariant();
            }
            finally { CloseHandle(handle); }
        }
    }
}

using System.Collections.Generic;
using System.Runtime.CompilerServices;
using MadfLog.Engine.Events;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Import
{
    /// <summary>Redacts secrets (API keys, tokens, passwords, connection strings) before an event is stored.</summary>
    public sealed class SecretRedactionStage : IImportStage
    {
        [MethodImpl(Hot.Path)]
        public object? Prepare(List<EventRow> batch)
        {
            foreach (var e in batch)
            {
                if (e.HasDetails && MayHoldSecret(e)) e.Details = SafeText.Redact(e.Details);
                if (e.Message != null) e.Message = SafeText.Redact(e.Message);
            }
            return null;
        }

        // Whether the details text could hold a secret. When the parser split them, the shape and the short-string values
        // are the same few strings over and over (the same instances): their answer is remembered, and only long strings
        // and nested values are scanned. Every hint is checked within one piece: keys and the JSON around them are in
        // the shape (a placeholder, a control character, ends any match there), and a value is checked with its quotes.
        [MethodImpl(Hot.Path)]
        private bool MayHoldSecret(EventRow e)
        {
            var split = e.StoredDetails;
            if (split == null || split.Shape == null) return SafeText.MayHoldSecret(e.Details!);
            if (Remembered(split.Shape, quote: false)) return true;
            foreach (var v in split.Values)
            {
                if (v is DetailsShape.Name name) { if (Remembered(name.Text, quote: true)) return true; }
                else if (v is string literal && SafeText.MayHoldSecret(literal)) return true;
                else if (v is DetailsShape.Quoted quoted && SafeText.MayHoldSecret(quoted.Json)) return true;
            }
            return false;
        }

        private readonly ByReferenceMap<bool> _shapes = new ByReferenceMap<bool>();
        private readonly ByReferenceMap<bool> _names = new ByReferenceMap<bool>();

        [MethodImpl(Hot.Path)]
        private bool Remembered(string text, bool quote)
        {
            var seen = quote ? _names : _shapes;
            if (seen.TryGetValue(text, out var may)) return may;
            may = SafeText.MayHoldSecret(quote ? "\"" + text + "\"" : text);
            if (seen.Count >= 100_000) seen.Clear();
            seen.Set(text, may);
            return may;
        }

        public void BeforeWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) { }

        public void AfterWrite(List<EventRow> batch, object? prepared, SqliteConnection connection, SqliteTransaction transaction) { }

        public void BeforeCommit(SqliteConnection connection, SqliteTransaction transaction) { }
    }
}

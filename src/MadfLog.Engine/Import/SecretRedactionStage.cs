using System.Collections.Generic;
using MadfLog.Engine.Events;
using MadfLog.Engine.Text;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Import
{
    /// <summary>Redacts secrets (API keys, tokens, passwords, connection strings) before an event is stored.</summary>
    public sealed class SecretRedactionStage : IImportStage
    {
        public void Prepare(List<EventRow> batch)
        {
            foreach (var e in batch)
            {
                if (e.Details != null) e.Details = SafeText.Redact(e.Details);
                if (e.Message != null) e.Message = SafeText.Redact(e.Message);
            }
        }

        public void BeforeWrite(List<EventRow> batch, SqliteConnection connection, SqliteTransaction transaction) { }

        public void BeforeCommit(SqliteConnection connection, SqliteTransaction transaction) { }

        public void AfterWrite(List<EventRow> batch, SqliteConnection connection, SqliteTransaction transaction) { }
    }
}

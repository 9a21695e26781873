using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Query
{
    /// <summary>The story, agent and session names the store knows, read from the per-combination contexts (small, unlike events).</summary>
    public static class KnownNames
    {
        public static List<string> Of(SqliteConnection c, string column)
        {
            if (column != "story_id" && column != "agent_name" && column != "session_id") throw new ArgumentException("not a name column", nameof(column));
            var names = c.Query<string>($"SELECT DISTINCT n.text FROM contexts x JOIN names n ON n.id = x.{column} WHERE n.text <> ''").ToList();
            if (column == "story_id") names.Sort(StoryOrder.Instance); else names.Sort(StringComparer.Ordinal);
            return names;
        }
    }
}

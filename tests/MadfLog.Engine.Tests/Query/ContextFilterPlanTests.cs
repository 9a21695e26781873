using System.Linq;
using Dapper;
using MadfLog.Engine.Query;
using MadfLog.Engine.Store;
using Xunit;

namespace MadfLog.Engine.Tests.Query
{
    /// <summary>
    /// -Story and -Agent become a list of context ids per statement; questions that run a statement per pattern or per
    /// session build that list each time, so it must come from an index, not a scan of every context.
    /// </summary>
    public class ContextFilterPlanTests
    {
        [Theory]
        [InlineData("story", "ix_contexts_story")]
        [InlineData("agent", "ix_contexts_agent")]
        public void AStoryOrAgentFilterSearchesTheContextsByIndex(string by, string index)
        {
            using var t = TestPaths.NewTemp();
            using var c = MadfDatabase.Open(t.Db);
            var f = by == "story" ? new QueryFilter { Stories = new[] { "1.1" } } : new QueryFilter { Agents = new[] { "dev" } };
            var p = new DynamicParameters();
            var where = f.Where(p);
            var plan = c.Query<(long id, long parent, long notused, string detail)>($"EXPLAIN QUERY PLAN SELECT count(*) FROM events e WHERE 1=1{where}", p)
                .Select(r => r.detail).ToList();
            var contexts = plan.Where(d => d.Contains(" x ") || d.EndsWith(" x", System.StringComparison.Ordinal)).ToList();
            Assert.True(contexts.Count > 0, "no step reads contexts: " + string.Join(" | ", plan));
            Assert.All(contexts, d => Assert.Contains(index, d));
        }
    }
}

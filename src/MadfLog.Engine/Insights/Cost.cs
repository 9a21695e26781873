using System;
using System.Collections.Generic;
using System.Linq;
using Dapper;
using MadfLog.Engine.Config;
using MadfLog.Engine.Query;
using Microsoft.Data.Sqlite;

namespace MadfLog.Engine.Insights
{
    /// <summary>What one model's calls cost.</summary>
    public sealed class ModelCost
    {
        public string Model { get; set; } = "";
        /// <summary>The price entry used, or null when the model has no price (its tokens are not in the total).</summary>
        public string? PricedAs { get; set; }
        public string? PricesAsOf { get; set; }
        public long Calls { get; set; }
        public long InputTokens { get; set; }
        public long OutputTokens { get; set; }
        public long CacheWriteTokens { get; set; }
        public long CacheReadTokens { get; set; }
        /// <summary>tokens_used of calls that do not say how they split into input, output and cache: not priced.</summary>
        public long UnsplitTokens { get; set; }
        public double Usd { get; set; }
    }

    /// <summary>
    /// Cost of the llm_call events: each call's input, output, cache-write and cache-read tokens (as Claude Code's
    /// usage records them) times its model's price. The bundled table holds Anthropic's list prices with the date they
    /// were read; Set-MadfConfig -ModelPrice adds or replaces entries (other providers, negotiated prices, new models).
    /// Calls without a split of their tokens, or of a model without a price, are counted but not priced, and say so.
    /// </summary>
    public static class Cost
    {
        /// <summary>
        /// Anthropic list prices per million tokens (cache writes: 5-minute TTL), from anthropic.com/pricing. Opus 4 and
        /// 4.1 kept the old Opus price; from 4.5 on Opus 4.x costs a third of it, so "claude-opus-4" prices the later 4.x
        /// ids (4-5, 4-6, ...) and the two older ones are named: "claude-opus-4-0" (alias), "claude-opus-4-2025" (the
        /// dated id of Opus 4, claude-opus-4-20250514) and "claude-opus-4-1". Long-context (over 200K input) surcharges
        /// of some Sonnet versions are not modelled: the transcripts do not say which calls were billed that way.
        /// </summary>
        public static readonly IReadOnlyList<ModelPrice> Bundled = new[]
        {
            P("claude-opus-4", 5, 25, 6.25, 0.50),
            P("claude-opus-4-0", 15, 75, 18.75, 1.50),
            P("claude-opus-4-1", 15, 75, 18.75, 1.50),
            P("claude-opus-4-2025", 15, 75, 18.75, 1.50),
            P("claude-sonnet-4", 3, 15, 3.75, 0.30),
            P("claude-haiku-4", 1, 5, 1.25, 0.10),
            P("claude-3-7-sonnet", 3, 15, 3.75, 0.30),
            P("claude-3-5-sonnet", 3, 15, 3.75, 0.30),
            P("claude-3-5-haiku", 0.80, 4, 1, 0.08),
            P("claude-3-opus", 15, 75, 18.75, 1.50),
            P("claude-3-haiku", 0.25, 1.25, 0.30, 0.03),
        };

        public const string BundledAsOf = "2026-11-29";

        private static ModelPrice P(string model, double input, double output, double write, double read) =>
            new ModelPrice { Model = model, Input = input, Output = output, CacheWrite = write, CacheRead = read, AsOf = BundledAsOf };

        /// <summary>The price for a model id: the configured entries first, then the bundled ones; the longest matching prefix wins.</summary>
        public static ModelPrice? PriceFor(string model, IEnumerable<ModelPrice>? overrides)
        {
            var id = model.Trim().ToLowerInvariant();
            ModelPrice? Best(IEnumerable<ModelPrice> table) => table
                .Where(p => p.Model.Length > 0 && id.StartsWith(p.Model.Trim().ToLowerInvariant(), StringComparison.Ordinal))
                .OrderByDescending(p => p.Model.Trim().Length).FirstOrDefault();
            return (overrides != null ? Best(overrides) : null) ?? Best(Bundled);
        }

        public static List<ModelCost> ByModel(SqliteConnection c, QueryFilter f, IEnumerable<ModelPrice>? overrides)
        {
            var p = new DynamicParameters();
            var where = f.Where(p);
            var rows = c.Query<ModelUsageRow>(
                $@"SELECT json_extract(e.details, '$.model') AS Model, count(*) AS Calls, sum(json_extract(e.details, '$.input_tokens')) AS InputTokens,
                          sum(json_extract(e.details, '$.output_tokens')) AS OutputTokens, sum(json_extract(e.details, '$.cache_creation_input_tokens')) AS CacheWriteTokens,
                          sum(json_extract(e.details, '$.cache_read_input_tokens')) AS CacheReadTokens,
                          coalesce(sum(CASE WHEN json_extract(e.details, '$.input_tokens') IS NULL AND json_extract(e.details, '$.output_tokens') IS NULL THEN e.tokens_used END), 0) AS UnsplitTokens
                   FROM events e WHERE e.event_type = 'llm_call'{where} GROUP BY 1", p).ToList();
            var prices = overrides?.ToList();
            return rows.Select(r =>
            {
                var model = r.Model ?? "(no model)";
                var price = r.Model == null ? null : PriceFor(r.Model, prices);
                var cost = new ModelCost
                {
                    Model = model, PricedAs = price?.Model, PricesAsOf = price?.AsOf, Calls = r.Calls,
                    InputTokens = r.InputTokens ?? 0, OutputTokens = r.OutputTokens ?? 0, CacheWriteTokens = r.CacheWriteTokens ?? 0, CacheReadTokens = r.CacheReadTokens ?? 0,
                    UnsplitTokens = r.UnsplitTokens,
                };
                if (price != null)
                    cost.Usd = Math.Round((cost.InputTokens * price.Input + cost.OutputTokens * price.Output + cost.CacheWriteTokens * price.CacheWrite + cost.CacheReadTokens * price.CacheRead) / 1_000_000, 2);
                return cost;
            }).OrderByDescending(m => m.Usd).ThenBy(m => m.Model, StringComparer.Ordinal).ToList();
        }

        /// <summary>One model's llm_call usage (mapped by column name).</summary>
        private sealed class ModelUsageRow
        {
            public string? Model { get; set; }
            public long Calls { get; set; }
            public long? InputTokens { get; set; }
            public long? OutputTokens { get; set; }
            public long? CacheWriteTokens { get; set; }
            public long? CacheReadTokens { get; set; }
            public long UnsplitTokens { get; set; }
        }
    }
}

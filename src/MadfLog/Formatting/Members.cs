using System;
using System.Collections.Generic;
using System.Management.Automation;
using MadfLog.Engine.Facade;
using MadfLog.Engine.Query;

namespace MadfLog.Formatting
{
    /// <summary>
    /// Members that MadfLog.types.ps1xml adds to the engine's result types, so objects read like PowerShell's own:
    /// an event's Details as an object (its JSON text stays in DetailsJson). Written in C# so they work in every host,
    /// including ones without ConvertFrom-Json.
    /// </summary>
    public static class Members
    {
        /// <summary>EventRecord.Details: the details JSON as a PSCustomObject (nested objects and arrays kept), or null.</summary>
        public static object? EventDetails(PSObject instance) =>
            instance.BaseObject is EventRecord e ? FromJson(e.Details) : null;

        /// <summary>EventRecord.DetailsJson: the details as stored, one JSON text.</summary>
        public static string? EventDetailsJson(PSObject instance) =>
            instance.BaseObject is EventRecord e ? e.Details : null;

        /// <summary>JSON text as PowerShell objects (parsed by the engine); text that is not JSON comes back as it is.</summary>
        public static object? FromJson(string? json) => ToPowerShell(MadfStore.ParseJson(json));

        private static object? ToPowerShell(object? value)
        {
            switch (value)
            {
                case List<KeyValuePair<string, object?>> fields:
                    var o = new PSObject();
                    foreach (var p in fields) o.Properties.Add(new PSNoteProperty(p.Key, ToPowerShell(p.Value)));
                    return o;
                case object?[] items:
                    var list = new object?[items.Length];
                    for (var i = 0; i < items.Length; i++) list[i] = ToPowerShell(items[i]);
                    return list;
                default: return value;
            }
        }
    }
}

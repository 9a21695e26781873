using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace MadfLog.HelpGen
{
    /// <summary>Usage: HelpGen &lt;module manifest&gt; &lt;cmdlet assembly XML docs&gt; &lt;output MAML file&gt;.</summary>
    public static class Program
    {
        private static readonly XNamespace Msh = "http://msh";
        private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
        private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

        public static int Main(string[] args)
        {
            if (args.Length != 3) { Console.Error.WriteLine("usage: HelpGen <manifest> <xmldoc> <out.xml>"); return 64; }
            var docs = XmlDocs.Load(args[1]);
            var iss = InitialSessionState.CreateDefault2();
            using var runspace = RunspaceFactory.CreateRunspace(iss);
            runspace.Open();
            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddScript("Import-Module $args[0] -ErrorAction Stop; Get-Command -Module MadfLog -CommandType Cmdlet").AddArgument(args[0]);
            var commands = ps.Invoke().Select(o => (CmdletInfo)o.BaseObject).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
            if (ps.HadErrors || commands.Count == 0)
            {
                Console.Error.WriteLine("HelpGen: could not load the module: " + string.Join("; ", ps.Streams.Error));
                return 1;
            }

            var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
                new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command),
                new XAttribute(XNamespace.Xmlns + "dev", Dev));
            var missing = new List<string>();
            IEnumerable<string> Related(CmdletInfo c) => commands
                .Where(o => o.Name != c.Name && (o.Noun == c.Noun || SharedNoun(o.Noun, c.Noun)))
                .Select(o => o.Name).Take(6);
            foreach (var cmd in commands) root.Add(CommandHelp(cmd, docs, missing, Related));
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[2]))!);
            new XDocument(new XDeclaration("1.0", "utf-8", null), root).Save(args[2]);
            // Canonical MSBuild warning format, so a missing doc comment shows in every build.
            foreach (var m in missing) Console.WriteLine($"HelpGen : warning MADF001: no doc comment for {m}");
            Console.WriteLine($"HelpGen: wrote help for {commands.Count} cmdlets to {args[2]}");
            return 0;
        }

        private static readonly HashSet<string> Common = new HashSet<string>(
            PSCmdlet.CommonParameters, StringComparer.OrdinalIgnoreCase);

        private static readonly Dictionary<string, string> StandardDescriptions = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["WhatIf"] = "Shows what would happen if the cmdlet runs. The cmdlet is not run.",
            ["Confirm"] = "Prompts you for confirmation before running the cmdlet.",
        };

        // MadfRule ~ MadfRuleEffectiveness, MadfRevision ~ MadfRevisionJob, MadfLog ~ MadfQuarantine is not: a shared word prefix beyond "Madf".
        private static bool SharedNoun(string a, string b)
        {
            var wa = Regex.Matches(a, "[A-Z][a-z]*").Select(m => m.Value).Skip(1).FirstOrDefault();
            var wb = Regex.Matches(b, "[A-Z][a-z]*").Select(m => m.Value).Skip(1).FirstOrDefault();
            return wa != null && wa == wb;
        }

        private static XElement CommandHelp(CmdletInfo cmd, XmlDocs docs, List<string> missing, Func<CmdletInfo, IEnumerable<string>> related)
        {
            var typeDoc = docs.Type(cmd.ImplementingType);
            if (typeDoc.Summary.Length == 0) missing.Add(cmd.Name);
            var parameters = cmd.Parameters.Values.Where(p => !Common.Contains(p.Name)).ToList();

            var help = new XElement(Command + "command",
                new XElement(Command + "details",
                    new XElement(Command + "name", cmd.Name),
                    new XElement(Command + "verb", cmd.Verb),
                    new XElement(Command + "noun", cmd.Noun),
                    new XElement(Maml + "description", Para(typeDoc.Summary))),
                new XElement(Maml + "description", Para(typeDoc.Remarks.Length > 0 ? typeDoc.Remarks : typeDoc.Summary)));

            var syntax = new XElement(Command + "syntax");
            foreach (var set in cmd.ParameterSets)
            {
                var item = new XElement(Command + "syntaxItem", new XElement(Maml + "name", cmd.Name));
                foreach (var p in set.Parameters.Where(p => !Common.Contains(p.Name)))
                    item.Add(Parameter(cmd, docs, p.Name, p.IsMandatory, p.Position, p.ValueFromPipeline, p.ValueFromPipelineByPropertyName, p.ParameterType, missing));
                syntax.Add(item);
            }
            help.Add(syntax);

            var all = new XElement(Command + "parameters");
            foreach (var p in parameters)
            {
                var inSets = p.ParameterSets.Values.ToList();
                all.Add(Parameter(cmd, docs, p.Name, inSets.Any(s => s.IsMandatory), inSets.Select(s => s.Position).DefaultIfEmpty(int.MinValue).Max(),
                    inSets.Any(s => s.ValueFromPipeline), inSets.Any(s => s.ValueFromPipelineByPropertyName), p.ParameterType, missing));
            }
            help.Add(all);

            // INPUTS: what binds from the pipeline, by value (the object itself) or by property name.
            var inputs = new XElement(Command + "inputTypes");
            foreach (var p in parameters.Where(p => p.ParameterSets.Values.Any(s => s.ValueFromPipeline)))
                inputs.Add(InputType(p.ParameterType.FullName!, $"-{p.Name} binds the pipeline object itself."));
            var byName = parameters.Where(p => p.ParameterSets.Values.Any(s => s.ValueFromPipelineByPropertyName)).ToList();
            if (byName.Count > 0)
                inputs.Add(InputType("System.Management.Automation.PSObject",
                    "Objects with these properties bind by name: " + string.Join(", ", byName.Select(p => p.Aliases.Count > 0 ? $"{p.Name} ({string.Join(", ", p.Aliases)})" : p.Name)) + "."));
            if (!inputs.HasElements) inputs.Add(InputType("None", "This cmdlet takes no pipeline input."));
            help.Add(inputs);

            // OUTPUTS: each [OutputType] with the cmdlet's own <returns> for it (<returns type="String"> for one type, a
            // plain <returns> for the rest), so it says what this cmdlet writes and when; a cmdlet that declares no
            // output type writes "None" with its plain <returns>. A missing description is a MADF001 warning.
            var outputs = new XElement(Command + "returnValues");
            var types = cmd.OutputType.Select(t => t.Name).Where(n => !string.IsNullOrEmpty(n)).DefaultIfEmpty("None").ToList();
            foreach (var name in types)
            {
                var shortName = name.Split('.').Last();
                var description = typeDoc.Returns.TryGetValue(shortName, out var own) ? own : typeDoc.Returns.TryGetValue("", out var any) ? any : "";
                if (description.Length == 0) missing.Add($"{cmd.Name} OUTPUTS {name}");
                outputs.Add(new XElement(Command + "returnValue", new XElement(Dev + "type", new XElement(Maml + "name", name)), new XElement(Maml + "description", Para(description))));
            }
            help.Add(outputs);

            var examples = new XElement(Command + "examples");
            var n = 0;
            foreach (var ex in typeDoc.Examples)
            {
                examples.Add(new XElement(Command + "example",
                    new XElement(Maml + "title", $"-------------------------- Example {++n} --------------------------"),
                    new XElement(Dev + "code", ex.Code),
                    new XElement(Dev + "remarks", Para(ex.Text))));
            }
            help.Add(examples);

            // Related links: the concept topic, then the cmdlets that share this one's noun or verb area.
            var links = new XElement(Maml + "relatedLinks",
                new XElement(Maml + "navigationLink", new XElement(Maml + "linkText", "about_MadfLog"), new XElement(Maml + "uri")));
            foreach (var other in related(cmd))
                links.Add(new XElement(Maml + "navigationLink", new XElement(Maml + "linkText", other), new XElement(Maml + "uri")));
            help.Add(links);
            return help;
        }

        private static XElement InputType(string type, string description) =>
            new XElement(Command + "inputType", new XElement(Dev + "type", new XElement(Maml + "name", type)), new XElement(Maml + "description", Para(description)));

        /// <summary>The value a parameter has when not given: read from a fresh instance of the cmdlet, so it is the code's own.</summary>
        private static string DefaultValue(CmdletInfo cmd, string name)
        {
            try
            {
                var instance = Activator.CreateInstance(cmd.ImplementingType);
                var value = cmd.ImplementingType.GetProperty(name)?.GetValue(instance);
                switch (value)
                {
                    case null: return "None";
                    case SwitchParameter sw: return sw.IsPresent ? "True" : "False";
                    case string text: return text.Length == 0 ? "None" : text;
                    case Array array: return array.Length == 0 ? "None" : string.Join(", ", array.Cast<object>());
                    case DateTime dt when dt == default: return "None";
                    case IFormattable f: return f.ToString(null, System.Globalization.CultureInfo.InvariantCulture);
                    default: return value.ToString() ?? "None";
                }
            }
            catch (Exception) { return "None"; }
        }

        private static XElement Parameter(CmdletInfo cmd, XmlDocs docs, string name, bool required, int position, bool byValue, bool byName, Type type, List<string> missing)
        {
            var meta = cmd.Parameters[name];
            var description = docs.Property(cmd.ImplementingType, name);
            if (description.Length == 0) StandardDescriptions.TryGetValue(name, out description!);
            description ??= "";
            if (description.Length == 0 && meta.ParameterType != typeof(SwitchParameter)) missing.Add(cmd.Name + " -" + name);
            var pipeline = byValue && byName ? "True (ByValue, ByPropertyName)" : byValue ? "True (ByValue)" : byName ? "True (ByPropertyName)" : "False";
            var globbing = meta.Attributes.OfType<SupportsWildcardsAttribute>().Any();
            // A switch has no value to show: Get-Help then writes [-WhatIf], not [-WhatIf <SwitchParameter>].
            var isSwitch = type == typeof(SwitchParameter);
            var validValues = meta.Attributes.OfType<ValidateSetAttribute>().SelectMany(v => v.ValidValues)
                .Concat(type.IsEnum ? Enum.GetNames(type) : Array.Empty<string>()).ToList();
            var e = new XElement(Command + "parameter",
                new XAttribute("required", required ? "true" : "false"),
                new XAttribute("globbing", globbing ? "true" : "false"),
                new XAttribute("pipelineInput", pipeline),
                new XAttribute("position", position == int.MinValue ? "named" : position.ToString()),
                new XElement(Maml + "name", name),
                new XElement(Maml + "description", Para(description)),
                isSwitch ? null : new XElement(Command + "parameterValue", new XAttribute("required", "true"), type.Name),
                validValues.Count == 0 ? null : new XElement(Command + "parameterValueGroup",
                    validValues.Select(v => new XElement(Command + "parameterValue", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), v))),
                new XElement(Dev + "type", new XElement(Maml + "name", type.FullName)),
                new XElement(Dev + "defaultValue", DefaultValue(cmd, name)));
            if (meta.Aliases.Count > 0) e.Add(new XElement(Command + "aliases", string.Join(", ", meta.Aliases)));
            return e;
        }

        private static IEnumerable<XElement> Para(string text) =>
            text.Split(new[] { "\n\n" }, StringSplitOptions.RemoveEmptyEntries).Select(p => new XElement(Maml + "para", p.Trim()));
    }

    /// <summary>The compiler's XML documentation file, read for summaries, remarks and examples.</summary>
    internal sealed class XmlDocs
    {
        private readonly Dictionary<string, XElement> _members;
        private XmlDocs(Dictionary<string, XElement> members) { _members = members; }

        public static XmlDocs Load(string path)
        {
            var members = new Dictionary<string, XElement>(StringComparer.Ordinal);
            if (File.Exists(path))
                foreach (var m in XDocument.Load(path).Descendants("member"))
                    members[(string)m.Attribute("name")!] = m;
            return new XmlDocs(members);
        }

        public (string Summary, string Remarks, List<(string Code, string Text)> Examples, Dictionary<string, string> Returns) Type(Type type)
        {
            _members.TryGetValue("T:" + type.FullName, out var m);
            var examples = m?.Elements("example").Select(e => (Clean(e.Element("code")?.Value ?? ""), Clean(string.Concat(e.Nodes().Where(n => !(n is XElement x && x.Name == "code")).Select(n => n is XElement x ? x.Value : n.ToString()))))).ToList()
                           ?? new List<(string, string)>();
            // <returns type="String">…</returns> describes one output type; a plain <returns> the others ("" key).
            var returns = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var r in m?.Elements("returns") ?? Enumerable.Empty<XElement>())
                returns[(string?)r.Attribute("type") ?? ""] = Clean(r);
            return (Clean(m?.Element("summary")), Clean(m?.Element("remarks")), examples, returns);
        }

        /// <summary>A property's summary, looked up on the type and its base types (for shared parameters like -Database).</summary>
        public string Property(Type type, string name)
        {
            for (var t = type; t != null; t = t.BaseType)
                if (_members.TryGetValue("P:" + t.FullName + "." + name, out var m)) return Clean(m.Element("summary"));
            return "";
        }

        private static string Clean(XElement? e)
        {
            if (e == null) return "";
            var text = string.Concat(e.Nodes().Select(n => n is XElement x ? (x.Name == "see" ? ((string?)x.Attribute("cref") ?? "").Split('.').Last() : x.Name == "para" ? "\n\n" + x.Value + "\n\n" : x.Value) : n.ToString()));
            return Clean(text);
        }

        private static string Clean(string text)
        {
            text = System.Net.WebUtility.HtmlDecode(text);
            var paragraphs = Regex.Split(text.Trim(), @"\n\s*\n").Select(p => Regex.Replace(p.Trim(), @"\s+", " "));
            return string.Join("\n\n", paragraphs.Where(p => p.Length > 0));
        }
    }
}

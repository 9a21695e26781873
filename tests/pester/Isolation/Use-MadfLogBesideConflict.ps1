<#
.SYNOPSIS
    Run in a fresh pwsh by Isolation.Tests.ps1: loads another module's SQLite stack (older Microsoft.Data.Sqlite,
    SQLitePCLRaw.core and, where the runtime allows, System.Text.Json) into the default load context FIRST, then imports
    MadfLog from -Module, imports logs and asks a question. Writes one JSON object: what loaded where, and what failed.
    Also usable by hand against another module build, e.g. one without isolation, to see how that fails.
#>
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Conflict,
    [Parameter(Mandatory)] [string] $Logs,
    [Parameter(Mandatory)] [string] $Database
)
$ErrorActionPreference = 'Stop'
$result = [ordered]@{ Preloaded = @(); PreloadFailed = @(); ImportModuleError = $null; Imported = $null; QueryError = $null; Patterns = $null; Assemblies = @() }

foreach ($dll in 'Microsoft.Data.Sqlite.dll', 'SQLitePCLRaw.core.dll', 'System.Text.Json.dll') {
    try {
        $a = [System.Reflection.Assembly]::LoadFrom((Join-Path $Conflict $dll))
        $result.Preloaded += [ordered]@{ Name = $a.GetName().Name; Version = $a.GetName().Version.ToString(); Location = $a.Location }
    }
    catch {
        # pwsh 7 runs on a .NET whose own System.Text.Json cannot be replaced in the default context.
        $result.PreloadFailed += [ordered]@{ File = $dll; Error = $_.Exception.GetBaseException().Message }
    }
}

try {
    Import-Module $Module -ErrorAction Stop
    try {
        $r = Import-MadfLog -Path $Logs -Database $Database -ErrorAction Stop
        $result.Imported = $r.Imported
        $result.Patterns = @(Get-MadfErrorSummary -Database $Database -Top 3 -ErrorAction Stop).Count
    }
    catch { $result.QueryError = $_.Exception.GetBaseException().Message }
}
catch { $result.ImportModuleError = $_.Exception.GetBaseException().Message }

$names = 'MadfLog', 'MadfLog.Engine', 'Microsoft.Data.Sqlite', 'SQLitePCLRaw.core', 'Dapper', 'System.Text.Json'
foreach ($a in [AppDomain]::CurrentDomain.GetAssemblies()) {
    if ($a.IsDynamic -or $names -notcontains $a.GetName().Name) { continue }
    $result.Assemblies += [ordered]@{
        Name     = $a.GetName().Name
        Version  = $a.GetName().Version.ToString()
        Context  = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($a).Name
        Location = $a.Location
    }
}
$result | ConvertTo-Json -Depth 5 -Compress

<#
.SYNOPSIS
    MadfLog in one minute: import the bundled sample logs into a fresh database and show what is there.
.DESCRIPTION
    Works under pwsh, Windows PowerShell 5.1 and the madflog host (no pwsh needed):
        dotnet build MadfLog.sln -c Release
        ./out/madflog/madflog -File examples/quickstart.ps1
    The database goes to a new temporary folder unless -Database is given.
#>
param(
    [string] $Database = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'madflog-quickstart-' + [guid]::NewGuid().ToString('N').Substring(0, 8), 'madflog.db')
)
$ErrorActionPreference = 'Stop'
# Paths are built with .NET so the script reads the same in Windows PowerShell 5.1.
if (-not (Get-Module MadfLog)) { Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'MadfLog', 'MadfLog.psd1')) }
$logs = [System.IO.Path]::Combine($PSScriptRoot, 'logs')

"== Import the sample logs (stories 1.1 and 1.2, six agents, several days) =="
# Each section goes to Out-Default on its own so every result gets its own default view.
Import-MadfLog -Path $logs -Database $Database | Out-Default

"== Import again: exactly once, nothing new is read =="
Import-MadfLog -Path $logs -Database $Database | Out-Default

"== Quarantined lines (none expected in the samples) =="
$quarantined = @(Get-MadfQuarantine -Database $Database)
"{0} quarantined line(s)" -f $quarantined.Count

"== Did story 1.2 repeat fewer errors than 1.1? =="
Compare-MadfStory -ReferenceStory 1.1 -DifferenceStory 1.2 -Database $Database | Out-Default

"== The same question for an agent's context (-Brief, at most 400 tokens) =="
Compare-MadfStory -ReferenceStory 1.1 -DifferenceStory 1.2 -Database $Database -Brief

"== Errors by pattern =="
Get-MadfErrorSummary -Database $Database -Top 8 | Out-Default

"== The weekly revision over the sample period: recurring patterns at >= 3% of errors become proposed rules =="
$claude = [System.IO.Path]::Combine([System.IO.Path]::GetDirectoryName($Database), 'CLAUDE.md')
$null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($Database))
[System.IO.File]::WriteAllText($claude, "# Project`n`nHuman-written notes stay as they are.`n")
Invoke-MadfRevision -Database $Database -Since ([datetime]'2026-11-01') -ClaudeMdPath $claude -NoImport -AutoApprove -WarningAction SilentlyContinue | Out-Default
Get-MadfRule -Database $Database | Out-Default

"== CLAUDE.md after the revision =="
[System.IO.File]::ReadAllText($claude)

"== Storage =="
Get-MadfStorage -Database $Database | Out-Default

"== The HTML report =="
(Export-MadfReport -Database $Database -Path ([System.IO.Path]::Combine([System.IO.Path]::GetDirectoryName($Database), 'report.html'))).FullName

"Database: $Database"

<#
.SYNOPSIS
    The whole self-improvement cycle on the bundled sample logs: import, revise, review rules, measure, schedule.
.DESCRIPTION
    Runs under pwsh, Windows PowerShell 5.1 and the madflog host:
        ./out/madflog/madflog -File examples/weekly-revision.ps1
    It works in a throw-away folder and does not register a real job unless -Register is given.
#>
param(
    [string] $WorkFolder = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'madflog-weekly-' + [guid]::NewGuid().ToString('N').Substring(0, 8)),
    [switch] $Register
)
$ErrorActionPreference = 'Stop'
# Paths are built with .NET so the script reads the same in Windows PowerShell 5.1.
if (-not (Get-Module MadfLog)) { Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'MadfLog', 'MadfLog.psd1')) }

$null = [System.IO.Directory]::CreateDirectory($WorkFolder)
$db = [System.IO.Path]::Combine($WorkFolder, 'madflog.db')
$claude = [System.IO.Path]::Combine($WorkFolder, 'CLAUDE.md')
[System.IO.File]::WriteAllText($claude, "# Project notes`n`nWritten by a human; MadfLog only touches its own block.`n")

# The cycle moves and compresses logs, so it works on a copy of the sample logs, never on examples/logs itself.
$logs = [System.IO.Path]::Combine($WorkFolder, 'logs')
$null = [System.IO.Directory]::CreateDirectory($logs)
foreach ($file in [System.IO.Directory]::GetFiles([System.IO.Path]::Combine($PSScriptRoot, 'logs'), '*.jsonl')) {
    [System.IO.File]::Copy($file, [System.IO.Path]::Combine($logs, [System.IO.Path]::GetFileName($file)))
}

# 1. Tell MadfLog where logs and CLAUDE.md are: the scheduled job reads the same configuration.
Set-MadfConfig -Database $db -LogPath $logs -ClaudeMdPath $claude

# 2. The weekly revision: import what is new, mine patterns, propose rules for recurring errors at >= 3% of the week's errors.
#    The sample logs are dated; -Since covers them all.
Invoke-MadfRevision -Database $db -Since ([datetime]'2000-01-01') | Out-Default

# 3. Review: proposed rules wait for a human (or use -AutoApprove for unattended teams).
Get-MadfRule -Database $db -Status Proposed | Out-Default
# Approve the three most frequent; the rest stay proposed.
Get-MadfRule -Database $db -Status Proposed | Where-Object { $_.Evidence.Share -ge 0.12 } | Approve-MadfRule -Database $db | Out-Null
"--- CLAUDE.md now ---"
[System.IO.File]::ReadAllText($claude)

# 4. Measure: has each active rule reduced its error? (Needs data after activation; the next weeks provide it.)
Get-MadfRuleEffectiveness -Database $db | Out-Default

# 5. Keep storage small, and schedule the daily maintenance (import, rotation) and the Sunday-night revision.
Invoke-MadfRotation -Database $db -Confirm:$false -WarningAction SilentlyContinue | Out-Default
if ($Register) { Register-MadfJob -Database $db | Out-Default }
else { "Register-MadfJob -Database '$db' would schedule both jobs (-WhatIf shows the exact files and commands)." }
Get-MadfHealth -Database $db -Brief
"Work folder: $WorkFolder"

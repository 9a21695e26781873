<#
.SYNOPSIS
    The whole self-improvement cycle on the bundled sample logs: import, revise, review rules, measure, schedule.
.DESCRIPTION
    Runs under pwsh, Windows PowerShell 5.1 and the madflog host:
        ./out/madflog/madflog -File examples/weekly-revision.ps1
    It works in a throw-away folder and does not register a real job unless -Register is given.
#>
param(
    [string] $WorkFolder = (Join-Path ([System.IO.Path]::GetTempPath()) ('madflog-weekly-' + [guid]::NewGuid().ToString('N').Substring(0, 8))),
    [switch] $Register
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module MadfLog)) { Import-Module (Join-Path $PSScriptRoot '../out/MadfLog/MadfLog.psd1') }

$null = [System.IO.Directory]::CreateDirectory($WorkFolder)
$db = Join-Path $WorkFolder 'madflog.db'
$claude = Join-Path $WorkFolder 'CLAUDE.md'
[System.IO.File]::WriteAllText($claude, "# Project notes`n`nWritten by a human; MadfLog only touches its own block.`n")

# 1. Tell MadfLog where logs and CLAUDE.md are: the scheduled job reads the same configuration.
Set-MadfConfig -Database $db -LogPath (Join-Path $PSScriptRoot 'logs') -ClaudeMdPath $claude

# 2. The weekly revision: import what is new, mine patterns, propose rules for errors at >= 3% of the week's errors.
#    The sample logs are dated; -Since covers them all.
$revision = Invoke-MadfRevision -Database $db -Since ([datetime]'2000-01-01')
$revision

# 3. Review: proposed rules wait for a human (or use -AutoApprove for unattended teams).
Get-MadfRule -Database $db -Status Proposed
Get-MadfRule -Database $db -Status Proposed | Approve-MadfRule -Database $db
"--- CLAUDE.md now ---"
[System.IO.File]::ReadAllText($claude)

# 4. Measure: has each active rule reduced its error? (Needs data after activation; the next weeks provide it.)
Get-MadfRuleEffectiveness -Database $db

# 5. Keep storage small, and schedule the Sunday-night run.
Invoke-MadfRotation -Database $db -Confirm:$false
if ($Register) { Register-MadfRevisionJob -Database $db } else { Register-MadfRevisionJob -Database $db -WhatIf }
"Work folder: $WorkFolder"

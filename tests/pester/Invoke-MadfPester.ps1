<#
.SYNOPSIS
    Runs the Pester suite in tests/pester against the built out/MadfLog, with the Pester the build restored (out/Pester).
.DESCRIPTION
    Used by .ci/run and build.ps1 -Task Test, under the repo's own pwsh (dotnet tool run pwsh). Prints Pester's detailed
    output, then one line "Pester: N passed, N failed, N skipped" (a container that failed to run counts as failed),
    and exits with the number of failures.
#>
[CmdletBinding()]
param(
    [string] $Path = $PSScriptRoot,
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Output = 'Detailed'
)

$ErrorActionPreference = 'Stop'
# Plain text when a log is the reader (CI), colours at a terminal.
if ([Console]::IsOutputRedirected -and $PSStyle) { $PSStyle.OutputRendering = 'PlainText' }
$repo = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
$pester = Join-Path $repo 'out/Pester/Pester.psd1'
$module = Join-Path $repo 'out/MadfLog/MadfLog.psd1'
foreach ($needed in $pester, $module) {
    if (-not (Test-Path -LiteralPath $needed)) { throw "$needed is missing: build first (dotnet build MadfLog.sln -c Release)." }
}
# The module must bring its own SQLite: nothing in this process may have loaded one before it.
$preloaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -like '*Sqlite*' }
if ($preloaded) { throw "This PowerShell already loaded $($preloaded.GetName().Name -join ', '); run the suite from a clean pwsh." }

Import-Module $pester -Force
$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = $Output
$result = Invoke-Pester -Configuration $config

$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
"Pester: $($result.PassedCount) passed, $failed failed, $($result.SkippedCount) skipped"
exit $failed

<#
.SYNOPSIS
    Builds, tests and packages MadfLog. Runs under Windows PowerShell 5.1 and PowerShell 7.
.DESCRIPTION
    Tasks:
      Build    dotnet build MadfLog.sln: assembles the importable module in out/MadfLog and the madflog host in out/madflog.
      Test     dotnet test MadfLog.sln (engine and hosted-module xunit suites), then the Pester tests in tests/pester
               under the repo's pinned pwsh (dotnet tool restore) with the Pester 5.7.1 the build restored.
      Package  Build, then zip out/MadfLog into out/MadfLog-<version>.zip (ready to unzip into a PSModulePath folder).
      Clean    Remove out/ and every bin/ and obj/ folder.
.EXAMPLE
    ./build.ps1 -Task Build, Test
#>
[CmdletBinding()]
param(
    # Build, Test, Package, Clean; "Build,Test" works too, as pwsh -File passes it as one string.
    [string[]] $Task = @('Build'),

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
$Task = @($Task -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })
$unknown = @($Task | Where-Object { $_ -notin 'Build', 'Test', 'Package', 'Clean' })
if ($unknown) { throw "Unknown task(s): $($unknown -join ', '). Tasks: Build, Test, Package, Clean." }
$root = $PSScriptRoot
$solution = Join-Path $root 'MadfLog.sln'
$moduleOut = Join-Path (Join-Path $root 'out') 'MadfLog'

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-BuildTask {
    Invoke-Dotnet build $solution -c $Configuration
    Write-Host "Module assembled in $moduleOut"
}

function Invoke-TestTask {
    Invoke-Dotnet test $solution -c $Configuration
    # Pester 5.7.1 was restored by the build into out/Pester; it runs under the repo's pinned pwsh
    # (.config/dotnet-tools.json) in a child process, so the freshly built module is loaded once, cleanly.
    Invoke-Dotnet tool restore
    & dotnet tool run pwsh -NoProfile -NonInteractive -File (Join-Path $root 'tests/pester/Invoke-MadfPester.ps1')
    if ($LASTEXITCODE -ne 0) { throw "Pester reported $LASTEXITCODE failed test(s)." }
}

function Invoke-PackageTask {
    Invoke-BuildTask
    $manifest = Import-PowerShellDataFile (Join-Path $moduleOut 'MadfLog.psd1')
    $zip = Join-Path (Join-Path $root 'out') "MadfLog-$($manifest.ModuleVersion).zip"
    if (Test-Path $zip) { Remove-Item $zip }
    Compress-Archive -Path $moduleOut -DestinationPath $zip
    Write-Host "Packaged $zip"
}

function Invoke-CleanTask {
    Get-ChildItem -Path $root -Directory -Recurse -Include bin, obj | Remove-Item -Recurse -Force
    if (Test-Path (Join-Path $root 'out')) { Remove-Item (Join-Path $root 'out') -Recurse -Force }
}

# dotnet finds the tool manifest (.config/dotnet-tools.json) from the current directory.
Push-Location $root
try {
    foreach ($name in $Task) {
        Write-Host "== $name ==" -ForegroundColor Cyan
        & "Invoke-$($name)Task"
    }
}
finally {
    Pop-Location
}

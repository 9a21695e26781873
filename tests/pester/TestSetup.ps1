# Dot-sourced by the test files: imports the built module and makes sample databases from the bundled logs.
$script:Repo = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
$script:SampleLogs = Join-Path $Repo 'examples/logs'
Import-Module (Join-Path $Repo 'out/MadfLog/MadfLog.psd1') -Force -ErrorAction Stop

# The bundled sample logs imported once, with the revision run over them (rules proposed), kept as a template.
function Initialize-MadfTemplate {
    $folder = Join-Path $TestDrive ('template-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
    $null = New-Item -ItemType Directory -Path $folder
    $db = Join-Path $folder 'madflog.db'
    $null = Import-MadfLog -Path $SampleLogs -Database $db
    $null = Invoke-MadfRevision -Database $db -Since ([datetime]'2026-01-01') -NoImport -WarningAction SilentlyContinue
    $db
}

# A folder of its own holding a copy of the template database (madflog.db), a copy of the sample logs (logs/),
# a CLAUDE.md, and a configuration that points at them.
function New-MadfSandbox([string] $Template) {
    $folder = Join-Path $TestDrive ('sandbox-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $folder
    Get-ChildItem -Path (Split-Path $Template) -Filter 'madflog.db*' | Copy-Item -Destination $folder
    Copy-Item -Path $SampleLogs -Destination (Join-Path $folder 'logs') -Recurse
    Set-Content -Path (Join-Path $folder 'CLAUDE.md') -Value "# Project`n`nWritten by a human."
    $db = Join-Path $folder 'madflog.db'
    Set-MadfConfig -Database $db -LogPath (Join-Path $folder 'logs') -ClaudeMdPath (Join-Path $folder 'CLAUDE.md') -ArchivePath (Join-Path $folder 'archive')
    [pscustomobject]@{ Folder = $folder; Database = $db; ClaudeMd = Join-Path $folder 'CLAUDE.md' }
}

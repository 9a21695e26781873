#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Issue #15 item 7: on PowerShell 7 MadfLog's dependencies load into their own AssemblyLoadContext, so a session that
# already holds another Microsoft.Data.Sqlite / SQLitePCLRaw (another module's) still imports logs and answers.
# Each case runs in a fresh pwsh: a loaded assembly cannot be unloaded, and this process already imported MadfLog.

BeforeAll {
    $repo = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    $conflict = Join-Path $repo 'out/conflict'
    $script = Join-Path $PSScriptRoot 'Isolation/Use-MadfLogBesideConflict.ps1'
    # The same pwsh as this one: under 'dotnet tool run pwsh' the process is dotnet running $PSHOME/pwsh.dll.
    $exe = [Environment]::ProcessPath
    [string[]] $prefix = @()
    if ((Split-Path $exe -Leaf) -match '^dotnet(\.exe)?$') { $prefix = @(Join-Path $PSHOME 'pwsh.dll') }

    function Invoke-FreshPwsh([string] $Module) {
        $db = Join-Path $TestDrive ('iso-' + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.db')
        $out = & $exe @prefix -NoProfile -NonInteractive -File $script -Module $Module -Conflict $conflict `
            -Logs (Join-Path $repo 'examples/logs') -Database $db 2>&1
        $json = @($out | Where-Object { $_ -is [string] -and $_.StartsWith('{') }) | Select-Object -Last 1
        if (-not $json) { throw "The child pwsh wrote no result:`n$($out | Out-String)" }
        $json | ConvertFrom-Json
    }
}

Describe 'MadfLog beside another module''s SQLite on PowerShell 7' {
    BeforeAll {
        foreach ($f in 'Microsoft.Data.Sqlite.dll', 'SQLitePCLRaw.core.dll') {
            if (-not (Test-Path (Join-Path $conflict $f))) { throw "$conflict/$f is missing: build first (tests/pester/MadfLog.Pester.csproj)." }
        }
        $r = Invoke-FreshPwsh (Join-Path $repo 'out/MadfLog/MadfLog.psd1')
        $ours = [Version](Get-Item (Join-Path $repo 'out/MadfLog/dependencies/Microsoft.Data.Sqlite.dll')).VersionInfo.FileVersion
    }

    It 'had the other Microsoft.Data.Sqlite and SQLitePCLRaw.core loaded first, at other versions than ours' {
        $names = @($r.Preloaded.Name)
        $names | Should -Contain 'Microsoft.Data.Sqlite'
        $names | Should -Contain 'SQLitePCLRaw.core'
        $other = $r.Preloaded | Where-Object Name -eq 'Microsoft.Data.Sqlite'
        ([Version]$other.Version).Major | Should -Not -Be $ours.Major
    }

    It 'imports the logs and answers a question' {
        $r.ImportModuleError | Should -BeNullOrEmpty
        $r.QueryError | Should -BeNullOrEmpty
        $r.Imported | Should -BeGreaterThan 0
        $r.Patterns | Should -Be 3
    }

    It 'loads the engine and its SQLite into the MadfLog context, the cmdlets into the default one' {
        $at = { param($name, $context) @($r.Assemblies | Where-Object { $_.Name -eq $name -and $_.Context -eq $context }) }
        (& $at 'MadfLog' 'Default').Count | Should -Be 1
        (& $at 'MadfLog.Engine' 'MadfLog').Count | Should -Be 1
        @($r.Assemblies | Where-Object Name -eq 'MadfLog.Engine').Count | Should -Be 1
        foreach ($dep in 'Microsoft.Data.Sqlite', 'SQLitePCLRaw.core', 'Dapper') {
            $mine = & $at $dep 'MadfLog'
            $mine.Count | Should -Be 1 -Because "$dep must load into MadfLog's context"
            $mine[0].Location | Should -BeLike '*dependencies*'
        }
        # The other module's copies stay where they were, untouched, at their own versions.
        $theirs = & $at 'Microsoft.Data.Sqlite' 'Default'
        $theirs.Count | Should -Be 1
        $theirs[0].Version | Should -Be ($r.Preloaded | Where-Object Name -eq 'Microsoft.Data.Sqlite').Version
    }

    It 'shares the platform''s System.Text.Json instead of loading a second copy' {
        # .NET's own System.Text.Json is newer than the engine's 9.0 build, so the context defers to it (as PsesLoadContext
        # defers to $PSHOME). Another module's System.Text.Json cannot displace it in pwsh 7's default context: loading the
        # 8.0 file from out/conflict hands back the platform's 10.0 (Preloaded shows it).
        $json = @($r.Assemblies | Where-Object Name -eq 'System.Text.Json')
        $json.Count | Should -Be 1
        $json[0].Context | Should -Be 'Default'
        $json[0].Location | Should -Not -BeLike '*dependencies*'
    }
}

Describe 'The same session without the load context (a control)' {
    It 'fails: the engine then binds the other module''s SQLitePCLRaw in the default context' {
        # The same build, flattened the way the module was before isolation: dependencies beside MadfLog.dll, where
        # PowerShell's own resolver finds them for the default context, and no MadfLog.Loader nested module.
        $flat = Join-Path $TestDrive 'flat/MadfLog'
        $null = New-Item -ItemType Directory (Split-Path $flat)
        Copy-Item (Join-Path $repo 'out/MadfLog') (Split-Path $flat) -Recurse
        Get-ChildItem (Join-Path $flat 'dependencies') | Move-Item -Destination $flat -Force
        $manifest = Join-Path $flat 'MadfLog.psd1'
        (Get-Content $manifest -Raw) -replace "(?m)^\s*NestedModules\s*=.*$", '' | Set-Content $manifest
        $r = Invoke-FreshPwsh $manifest
        "$($r.ImportModuleError) $($r.QueryError)" | Should -Match 'SQLitePCLRaw|Sqlite'
        $r.Imported | Should -BeNullOrEmpty
        @($r.Assemblies | Where-Object { $_.Name -eq 'MadfLog.Engine' -and $_.Context -eq 'Default' }).Count | Should -Be 1
    }
}

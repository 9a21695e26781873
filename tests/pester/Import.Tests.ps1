#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same behaviour the xunit module tests check, for users who have pwsh and Pester (./build.ps1 -Task Test runs it).

BeforeAll {
    $repo = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    Import-Module (Join-Path $repo 'out/MadfLog/MadfLog.psd1') -Force -ErrorAction Stop
    function New-Line([int] $i, [bool] $success = $true) {
        '{{"timestamp":"2026-11-20T10:00:{0:00}Z","event_type":"tool_call","category":"execution","story_id":"1.1","agent_name":"dev","success":{1},"details":{{"message":"m{0}"}}}}' -f ($i % 60), $success.ToString().ToLowerInvariant()
    }
}

Describe 'Import-MadfLog' {
    BeforeEach {
        $db = Join-Path $TestDrive ("{0}.db" -f [guid]::NewGuid())
    }

    It 'imports a folder and its result flows through Where-Object' {
        Set-Content -Path (Join-Path $TestDrive 'good.jsonl') -Value (0..4 | ForEach-Object { New-Line $_ })
        Set-Content -Path (Join-Path $TestDrive 'bad.jsonl') -Value @((New-Line 10), '{broken', (New-Line 11))
        $r = Import-MadfLog -Path $TestDrive -Database $db -ErrorAction SilentlyContinue | Where-Object Quarantined -gt 0
        $r.Imported | Should -Be 7
        $r.Quarantined | Should -Be 1
    }

    It 'reports a quarantined line as a non-terminating error naming file and line' {
        $f = Join-Path $TestDrive 'q.jsonl'
        Set-Content -Path $f -Value @((New-Line 1), '{broken')
        $null = Import-MadfLog -LiteralPath $f -Database $db -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'LineQuarantined,MadfLog.Commands.Import.ImportMadfLogCommand'
        $errs[0].Exception.Message | Should -Match 'q\.jsonl:2:'
        (Get-MadfQuarantine -Database $db).Raw | Should -Be '{broken'
    }

    It 'adds nothing on a second run' {
        $f = Join-Path $TestDrive 'again.jsonl'
        Set-Content -Path $f -Value (0..9 | ForEach-Object { New-Line $_ })
        (Import-MadfLog $f -Database $db).Imported | Should -Be 10
        (Import-MadfLog $f -Database $db).Imported | Should -Be 0
    }

    It 'binds paths from Get-ChildItem by property name' {
        Set-Content -Path (Join-Path $TestDrive 'p1.jsonl') -Value (New-Line 1)
        Set-Content -Path (Join-Path $TestDrive 'p2.jsonl') -Value (New-Line 2)
        $r = Get-ChildItem $TestDrive -Filter 'p?.jsonl' | Import-MadfLog -Database $db
        $r.Files | Should -Be 2
    }

    It 'does nothing under -WhatIf' {
        $f = Join-Path $TestDrive 'w.jsonl'
        Set-Content -Path $f -Value (New-Line 1)
        Import-MadfLog $f -Database $db -WhatIf | Should -BeNullOrEmpty
        (Import-MadfLog $f -Database $db).Imported | Should -Be 1
    }

    It 'gives an ObjectNotFound error for a missing path' {
        Import-MadfLog (Join-Path $TestDrive 'missing.jsonl') -Database $db -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,MadfLog.Commands.Import.ImportMadfLogCommand'
    }

    It 'warns when a wildcard matches nothing or a folder holds no log file' {
        $null = Import-MadfLog (Join-Path $TestDrive 'none*.jsonl') -Database $db -WarningVariable w -WarningAction SilentlyContinue
        $w[0].Message | Should -Match "No file or folder matches '.*none\*\.jsonl'"
        $empty = New-Item -ItemType Directory (Join-Path $TestDrive ([guid]::NewGuid()))
        Set-Content -Path (Join-Path $empty 'notes.txt') -Value 'not a log'
        $null = Import-MadfLog $empty -Database $db -WarningVariable w2 -WarningAction SilentlyContinue
        $w2[0].Message | Should -Match 'No log file to import in'
    }

    It 'refuses a file that is not a database with its own error id' {
        $f = Join-Path $TestDrive 'x.jsonl'
        Set-Content -Path $f -Value (New-Line 1)
        Set-Content -Path $db -Value ('x' * 4096)
        { Import-MadfLog $f -Database $db -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotMadfLog,MadfLog.Commands.Import.ImportMadfLogCommand'
    }
}

Describe 'Write-MadfEvent' {
    It 'appends whole lines that import back' {
        $logs = Join-Path $TestDrive 'logs'
        $db = Join-Path $TestDrive 'w.db'
        Write-MadfEvent -EventType tool_call -Category error -Message 'File does not exist: src/a.py' -Agent dev -Story 1.2 -Success $false -LogPath $logs
        [pscustomobject]@{ EventType = 'step'; Category = 'workflow'; AgentName = 'sm' } | Write-MadfEvent -LogPath $logs
        (Import-MadfLog $logs -Database $db).Imported | Should -Be 2
    }
}

Describe 'Module manifest' {
    It 'is valid and exports its cmdlets explicitly' {
        $m = Test-ModuleManifest (Join-Path (Split-Path (Split-Path $PSScriptRoot -Parent) -Parent) 'out/MadfLog/MadfLog.psd1')
        $m.CompatiblePSEditions | Should -Contain 'Desktop'
        $m.CompatiblePSEditions | Should -Contain 'Core'
        $m.ExportedCmdlets.Keys | Should -Contain 'Import-MadfLog'
    }
}

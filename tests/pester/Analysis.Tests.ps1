#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Questions, patterns, rules and the report on the bundled sample logs, as a pwsh user runs them.

BeforeAll {
    $repo = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    Import-Module (Join-Path $repo 'out/MadfLog/MadfLog.psd1') -Force -ErrorAction Stop
    $db = Join-Path $TestDrive 'analysis.db'
    Import-MadfLog (Join-Path $repo 'examples/logs') -Database $db | Out-Null
}

Describe 'Analysis questions' {
    It 'returns error patterns as objects for the pipeline' {
        $big = Get-MadfErrorSummary -Database $db | Where-Object Share -ge 0.10
        $big.Count | Should -BeGreaterOrEqual 3
        $big[0].Template | Should -Be 'File does not exist: <*>'
    }

    It 'says how repeated errors changed between stories' {
        (Compare-MadfStory -ReferenceStory 1.1 -DifferenceStory 1.2 -Database $db).Headline | Should -Match '^Repeated errors changed by -'
    }

    It 'shows a comparison with nothing gained, lost or changed in agents as words, not empty separators' {
        $text = Compare-MadfStory -ReferenceStory 1.1 -DifferenceStory 1.2 -Database $db | Format-List | Out-String -Width 200
        $text | Should -Match 'PatternsGained\s*:\s*none'
        $text | Should -Match 'Agents\s*:\s*the same'
        $text | Should -Not -Match 'added: ;'
    }

    It 'returns one brief string within its budget' {
        $brief = Get-MadfAgentPerformance -Database $db -Brief
        $brief | Should -BeOfType [string]
        $brief | Should -Match 'dev:'
    }

    It 'binds -Story from the pipeline by property name' {
        $trend = [pscustomobject]@{ Story = '1.2' } | Get-MadfTrend -Database $db | Where-Object Kind -eq Story
        $trend.Period | Should -Be '1.2'
    }
}

Describe 'Patterns and rules' {
    It 'groups messages that differ only in variable parts' {
        $p = 'File does not exist: a.py', 'File does not exist: src/b.cs' | ConvertTo-MadfPattern
        $p[0].PatternId | Should -Be $p[1].PatternId
    }

    It 'proposes rules for frequent patterns and writes approved ones into CLAUDE.md' {
        $claude = Join-Path $TestDrive 'CLAUDE.md'
        Set-Content -Path $claude -Value '# Mine'
        Invoke-MadfRevision -Database $db -Since ([datetime]'2026-01-01') -ClaudeMdPath $claude -NoImport -WarningAction SilentlyContinue | Out-Null
        Get-MadfRule -Database $db -Status Proposed | Select-Object -First 2 | Approve-MadfRule -Database $db -ClaudeMdPath $claude | Out-Null
        $text = Get-Content $claude -Raw
        $text | Should -Match '^# Mine'
        ([regex]::Matches($text, '(?m)^- \*\*')).Count | Should -Be 2
    }

    It 'writes a self-contained HTML report' {
        $file = Export-MadfReport -Database $db -Path (Join-Path $TestDrive 'r.html')
        $html = Get-Content $file.FullName -Raw
        $html | Should -Match '<svg class="madf-chart"'
        $html | Should -Not -Match '<script'
    }
}

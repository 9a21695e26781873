#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Objects people can work with: TimeSpan durations, Details as an object, UTC times, and table views that read at 80
# and 120 columns.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $template = Initialize-MadfTemplate
    $db = (New-MadfSandbox $template).Database
}

Describe 'Durations' {
    It '<Cmdlet> has a TimeSpan beside every *Ms number' -ForEach @(
        @{ Cmdlet = 'Get-MadfAgentPerformance' }, @{ Cmdlet = 'Get-MadfBottleneck' }, @{ Cmdlet = 'Get-MadfSession' }, @{ Cmdlet = 'Get-MadfEvent' }
    ) {
        $item = & $Cmdlet -Database $db | Where-Object { @($_.psobject.Properties | Where-Object { $_.Name -like '*Ms' -and $null -eq $_.Value }).Count -eq 0 } | Select-Object -First 1
        $ms = @($item.psobject.Properties | Where-Object Name -like '*Ms')
        $spans = @($item.psobject.Properties | Where-Object { $_.Value -is [TimeSpan] })
        $ms.Count | Should -BeGreaterThan 0
        $spans.Count | Should -Be $ms.Count
        foreach ($s in $spans) {
            $s.Value.TotalMilliseconds | Should -BeIn @($ms | ForEach-Object { [double]$_.Value })
        }
    }

    It 'an event without a duration has no Duration' {
        $e = Get-MadfEvent -Database $db | Where-Object { $null -eq $_.DurationMs } | Select-Object -First 1
        if ($e) { $e.Duration | Should -BeNullOrEmpty }
    }
}

Describe 'Event details' {
    It 'Details is an object; DetailsJson is the stored text' {
        $e = Get-MadfEvent -Database $db -Success $false -First 1
        $e.Details | Should -BeOfType [System.Management.Automation.PSCustomObject]
        $e.Details.message | Should -Be $e.Message
        ($e.DetailsJson | ConvertFrom-Json).message | Should -Be $e.Message
        Get-MadfEvent -Database $db -First 50 | Where-Object { $_.Details.tool -eq 'Read' } | Should -Not -BeNullOrEmpty
    }

    It 'whole numbers in Details are integers, as ConvertFrom-Json gives them' {
        $e = Get-MadfEvent -Database $db -First 500 | Where-Object { $_.DetailsJson -match '"output_tokens":\d+[,}]' } | Select-Object -First 1
        $e | Should -Not -BeNullOrEmpty
        $e.Details.output_tokens | Should -BeOfType [long]
        ($e.Details | ConvertTo-Json -Compress -Depth 10) | Should -Be ($e.DetailsJson | ConvertFrom-Json | ConvertTo-Json -Compress -Depth 10)
    }
}

Describe 'Times' {
    It 'times in objects are UTC' {
        (Get-MadfEvent -Database $db -First 1).Timestamp.Kind | Should -Be 'Utc'
        (Get-MadfSession -Database $db | Select-Object -First 1).Start.Kind | Should -Be 'Utc'
        (Get-MadfErrorSummary -Database $db -Top 1).LastSeen.Kind | Should -Be 'Utc'
    }
}

Describe 'Table views at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
    It '<Cmdlet> fits without wrapping its header' -ForEach @(
        @{ Cmdlet = 'Get-MadfErrorSummary' }, @{ Cmdlet = 'Get-MadfAgentPerformance' }, @{ Cmdlet = 'Get-MadfBottleneck' }
        @{ Cmdlet = 'Get-MadfTrend' }, @{ Cmdlet = 'Get-MadfHumanInteraction' }, @{ Cmdlet = 'Get-MadfToolFailure' }
        @{ Cmdlet = 'Get-MadfSession' }, @{ Cmdlet = 'Get-MadfContextPressure' }, @{ Cmdlet = 'Get-MadfEvent' }
        @{ Cmdlet = 'Get-MadfErrorPattern' }, @{ Cmdlet = 'Get-MadfErrorSequence' }, @{ Cmdlet = 'Get-MadfRule' }
    ) {
        $lines = @(& $Cmdlet -Database $db | Select-Object -First 5 | Out-String -Width $Width -Stream | Where-Object { $_.Trim() })
        $lines.Count | Should -BeGreaterThan 2
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual $Width }
        $lines[1] | Should -Match '^[- ]+$' -Because "the header must be one line: $($lines[0..1] -join ' / ')"
        # every header word is whole (a shrunk column shows '…')
        $lines[0] | Should -Not -Match '…'
    }

    It 'the sessions table shows a Claude Code session''s token count whole' {
        # Cache reads make a long session's tokens run to eight digits and more.
        $log = Join-Path $TestDrive 'big-session.jsonl'
        $big = Join-Path $TestDrive 'big-session.db'
        Set-Content -LiteralPath $log -Value '{"timestamp":"2026-11-20T10:00:00Z","event_type":"llm_call","category":"model","session_id":"s-big","agent_name":"main","tokens_used":154057770,"success":true}'
        Import-MadfLog -Path $log -Database $big | Out-Null
        Get-MadfSession -Database $big | Out-String -Width $Width | Should -Match ([regex]::Escape((154057770).ToString('N0')))
    }

    It 'the error summary shows whole templates of the usual length' {
        $text = Get-MadfErrorSummary -Database $db -Top 3 | Out-String -Width $Width
        $text | Should -Match 'File does not exist: <\*>'
    }
}

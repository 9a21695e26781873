#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Every cmdlet as a user calls it: pipelines, -Top, -Brief, wildcards, -WhatIf, and the errors bad arguments get.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $template = Initialize-MadfTemplate
    $box = New-MadfSandbox $template
    $db = $box.Database
}

Describe 'The questions' {
    It '<Cmdlet> -Top 1 returns exactly one object' -ForEach @(
        @{ Cmdlet = 'Get-MadfErrorSummary' }, @{ Cmdlet = 'Get-MadfBottleneck' }, @{ Cmdlet = 'Get-MadfHumanInteraction' }
        @{ Cmdlet = 'Get-MadfContextPressure' }, @{ Cmdlet = 'Get-MadfErrorPattern' }, @{ Cmdlet = 'Get-MadfErrorSequence' }
    ) {
        @(& $Cmdlet -Database $db -Top 1).Count | Should -Be 1
        @(& $Cmdlet -Database $db -Top 3).Count | Should -Be 3
    }

    It '<Cmdlet> -Brief returns one string within its budget' -ForEach @(
        @{ Cmdlet = 'Get-MadfErrorSummary' }, @{ Cmdlet = 'Get-MadfAgentPerformance' }, @{ Cmdlet = 'Get-MadfBottleneck' }
        @{ Cmdlet = 'Get-MadfTrend' }, @{ Cmdlet = 'Get-MadfHumanInteraction' }, @{ Cmdlet = 'Get-MadfToolFailure' }
        @{ Cmdlet = 'Get-MadfSession' }, @{ Cmdlet = 'Get-MadfContextPressure' }, @{ Cmdlet = 'Get-MadfErrorPattern' }
        @{ Cmdlet = 'Get-MadfErrorSequence' }, @{ Cmdlet = 'Get-MadfRuleEffectiveness' }, @{ Cmdlet = 'Get-MadfStorage' }
        @{ Cmdlet = 'Get-MadfHealth' }
    ) {
        $brief = @(& $Cmdlet -Database $db -Brief -WarningVariable warned)
        $brief.Count | Should -Be 1
        $brief[0] | Should -BeOfType [string]
        $brief[0].Length | Should -BeGreaterThan 10
        # 400 tokens is the largest budget; o200k tokens average well over 2 characters
        $brief[0].Length | Should -BeLessThan 2000
        $warned | Should -BeNullOrEmpty
    }

    It 'Compare-MadfStory -Brief returns one string' {
        $brief = @(Compare-MadfStory 1.1 1.2 -Database $db -Brief)
        $brief.Count | Should -Be 1
        $brief[0] | Should -Match '^Repeated errors changed by'
    }

    It 'takes wildcards for -Story and -Agent' {
        $all = Get-MadfAgentPerformance -Database $db -Story '1.*'
        $exact = Get-MadfAgentPerformance -Database $db -Story 1.1, 1.2
        ($all | ForEach-Object Events) | Should -Be ($exact | ForEach-Object Events)
        $d = @(Get-MadfAgentPerformance -Database $db -Agent 'D*')
        $d.Agent | Should -Be @('dev')
    }

    It 'Compare-MadfStory takes agent wildcards and says when an agent is unknown' {
        (Compare-MadfStory 1.1 1.2 -Database $db -Agent 'de*').Difference.Events |
            Should -Be (Compare-MadfStory 1.1 1.2 -Database $db -Agent dev).Difference.Events
        Compare-MadfStory 1.1 1.2 -Database $db -Agent nobody -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'AgentNotFound,*'
    }

    It 'matches names without regard to case' {
        (Get-MadfAgentPerformance -Database $db -Agent DEV).Agent | Should -Be 'dev'
    }

    It 'an unknown story is a non-terminating StoryNotFound error, and the known ones are still answered' {
        $r = @(Get-MadfSession -Database $db -Story 1.1, 9.9 -ErrorVariable errs -ErrorAction SilentlyContinue)
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'StoryNotFound,MadfLog.Commands.Query.GetMadfSessionCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].Exception.Message | Should -Match "'9\.9'.*Known: 1\.1, 1\.2"
        $r.Count | Should -BeGreaterThan 0
        $r.Story | Sort-Object -Unique | Should -Be '1.1'
    }

    It 'an unknown agent is AgentNotFound and nothing is returned' {
        $r = Get-MadfErrorSummary -Database $db -Agent nobody -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'AgentNotFound,*'
    }

    It 'a wildcard that matches nothing warns' {
        $r = Get-MadfTrend -Database $db -Story 'x*' -WarningVariable w -WarningAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $w | Should -Match "matches 'x\*'"
    }

    It '-Since after -Until is an EmptyTimeWindow error' {
        $r = Get-MadfBottleneck -Database $db -Since '2026-11-10' -Until '2026-11-01' -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'EmptyTimeWindow,*'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'a missing database is DatabaseNotFound and is not created' {
        $missing = Join-Path $TestDrive 'none.db'
        { Get-MadfErrorSummary -Database $missing -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,MadfLog.Commands.Query.GetMadfErrorSummaryCommand'
        Test-Path $missing | Should -BeFalse
    }

    It 'sessions flow into Get-MadfEvent by property name' {
        $session = Get-MadfSession -Database $db -Story 1.2 | Select-Object -First 1
        $events = @($session | Get-MadfEvent -Database $db)
        $events.Count | Should -Be $session.Events
        $events.SessionId | Sort-Object -Unique | Should -Be $session.SessionId
    }

    It 'error summaries flow into Get-MadfEvent by PatternId' {
        $top = Get-MadfErrorSummary -Database $db -Top 1
        $events = @($top | Get-MadfEvent -Database $db -Success $false)
        $events.Count | Should -Be $top.Count
        $events.PatternId | Sort-Object -Unique | Should -Be $top.PatternId
    }

    It 'Get-MadfEvent -First stops early' {
        @(Get-MadfEvent -Database $db -First 5).Count | Should -Be 5
    }

    It 'Get-MadfToolFailure and Get-MadfTrend answer with objects' {
        (Get-MadfToolFailure -Database $db | Where-Object FailureRate -gt 0).Count | Should -BeGreaterThan 0
        (Get-MadfTrend -Database $db | Where-Object Kind -eq Story).Period | Should -Be @('1.1', '1.2')
    }
}

Describe 'Patterns' {
    It 'ConvertTo-MadfPattern takes strings and objects with a Message, in order' {
        $r = @('Timeout after 30s', [pscustomobject]@{ Message = 'Timeout after 45s' }, 'Permission denied: /etc/x') | ConvertTo-MadfPattern
        $r.Count | Should -Be 3
        $r[0].PatternId | Should -Be $r[1].PatternId
        $r[2].PatternId | Should -Not -Be $r[0].PatternId
        $r[1].Message | Should -Be 'Timeout after 45s'
    }

    It 'Get-MadfErrorPattern breaks patterns down by story' {
        $p = Get-MadfErrorPattern -Database $db -Top 1
        $p.ByStory.Keys | Should -Contain '1.1'
    }

    It 'Get-MadfErrorSequence -Kind keeps one kind' {
        $loops = @(Get-MadfErrorSequence -Database $db -Kind RetryLoop -Top 100)
        $loops.Count | Should -BeGreaterThan 0
        $loops.Kind | Sort-Object -Unique | Should -Be 'RetryLoop'
        { Get-MadfErrorSequence -Database $db -Kind Nope } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MadfLog.Commands.Patterns.GetMadfErrorSequenceCommand'
    }
}

Describe 'Import and -WhatIf' {
    It 'Import-MadfLog -WhatIf creates no database' {
        $new = Join-Path $TestDrive 'whatif/new.db'
        Import-MadfLog $SampleLogs -Database $new -WhatIf
        Test-Path (Split-Path $new) | Should -BeFalse
    }

    It 'Import-MadfLog -WhatIf on an existing database adds nothing' {
        $before = (Get-MadfStorage -Database $db).ActiveEvents
        $extra = Join-Path $TestDrive 'extra.jsonl'
        Set-Content $extra '{"timestamp":"2026-11-20T10:00:00Z","event_type":"step","category":"workflow"}'
        Import-MadfLog $extra -Database $db -WhatIf
        (Get-MadfStorage -Database $db).ActiveEvents | Should -Be $before
    }

    It 'a bad -Format is UnknownFormat, before anything is read' {
        { Import-MadfLog $SampleLogs -Database (Join-Path $TestDrive 'f.db') -Format Nope -ErrorAction Stop } |
            Should -Throw -ErrorId 'UnknownFormat,MadfLog.Commands.Import.ImportMadfLogCommand'
        Test-Path (Join-Path $TestDrive 'f.db') | Should -BeFalse
    }

    It 'Get-MadfQuarantine filters by file wildcard and -First' {
        $q = Join-Path $TestDrive 'q.db'
        $f1 = Join-Path $TestDrive 'one.jsonl'; $f2 = Join-Path $TestDrive 'two.jsonl'
        Set-Content $f1 '{bad', '{worse'
        Set-Content $f2 '{bad'
        $null = Import-MadfLog $f1, $f2 -Database $q -ErrorAction SilentlyContinue
        @(Get-MadfQuarantine -Database $q).Count | Should -Be 3
        @(Get-MadfQuarantine 'one.*' -Database $q).Count | Should -Be 2
        @(Get-MadfQuarantine -Database $q -First 1).Count | Should -Be 1
    }

    It 'Write-MadfEvent -WhatIf writes no file' {
        $logs = Join-Path $TestDrive 'wlogs'
        Write-MadfEvent -EventType step -Category workflow -LogPath $logs -WhatIf
        Test-Path $logs | Should -BeFalse
    }
}

Describe 'Rules, revision and health' {
    BeforeEach {
        $b = New-MadfSandbox $template
    }

    It 'Invoke-MadfRevision -WhatIf proposes nothing and leaves CLAUDE.md alone' {
        $claude = Get-Content $b.ClaudeMd -Raw
        $rules = @(Get-MadfRule -Database $b.Database).Count
        Invoke-MadfRevision -Database $b.Database -Since '2026-01-01' -ClaudeMdPath $b.ClaudeMd -AutoApprove -WhatIf -WarningAction SilentlyContinue
        @(Get-MadfRule -Database $b.Database).Count | Should -Be $rules
        @(Get-MadfRule -Database $b.Database -Status Active).Count | Should -Be 0
        Get-Content $b.ClaudeMd -Raw | Should -Be $claude
    }

    It '<Cmdlet> -WhatIf on a new database creates none' -ForEach @(
        @{ Cmdlet = 'Invoke-MadfRevision'; Extra = @{ NoImport = $true } }
        @{ Cmdlet = 'Invoke-MadfRotation'; Extra = @{} }
        @{ Cmdlet = 'Set-MadfConfig'; Extra = @{ RetentionDays = 30 } }
    ) {
        $folder = Join-Path $TestDrive ('new-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
        $new = Join-Path $folder 'm.db'
        & $Cmdlet -Database $new -WhatIf -WarningAction SilentlyContinue @Extra
        Test-Path $folder | Should -BeFalse
    }

    It 'Approve-MadfRule -WhatIf changes nothing; without it the rule is active and in CLAUDE.md' {
        $rule = Get-MadfRule -Database $b.Database -Status Proposed | Select-Object -First 1
        $rule | Approve-MadfRule -Database $b.Database -ClaudeMdPath $b.ClaudeMd -WhatIf
        (Get-MadfRule -Database $b.Database -Id $rule.Id).Status | Should -Be 'Proposed'
        $approved = $rule | Approve-MadfRule -Database $b.Database -ClaudeMdPath $b.ClaudeMd
        $approved.Status | Should -Be 'Active'
        Get-Content $b.ClaudeMd -Raw | Should -Match '^# Project'
        Get-Content $b.ClaudeMd -Raw | Should -Match 'madflog:rules:start'
    }

    It 'Deny-MadfRule rejects a proposed rule; an unknown id is a non-terminating error' {
        $rule = Get-MadfRule -Database $b.Database -Status Proposed | Select-Object -First 1
        $r = Deny-MadfRule -Id $rule.Id, 999999 -Database $b.Database -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $r.Status | Should -Be 'Denied'
        $errs.Count | Should -Be 1
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'Approve-MadfRule on a missing database is DatabaseNotFound and creates none' {
        $new = Join-Path $TestDrive 'rules-new.db'
        { Approve-MadfRule 1 -Database $new -ErrorAction Stop } | Should -Throw -ErrorId 'DatabaseNotFound,*'
        Test-Path $new | Should -BeFalse
    }

    It 'Get-MadfRuleEffectiveness measures active rules' {
        Get-MadfRule -Database $b.Database -Status Proposed | Select-Object -First 2 | Approve-MadfRule -Database $b.Database -ClaudeMdPath $b.ClaudeMd | Out-Null
        $e = @(Get-MadfRuleEffectiveness -Database $b.Database)
        $e.Count | Should -Be 2
        $e.Verdict | ForEach-Object { $_.ToString() } | Should -BeIn @('Effective', 'NoClearChange', 'Worse', 'TooEarly', 'NoControl')
    }

    It 'Get-MadfRuleEffectiveness reads as a table: one header line, and a rule with nothing to compare shows no interval' {
        Get-MadfRule -Database $b.Database -Status Proposed | Select-Object -First 2 | Approve-MadfRule -Database $b.Database -ClaudeMdPath $b.ClaudeMd | Out-Null
        $e = @(Get-MadfRuleEffectiveness -Database $b.Database)
        $e.Count | Should -Be 2
        $lines = @($e | Out-String -Width 120 -Stream | Where-Object { $_.Trim() })
        $lines[0] | Should -Match 'vs control \(95% CI\)'
        $lines[1] | Should -Match '^[- ]+$' -Because "the header must be one line: $($lines[0..1] -join ' / ')"
        $lines | Should -Not -Match 'Infinity'
        foreach ($rule in $e) {
            $line = $lines | Where-Object { $_ -match "^\s*$($rule.RuleId)\s" }
            $line | Should -Match ([regex]::Escape($rule.RelativeChangeText))
            # Why a rule has no verdict yet ("Too early") shows in the table, not only in the reports.
            if ($rule.Reason) { $line | Should -Match ([regex]::Escape('(' + $rule.Reason.Substring(0, [Math]::Min(12, $rule.Reason.Length)))) }
        }
        @($e | Where-Object Reason).Count | Should -BeGreaterThan 0 -Because 'rules approved just now are too early, with a reason'
    }

    It 'Get-MadfHealth returns a status with its checks' {
        $h = Get-MadfHealth -Database $b.Database -WarningAction SilentlyContinue
        $h.Status.ToString() | Should -BeIn @('OK', 'Warning', 'Critical')
        @($h.Checks).Count | Should -BeGreaterThan 0
    }

    It 'Export-MadfReport writes a file; -WhatIf writes none; a missing folder is ReportFolderNotFound and is not created' {
        $file = Export-MadfReport -Database $b.Database -Path (Join-Path $b.Folder 'r.html') -Story '1.*'
        $file | Should -BeOfType [System.IO.FileInfo]
        $file.Length | Should -BeGreaterThan 1000
        Export-MadfReport -Database $b.Database -Path (Join-Path $b.Folder 'w.html') -WhatIf
        Test-Path (Join-Path $b.Folder 'w.html') | Should -BeFalse
        $nested = Join-Path $b.Folder 'no/such/r.html'
        { Export-MadfReport -Database $b.Database -Path $nested -ErrorAction Stop } | Should -Throw -ErrorId 'ReportFolderNotFound,*'
        Test-Path (Join-Path $b.Folder 'no') | Should -BeFalse
    }
}

Describe 'Lifecycle and configuration' {
    BeforeEach {
        $b = New-MadfSandbox $template
    }

    It 'Set-MadfConfig -WhatIf saves nothing; -PassThru returns what Get-MadfConfig then reads' {
        Set-MadfConfig -Database $b.Database -RetentionDays 42 -WhatIf
        (Get-MadfConfig -Database $b.Database).RetentionDays | Should -Not -Be 42
        (Set-MadfConfig -Database $b.Database -RetentionDays 42 -PassThru).RetentionDays | Should -Be 42
        (Get-MadfConfig -Database $b.Database).RetentionDays | Should -Be 42
    }

    It 'Invoke-MadfRotation -WhatIf moves no log and no event' {
        $events = (Get-MadfStorage -Database $b.Database).ActiveEvents
        $files = @(Get-ChildItem (Join-Path $b.Folder 'logs')).Count
        Invoke-MadfRotation -Database $b.Database -RetentionDays 1 -WhatIf -WarningAction SilentlyContinue | Out-Null
        (Get-MadfStorage -Database $b.Database).ActiveEvents | Should -Be $events
        @(Get-ChildItem (Join-Path $b.Folder 'logs')).Count | Should -Be $files
        Test-Path (Join-Path $b.Folder 'archive') | Should -BeFalse
    }

    It 'Invoke-MadfJob Maintenance imports and rotates, logs the run beside the database, and is not due again' {
        $run = Invoke-MadfJob Maintenance -Database $b.Database -WarningAction SilentlyContinue
        $run.Job | Should -Be 'Maintenance'
        $run.Result | Should -BeIn 'Succeeded', 'Warning', 'Failed'
        $run.ExitCode | Should -Be ([int]($run.Result -eq 'Failed'))
        @(Get-ChildItem (Join-Path $b.Folder 'logs')).Count | Should -Be 0   # the finished days were closed
        @(Get-Content (Join-Path $b.Folder 'madflog.runs.jsonl')).Count | Should -Be 1
        Invoke-MadfJob Maintenance -Database $b.Database -Schedule 'daily 00:00' -IfDue | Should -BeNullOrEmpty
        @(Get-Content (Join-Path $b.Folder 'madflog.runs.jsonl')).Count | Should -Be 1
    }

    It 'Invoke-MadfRotation archives old events without losing one' {
        $before = Get-MadfStorage -Database $b.Database
        $r = Invoke-MadfRotation -Database $b.Database -RetentionDays 1 -Confirm:$false -WarningAction SilentlyContinue
        $r | Should -Not -BeNullOrEmpty
        $after = Get-MadfStorage -Database $b.Database
        ($after.ActiveEvents + $after.ArchivedEvents) | Should -Be ($before.ActiveEvents + $before.ArchivedEvents)
        $after.ArchivedEvents | Should -BeGreaterThan 0
    }
}

Describe 'Scheduling' {
    BeforeAll {
        $savedXdg = $env:XDG_CONFIG_HOME
        $env:XDG_CONFIG_HOME = Join-Path $TestDrive 'xdg'
    }
    AfterAll {
        $env:XDG_CONFIG_HOME = $savedXdg
    }

    It 'Register-MadfJob -WhatIf registers nothing' {
        Register-MadfJob -Scheduler Systemd -Database $db -WhatIf
        Test-Path (Join-Path $TestDrive 'xdg') | Should -BeFalse
        Get-MadfJob -Scheduler Systemd | Should -BeNullOrEmpty
    }

    It 'Unregister-MadfJob of a job that is not there is JobNotFound' {
        Unregister-MadfJob Revision -Scheduler Systemd -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'JobNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'rejects a job that is not Maintenance or Revision' {
        { Get-MadfJob -Job Nightly } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,*'
    }

    It 'keeps the old *-MadfRevisionJob names as aliases' {
        (Get-Command Register-MadfRevisionJob).ResolvedCommand.Name | Should -Be 'Register-MadfJob'
    }
}

Describe 'Coverage' {
    It 'every exported cmdlet has a behaviour test in tests/pester' {
        $text = (Get-ChildItem $PSScriptRoot -Filter *.Tests.ps1 | Where-Object Name -ne 'Help.Tests.ps1' | Get-Content -Raw) -join "`n"
        $untested = (Get-Command -Module MadfLog -CommandType Cmdlet).Name | Where-Object { $text -notmatch [regex]::Escape($_) }
        $untested | Should -BeNullOrEmpty
    }
}

#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Help that teaches: every cmdlet's help is complete, every example in it runs, and the module ships its manifest,
# licence and about_MadfLog.

BeforeDiscovery {
    $repo = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
    Import-Module (Join-Path $repo 'out/MadfLog/MadfLog.psd1') -Force -ErrorAction Stop
    $cmdlets = @(Get-Command -Module MadfLog -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
    $examples = foreach ($c in Get-Command -Module MadfLog -CommandType Cmdlet) {
        $n = 0
        foreach ($e in @((Get-Help $c.Name).examples.example)) {
            @{ Name = $c.Name; Number = ++$n; Code = ($e.code -join "`n").Trim() }
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $template = Initialize-MadfTemplate
}

Describe 'Help of <Name>' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
    }

    It 'has a synopsis, a description and at least two examples' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match "^\s*$Name\s*$"   # PowerShell puts the syntax there when there is no help
        ($help.description.Text -join ' ') | Should -Not -BeNullOrEmpty
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
    }

    It 'describes every parameter with its default' {
        foreach ($p in @($help.parameters.parameter)) {
            ($p.description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "-$($p.name) needs a description"
            $p.defaultValue | Should -Not -BeNullOrEmpty -Because "-$($p.name) needs a default value"
        }
    }

    It 'names its INPUTS and OUTPUTS and links to related help' {
        @($help.inputTypes.inputType).Count | Should -BeGreaterOrEqual 1
        $help.inputTypes.inputType[0].type.name | Should -Not -BeNullOrEmpty
        @($help.relatedLinks.navigationLink.linkText) | Should -Contain 'about_MadfLog'
    }

    It 'describes each of its OUTPUTS (or says it writes none)' {
        $declared = @((Get-Command $Name).OutputType | ForEach-Object { $_.Name })
        $outputs = @($help.returnValues.returnValue)
        $outputs.Count | Should -BeGreaterOrEqual 1
        if ($declared.Count -eq 0) { $outputs[0].type.name | Should -Be 'None' }
        else { @($outputs.type.name) | Should -Be $declared }
        foreach ($o in $outputs) {
            ($o.description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "OUTPUTS $($o.type.name) needs a description (a <returns> doc comment on the cmdlet)"
        }
    }

    It 'shows switches without a value in its syntax' {
        $syntax = (Get-Help $Name | Select-Object -ExpandProperty syntax | Out-String -Width 400)
        $syntax | Should -Not -Match '<SwitchParameter>'
    }
}

Describe 'Example <Number> of <Name> runs' -ForEach $examples {
    It 'runs without an error: <Code>' {
        $box = New-MadfSandbox $template
        $saved = $env:MADFLOG_DB, $env:MADFLOG_LOG_DIR
        $env:MADFLOG_DB = $box.Database
        $env:MADFLOG_LOG_DIR = Join-Path $box.Folder 'live'
        Push-Location $box.Folder
        try {
            $all = @(& ([scriptblock]::Create($Code)) 2>&1 3>$null 6>$null)
        }
        finally {
            Pop-Location
            $env:MADFLOG_DB, $env:MADFLOG_LOG_DIR = $saved
        }
        $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errors | Should -BeNullOrEmpty -Because ($errors | Out-String)
    }
}

Describe 'about_MadfLog' {
    It 'explains the loop, the log format and scheduling' {
        $about = Get-Help about_MadfLog | Out-String
        $about | Should -Match 'THE LOOP'
        $about | Should -Match 'event_type'
        $about | Should -Match 'Register-MadfJob'
    }
}

Describe 'Module manifest and licence' -ForEach @(
    @{ Where = 'the repo root'; Manifest = 'MadfLog.psd1' }
    @{ Where = 'out/MadfLog'; Manifest = 'out/MadfLog/MadfLog.psd1' }
) {
    It 'passes Test-ModuleManifest at <Where> with the metadata Publish-Module needs' {
        $m = Test-ModuleManifest (Join-Path $Repo $Manifest) -ErrorAction Stop
        $m.Author | Should -Not -BeNullOrEmpty
        $m.Description | Should -Not -BeNullOrEmpty
        $m.LicenseUri | Should -Not -BeNullOrEmpty
        $m.ProjectUri | Should -Not -Match 'example\.invalid'
        $m.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $m.ExportedCmdlets.Count | Should -Be 31
        $m.Tags | Should -Contain 'PSEdition_Core'
    }

    It 'ships the MIT licence at <Where>' {
        $licence = Join-Path (Split-Path (Join-Path $Repo $Manifest)) 'LICENSE'
        Get-Content $licence -Raw | Should -Match '^MIT License'
    }
}

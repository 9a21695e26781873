# The source manifest. At the repo root it loads the build in out/MadfLog (so Test-ModuleManifest and
# Import-Module ./MadfLog.psd1 work here after 'dotnet build'); the build writes out/MadfLog/MadfLog.psd1 from it with
# the two paths below made relative to the module folder (src/MadfLog/MadfLog.csproj, target AssembleModule).
@{
    RootModule             = 'out/MadfLog/MadfLog.dll'
    # Imported before the root module: it arranges where the engine and its dependencies load from (on PowerShell 7,
    # their own AssemblyLoadContext), which PowerShell needs as soon as it reflects over the cmdlets.
    NestedModules          = @('out/MadfLog/MadfLog.Loader.dll')
    ModuleVersion          = '0.1.0'
    GUID                   = '5b0e7c52-8f0d-4d47-9a41-6a3c2f1e9d21'
    Author                 = 'MadfLog contributors'
    CompanyName            = 'MadfLog'
    Copyright              = '(c) MadfLog contributors. MIT License.'
    Description            = 'Turns the JSONL event logs of multi-agent development workflows (QuickLogger, Claude Code) into a self-improving loop: import into SQLite, analyse, mine error patterns, write prevention rules into CLAUDE.md and measure them.'
    # One netstandard2.0 build serves both editions; netstandard2.0 needs .NET Framework 4.7.2 on Windows PowerShell.
    CompatiblePSEditions   = @('Desktop', 'Core')
    PowerShellVersion      = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess       = @('module/MadfLog.format.ps1xml')
    TypesToProcess         = @('module/MadfLog.types.ps1xml')
    CmdletsToExport        = @(
        'Import-MadfLog'
        'Write-MadfEvent'
        'Get-MadfQuarantine'
        'ConvertTo-MadfPattern'
        'Get-MadfErrorPattern'
        'Get-MadfErrorSequence'
        'Get-MadfErrorSummary'
        'Get-MadfAgentPerformance'
        'Get-MadfBottleneck'
        'Compare-MadfStory'
        'Get-MadfTrend'
        'Get-MadfHumanInteraction'
        'Get-MadfToolFailure'
        'Get-MadfSession'
        'Get-MadfContextPressure'
        'Get-MadfEvent'
        'Invoke-MadfRotation'
        'Get-MadfStorage'
        'Get-MadfConfig'
        'Set-MadfConfig'
        'Invoke-MadfRevision'
        'Get-MadfRule'
        'Approve-MadfRule'
        'Deny-MadfRule'
        'Get-MadfRuleEffectiveness'
        'Get-MadfHealth'
        'Export-MadfReport'
        'Register-MadfJob'
        'Get-MadfJob'
        'Unregister-MadfJob'
        'Invoke-MadfJob'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    AliasesToExport        = @('Register-MadfRevisionJob', 'Get-MadfRevisionJob', 'Unregister-MadfRevisionJob')
    PrivateData            = @{
        PSData = @{
            Tags         = @('PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS', 'logging', 'agents', 'sqlite', 'claude')
            LicenseUri   = 'https://opensource.org/license/mit'
            ReleaseNotes = 'PowerShell 7.6.9 host and Pester in CI; help with examples for every cmdlet; -WhatIf without side effects; wildcards for -Story and -Agent.'
        }
    }
}

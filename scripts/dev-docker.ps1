<#
.SYNOPSIS
PostgreSQL and Redis in containers, published on 127.0.0.1, for `npm run dev` on this machine:
scripts/dev-docker.sh for Windows (PowerShell 5.1 or 7, Docker Desktop).

.DESCRIPTION
  scripts\dev-docker.ps1 -Postgres   start them and print the DATABASE_URL and REDIS_URL to use
  scripts\dev-docker.ps1 -Logs       follow their logs
  scripts\dev-docker.ps1 -Stop       stop and remove them; their volumes (the data) stay
  scripts\dev-docker.ps1 -Help

Runs as its own compose project (DEV_PROJECT_NAME, default vibe-tracker-dev) with compose.dev.yaml on top of
compose.yaml, so a full stack on the same machine and its data are left alone. DEV_POSTGRES_PORT (5432) and
DEV_REDIS_PORT (6379), in the environment or .env, move the published ports when a local server already holds them.
#>
[CmdletBinding()]
param(
  [switch]$Postgres,
  [switch]$Logs,
  [switch]$Stop,
  [switch]$Help
)
$ErrorActionPreference = 'Stop'
$Root = Split-Path -Parent $PSScriptRoot
$Prog = 'dev-docker'
. (Join-Path $PSScriptRoot 'docker-common.ps1')

function Invoke-Compose {
  $project = if ($env:DEV_PROJECT_NAME) { $env:DEV_PROJECT_NAME } else { 'vibe-tracker-dev' }
  Invoke-ComposeCommand (@('--project-directory', $Root, '-p', $project, '-f', (Join-Path $Root 'compose.yaml'), '-f', (Join-Path $Root 'compose.dev.yaml')) + $args)
}

function Test-Healthy([string]$Name) {
  $id = Invoke-Compose ps -q $Name 2>$null
  if (-not $id) { return $false }
  return ((& docker inspect --format '{{.State.Health.Status}}' $id 2>$null) -eq 'healthy')
}

# ADDRESS:PORT where SERVICE's PORT is published, as compose reports it.
function Get-Published([string]$Name, [string]$Port) {
  $address = Invoke-Compose port $Name $Port 2>$null | Select-Object -Last 1
  if (-not $address) { Stop-WithMessage "compose reports no published port for ${Name}:$Port (see: scripts\dev-docker.ps1 -Logs)" }
  return "$address".Trim()
}

function Start-Services {
  Confirm-EnvFile
  Invoke-Compose up -d postgres redis
  if ($LASTEXITCODE -ne 0) { Stop-WithMessage 'compose up failed (above)' }
  $timeout = 90
  if ($env:READY_TIMEOUT) { $timeout = [int]$env:READY_TIMEOUT }
  $deadline = (Get-Date).AddSeconds($timeout)
  while (-not ((Test-Healthy 'postgres') -and (Test-Healthy 'redis'))) {
    if ((Get-Date) -gt $deadline) { Invoke-Compose ps; Stop-WithMessage 'postgres and redis did not become healthy; their logs: scripts\dev-docker.ps1 -Logs' }
    Start-Sleep -Seconds 1
  }
  $user = Get-EnvValue 'POSTGRES_USER'
  if (-not $user) { $user = 'vibe' }
  $db = Get-EnvValue 'POSTGRES_DB'
  if (-not $db) { $db = 'ocft_tracker' }
  Write-Say 'postgres and redis are up. For npm run dev (then npm run migrate once):'
  Write-Output "`$env:DATABASE_URL = 'postgres://${user}:$(Get-EnvValue 'POSTGRES_PASSWORD')@$(Get-Published 'postgres' '5432')/$db'"
  Write-Output "`$env:REDIS_URL = 'redis://:$(Get-EnvValue 'REDIS_PASSWORD')@$(Get-Published 'redis' '6379')/0'"
}

if ($Help) { Get-Help $PSCommandPath -Detailed; exit 0 }
Find-Compose
if ($Postgres) {
  Start-Services
} elseif ($Logs) {
  Confirm-EnvFile
  Invoke-Compose logs -f '--tail=200' postgres redis
} elseif ($Stop) {
  Confirm-EnvFile
  Invoke-Compose down
} else {
  Get-Help $PSCommandPath
  exit 1
}

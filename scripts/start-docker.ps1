<#
.SYNOPSIS
Runs the compose stack (compose.yaml) on this machine and tells you where it answers: scripts/start-docker.sh for
Windows (PowerShell 5.1 or 7, Docker Desktop).

.DESCRIPTION
  scripts\start-docker.ps1 [-Build]          start (building the image first with -Build), wait until /ready
                                             answers through nginx, print the URL
  scripts\start-docker.ps1 -Migrate FILE [-DryRun]
                                             import a legacy posts export (CSV or JSON lines) into the stack
  scripts\start-docker.ps1 -Logs [SERVICE]   follow the logs (of one service)
  scripts\start-docker.ps1 -Status           services and their health, queue lengths, the URL
  scripts\start-docker.ps1 -Stop             stop and remove the containers; the volumes (data, backups) stay
  scripts\start-docker.ps1 -Demo [-Build]    a demo stack of its own (project DEMO_PROJECT_NAME, vibe-tracker-demo):
                                             fake upstreams replaying every source's recorded answers, one scrape
                                             of each, then where to look. No internet or credentials needed.
  scripts\start-docker.ps1 -Demo -Stop       remove the demo stack and its data (-Status, -Logs work with -Demo)
  scripts\start-docker.ps1 -Help

Needs POSTGRES_PASSWORD in .env: it offers to write a random one (without a terminal it only does so when
VIBE_ASSUME_YES=y). READY_TIMEOUT (seconds, default 180) bounds the wait for /ready.
Uses `docker compose` when present, else `docker-compose`; compose.override.yaml is added when it exists.
#>
[CmdletBinding()]
param(
  [switch]$Build,
  [string]$Migrate,
  [switch]$DryRun,
  [switch]$Logs,
  [Parameter(Position = 0)][string]$Service,
  [switch]$Status,
  [switch]$Stop,
  [switch]$Demo,
  [switch]$Help
)
$ErrorActionPreference = 'Stop'
$Root = Split-Path -Parent $PSScriptRoot
$Prog = 'start-docker'
. (Join-Path $PSScriptRoot 'docker-common.ps1')

function Invoke-Compose {
  $files = @('-f', (Join-Path $Root 'compose.yaml'))
  $override = Join-Path $Root 'compose.override.yaml'
  if (Test-Path $override) { $files += @('-f', $override) }
  Invoke-ComposeCommand (@('--project-directory', $Root) + $files + $args)
}

# Where nginx's 443 is published, ADDRESS:PORT, as compose reports it (else from HTTPS_PORT, [ADDRESS:]PORT).
function Get-HttpsPublished {
  $published = ''
  try { $published = (Invoke-Compose port nginx 443 2>$null | Select-Object -Last 1) } catch { }
  if (-not $published) { $published = Get-EnvValue 'HTTPS_PORT' }
  if (-not $published) { $published = '443' }
  return "$published".Trim()
}

# localhost unless the port is bound to one address; the port left out when it is 443.
function Get-Url {
  $published = Get-HttpsPublished
  $port = ($published -split ':')[-1]
  $hostName = 'localhost'
  if ($published.Contains(':')) { $hostName = $published.Substring(0, $published.LastIndexOf(':')) }
  if ($hostName -in @('0.0.0.0', '::', '[::]', '')) { $hostName = 'localhost' }
  if ($port -eq '443') { return "https://$hostName" }
  return "https://${hostName}:$port"
}

# /ready through nginx, from inside the nginx container (its image has curl), as the certificate is self-signed.
function Test-Ready {
  Invoke-Compose exec -T nginx curl -fsk -o /dev/null --max-time 5 https://127.0.0.1/ready *> $null
  return ($LASTEXITCODE -eq 0)
}

function Start-Stack([bool]$WithBuild) {
  $timeout = 180
  if ($env:READY_TIMEOUT) { $timeout = [int]$env:READY_TIMEOUT }
  Confirm-EnvFile
  if ($WithBuild) { Invoke-Compose up -d --remove-orphans --build } else { Invoke-Compose up -d --remove-orphans }
  if ($LASTEXITCODE -ne 0) { Stop-WithMessage 'compose up failed (above)' }
  $base = Get-Url
  Write-Say "waiting for $base/ready to answer through nginx (up to ${timeout}s)"
  $deadline = (Get-Date).AddSeconds($timeout)
  while (-not (Test-Ready)) {
    if ((Get-Date) -gt $deadline) {
      Invoke-Compose ps
      Stop-WithMessage "the API did not answer /ready through nginx within ${timeout}s: see ``scripts\start-docker.ps1 -Logs api``"
    }
    Start-Sleep -Seconds 2
  }
  Write-Say "up: $base (the certificate is self-signed unless you provided one)"
  return $base
}

function Import-Legacy([string]$File, [bool]$Dry) {
  if (-not (Test-Path -PathType Leaf $File)) { Stop-WithMessage "no such file: $File" }
  Confirm-EnvFile
  $abs = (Resolve-Path $File).Path
  $name = Split-Path -Leaf $abs
  # The container sees only what is mounted: the file goes in read-only under /import.
  if ($Dry) {
    Invoke-Compose run --rm -v "${abs}:/import/${name}:ro" api node dist/scripts/import-legacy.js "/import/$name" --dry-run
  } else {
    Invoke-Compose run --rm -v "${abs}:/import/${name}:ro" api node dist/scripts/import-legacy.js "/import/$name"
  }
  exit $LASTEXITCODE
}

function Show-Status {
  Confirm-EnvFile
  Invoke-Compose ps
  $prefix = Get-EnvValue 'REDIS_PREFIX'
  if (-not $prefix) { $prefix = 'vibe' }
  if ($prefix -notmatch '^[A-Za-z0-9_.-]{1,64}$') { Stop-WithMessage "REDIS_PREFIX must be 1-64 letters, digits, `"_`", `".`" or `"-`", got `"$prefix`"" }
  $redisId = Invoke-Compose ps -q redis 2>$null
  if (-not $redisId) { Write-Say 'redis is not running: no queue figures'; return }
  $figures = Invoke-Compose exec -T redis sh -c (Get-QueueFiguresScript $prefix)
  Write-Output ''
  Write-Output "queue (${prefix}):"
  foreach ($line in $figures) { Write-Output "  $line" }
  Write-Output ''
  Write-Output "url: $(Get-Url)"
}

# The demo's fake upstream is the tests' own code (test/helpers/serve-recorded.ts), run by node with tsx from the
# image's deps stage (every dependency), reading test/ mounted read-only, on the demo stack's network as "upstream".
$DemoUpstreamPort = 8100
function Get-DemoUpstreamImage { return "$($env:COMPOSE_PROJECT_NAME)-upstream:latest" }
function Get-DemoUpstreamName { return "$($env:COMPOSE_PROJECT_NAME)-upstream" }

function Invoke-DemoNode([string[]]$DockerArgs, [string[]]$NodeArgs) {
  $mounts = @('-v', "$(Join-Path $Root 'test'):/app/test:ro", '-v', "$(Join-Path $Root 'scripts'):/app/scripts:ro")
  & docker run --user node -w /app @mounts @DockerArgs (Get-DemoUpstreamImage) node --import tsx @NodeArgs
}

function Start-Demo([bool]$WithBuild) {
  Confirm-EnvFile
  Write-Say "building the demo's fake upstream image (the Dockerfile's deps stage)"
  & docker build -q --target deps -t (Get-DemoUpstreamImage) $Root | Out-Null
  if ($LASTEXITCODE -ne 0) { Stop-WithMessage 'building the deps stage failed' }
  # Every source's base URL (and the made-up credentials some need) pointed at the fake upstream, for compose.
  $lines = Invoke-DemoNode @('--rm') @('test/helpers/serve-recorded.ts', '--print-env', '--public-origin', 'http://upstream', '--base-port', "$DemoUpstreamPort")
  foreach ($line in $lines) {
    if ($line -match '^([A-Za-z_][A-Za-z0-9_]*)=(.*)$') { Set-Item -Path "env:$($Matches[1])" -Value $Matches[2] }
  }
  Start-Stack $WithBuild | Out-Null
  $network = (& docker network ls -q --filter "label=com.docker.compose.project=$($env:COMPOSE_PROJECT_NAME)" | Select-Object -First 1)
  if (-not $network) { Stop-WithMessage 'the demo stack has no network' }
  & docker rm -f (Get-DemoUpstreamName) *> $null
  Invoke-DemoNode @('-d', '--name', (Get-DemoUpstreamName), '--network', $network, '--network-alias', 'upstream') `
    @('test/helpers/serve-recorded.ts', '--host', '0.0.0.0', '--base-port', "$DemoUpstreamPort", '--public-origin', 'http://upstream') | Out-Null
  $deadline = (Get-Date).AddSeconds(60)
  while (-not ((& docker logs (Get-DemoUpstreamName) 2>$null) -contains 'ready')) {
    if ((Get-Date) -gt $deadline) { & docker logs (Get-DemoUpstreamName); Stop-WithMessage "the demo's fake upstream did not start" }
    Start-Sleep -Seconds 1
  }
  Write-Say 'scraping every source once from its recorded answers'
  Invoke-DemoNode @('--rm', '--network', $network, '-e', "API_TOKEN=$(Get-EnvValue 'API_TOKEN')") @('scripts/dev/demo-scrape.ts', '--api', 'http://api:8000')
  if ($LASTEXITCODE -ne 0) { Stop-WithMessage 'a demo scrape did not complete (above); the logs: scripts\start-docker.ps1 -Demo -Logs worker' }
  $base = Get-Url
  Write-Say "the demo runs at $base (project $($env:COMPOSE_PROJECT_NAME); remove it with: scripts\start-docker.ps1 -Demo -Stop). Look:"
  $auth = "authorization: Bearer $(Get-EnvValue 'API_READ_TOKEN')"
  Write-Output "  curl.exe -k -H `"$auth`" `"$base/posts?limit=5`""
  Write-Output "  curl.exe -k -H `"$auth`" `"$base/posts?source=trustpilot&q=broadband`""
  Write-Output "  curl.exe -k -H `"$auth`" `"$base/sources`""
  Write-Output $base
}

function Stop-Demo {
  & docker rm -f (Get-DemoUpstreamName) *> $null
  Invoke-Compose down -v --remove-orphans
  & docker rmi (Get-DemoUpstreamImage) *> $null
}

if ($Help) { Get-Help $PSCommandPath -Detailed; exit 0 }
if ($Service -and -not $Logs) { Stop-WithMessage "unknown argument $Service (see -Help)" }
Find-Compose
Set-Location $Root
# The demo is a project of its own: its containers, volumes and data never mix with the real stack's.
if ($Demo) {
  $env:COMPOSE_PROJECT_NAME = 'vibe-tracker-demo'
  if ($env:DEMO_PROJECT_NAME) { $env:COMPOSE_PROJECT_NAME = $env:DEMO_PROJECT_NAME }
}

if ($Migrate) {
  if ($Build) { Invoke-Compose build }
  Import-Legacy $Migrate $DryRun.IsPresent
} elseif ($Logs) {
  Confirm-EnvFile
  if ($Service) { Invoke-Compose logs -f '--tail=200' $Service } else { Invoke-Compose logs -f '--tail=200' }
} elseif ($Status) {
  Show-Status
} elseif ($Stop) {
  Confirm-EnvFile
  if ($Demo) { Stop-Demo } else { Invoke-Compose down }
} elseif ($Demo) {
  Start-Demo $Build.IsPresent
} else {
  Start-Stack $Build.IsPresent
}

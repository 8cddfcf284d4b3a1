# Dot-sourced by start-docker.ps1 and dev-docker.ps1, as docker-common.sh is by the .sh scripts: which Compose to
# run, and a .env holding the stack's secrets. Expects $Root (the repository) and $Prog (the script's name).

function Write-Say([string]$Message) { [Console]::Error.WriteLine("${Prog}: $Message") }
function Stop-WithMessage([string]$Message) { Write-Say $Message; exit 1 }

# Compose v2 (`docker compose`) when the plugin is there, else the standalone v1 `docker-compose`.
function Find-Compose {
  $script:ComposeCommand = $null
  if (Get-Command docker -ErrorAction SilentlyContinue) {
    & docker compose version *> $null
    if ($LASTEXITCODE -eq 0) { $script:ComposeCommand = @('docker', 'compose') }
  }
  if (-not $script:ComposeCommand -and (Get-Command docker-compose -ErrorAction SilentlyContinue)) { $script:ComposeCommand = @('docker-compose') }
  if (-not $script:ComposeCommand) { Stop-WithMessage 'neither `docker compose` nor `docker-compose` is installed (https://docs.docker.com/compose/install/)' }
}

function Invoke-ComposeCommand([string[]]$Arguments) {
  $exe = $script:ComposeCommand[0]
  $rest = @($script:ComposeCommand | Select-Object -Skip 1)
  & $exe @rest @Arguments
}

# The value of NAME in .env ("" when missing); the environment's own value wins, as it does for Compose.
function Get-EnvValue([string]$Name) {
  $value = [Environment]::GetEnvironmentVariable($Name)
  $envFile = Join-Path $Root '.env'
  if (-not $value -and (Test-Path $envFile)) {
    foreach ($line in Get-Content $envFile) {
      if ($line -match "^\s*$Name=(.*)$") { $value = $Matches[1].Trim('"') }
    }
  }
  if ($null -eq $value) { return '' }
  return $value
}

# Hex only: the password goes into DATABASE_URL unescaped.
function New-RandomPassword {
  $bytes = New-Object byte[] 24
  [System.Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($bytes)
  return (($bytes | ForEach-Object { $_.ToString('x2') }) -join '')
}

# The secrets the stack needs, as docker-common.sh lists them: each is generated when missing, also into an .env an
# earlier release wrote, so an upgrade does not stop at a compose error.
$script:Secrets = [ordered]@{
  POSTGRES_PASSWORD = 'PostgreSQL password of the compose stack (read when its data volume is first created).'
  REDIS_PASSWORD = 'Redis password of the compose stack (requirepass).'
  API_TOKEN = 'The admin token: every change (POST, DELETE) needs Authorization: Bearer <API_TOKEN>.'
  API_READ_TOKEN = 'The read token: every GET but /health and /ready needs it (or API_TOKEN).'
}

# Writes a random value for each secret .env lacks, after asking (without a terminal: when VIBE_ASSUME_YES=y).
function Confirm-EnvFile {
  $missing = @($script:Secrets.Keys | Where-Object { -not (Get-EnvValue $_) })
  if ($missing.Count -eq 0) { return }
  $names = $missing -join ' '
  $envFile = Join-Path $Root '.env'
  if (Test-Path $envFile) { Write-Say ".env has no $names." } else { Write-Say 'there is no .env yet.' }
  if ([Console]::IsInputRedirected) {
    $answer = if ($env:VIBE_ASSUME_YES) { $env:VIBE_ASSUME_YES } else { 'n' }
  } else {
    $copy = if (Test-Path $envFile) { '' } else { ' (a copy of .env.example)' }
    $answer = Read-Host "${Prog}: write a random $names into .env$copy? [Y/n]"
  }
  if ($answer -notin @('', 'y', 'Y', 'yes')) {
    Stop-WithMessage "set $names in .env (letters and digits: passwords go into connection URLs), e.g. $($missing[0])=$(New-RandomPassword)"
  }
  if (-not (Test-Path $envFile)) { Copy-Item (Join-Path $Root '.env.example') $envFile }
  $lines = @(Get-Content $envFile)
  foreach ($name in $missing) {
    $value = New-RandomPassword
    if ($lines -match "^\s*#?\s*$name=") {
      $lines = $lines -replace "^\s*#?\s*$name=.*$", "$name=$value"
    } else {
      $lines += @('', "# $($script:Secrets[$name])", "$name=$value")
    }
  }
  # LF endings and no BOM, as Compose and the .sh scripts read it.
  [System.IO.File]::WriteAllText($envFile, (($lines -join "`n") + "`n"))
  Write-Say "wrote a random $names into .env"
}

# The same shell lines start-docker.sh runs in the redis container for --status.
function Get-QueueFiguresScript([string]$Prefix) {
  return @"
printf 'pending %s\n' "`$(redis-cli LLEN ${Prefix}:jobs:pending)"
printf 'processing %s\n' "`$(redis-cli LLEN ${Prefix}:jobs:processing)"
printf 'delayed %s\n' "`$(redis-cli ZCARD ${Prefix}:jobs:delayed)"
printf 'history_to_copy %s\n' "`$(redis-cli LLEN ${Prefix}:jobs:history)"
printf 'worker_heartbeats %s\n' "`$(redis-cli ZCARD ${Prefix}:workers)"
printf 'used_memory %s\n' "`$(redis-cli INFO memory | sed -n 's/^used_memory_human://p' | tr -d '\r')"
"@
}

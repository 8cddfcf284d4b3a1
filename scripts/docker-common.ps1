# Dot-sourced by start-docker.ps1 and dev-docker.ps1, as docker-common.sh is by the .sh scripts: which Compose to
# run, and a .env that sets POSTGRES_PASSWORD. Expects $Root (the repository) and $Prog (the script's name).

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

# Compose refuses to start without POSTGRES_PASSWORD; offer to make one rather than fail with its message.
function Confirm-EnvFile {
  if (Get-EnvValue 'POSTGRES_PASSWORD') { return }
  $envFile = Join-Path $Root '.env'
  if (Test-Path $envFile) { Write-Say '.env has no POSTGRES_PASSWORD.' } else { Write-Say 'there is no .env yet.' }
  if ([Console]::IsInputRedirected) {
    $answer = if ($env:VIBE_ASSUME_YES) { $env:VIBE_ASSUME_YES } else { 'n' }
  } else {
    $copy = if (Test-Path $envFile) { '' } else { ' (a copy of .env.example)' }
    $answer = Read-Host "${Prog}: write a random POSTGRES_PASSWORD into .env$copy? [Y/n]"
  }
  if ($answer -notin @('', 'y', 'Y', 'yes')) {
    Stop-WithMessage "set POSTGRES_PASSWORD in .env (letters and digits: it goes into DATABASE_URL), e.g. POSTGRES_PASSWORD=$(New-RandomPassword)"
  }
  if (-not (Test-Path $envFile)) { Copy-Item (Join-Path $Root '.env.example') $envFile }
  $password = New-RandomPassword
  $lines = @(Get-Content $envFile)
  if ($lines -match '^\s*#?\s*POSTGRES_PASSWORD=') {
    $lines = $lines -replace '^\s*#?\s*POSTGRES_PASSWORD=.*$', "POSTGRES_PASSWORD=$password"
  } else {
    $lines += @('', '# PostgreSQL password of the compose stack (read when its data volume is first created).', "POSTGRES_PASSWORD=$password")
  }
  # LF endings and no BOM, as Compose and the .sh scripts read it.
  [System.IO.File]::WriteAllText($envFile, (($lines -join "`n") + "`n"))
  Write-Say 'wrote a random POSTGRES_PASSWORD into .env'
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

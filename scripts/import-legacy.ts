// tsx scripts/import-legacy.ts <file> [--dry-run]: imports an export of the old system's posts table (CSV or JSON
// lines, see lib/legacy/import.ts), prints a table of counts and then the same report as one JSON line.
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config.ts';
import { assertPostgresReady, createSql } from '../lib/db/client.ts';
import { listMigrations } from '../lib/db/migrate.ts';
import { detectLegacyFormat, formatImportReport, importLegacyFile } from '../lib/legacy/import.ts';
import { createLogger } from '../lib/log.ts';
import { StartupError, exitOnStartupError } from '../lib/startup-error.ts';

const USAGE = 'usage: import-legacy <posts.csv|posts.jsonl> [--dry-run] [--batch-size N]';

try {
  const { file, dryRun, batchSize } = readArguments(process.argv.slice(2));
  // The file is checked before the database, so a typo in its name is reported even with PostgreSQL down.
  const format = await detectLegacyFormat(file);
  const config = loadConfig();
  // stdout carries only the report; log events go to stderr.
  const log = createLogger(config.logLevel, { process: 'import-legacy' }, (line) => process.stderr.write(line + '\n'));
  const sql = createSql(config.databaseUrl, log, { max: 2 });
  try {
    await assertPostgresReady(sql, config.databaseUrl, (await listMigrations()).map((m) => m.name));
    const report = await importLegacyFile(sql, file, {
      dryRun,
      format,
      batchSize,
      onProgress: (progress) => {
        if (process.stderr.isTTY) process.stderr.write(`\r${progress.rowsRead} rows read, ${progress.inserted} inserted…`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    process.stdout.write(`${formatImportReport(report)}\n${JSON.stringify({ event: 'legacy_import_report', ...report })}\n`);
  } finally {
    await sql.end({ timeout: 5 });
  }
} catch (error) {
  exitOnStartupError(error);
}

function readArguments(args: string[]): { file: string; dryRun: boolean; batchSize: number | undefined } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { 'dry-run': { type: 'boolean' }, 'batch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    // parseArgs adds a hint about `--` that does not apply here; its first sentence names the problem.
    throw new StartupError(`${(error as Error).message.split('. ')[0]}; ${USAGE}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (parsed.positionals.length !== 1) throw new StartupError(`expected one file, got ${parsed.positionals.length}; ${USAGE}`);
  const batchSize = parsed.values['batch-size'];
  // 5000 rows of 13 columns is the most one statement can carry (65,535 parameters).
  if (batchSize !== undefined && (!/^\d+$/.test(batchSize) || Number(batchSize) < 1 || Number(batchSize) > 5000)) {
    throw new StartupError(`--batch-size must be an integer from 1 to 5000, got "${batchSize}"`);
  }
  return { file: parsed.positionals[0]!, dryRun: parsed.values['dry-run'] ?? false, batchSize: batchSize === undefined ? undefined : Number(batchSize) };
}

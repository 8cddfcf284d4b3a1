// The Windows scripts (scripts/*.ps1) beside the .sh ones. No PowerShell runs here, so: each .ps1 is parsed by a
// real PowerShell grammar (tree-sitter-powershell, through web-tree-sitter), and for every flag docs/operations.md
// documents, a table checks that both scripts have it and that it leads to the same compose command. The .sh
// side is run for real against a fake `docker-compose` that records what it is asked; the .ps1 side is read from
// its syntax tree: the Invoke-Compose calls reachable from the branch that tests the flag.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, statSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Language, type Node, Parser } from 'web-tree-sitter';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OPERATIONS = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
/** An argument whose value the caller supplies (a variable in the .ps1): any one argument of the .sh's call. */
const VALUE = '<value>';

interface Row {
  /** The script's name without extension. */
  script: 'start-docker' | 'dev-docker';
  sh: string[];
  ps1: string[];
  /** Compose commands (after the project options) that this invocation must run, in both. */
  compose: string[][];
}

const ROWS: Row[] = [
  { script: 'start-docker', sh: [], ps1: [], compose: [['up', '-d', '--remove-orphans']] },
  { script: 'start-docker', sh: ['--build'], ps1: ['-Build'], compose: [['up', '-d', '--remove-orphans', '--build']] },
  {
    script: 'start-docker',
    sh: ['--migrate', 'posts.csv'],
    ps1: ['-Migrate', 'posts.csv'],
    compose: [['run', '--rm', '-v', VALUE, 'api', 'node', 'dist/scripts/import-legacy.js', VALUE]],
  },
  {
    script: 'start-docker',
    sh: ['--migrate', 'posts.csv', '--dry-run'],
    ps1: ['-Migrate', 'posts.csv', '-DryRun'],
    compose: [['run', '--rm', '-v', VALUE, 'api', 'node', 'dist/scripts/import-legacy.js', VALUE, '--dry-run']],
  },
  { script: 'start-docker', sh: ['--logs'], ps1: ['-Logs'], compose: [['logs', '-f', '--tail=200']] },
  { script: 'start-docker', sh: ['--logs', 'api'], ps1: ['-Logs', 'api'], compose: [['logs', '-f', '--tail=200', VALUE]] },
  { script: 'start-docker', sh: ['--status'], ps1: ['-Status'], compose: [['ps'], ['ps', '-q', 'redis'], ['exec', '-T', 'redis', 'sh', '-c', VALUE]] },
  { script: 'start-docker', sh: ['--stop'], ps1: ['-Stop'], compose: [['down']] },
  { script: 'start-docker', sh: ['--demo'], ps1: ['-Demo'], compose: [['up', '-d', '--remove-orphans']] },
  { script: 'start-docker', sh: ['--demo', '--stop'], ps1: ['-Demo', '-Stop'], compose: [['down', '-v', '--remove-orphans']] },
  { script: 'dev-docker', sh: ['--postgres'], ps1: ['-Postgres'], compose: [['up', '-d', 'postgres', 'redis'], ['port', VALUE, VALUE]] },
  { script: 'dev-docker', sh: ['--logs'], ps1: ['-Logs'], compose: [['logs', '-f', '--tail=200', 'postgres', 'redis']] },
  { script: 'dev-docker', sh: ['--stop'], ps1: ['-Stop'], compose: [['down']] },
];

const matches = (expected: string[], actual: string[]) => expected.length === actual.length && expected.every((arg, i) => arg === VALUE || arg === actual[i]);

let parser: Parser;
const trees = new Map<string, Node>();

function parse(file: string): Node {
  if (!trees.has(file)) trees.set(file, parser.parse(readFileSync(join(ROOT, 'scripts', file), 'utf8'))!.rootNode);
  return trees.get(file)!;
}

function* descendants(node: Node): Generator<Node> {
  for (const child of node.namedChildren) {
    if (!child) continue;
    yield child;
    yield* descendants(child);
  }
}

/** ERROR and MISSING nodes, as "line N: text". */
function syntaxErrors(root: Node): string[] {
  const out: string[] = [];
  const walk = (node: Node) => {
    if (node.type === 'ERROR' || node.isMissing) out.push(`line ${node.startPosition.row + 1}: ${node.text.slice(0, 80)}`);
    else for (const child of node.children) if (child) walk(child);
  };
  walk(root);
  return out;
}

/** A command's arguments as the shell would pass them: quoted literals unquoted, anything with a variable VALUE. */
function commandArguments(command: Node): string[] {
  const elements = command.namedChildren.find((child) => child?.type === 'command_elements');
  if (!elements) return [];
  return elements.namedChildren
    .filter((child): child is Node => !!child && child.type !== 'command_argument_sep' && !/redirection/.test(child.type))
    // A redirection (2>$null, *> $null) is the shell's, not an argument; the grammar reads it as a token.
    .filter((child) => !/^[0-9*]?>/.test(child.text))
    .map((child) => {
      const text = child.text;
      if (/^'[^']*'$/.test(text)) return text.slice(1, -1);
      if (text.includes('$')) return VALUE;
      if (/^"[^"]*"$/.test(text)) return text.slice(1, -1);
      return text;
    });
}

const commandName = (command: Node) => command.namedChildren.find((child) => child?.type === 'command_name')?.text ?? '';

/** Every Invoke-Compose call inside `node`, following calls of functions the script (or what it dot-sources) defines. */
function composeCalls(node: Node, functions: Map<string, Node>, seen = new Set<string>()): string[][] {
  const calls: string[][] = [];
  for (const command of [node, ...descendants(node)].filter((n) => n.type === 'command')) {
    const name = commandName(command);
    if (name === 'Invoke-Compose') calls.push(commandArguments(command));
    else if (functions.has(name) && !seen.has(name)) {
      seen.add(name);
      calls.push(...composeCalls(functions.get(name)!, functions, seen));
    }
  }
  return calls;
}

function functionsOf(...roots: Node[]): Map<string, Node> {
  const map = new Map<string, Node>();
  for (const root of roots) {
    for (const fn of [...descendants(root)].filter((n) => n.type === 'function_statement')) {
      const name = fn.namedChildren.find((child) => child?.type === 'function_name')?.text;
      if (name) map.set(name, fn);
    }
  }
  return map;
}

/** The parameters of the script's param block, without their `$`. */
function parameters(root: Node): string[] {
  const block = root.namedChildren.find((child) => child?.type === 'param_block');
  if (!block) return [];
  return [...descendants(block)].filter((n) => n.type === 'script_parameter').map((n) => n.namedChildren.find((child) => child?.type === 'variable')!.text.slice(1));
}

/**
 * The top-level if/elseif/else branches the flags select: a branch is taken when its condition names one of
 * `flags` (or, with no flag but a positional value, the final else), and its Invoke-Compose calls are collected.
 */
function branchCalls(root: Node, flags: string[]): string[][] {
  const functions = functionsOf(root, parse('docker-common.ps1'));
  const calls: string[][] = [];
  const top = root.namedChildren.find((child) => child?.type === 'statement_list');
  for (const statement of top?.namedChildren ?? []) {
    if (!statement || statement.type !== 'if_statement') continue;
    const clauses: [Node | null, Node][] = [];
    const [condition, block] = statement.namedChildren;
    clauses.push([condition!, block!]);
    for (const child of statement.namedChildren) {
      if (child?.type === 'elseif_clauses') for (const clause of child.namedChildren) clauses.push([clause!.namedChildren[0]!, clause!.namedChildren[1]!]);
      if (child?.type === 'else_clause') clauses.push([null, child.namedChildren[0]!]);
    }
    const named = clauses.filter(([cond]) => cond && flags.some((flag) => new RegExp(`\\$${flag}\\b`).test(cond.text)));
    // The chain's first clause whose flag is given decides, as in the script; with none given, its else.
    const chosen = named.length ? [named[0]!] : clauses.filter(([cond]) => cond === null);
    for (const [, body] of chosen) calls.push(...composeCalls(body, functions));
  }
  return calls;
}

const ENV_WITH_SECRETS = 'POSTGRES_PASSWORD=test\nREDIS_PASSWORD=test\nAPI_TOKEN=admin-token-for-the-script-tests\nAPI_READ_TOKEN=read-token-for-the-script-tests\n';

describe('the Windows scripts', () => {
  let work: string;
  let log: string;

  before(async () => {
    await Parser.init();
    parser = new Parser();
    parser.setLanguage(await Language.load(join(ROOT, 'node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm')));

    // A checkout's scripts beside a .env with a password, and fakes of docker, docker-compose and curl on PATH.
    work = mkdtempSync(join(tmpdir(), 'vibe-ps1-'));
    mkdirSync(join(work, 'scripts'));
    mkdirSync(join(work, 'bin'));
    for (const file of ['scripts/start-docker.sh', 'scripts/dev-docker.sh', 'scripts/docker-common.sh', 'compose.yaml', 'compose.dev.yaml', '.env.example']) {
      copyFileSync(join(ROOT, file), join(work, file));
    }
    writeFileSync(join(work, '.env'), ENV_WITH_SECRETS);
    writeFileSync(join(work, 'posts.csv'), 'source,content,created_at\nhn,x,2024-01-01\n');
    log = join(work, 'compose.log');
    const fakes: Record<string, string> = {
      'docker-compose': [
        '#!/bin/sh',
        // Arguments end with \037, calls with \036: an argument may hold newlines (the --status script).
        `printf '%s\\037' "$@" >> ${log}; printf '\\036' >> ${log}`,
        'while [ $# -gt 0 ]; do case "$1" in --project-directory|-f|-p) shift 2 ;; *) break ;; esac; done',
        'case "$1 $2" in "port nginx") echo 0.0.0.0:443 ;; "port postgres") echo 127.0.0.1:5432 ;; "port redis") echo 127.0.0.1:6379 ;; "ps -q") echo c0ffee ;; esac',
        'exit 0',
      ].join('\n'),
      // No Compose v2 plugin: the scripts fall back to docker-compose, whose calls are recorded.
      docker: '#!/bin/sh\ncase "$1" in compose) exit 1 ;; logs) echo ready ;; network) echo net0 ;; inspect) echo healthy ;; esac\nexit 0\n',
      curl: '#!/bin/sh\nexit 0\n',
    };
    for (const [name, text] of Object.entries(fakes)) {
      writeFileSync(join(work, 'bin', name), text);
      chmodSync(join(work, 'bin', name), 0o755);
    }
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** The compose calls `scripts/<script>.sh args` makes, after the project options. */
  function shCalls(script: string, args: string[]): string[][] {
    writeFileSync(log, '');
    const result = spawnSync('bash', [join(work, 'scripts', `${script}.sh`), ...args], {
      cwd: work,
      env: { PATH: `${join(work, 'bin')}:${process.env.PATH}`, HOME: work, READY_TIMEOUT: '5' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 0, `${script}.sh ${args.join(' ')}: ${result.stderr}`);
    return readFileSync(log, 'utf8')
      .split('\x1e')
      .filter(Boolean)
      .map((line) => {
        const argv = line.split('\x1f').slice(0, -1);
        while (['--project-directory', '-f', '-p'].includes(argv[0]!)) argv.splice(0, 2);
        return argv;
      });
  }

  for (const file of ['start-docker.ps1', 'dev-docker.ps1', 'docker-common.ps1']) {
    test(`${file} parses as PowerShell without an error`, () => {
      assert.deepEqual(syntaxErrors(parse(file)), []);
    });
  }

  for (const row of ROWS) {
    const sh = [`scripts/${row.script}.sh`, ...row.sh].join(' ');
    const ps1 = [`scripts\\${row.script}.ps1`, ...row.ps1].join(' ');
    test(`\`${sh}\` and \`${ps1}\` run ${row.compose.map((c) => `\`compose ${c.join(' ')}\``).join(', ')}`, () => {
      const root = parse(`${row.script}.ps1`);
      const flags = row.ps1.filter((arg) => arg.startsWith('-')).map((arg) => arg.slice(1));
      const declared = parameters(root);
      for (const flag of flags) assert.ok(declared.includes(flag), `${row.script}.ps1 has no -${flag} (it has ${declared.join(', ')})`);
      const fromPs1 = branchCalls(root, flags);
      const fromSh = shCalls(row.script, row.sh);
      for (const expected of row.compose) {
        assert.ok(fromSh.some((actual) => matches(expected, actual)), `${sh} ran ${JSON.stringify(fromSh)}, not compose ${expected.join(' ')}`);
        assert.ok(fromPs1.some((actual) => matches(expected, actual)), `${ps1} calls ${JSON.stringify(fromPs1)}, not compose ${expected.join(' ')}`);
      }
    });
  }

  test('an .env an earlier release wrote, with only POSTGRES_PASSWORD, gains the secrets it lacks and keeps its password', () => {
    writeFileSync(join(work, '.env'), '# an older .env\nPOSTGRES_PASSWORD=kept-password\nAPI_TOKEN=\n');
    try {
      const result = spawnSync('bash', [join(work, 'scripts', 'start-docker.sh'), '--status'], {
        cwd: work,
        env: { PATH: `${join(work, 'bin')}:${process.env.PATH}`, HOME: work, VIBE_ASSUME_YES: 'y' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /wrote a random REDIS_PASSWORD API_TOKEN API_READ_TOKEN into \.env/);
      const written = readFileSync(join(work, '.env'), 'utf8');
      assert.match(written, /^POSTGRES_PASSWORD=kept-password$/m);
      for (const name of ['REDIS_PASSWORD', 'API_TOKEN', 'API_READ_TOKEN']) assert.match(written, new RegExp(`^${name}=[0-9a-f]{48}$`, 'm'), name);
      assert.equal(written.match(/^API_TOKEN=/gm)?.length, 1, 'the empty API_TOKEN line was filled in, not repeated');
      assert.equal(statSync(join(work, '.env')).mode & 0o777, 0o600);
    } finally {
      writeFileSync(join(work, '.env'), ENV_WITH_SECRETS);
    }
  });

  test('docs/operations.md documents every flag of the table for both, the Windows command beside the Linux one', () => {
    for (const row of ROWS) {
      for (const flag of row.sh) if (flag.startsWith('--')) assert.ok(OPERATIONS.includes(`scripts/${row.script}.sh`) && new RegExp(`scripts/${row.script}\\.sh[^\\n]*${flag}`).test(OPERATIONS), `docs/operations.md: ${row.script}.sh ${flag}`);
      for (const flag of row.ps1) if (flag.startsWith('-')) assert.ok(new RegExp(`scripts\\\\${row.script}\\.ps1[^\\n]*${flag}\\b`).test(OPERATIONS), `docs/operations.md: ${row.script}.ps1 ${flag}`);
    }
  });
});

// The example requests of the documentation: every curl command in a ```sh block of README.md and docs/*.md
// that calls the API (its URL starts with $API, or with a loopback address as older examples wrote it), read
// into method, path, query, headers and body. Shell variables ($JOB, $TOKEN) are kept as written, for the
// reader to check or fill in; nothing is expanded or run.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DocExample {
  /** The file, from the root of the repository: `README.md`, `docs/api.md`. */
  file: string;
  /** Where the command starts, counting from 1. */
  line: number;
  method: string;
  /** As written, variables kept: `/jobs/$JOB`. */
  path: string;
  query: Record<string, string>;
  /** Names in lower case. */
  headers: Record<string, string>;
  /** The data sent, as curl would send it; null when none is. */
  body: string | null;
  /** The command's words as the shell would split them (without expanding anything). */
  words: string[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHELL_FENCE = /^```(?:sh|bash|shell)\s*$/;
const API_BASE = /^(?:\$\{?API\}?|(?:https?:\/\/)?(?:localhost|127\.0\.0\.1|\[::1\])(?::\d+)?)(?=[/?]|$)/;

/** Every example request of the documentation, in file order. */
export function docExamples(root = ROOT): DocExample[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
  return files.flatMap((file) => examplesIn(file, readFileSync(join(root, file), 'utf8')));
}

/** The example requests of one Markdown text. */
export function examplesIn(file: string, markdown: string): DocExample[] {
  const examples: DocExample[] = [];
  for (const { line, text } of shellCommands(markdown)) {
    for (const words of commands(tokens(text))) {
      const example = curlRequest(words);
      if (example) examples.push({ file, line, ...example });
    }
  }
  return examples;
}

/** The lines of ```sh blocks, a line ending in a backslash joined to the next, as is one inside an open quote. */
function shellCommands(markdown: string): { line: number; text: string }[] {
  const lines = markdown.split('\n');
  const found: { line: number; text: string }[] = [];
  let inBlock = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!inBlock) {
      inBlock = SHELL_FENCE.test(raw.trim());
      continue;
    }
    if (raw.trim().startsWith('```')) {
      inBlock = false;
      continue;
    }
    const start = i;
    let text = raw.replace(/^\s*\$ /, '');
    while (i + 1 < lines.length && !lines[i + 1]!.trim().startsWith('```')) {
      if (openQuote(text)) text = `${text}\n${lines[++i]!}`;
      else if (/(?:^|[^\\])\\$/.test(text)) text = `${text.slice(0, -1)} ${lines[++i]!}`;
      else break;
    }
    found.push({ line: start + 1, text });
  }
  return found;
}

/** Whether a quote opened on the line is still open at its end (a JSON body written over several lines). */
function openQuote(line: string): boolean {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote === null && char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return false;
    if (char === '\\' && quote !== "'") i++;
    else if (quote === null && (char === "'" || char === '"')) quote = char;
    else if (char === quote) quote = null;
  }
  return quote !== null;
}

type Token = { word: string } | { op: string };

/** A shell line as words and operators, quotes removed, variables and command substitutions left unexpanded. */
function tokens(line: string): Token[] {
  const out: Token[] = [];
  let word: string | null = null;
  const end = () => {
    if (word !== null) out.push({ word });
    word = null;
  };
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (/\s/.test(char)) {
      end();
    } else if (char === '#' && word === null) {
      break;
    } else if (char === "'") {
      const close = line.indexOf("'", i + 1);
      const stop = close < 0 ? line.length : close;
      word = (word ?? '') + line.slice(i + 1, stop);
      i = stop;
    } else if (char === '"') {
      let text = '';
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) i++;
        text += line[i];
      }
      word = (word ?? '') + text;
    } else if (char === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (char === '$' && line[i + 1] === '(') {
      end();
      out.push({ op: '$(' });
      i++;
    } else if ('|&;()<>'.includes(char)) {
      const op = line.slice(i, i + 2) === char.repeat(2) ? char.repeat(2) : char;
      // A redirection's file descriptor (2>/dev/null) is not a word of the command.
      if ((char === '>' || char === '<') && word !== null && /^\d$/.test(word)) word = null;
      end();
      out.push({ op });
      i += op.length - 1;
    } else {
      word = (word ?? '') + char;
    }
  }
  end();
  return out;
}

/** The simple commands of a line, redirections and their targets left out. */
function commands(line: Token[]): string[][] {
  const found: string[][] = [];
  let current: string[] = [];
  let redirect = false;
  for (const token of line) {
    if ('op' in token) {
      if (token.op === '>' || token.op === '>>' || token.op === '<') {
        redirect = true;
        continue;
      }
      if (current.length > 0) found.push(current);
      current = [];
      continue;
    }
    if (redirect) {
      redirect = false;
      continue;
    }
    current.push(token.word);
  }
  if (current.length > 0) found.push(current);
  return found;
}

const TAKES_VALUE = new Set([
  '-X', '--request', '-H', '--header', '-d', '--data', '--data-raw', '--data-binary', '--data-ascii', '--data-urlencode', '--json',
  '-o', '--output', '-w', '--write-out', '--cacert', '--capath', '--cert', '--key', '-E', '-u', '--user', '-m', '--max-time',
  '--connect-timeout', '-A', '--user-agent', '-e', '--referer', '-b', '--cookie', '-c', '--cookie-jar', '-T', '--upload-file',
  '--retry', '--retry-delay', '--retry-max-time', '--resolve', '-x', '--proxy', '-F', '--form', '--url', '-K', '--config', '-r',
  '--range', '--limit-rate', '-D', '--dump-header', '--connect-to', '--unix-socket',
]);
const DATA = new Set(['-d', '--data', '--data-raw', '--data-binary', '--data-ascii', '--data-urlencode', '--json']);

function curlRequest(words: string[]): Omit<DocExample, 'file' | 'line'> | null {
  let at = 0;
  while (at < words.length && /^[A-Za-z_]\w*=/.test(words[at]!)) at++;
  if (words[at] !== 'curl' && words[at] !== 'curl.exe') return null;
  const options: [string, string | null][] = [];
  let url: string | null = null;
  for (let i = at + 1; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('--')) {
      const [name, inline] = word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, null];
      if (TAKES_VALUE.has(name)) options.push([name, inline ?? words[++i] ?? '']);
      else options.push([name, null]);
      if (name === '--url') url = options.at(-1)![1];
    } else if (word.startsWith('-') && word.length > 1) {
      // Short options cluster (-sS, -XPOST): the first that takes a value takes the rest of the word, or the next word.
      for (let k = 1; k < word.length; k++) {
        const name = `-${word[k]}`;
        if (TAKES_VALUE.has(name)) {
          options.push([name, k + 1 < word.length ? word.slice(k + 1) : words[++i] ?? '']);
          break;
        }
        options.push([name, null]);
      }
    } else {
      url ??= word;
    }
  }
  if (url === null) return null;
  const base = API_BASE.exec(url);
  if (!base) return null;
  const target = url.slice(base[0].length) || '/';
  const [path, search = ''] = target.split(/\?(.*)/s) as [string, string?];
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(search)) query[name] = value;
  const headers: Record<string, string> = {};
  const data: string[] = [];
  let method: string | null = null;
  let get = false;
  let head = false;
  for (const [name, value] of options) {
    if (name === '-X' || name === '--request') method = value!.toUpperCase();
    else if (name === '-H' || name === '--header') {
      const colon = value!.indexOf(':');
      if (colon > 0) headers[value!.slice(0, colon).trim().toLowerCase()] = value!.slice(colon + 1).trim();
    } else if (DATA.has(name)) {
      data.push(value!);
      if (name === '--json') {
        headers['content-type'] ??= 'application/json';
        headers.accept ??= 'application/json';
      }
    } else if (name === '-G' || name === '--get') get = true;
    else if (name === '-I' || name === '--head') head = true;
  }
  if (get) {
    for (const item of data) {
      const eq = item.indexOf('=');
      if (eq > 0) query[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  const body = get || data.length === 0 ? null : data.join('&');
  return {
    method: method ?? (head ? 'HEAD' : body !== null ? 'POST' : 'GET'),
    path: path.startsWith('/') ? path : `/${path}`,
    query,
    headers,
    body,
    words: words.slice(at),
  };
}

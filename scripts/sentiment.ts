// npm run -s sentiment -- --eval FILE | --text "..." [--lang xx] [--stars N] | --help
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { scoreSentiment } from '../lib/sentiment/index.ts';

const HELP = `Usage:
  npm run -s sentiment -- --eval FILE
      FILE has one JSON object a line: {"text": "...", "label": "positive"|"negative", "lang": "en"} ("lang"
      optional: detected when missing). Prints one JSON line
      {"n":..,"accuracy":..,"by_label":{"positive":{"n":..,"accuracy":..},"negative":{..}}} and exits 0.
      A text judged neutral, or not judged at all (a language without a model: label null), counts as wrong.
  npm run -s sentiment -- --text "..." [--lang xx] [--stars N]
      Prints the sentiment of one text as JSON: {"score","label","method","language"}.
Bad usage, an unreadable FILE or a malformed line exits 2 with one line on stderr.`;

function usage(message: string): never {
  process.stderr.write(`${message} (see --help)\n`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: { eval: { type: 'string' }, text: { type: 'string' }, lang: { type: 'string' }, stars: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }));
} catch (error) {
  usage((error as Error).message.split('\n')[0]!);
}

if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
if ((values.eval === undefined) === (values.text === undefined)) usage('give either --eval FILE or --text "..."');

if (typeof values.text === 'string') {
  const stars = values.stars === undefined ? null : Number(values.stars);
  if (stars !== null && !(Number.isFinite(stars) && stars >= 1 && stars <= 5)) usage(`--stars must be a number from 1 to 5, got "${String(values.stars)}"`);
  const lang = typeof values.lang === 'string' ? values.lang : null;
  process.stdout.write(`${JSON.stringify(scoreSentiment({ text: values.text, language: lang, stars }))}\n`);
  process.exit(0);
}

const file = values.eval as string;
let content: string;
try {
  content = readFileSync(file, 'utf8');
} catch (error) {
  usage(`cannot read --eval file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
}

const byLabel = new Map<string, { n: number; right: number }>();
let n = 0;
let right = 0;
content.split('\n').forEach((line, index) => {
  if (line.trim() === '') return;
  let row: { text?: unknown; label?: unknown; lang?: unknown };
  try {
    row = JSON.parse(line);
  } catch {
    usage(`${file} line ${index + 1} is not JSON`);
  }
  if (typeof row?.text !== 'string' || typeof row.label !== 'string') usage(`${file} line ${index + 1} needs a string "text" and a string "label"`);
  if (row.lang !== undefined && row.lang !== null && typeof row.lang !== 'string') usage(`${file} line ${index + 1}: "lang" must be a string`);
  const predicted = scoreSentiment({ text: row.text, language: (row.lang as string | null | undefined) ?? null }).label;
  const counts = byLabel.get(row.label) ?? { n: 0, right: 0 };
  counts.n++;
  n++;
  if (predicted === row.label) {
    counts.right++;
    right++;
  }
  byLabel.set(row.label, counts);
});

const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000);
const by_label = Object.fromEntries([...byLabel].sort(([a], [b]) => a.localeCompare(b)).map(([label, c]) => [label, { n: c.n, accuracy: ratio(c.right, c.n) }]));
process.stdout.write(`${JSON.stringify({ n, accuracy: ratio(right, n), by_label })}\n`);

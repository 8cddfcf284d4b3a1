// The folder dependency graph of lib/, read from the sources' import statements (static and dynamic ones with a
// literal path). A "folder" is lib/<name>/; a file directly in lib/ is its own node, named by its file (config.ts
// is "config"); the entry files and scripts are not part of the graph.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LIB = join(ROOT, 'lib');

export interface Edge {
  from: string;
  to: string;
  /** The files of `from` that import from `to`. */
  files: string[];
}

export interface FolderGraph {
  nodes: string[];
  edges: Edge[];
  /** Each circle once, as the nodes around it. */
  cycles(): string[][];
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The node a file of lib/ belongs to. */
export function nodeOf(file: string): string {
  const [first, ...rest] = relative(LIB, file).split('/');
  return rest.length === 0 ? first!.replace(/\.tsx?$/, '') : first!;
}

export function folderGraph(): FolderGraph {
  const files = sourceFiles(LIB);
  const edges = new Map<string, Edge>();
  const nodes = new Set(files.map(nodeOf));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      if (!target.startsWith(`${LIB}/`)) continue;
      const [from, to] = [nodeOf(file), nodeOf(target)];
      if (from === to) continue;
      const key = `${from} ${to}`;
      const edge = edges.get(key) ?? { from, to, files: [] };
      edge.files.push(relative(ROOT, file));
      edges.set(key, edge);
    }
  }
  const sorted = [...edges.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return { nodes: [...nodes].sort(), edges: sorted, cycles: () => findCycles(sorted) };
}

function findCycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const found = new Map<string, string[]>();
  const walk = (path: string[]) => {
    for (const to of next.get(path.at(-1)!) ?? []) {
      const at = path.indexOf(to);
      if (at >= 0) {
        const cycle = path.slice(at);
        // The same circle found from another of its nodes is the same circle.
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        found.set(canonical.join(' '), [...canonical, canonical[0]!]);
      } else if (path.length < 12) walk([...path, to]);
    }
  };
  for (const node of next.keys()) walk([node]);
  return [...found.values()];
}

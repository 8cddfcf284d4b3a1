// The layers of lib/, bottom first. A folder may import from its own layer and the ones below, never from one
// above; test/import-shape.test.ts holds the code to this, and a new folder must be given a layer here.
export const LAYERS: { name: string; nodes: string[] }[] = [
  { name: 'vocabulary and basics', nodes: ['model', 'config', 'env-file', 'errors', 'log', 'sleep', 'text', 'startup-error', 'sentiment'] },
  { name: 'stores and clients', nodes: ['redis', 'db', 'http', 'scrape', 'backup', 'metrics', 'mail'] },
  { name: 'the queue, the sources and what is kept of them', nodes: ['queue', 'sources', 'history', 'legacy', 'alerts'] },
  { name: 'processes', nodes: ['worker', 'api', 'scheduler'] },
  // The dashboard reads requests as the API does (its parsers, its token check), so it sits above it; the API
  // serves it through the Pages it is given, never by importing it.
  { name: 'pages', nodes: ['dashboard'] },
];

export function layerOf(node: string): number | null {
  const index = LAYERS.findIndex((layer) => layer.nodes.includes(node));
  return index < 0 ? null : index;
}

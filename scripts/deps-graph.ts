// npm run -s deps-graph: which folder of lib/ imports which, from the import statements themselves, as one line
// per arrow ("worker -> queue  (4 imports)"), then the layers they fall into. Anyone can redraw the picture in
// docs/architecture.md from it; test/import-shape.test.ts checks the same graph against the layers.
//   tsx scripts/deps-graph.ts [--files]   (--files: every importing file beside each arrow)
import { folderGraph } from './deps/graph.ts';
import { LAYERS } from './deps/layers.ts';

const showFiles = process.argv.includes('--files');
const graph = folderGraph();
for (const edge of graph.edges) {
  process.stdout.write(`${edge.from} -> ${edge.to}  (${edge.files.length} import${edge.files.length === 1 ? '' : 's'})\n`);
  if (showFiles) for (const file of edge.files) process.stdout.write(`    ${file}\n`);
}
const cycles = graph.cycles();
process.stdout.write(cycles.length === 0 ? '\nno circles\n' : `\ncircles: ${cycles.map((cycle) => cycle.join(' -> ')).join('; ')}\n`);
process.stdout.write('\nlayers, bottom first (an import may only run down or within one):\n');
for (const [index, layer] of LAYERS.entries()) process.stdout.write(`  ${index} ${layer.name}: ${layer.nodes.filter((node) => graph.nodes.includes(node)).join(', ')}\n`);

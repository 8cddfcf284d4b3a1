// The shape of lib/ stays as docs/architecture.md draws it: no folder imports one from a layer above it, and no
// two folders import each other, however indirectly (npm run -s deps-graph prints the graph this reads).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { folderGraph } from '../scripts/deps/graph.ts';
import { LAYERS, layerOf } from '../scripts/deps/layers.ts';

describe('the import shape of lib/', () => {
  const graph = folderGraph();

  test('every folder and top-level file of lib/ has a layer', () => {
    const unplaced = graph.nodes.filter((node) => layerOf(node) === null);
    assert.deepEqual(unplaced, [], `give each a layer in scripts/deps/layers.ts: ${unplaced.join(', ')}`);
  });

  test('no import runs up a layer', () => {
    const upward = graph.edges
      .filter((edge) => (layerOf(edge.to) ?? -1) > (layerOf(edge.from) ?? -1))
      .map((edge) => `${edge.from} (${LAYERS[layerOf(edge.from)!]?.name}) imports ${edge.to}: ${edge.files.join(', ')}`);
    assert.deepEqual(upward, []);
  });

  test('no folders import each other in a circle', () => {
    assert.deepEqual(graph.cycles().map((cycle) => cycle.join(' -> ')), []);
  });

  test('the reader finds imports: the worker imports the queue, and the model imports nothing of ours', () => {
    assert.ok(graph.edges.some((edge) => edge.from === 'worker' && edge.to === 'queue'));
    assert.deepEqual(graph.edges.filter((edge) => edge.from === 'model'), []);
  });
});

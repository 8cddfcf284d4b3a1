/**
 * The flags node runs every worker with, wherever it runs: compose.yaml, scripts/local-stack.sh and
 * `npm run start:worker` pass them, bench:scrape measures with them, and test/worker-node-flags.test.ts checks
 * that these all agree.
 *
 * Small semi-spaces (V8 grows them to 16 MB by default): a worker's memory is mostly garbage waiting for a GC,
 * above all page bodies, which live outside the JS heap and are freed only when a scavenge finds them dead.
 * Scavenging every 2 MB of young objects takes bench:scrape's peak RSS from about 170 MB to about 125 MB, for
 * about the same GC time: the many cheap scavenges stand in for the mark-compacts that the backlog of page buffers
 * otherwise sets off.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=2'];

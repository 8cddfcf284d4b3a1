// Where the bench finds the repository and the peer harnesses. The peers live outside the repository, wherever
// BENCH_PEERS_DIR says; without it they are skipped, saying so.
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PEERS_DIR: string | null = process.env.BENCH_PEERS_DIR ?? null;

import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import type { QueueSettings } from '../queue/settings.ts';
import { type HeldLeasesMemory, HeldLeasesWriter, createHeldLeasesMemory } from './held-leases.ts';

export type KeeperCommand = { type: 'stop' };

export type KeeperEvent = { type: 'ready' } | { type: 'lost'; id: string } | { type: 'cancel'; id: string };

export interface LeaseKeeperOptions {
  redisUrl: string;
  settings: QueueSettings;
  renewEveryMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  workerId: string;
  /** At most this many jobs are held at once (the worker's concurrency). */
  slots: number;
  onLost(id: string): void;
  onCancel(id: string): void;
}

/** The main thread's handle on the lease-keeper thread (lease-keeper-thread.ts). */
export class LeaseKeeper {
  private thread: Thread | null = null;
  private readonly memory: HeldLeasesMemory;
  private readonly held: HeldLeasesWriter;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.memory = createHeldLeasesMemory(options.slots);
    this.held = new HeldLeasesWriter(this.memory);
  }

  async start(): Promise<void> {
    const { redisUrl, settings, renewEveryMs, logLevel, workerId } = this.options;
    const workerData = { redisUrl, settings, renewEveryMs, logLevel, workerId, held: this.memory };
    const extension = extname(fileURLToPath(import.meta.url));
    const file = new URL(`./lease-keeper-thread${extension}`, import.meta.url);
    // Built, the thread is plain JS. From sources, loader hooks are per thread, so it registers tsx itself first.
    const thread =
      extension === '.ts'
        ? new Thread(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); });`, { eval: true, workerData })
        : new Thread(file, { workerData });
    this.thread = thread;
    await new Promise<void>((resolve, reject) => {
      thread.once('error', reject);
      thread.on('message', (event: KeeperEvent) => {
        if (event.type === 'ready') resolve();
        else if (event.type === 'lost') this.options.onLost(event.id);
        else if (event.type === 'cancel') this.options.onCancel(event.id);
      });
    });
    thread.unref();
  }

  /** Keeps renewing the job's lease until `until` (ms since the epoch) or until released. */
  hold(id: string, token: string, until: number): void {
    this.held.hold({ id, token, until });
  }

  release(id: string): void {
    this.held.release(id);
  }

  async stop(): Promise<void> {
    if (!this.thread) return;
    const thread = this.thread;
    this.thread = null;
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    thread.postMessage({ type: 'stop' } satisfies KeeperCommand);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    await thread.terminate();
  }
}

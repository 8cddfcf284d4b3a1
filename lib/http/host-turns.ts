/** A FIFO turn per host: the holder sends one request; everyone else for that host waits in order. */
export class HostTurns {
  private readonly queues = new Map<string, Array<() => void>>();

  acquire(host: string, signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    const queue = this.queues.get(host);
    if (!queue) {
      this.queues.set(host, []);
      return Promise.resolve(this.releaser(host));
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(this.releaser(host));
      };
      const onAbort = () => {
        queue.splice(queue.indexOf(grant), 1);
        reject(signal.reason);
      };
      queue.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(host: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queues.get(host)?.shift();
      if (next) next();
      else this.queues.delete(host);
    };
  }
}

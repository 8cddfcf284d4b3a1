// Why a running job's AbortSignal fired. The worker reads the reason to decide what to record.
export type AbortCause = 'cancelled' | 'lease_lost' | 'shutdown' | 'timed_out';

export class JobAborted extends Error {
  override name = 'JobAborted';
  constructor(readonly kind: AbortCause) {
    super(
      kind === 'cancelled'
        ? 'cancelled by request'
        : kind === 'lease_lost'
          ? 'the lease was lost: the job was handed to another worker'
          : kind === 'timed_out'
            ? 'the attempt ran past its time limit'
            : 'the worker is shutting down',
    );
  }
}

export function abortCause(signal: AbortSignal): AbortCause | null {
  return signal.aborted && signal.reason instanceof JobAborted ? signal.reason.kind : null;
}

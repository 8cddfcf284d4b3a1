// One delivery job per destination of an event, created together: a destination that keeps failing retries on
// its own and never holds up the others. The job names what it sends by ids only (event and destination), so the
// secret never enters the queue, and a rule edited meanwhile is delivered to as it is now.
import type { AlertEvent, AlertRule } from '../model/alert.ts';
import type { Job } from '../model/job.ts';
import type { JobQueue } from '../queue/queue.ts';

const DELIVERY_PRIORITY = 5;

export function deliveryTarget(job: Pick<Job, 'query'>): { eventId: string; destinationId: string } | null {
  const match = /^(\d+):([A-Za-z0-9_-]+)$/.exec(job.query);
  return match ? { eventId: match[1]!, destinationId: match[2]! } : null;
}

export async function enqueueDeliveries(queue: JobQueue, rule: AlertRule, event: AlertEvent, maxAttempts: number, only?: string): Promise<Job[]> {
  const destinations = rule.destinations.filter((destination) => only === undefined || destination.id === only);
  if (destinations.length === 0) return [];
  return queue.enqueueMany(
    destinations.map((destination) => ({
      kind: 'alert-delivery' as const,
      source: destination.type,
      query: `${event.id}:${destination.id}`,
      limit: 1,
      priority: DELIVERY_PRIORITY,
      maxAttempts,
    })),
  );
}

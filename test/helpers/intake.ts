// A source's scrape context as the worker builds it, for tests that drive one source directly: its pages go
// through the same intake as in a run (stop mark, budget), with `stored` standing for what the database holds.
import type { HighWaterMark } from '../../lib/model/post.ts';
import { PageIntake } from '../../lib/scrape/intake.ts';
import type { ScrapeContext } from '../../lib/sources/types.ts';

type Fields = Omit<ScrapeContext, 'take' | 'resumeFrom'> & { resumeFrom?: unknown };

export function withIntake(fields: Fields, options: { stored?: Iterable<string>; maxPages?: number } = {}): ScrapeContext & { intake: PageIntake } {
  const stored = new Set(options.stored ?? []);
  const intake = new PageIntake({
    stopAt: fields.since as HighWaterMark | null,
    budget: { newPosts: fields.limit, pages: options.maxPages ?? 10_000 },
    known: async (ids) => new Set(ids.filter((id) => stored.has(id))),
  });
  return { resumeFrom: null, ...fields, take: intake.take, intake };
}

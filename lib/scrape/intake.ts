// What a run keeps of each page a source reads, decided in one place for every source. Listings are read newest
import type { HighWaterMark, ScrapedPost, TakePage } from '../model/post.ts';
// first; a page's posts are kept down to the stop mark (the newest post an earlier run reached), posts already
// stored are kept (their fields refresh) but do not use up the run's budget, and the budget of new posts and pages
// is shared by every listing a source reads in the run. A run cut short by its budget says so, and the caller
// does not move the mark past what it did not read (lib/scrape/incremental.ts).

/** The run's budget, shared by its passes and listings. */
export interface RunBudget {
  /** New posts one run may store. */
  newPosts: number;
  /** Pages one run may read. */
  pages: number;
}

export type CutBy = 'max_new_posts' | 'max_pages';

export interface IntakeOptions {
  /** Posts at or below this one end a listing; null reads until the budget or the listing ends. */
  stopAt: HighWaterMark | null;
  budget: RunBudget;
  /** Which of these external ids are stored already; null counts every post (first runs, full re-scans). */
  known: ((externalIds: string[]) => Promise<Set<string>>) | null;
}

export class PageIntake {
  /** Set once a listing was left before its end or the stop mark: what lies below that point was not read. */
  cutBy: CutBy | null = null;
  pagesRead = 0;
  added = 0;
  /** The newest post kept: where the mark moves once the run turns out complete. */
  newest: ScrapedPost | null = null;

  constructor(private readonly options: IntakeOptions) {}

  readonly take: TakePage = async (posts, { atMost } = {}) => {
    const { budget, stopAt, known } = this.options;
    this.pagesRead += 1;
    budget.pages -= 1;
    let reachedStop = false;
    const above: ScrapedPost[] = [];
    for (const post of posts) {
      // Every post of the page is looked at: a pinned or re-sorted one may sit among older ones.
      if (stopAt && (post.externalId === stopAt.externalId || post.publishedAt < stopAt.publishedAt)) reachedStop = true;
      else above.push(post);
    }
    const stored = known && above.length > 0 ? await known(above.map((post) => post.externalId)) : new Set<string>();
    const allowance = Math.max(0, Math.min(budget.newPosts, atMost ?? Infinity));
    const kept: ScrapedPost[] = [];
    let added = 0;
    let cut = false;
    for (const post of above) {
      const isNew = !stored.has(post.externalId);
      if (isNew && added >= allowance) {
        cut = true;
        break;
      }
      kept.push(post);
      if (isNew) added += 1;
      if (!this.newest || post.publishedAt > this.newest.publishedAt) this.newest = post;
    }
    budget.newPosts -= added;
    this.added += added;
    let more = !reachedStop && !cut;
    // A listing left while it still goes on, for the run's budget or the listing's own share, leaves unread posts.
    if (cut || (more && (budget.newPosts <= 0 || (atMost !== undefined && added >= atMost)))) {
      more = false;
      this.cutBy ??= 'max_new_posts';
    } else if (more && budget.pages <= 0) {
      more = false;
      this.cutBy ??= 'max_pages';
    }
    return { posts: kept, added, more, spent: budget.newPosts <= 0 || budget.pages <= 0 };
  };
}

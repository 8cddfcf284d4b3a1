// Incremental runs of one (source, query), planned and accounted for in one place so that no post published after
// the first run is ever skipped, whatever the budget and however many arrive between runs.
//
// The state is a mark (everything from the first run's oldest post up to it is stored) and, while a run has
// stopped short of the mark, a gap: newer posts up to `gap.top` are stored, some between the mark and them may
// not be. A run then reads in two passes: from the newest post down to `gap.top`, and from where the cut-short run
// stopped (`gap.resume`, a position the source gave) down to the mark. A source that gives no such position is read
// from the newest post down to the mark in one pass; what is stored already does not use up the budget, so each
// run gets further. The mark moves only when a run read all the way down to it.
import type { HighWaterMark, ScrapeState } from '../model/post.ts';
import type { CutBy } from './intake.ts';

export interface Pass {
  /** Where this pass stops: posts at or below it end the listing. */
  stopAt: HighWaterMark | null;
  /** Where it starts instead of the newest post. */
  resumeFrom: unknown;
}

export interface PassOutcome {
  cutBy: CutBy | null;
  /** The newest post the pass kept. */
  newest: HighWaterMark | null;
  /** The resume position of the last page the pass read. */
  lastResume: unknown;
}

export type RunKind = 'first' | 'full_rescan' | 'incremental';

export function runKind(state: ScrapeState | null, fullRescan: boolean): RunKind {
  if (fullRescan) return 'full_rescan';
  return state ? 'incremental' : 'first';
}

export function planPasses(state: ScrapeState | null, kind: RunKind): Pass[] {
  if (kind !== 'incremental' || !state) return [{ stopAt: null, resumeFrom: null }];
  if (state.gap && state.gap.resume !== null && state.gap.resume !== undefined) {
    return [
      { stopAt: state.gap.top, resumeFrom: null },
      { stopAt: state.mark, resumeFrom: state.gap.resume },
    ];
  }
  return [{ stopAt: state.mark, resumeFrom: null }];
}

/** The state after a run, from the passes that ran (a pass left out ran out of budget before it started). */
export function nextState(state: ScrapeState | null, kind: RunKind, outcomes: PassOutcome[], now = new Date()): ScrapeState | null {
  const newest = latest(...outcomes.map((outcome) => outcome.newest));
  if (kind === 'first' || !state) return newest ? { mark: newest, gap: null } : state;
  if (kind === 'full_rescan') {
    // A re-scan reads the newest posts again; only one that went all the way down may move the mark.
    const [pass] = outcomes;
    if (!state.gap && pass && !pass.cutBy && newest) return { mark: latest(state.mark, newest)!, gap: null };
    return state;
  }
  const top = latest(state.mark, state.gap?.top ?? null, newest)!;
  const twoPasses = state.gap !== null && state.gap.resume !== null && state.gap.resume !== undefined;
  const last = outcomes.at(-1);
  const reachedMark = twoPasses ? outcomes.length === 2 && !outcomes[1]!.cutBy : last !== undefined && !last.cutBy;
  if (reachedMark) return { mark: top, gap: null };
  const openedAt = state.gap?.openedAt ?? now;
  if (!last) return state;
  if (last.cutBy) return { mark: state.mark, gap: { top, resume: last.lastResume ?? null, openedAt } };
  // The first of two passes reached the gap's top, and nothing was left for the second: the gap stays as it was.
  return { mark: state.mark, gap: { top, resume: state.gap?.resume ?? null, openedAt } };
}

/** Whether the (source, query) is caught up after the run: true when no gap is left. */
export function reachedMark(after: ScrapeState | null): boolean {
  return after === null || after.gap === null;
}

function latest(...marks: (HighWaterMark | null)[]): HighWaterMark | null {
  let best: HighWaterMark | null = null;
  for (const mark of marks) if (mark && (!best || mark.publishedAt > best.publishedAt)) best = mark;
  return best;
}

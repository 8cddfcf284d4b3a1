// What the spike detectors and their callers speak: windows of posts counted by their start time. Times are
// milliseconds since the epoch (Date#getTime()), so a row of a PostgreSQL date_bin(...) GROUP BY maps onto a window
// with one getTime().

/** The posts of one past window. Windows with no posts may be left out: a missing window counts as 0. */
export interface WindowCount {
  /** The window's start, on the grid of the current window (a whole number of windows before it). */
  start: number;
  count: number;
}

/** One past window's posts and how many of them are negative. */
export interface ShareWindowCount extends WindowCount {
  negative: number;
}

/** The window being judged, possibly still open. */
export interface CurrentWindow {
  start: number;
  /** Posts so far: the whole window once it is complete. */
  count: number;
  /**
   * false while the window is still open (an evaluation right after an ingest, mid-window). An open window fires
   * as soon as its count so far reaches the threshold of a whole window; a count only grows, so this gives the
   * alert earlier without making it any likelier than waiting for the window to end.
   */
  complete: boolean;
}

export interface CurrentShareWindow extends CurrentWindow {
  /** Negative posts so far. */
  negative: number;
}

/** What a detector is given: the current window, the past ones, and since when the past is known. */
export interface SpikeInput<Current extends CurrentWindow, Past extends WindowCount> {
  current: Current;
  /** Past windows in any order; those outside the baseline period are ignored. */
  history: Past[];
  /**
   * From when the counts are complete (the scope's first scrape, the rule's creation): windows before it are
   * unknown rather than empty, so they are not part of the baseline, and too little known past means no alert.
   */
  historyStart: number;
}

import type { Executor } from "../contracts/index.js";

/** Worker pools are replaced once reloads pause this long, or after this many reloads. */
const RECYCLE_QUIET_MS = 1000;
const RECYCLE_AFTER_RELOADS = 20;

/**
 * Workers cache every module they import: after a reload that replaced a thread job's
 * module, new runs go to fresh workers and old ones close once their runs end. Not
 * awaited: a long run must not hold up this reload or the next.
 */
export class ThreadRecycler {
  /** A replacement of the worker pools waiting for reloads to pause. */
  private timer: NodeJS.Timeout | undefined;
  private reloadsSinceRecycle = 0;
  private stopped = false;

  constructor(private readonly thread: Executor & { recycle?: () => Promise<void> }) {}

  afterReload(): void {
    // Not at once: until the pool is replaced, its workers import the new module on their
    // next run (~15 ms) instead of that run waiting for a new worker to boot (~50 ms). The
    // pool is replaced once reloads pause for a second (a formatter or a branch switch gets
    // one new pool, not one per file), or after 20 reloads without a pause, which bounds
    // the stale modules a worker can hold.
    clearTimeout(this.timer);
    // A reload still finishing while the runner stops: its pools are being closed anyway.
    if (this.stopped) return;
    if (++this.reloadsSinceRecycle >= RECYCLE_AFTER_RELOADS) this.recycleNow();
    else this.timer = setTimeout(() => this.recycleNow(), RECYCLE_QUIET_MS).unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private recycleNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.reloadsSinceRecycle = 0;
    void this.thread.recycle?.();
  }
}

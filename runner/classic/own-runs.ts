import type { RunRecord } from "../contracts/index.js";
import type { RunCore } from "../core/run-core.js";
import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";

/**
 * The runs in flight of one class-job runtime, on a core it shares with a runner: what
 * `inFlight` counts and what the runtime's `stop()` waits for (the runner's runs go on).
 */
export class OwnRuns {
  private readonly running = new Set<string>();
  private idle: (() => void) | null = null;

  constructor(private readonly core: RunCore) {}

  get size(): number {
    return this.running.size;
  }

  track(record: RunRecord): void {
    if (record.status === "running") this.running.add(record.runId);
    else if (this.running.delete(record.runId) && this.running.size === 0) this.idle?.();
  }

  /** Waits up to `graceMs` for the runs to end, then aborts the rest and waits for them. */
  async drain(graceMs: number, reason: string, logger: Logger): Promise<void> {
    if (this.running.size === 0) return;
    const ended = new Promise<void>((resolve) => (this.idle = resolve));
    let timer: unknown;
    const timedOut = new Promise<false>((resolve) => {
      timer = this.core.clock.setTimeout(() => resolve(false), graceMs);
    });
    const finished = await Promise.race([ended.then(() => true), timedOut]);
    this.core.clock.clearTimeout(timer);
    if (finished) return;
    logger.warn({ inFlight: this.running.size }, "shutdown grace period over: aborting class-job runs still in flight");
    for (const runId of this.running) this.core.dispatcher.abortRun(runId, new RunletError("JOB_CANCELLED", reason));
    await ended;
  }
}

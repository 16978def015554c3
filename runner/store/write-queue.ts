import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { StoredRun } from "./run-store.js";

export type JobStatePatch = { lastFireAt?: Date; paused?: boolean };

/** What one flush writes: the newest version of each run queued, and merged state patches. */
export interface WriteBatch {
  runs: StoredRun[];
  states: Map<string, JobStatePatch>;
}

export interface WriteQueueOptions {
  /** Writes a whole batch atomically (one transaction), or throws and writes nothing. */
  write: (batch: WriteBatch) => void | Promise<void>;
  logger: Logger;
  /** Names the store in log lines and errors, e.g. its file. */
  target: string;
  /** First retry delay after a failed write; doubles per failure up to 30 s. @default 1000 */
  retryMs?: number;
}

const MAX_RETRY_MS = 30_000;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Queues and batches the writes of a store, off the caller's path. Everything queued
 * within one turn of the event loop is written by one `write` call (setImmediate).
 * A run queued twice before a flush (started, then ended) is written once, in its last
 * version. A failed write loses nothing: the batch goes back into the queue, a warning is
 * logged, and the queue retries on a timer with backoff; while failing, new writes only
 * queue, so a locked or full store never costs the caller a wait per record.
 */
export class WriteQueue {
  private runs = new Map<string, StoredRun>();
  private states = new Map<string, JobStatePatch>();
  /** Settles when the items queued since the last flush began are durable. */
  private next: Deferred | null = null;
  /** Waiters of batches that failed: settled with the batch that finally writes them. */
  private carried: Deferred[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private failures = 0;
  private closed = false;
  private readonly retryMs: number;

  constructor(private readonly options: WriteQueueOptions) {
    this.retryMs = options.retryMs ?? 1000;
  }

  /** Queues a run; resolves once it is durable. */
  addRun(run: StoredRun): Promise<void> {
    if (this.closed) return this.refuse(`run ${run.runId} of job ${run.job}`);
    this.runs.set(run.runId, run);
    return this.queued();
  }

  /** Queues a state change of a job, merged with any not yet written. */
  addState(job: string, patch: JobStatePatch): Promise<void> {
    if (this.closed) return this.refuse(`the state of job ${job}`);
    this.states.set(job, { ...this.states.get(job), ...patch });
    return this.queued();
  }

  /** State changes of `job` not yet durable, so a read can still see them. */
  pendingState(job: string): JobStatePatch | undefined {
    return this.states.get(job);
  }

  get size(): number {
    return this.runs.size + this.states.size;
  }

  /** True between a failed write and the next successful one. */
  get failing(): boolean {
    return this.failures > 0;
  }

  /**
   * The store answered something else (a claim, a heartbeat): whatever is waiting on its
   * backoff timer is written now, and the backoff starts over. Without this, records
   * queued during a long outage waited out a 16 s step after the database was back, and
   * meanwhile leases lapsed and `overlap: skip` saw runs long finished as still running.
   */
  retryNow(): void {
    if (!this.failing || this.closed || this.inFlight) return;
    this.failures = 1;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!this.scheduled) this.scheduled = setImmediate(() => void this.flushSoon());
  }

  /** Writes everything queued now; rejects with STORE_WRITE if that fails (it stays queued). */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined /* its failure is logged and its batch re-queued */);
    if (this.size === 0 && this.carried.length === 0) return;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const current = this.writeOnce();
    this.inFlight = current;
    try {
      await current;
    } finally {
      if (this.inFlight === current) this.inFlight = null;
    }
  }

  /** Before a read: writes what is queued unless the store is failing; never rejects. */
  async settle(): Promise<void> {
    if (this.failing || (this.size === 0 && !this.inFlight)) return;
    await this.flush().catch(() => undefined /* logged by writeOnce; the read serves what is durable */);
  }

  /** A last flush; what cannot be written is reported (rejected waiters, STORE_WRITE). */
  async close(): Promise<void> {
    if (this.closed) return;
    // From here on writes are refused (and logged), so none can slip in behind the last flush.
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    try {
      await this.flush();
    } catch (err) {
      const lost = this.size;
      const reason = (((err as Error).cause as Error | undefined) ?? (err as Error)).message;
      const error = new RunletError("STORE_WRITE", `${lost} run history writes to ${this.options.target} were lost at close: ${reason}`, { cause: err });
      for (const waiter of [...this.carried, ...(this.next ? [this.next] : [])]) waiter.reject(error);
      this.options.logger.error({ err: error, lost }, error.message);
      throw error;
    }
  }

  private queued(): Promise<void> {
    if (!this.next) this.next = deferred();
    if (!this.scheduled && !this.inFlight && !this.failing) this.scheduled = setImmediate(() => void this.flushSoon());
    return this.next.promise;
  }

  private async flushSoon(): Promise<void> {
    this.scheduled = null;
    await this.flush().catch(() => undefined /* logged by writeOnce, retried by its timer */);
    // Records that arrived while the write was in flight get their own turn.
    if (this.size > 0 && !this.failing && !this.scheduled) this.scheduled = setImmediate(() => void this.flushSoon());
  }

  private async writeOnce(): Promise<void> {
    const runs = this.runs;
    const states = this.states;
    const waiters = this.next ? [...this.carried, this.next] : this.carried;
    this.runs = new Map();
    this.states = new Map();
    this.next = null;
    this.carried = [];
    try {
      await this.options.write({ runs: [...runs.values()], states });
    } catch (err) {
      this.requeue(runs, states, waiters);
      this.failures++;
      const retryInMs = Math.min(this.retryMs * 2 ** (this.failures - 1), MAX_RETRY_MS);
      this.options.logger.warn({ err, pending: this.size, retryInMs }, `cannot write run history to ${this.options.target}; keeping ${this.size} writes in memory and retrying in ${retryInMs}ms`);
      if (!this.closed && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.flushSoon();
        }, retryInMs);
        // A failing store must not keep a finished process alive; close() makes the last attempt.
        this.retryTimer.unref();
      }
      throw new RunletError("STORE_WRITE", `cannot write run history to ${this.options.target}: ${(err as Error).message}`, { cause: err });
    }
    if (this.failures > 0) this.options.logger.info({ written: runs.size + states.size }, `run history writes to ${this.options.target} resumed`);
    this.failures = 0;
    for (const waiter of waiters) waiter.resolve();
  }

  /** Puts a failed batch back in front of whatever was queued meanwhile (newer versions win). */
  private requeue(runs: Map<string, StoredRun>, states: Map<string, JobStatePatch>, waiters: Deferred[]): void {
    // A run already in the failed batch keeps its place (its first insert order); new ones follow.
    for (const [runId, run] of this.runs) runs.set(runId, run);
    for (const [job, patch] of this.states) states.set(job, { ...states.get(job), ...patch });
    this.runs = runs;
    this.states = states;
    this.carried = waiters;
  }

  private refuse(what: string): Promise<void> {
    const error = new RunletError("STORE_WRITE", `${what} arrived after the run store ${this.options.target} was closed; it is not recorded`);
    this.options.logger.warn({ err: error }, error.message);
    return handled(Promise.reject(error));
  }
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = handled(new Promise<void>((res, rej) => ((resolve = res), (reject = rej))));
  return { promise, resolve, reject };
}

/**
 * Callers may fire and forget `record()`; a rejection they never look at must not crash
 * the process (unhandled rejection), and it is logged here already. Whoever awaits the
 * promise still sees the rejection.
 */
export function handled(promise: Promise<void>): Promise<void> {
  promise.catch(() => undefined);
  return promise;
}

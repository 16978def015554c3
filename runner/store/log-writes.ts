import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { RunLogs } from "../contracts/index.js";
import { handled } from "./write-queue.js";

export interface LogWritesOptions {
  /** Writes the kept logs of several runs at once (one transaction), or throws and writes nothing. */
  write: (batch: RunLogs[]) => void | Promise<void>;
  /** Awaited before each write: the store's records of the same runs are written first (a log joins its run's row). */
  before?: () => Promise<void>;
  logger: Logger;
  /** Names the store in log lines and errors. */
  target: string;
  /** First retry delay after a failed write; doubles per failure up to 30 s. @default 1000 */
  retryMs?: number;
  /** Runs whose logs wait while the store is failing; beyond it the oldest are given up (and said so). @default 10000 */
  maxQueued?: number;
}

/**
 * Queues the log writes of a store off the dispatch path, as the store's WriteQueue does
 * its records: all the logs handed over in one turn of the event loop (the runs a fire
 * ended) are written together, after the records queued in that turn. A run handed over
 * twice before a write (its log so far, then its whole log) is written once, last version.
 * A failed write is kept and retried; a store that stays down costs memory only up to
 * `maxQueued` runs, the oldest dropped first: the lines are also on stderr.
 */
export class LogWrites {
  private queued = new Map<string, RunLogs>();
  /** The batch being written: still readable from here until it is durable. */
  private writing = new Map<string, RunLogs>();
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  /** Settles when what was queued since the last write began is durable. */
  private next: Promise<void> | null = null;
  private scheduled: NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private failures = 0;
  private closed = false;

  constructor(private readonly options: LogWritesOptions) {}

  add(logs: RunLogs): Promise<void> {
    if (this.closed) {
      return handled(Promise.reject(new RunletError("STORE_WRITE", `the log of run ${logs.runId} arrived after the run store ${this.options.target} was closed; it is not kept`)));
    }
    this.queued.delete(logs.runId); // re-inserted last: newest versions write last
    this.queued.set(logs.runId, logs);
    const max = this.options.maxQueued ?? 10_000;
    if (this.queued.size > max) {
      const oldest = this.queued.keys().next().value as string;
      this.queued.delete(oldest);
      this.options.logger.warn({ runId: oldest }, `the run store ${this.options.target} is failing: the kept log of run ${oldest} is given up (more than ${max} runs wait)`);
    }
    // One promise for everything queued until the next write (a fire ends a thousand runs at once).
    this.next ??= deferred(this.waiters);
    const done = this.next;
    if (!this.scheduled && !this.inFlight && this.failures === 0) this.scheduled = setImmediate(() => void this.flush().catch(() => undefined));
    return done;
  }

  /** A run's logs not yet durable (queued or being written), so a read can still see them. */
  pending(runId: string): RunLogs | undefined {
    return this.queued.get(runId) ?? this.writing.get(runId);
  }

  get size(): number {
    return this.queued.size;
  }

  /** Before a read: writes what is queued unless the store is failing; never rejects. */
  async settle(): Promise<void> {
    if (this.failures > 0 || (this.queued.size === 0 && !this.inFlight)) return;
    await this.flush().catch(() => undefined /* logged by writeOnce; the read serves what is durable */);
  }

  /** Writes what is queued now; rejects with STORE_WRITE if that fails (it stays queued). */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    if (this.queued.size === 0) return;
    const current = this.writeOnce();
    this.inFlight = current;
    try {
      await current;
    } finally {
      this.inFlight = null;
    }
    if (this.queued.size > 0 && this.failures === 0) this.scheduled = setImmediate(() => void this.flush().catch(() => undefined));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    try {
      await this.flush();
    } catch (err) {
      for (const waiter of this.waiters) waiter.reject(err);
      this.options.logger.error({ err, lost: this.queued.size }, `the kept logs of ${this.queued.size} runs could not be written to ${this.options.target} at close`);
      throw err;
    }
  }

  private async writeOnce(): Promise<void> {
    const batch = this.queued;
    const waiters = this.waiters;
    this.queued = new Map();
    this.waiters = [];
    this.next = null;
    this.writing = batch;
    try {
      await this.options.before?.();
      await this.options.write([...batch.values()]);
    } catch (err) {
      this.writing = new Map();
      for (const [runId, logs] of this.queued) batch.set(runId, logs);
      this.queued = batch;
      this.waiters = [...waiters, ...this.waiters];
      this.failures++;
      const retryInMs = Math.min((this.options.retryMs ?? 1000) * 2 ** (this.failures - 1), 30_000);
      this.options.logger.warn({ err, pending: batch.size, retryInMs }, `cannot write run logs to ${this.options.target}; keeping them in memory and retrying in ${retryInMs}ms`);
      if (!this.closed && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.retry();
        }, retryInMs);
        this.retryTimer.unref();
      }
      throw new RunletError("STORE_WRITE", `cannot write run logs to ${this.options.target}: ${(err as Error).message}`, { cause: err });
    }
    this.writing = new Map();
    this.failures = 0;
    for (const waiter of waiters) waiter.resolve();
  }

  private async retry(): Promise<void> {
    await this.flush().catch(() => undefined /* logged; the next retry is armed */);
  }
}

function deferred(waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>): Promise<void> {
  return handled(new Promise<void>((resolve, reject) => waiters.push({ resolve, reject })));
}

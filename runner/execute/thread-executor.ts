import { checkOptions, SHARED_DEFAULTS, type Executor, type OptionRule, type RunRequest } from "../contracts/index.js";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { RunletError } from "../errors.js";
import { silentLogger, type Logger } from "../log/logger.js";
import { abortsOf, notStarted } from "./executor.js";
import { KillSwitch } from "./kill-switch.js";
import type { TaskOutcome, TaskPayload } from "./protocol.js";
import { serializeError } from "./serialize.js";
import { abortedWhileWaiting, closedError, isRetiredExit, lateError, outcomeError, rejectionError } from "./thread-errors.js";
import { createPoolEntry, handOn, waitForThread, WORKER_NICE, type PoolEntry } from "./thread-pool.js";
import { workerEntry, workerEntryExists } from "./worker-entry.js";

export interface ThreadExecutorOptions {
  /** Where failures outside any run are logged (an error thrown by a timer a handler left behind). @default silent */
  logger?: Logger;
  /** How long a run may go on after its signal aborted before its worker is terminated. @default 2000 */
  graceMs?: number;
  /** Threads per pool; there is one pool per distinct `memory` limit. @default os.availableParallelism() */
  maxThreads?: number;
  /** An idle worker ends after this long, so an idle pool holds no threads. Longer than a minute keeps every-minute jobs warm. @default 120000 */
  idleTimeoutMs?: number;
  /** How much lower the workers' CPU priority is than the main thread's (Linux nice, 0 to 19; 0: the same). @default WORKER_NICE (10) */
  workerNice?: number;
  /** The built worker entry. @default dist/workers/pool-worker.js (see worker-entry.ts) */
  workerFile?: URL;
}

const defaults = { graceMs: SHARED_DEFAULTS.abortGraceMs, idleTimeoutMs: 120_000 } as const satisfies Partial<ThreadExecutorOptions>;

const OPTION_RULES = {
  logger: "object",
  graceMs: "ms",
  maxThreads: "positive-int",
  idleTimeoutMs: "ms",
  workerNice: "nice",
  workerFile: "url",
} as const satisfies Record<keyof ThreadExecutorOptions, OptionRule>;

// Part of this module's exports before the pools had their own module.
export { WORKER_NICE } from "./thread-pool.js";

export interface ThreadStats {
  threads: number;
  queued: number;
  running: number;
}

/**
 * Runs handlers in worker threads of piscina pools. A run that ignores its aborted signal
 * is terminated after `graceMs` (its worker is replaced; nothing else is disturbed).
 */
export class ThreadExecutor implements Executor {
  private readonly logger: Logger;
  private readonly graceMs: number;
  private maxThreads: number;
  private readonly idleTimeoutMs: number;
  private readonly workerNice: number;
  private readonly workerFile: URL;
  private workerFileChecked = false;
  /** Pools new runs go to, by heap limit ("default" for none). */
  private readonly pools = new Map<string, PoolEntry>();
  /** Pools replaced by recycle(), waiting for their runs to end. */
  private readonly retiring = new Set<PoolEntry>();
  private inFlight = 0;
  private lastKey = 0;
  private closed = false;

  constructor(options: ThreadExecutorOptions = {}) {
    checkOptions("ThreadExecutorOptions", options, OPTION_RULES);
    this.logger = options.logger ?? silentLogger();
    this.graceMs = options.graceMs ?? defaults.graceMs;
    this.maxThreads = options.maxThreads ?? availableParallelism();
    this.idleTimeoutMs = options.idleTimeoutMs ?? defaults.idleTimeoutMs;
    this.workerNice = options.workerNice ?? WORKER_NICE;
    this.workerFile = options.workerFile ?? workerEntry();
  }

  async run(req: RunRequest): Promise<unknown> {
    if (this.closed) throw closedError(req.job);
    const aborts = abortsOf(req);
    if (aborts.aborted) throw notStarted(req);
    const entry = this.poolFor(req.memoryMb);
    entry.inFlight++;
    this.inFlight++;
    try {
      if (entry.handed < this.maxThreads) entry.handed++;
      else {
        await waitForThread(entry, req.job, aborts);
        // Handed a thread, resumed a moment later: an abort or close() in between still counts.
        if (this.closed || aborts.aborted) {
          handOn(entry);
          throw this.closed ? closedError(req.job) : abortedWhileWaiting(req.job, aborts.reason);
        }
        const late = req.lateAfter == null ? null : lateError(req, Date.now());
        if (late) {
          handOn(entry);
          throw late;
        }
      }
    } catch (err) {
      this.release(entry);
      throw err;
    }
    const key = ++this.lastKey;
    entry.links.begin(key, req);
    // piscina terminates the worker when this fires: only once the grace period is over.
    const kill = new KillSwitch();
    let grace: NodeJS.Timeout | undefined;
    const onAbort = () => {
      entry.links.abort(key, serializeError(aborts.reason));
      // A run whose lease was lost may already run in another replica: no grace, terminate now.
      const graceMs = (aborts.reason as { code?: unknown } | undefined)?.code === "LEASE_LOST" ? 0 : this.graceMs;
      grace = setTimeout(() => kill.fire(aborts.reason), graceMs);
    };
    aborts.subscribe(onAbort);
    const task: TaskPayload = {
      key,
      modulePath: req.modulePath,
      job: req.job,
      runId: req.runId,
      fireDate: req.fireDate.getTime(),
      attempt: req.attempt,
      params: req.params,
      env: req.env,
      trigger: req.trigger,
      logLevel: req.log.levelVal,
      memoryMb: req.memoryMb,
    };
    let outcome: TaskOutcome;
    try {
      // Awaited here, not in a helper: that cost every run a promise and a turn more.
      try {
        outcome = await entry.pool.run(task, { signal: kill });
      } catch (err) {
        outcome = await this.handOver(entry, task, kill, err);
      }
    } catch (err) {
      entry.links.settleLost(key);
      this.wakeIfStalled(entry);
      throw rejectionError(err, {
        job: req.job,
        terminated: kill.aborted,
        abortReason: aborts.reason,
        graceMs: this.graceMs,
        memoryMb: req.memoryMb,
        closed: this.closed,
      });
    } finally {
      clearTimeout(grace);
      aborts.unsubscribe(onAbort);
      handOn(entry);
      this.release(entry);
    }
    const delivering = entry.links.settle(key, outcome.thread, outcome.logged);
    if (delivering) await delivering;
    req.handlerStarted?.(outcome.startedAt);
    if (outcome.ok) return outcome.value;
    throw outcomeError(outcome);
  }

  /**
   * Runs the task on another worker of the pool after its first try failed with `first`. A
   * retiring worker (see workers/main-link.ts) ends before it starts the task; piscina
   * rejects it with RETIRED_EXIT_CODE, and it is handed to the pool again (which starts a
   * fresh worker), a bounded number of times.
   */
  private async handOver(entry: PoolEntry, task: TaskPayload, kill: KillSwitch, first: unknown): Promise<TaskOutcome> {
    let err = first;
    for (let tries = 1; ; tries++) {
      if (tries >= MAX_HAND_OVERS || kill.aborted || this.closed || !isRetiredExit(err)) throw err;
      try {
        return await entry.pool.run(task, { signal: kill });
      } catch (next) {
        err = next;
      }
    }
  }

  /**
   * New runs go to fresh pools; runs in flight finish on the old ones, which are then closed.
   * Workers keep every module they ever imported: recycling after a reload is what frees them.
   * The swap happens at once; the promise resolves when every old pool is closed, i.e. after
   * its last run ends, which may be long: a reload need not await it. It never rejects.
   */
  async recycle(): Promise<void> {
    const old = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(old.map((entry) => this.retire(entry)));
  }

  /**
   * Sizes the pools to `maxThreads` (the manifest's `threads`): new runs go to new pools of
   * that size, runs in flight finish on the old ones (as after recycle()).
   */
  resize(maxThreads: number): void {
    if (maxThreads === this.maxThreads) return;
    this.maxThreads = maxThreads;
    void this.recycle();
  }

  stats(): ThreadStats {
    let threads = 0;
    let queued = 0;
    for (const { pool, waiting } of this.allPools()) {
      threads += pool.threads.length;
      queued += waiting.size + pool.queueSize;
    }
    return { threads, queued, running: Math.max(0, this.inFlight - queued) };
  }

  /** Ends every worker now; runs still in flight reject with JOB_CANCELLED. Drain runs first. */
  async close(): Promise<void> {
    this.closed = true;
    const all = this.allPools();
    this.pools.clear();
    for (const entry of all) {
      for (const waiter of entry.waiting.drain()) waiter.drop();
    }
    await Promise.all(all.map((entry) => entry.pool.destroy()));
  }

  private allPools(): PoolEntry[] {
    return [...this.pools.values(), ...this.retiring];
  }

  private poolFor(memoryMb: number | null): PoolEntry {
    const key = memoryMb === null ? "default" : String(memoryMb);
    const existing = this.pools.get(key);
    if (existing) return existing;
    if (!this.workerFileChecked) {
      if (!workerEntryExists(this.workerFile)) {
        throw new RunletError(
          "JOB_FAILED",
          `the worker entry ${fileURLToPath(this.workerFile)} does not exist; thread-mode runs need the build: run \`npm run build\` (node scripts/build.mjs)`,
        );
      }
      this.workerFileChecked = true;
    }
    const entry = createPoolEntry({
      workerFile: this.workerFile,
      maxThreads: this.maxThreads,
      idleTimeoutMs: this.idleTimeoutMs,
      memoryMb,
      nice: this.workerNice,
      logger: this.logger,
      onWorkerGone: (created) => this.wakeIfStalled(created),
    });
    this.pools.set(key, entry);
    return entry;
  }

  /** The worker of a failed run may be gone: make sure runs waiting behind it get one (see pool-worker.ts `wake`). */
  private wakeIfStalled(entry: PoolEntry): void {
    const { pool } = entry;
    if (this.closed || pool.queueSize === 0 || pool.threads.length >= this.maxThreads) return;
    pool.run(null as unknown as TaskPayload, { name: "wake" }).catch((err: unknown) => {
      this.logger.error({ err }, "starting a replacement worker thread failed");
    });
  }

  private release(entry: PoolEntry): void {
    entry.inFlight--;
    this.inFlight--;
    if (entry.inFlight === 0) entry.onIdle?.();
  }

  private async retire(entry: PoolEntry): Promise<void> {
    this.retiring.add(entry);
    if (entry.inFlight > 0) await new Promise<void>((resolve) => (entry.onIdle = resolve));
    try {
      // No run is left, so destroy() ends the idle workers at once. Not close(): piscina
      // 5.3.2 races it against an uncancelled 30 s timer that holds the whole pool, so
      // 1,000 reloads in a minute kept ~500 dead pools alive (+11 MB heap, +40-60% RSS).
      await entry.pool.destroy();
    } catch (err) {
      // Callers may fire and forget recycle(): a failure to close is logged, never thrown at them.
      this.logger.error({ err }, "closing a recycled worker pool failed");
    } finally {
      this.retiring.delete(entry);
    }
  }
}

/** How many times a task is handed to the pool again when a retiring worker did not start it. */
const MAX_HAND_OVERS = 8;

// One piscina pool per heap limit and the in-order queue of runs waiting for its threads.
import type { AbortSource } from "../contracts/index.js";
import { Piscina } from "piscina";
import type { Logger } from "../log/logger.js";
import type { TaskOutcome, TaskPayload } from "./protocol.js";
import { abortedWhileWaiting, closedError } from "./thread-errors.js";
import { WaitQueue, type Queueable } from "./wait-queue.js";
import { WorkerLinks } from "./worker-links.js";

/**
 * How much lower than the runner's main thread a worker thread's CPU priority is by default
 * (Linux nice; piscina's niceIncrement). What it buys and costs: docs/failures.md.
 */
export const WORKER_NICE = 10;

/** One piscina pool: resourceLimits are per pool, so there is one per heap limit. */
export interface PoolEntry {
  pool: Piscina<TaskPayload, TaskOutcome>;
  links: WorkerLinks;
  /** Runs of this pool not yet settled: waiting for a thread, or handed to piscina. */
  inFlight: number;
  /** Runs handed to piscina: at most maxThreads, one per thread. */
  handed: number;
  /** Runs waiting for a thread, in the order they came. */
  waiting: WaitQueue<Waiter>;
  /** Set while the pool is retiring: called when its last run ends. */
  onIdle: (() => void) | null;
}

/** A run waiting for a thread: `go` hands it one; `drop` rejects it unstarted (the executor closed). */
export interface Waiter extends Queueable {
  go(): void;
  drop(): void;
}

/** What a new pool is made of (the executor's settings at the time). */
export interface PoolSettings {
  workerFile: URL;
  maxThreads: number;
  idleTimeoutMs: number;
  memoryMb: number | null;
  /** The workers' nice increment. */
  nice: number;
  logger: Logger;
  /** Called when a worker of the pool ends or fails outside any run (see ThreadExecutor.wakeIfStalled). */
  onWorkerGone: (entry: PoolEntry) => void;
}

/** A new pool, with the listeners that keep a failing worker from crashing the process or stalling runs. */
export function createPoolEntry({ workerFile, maxThreads, idleTimeoutMs, memoryMb, nice, logger, onWorkerGone }: PoolSettings): PoolEntry {
  const pool = new Piscina<TaskPayload, TaskOutcome>({
    filename: workerFile.href,
    // 'async': timers a handler leaves behind still run while the worker idles, and an
    // error they throw is reported on the pool instead of failing the next, unrelated run.
    atomics: "async",
    minThreads: 0,
    maxThreads,
    idleTimeout: idleTimeoutMs,
    recordTiming: false,
    // Handlers yield the CPU to the main thread, which starts every run: on a machine whose
    // cores the workers keep busy, an inline job's start would otherwise wait behind them.
    niceIncrement: nice,
    ...(memoryMb === null ? {} : { resourceLimits: { maxOldGenerationSizeMb: memoryMb } }),
  });
  const entry: PoolEntry = { pool, links: new WorkerLinks(pool, logger), inFlight: 0, handed: 0, waiting: new WaitQueue(), onIdle: null };
  // A worker that retired (or died) while runs wait in piscina's queue leaves them there.
  pool.on("workerDestroy", () => onWorkerGone(entry));
  // Without a listener, a worker failing outside any run (e.g. while it starts) crashes the process.
  pool.on("error", (err: unknown) => {
    logger.error({ err, memoryMb }, "a worker thread failed outside any run; it was replaced");
    onWorkerGone(entry);
  });
  return entry;
}

/**
 * Waits until a run of the pool ends and hands its thread on (see handOn). Runs wait here,
 * in order, rather than in piscina's queue: piscina hands a freed worker one queued run
 * and moves the next it cannot place to the back of its queue, so queued runs started out
 * of order (half of 5,000 queued at once, test/bench/thread-queue.mjs), and each such try
 * cost the main thread a few µs per run. piscina 5.3.2's `stricterFIFO` puts that run back
 * at the front instead, but a task with an abort signal (every run's, see KillSwitch) is
 * returned to a second queue, front first as well, so a burst starts in reverse order
 * (99.9%); a pluggable `taskQueue` does not hold those tasks at all. This queue also lets
 * a run that waited past its lateness, or was aborted meanwhile, end without reaching a
 * worker.
 */
export function waitForThread(entry: PoolEntry, job: string, aborts: AbortSource): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const waiter: Waiter = {
      go: () => {
        aborts.unsubscribe(onAbort);
        resolve();
      },
      drop: () => {
        aborts.unsubscribe(onAbort);
        reject(closedError(job));
      },
    };
    const onAbort = () => {
      entry.waiting.remove(waiter);
      reject(abortedWhileWaiting(job, aborts.reason));
    };
    aborts.subscribe(onAbort);
    entry.waiting.push(waiter);
  });
}

/** A run of the pool ended: its thread goes to the first run waiting, if any. */
export function handOn(entry: PoolEntry): void {
  const next = entry.waiting.shift();
  if (next) next.go();
  else entry.handed--;
}

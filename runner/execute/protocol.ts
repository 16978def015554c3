/**
 * What the main thread and a pool worker (workers/pool-worker.ts) say to each other, in one
 * place.
 *
 * - A run is one piscina task: the main thread posts a {@link TaskPayload}, the worker
 *   answers with a {@link TaskOutcome}.
 * - Each worker, as it loads (before piscina reports it ready, so before its first task),
 *   sends the main thread a {@link WorkerHello} carrying the MessagePort it keeps for its
 *   life. On that port the main thread sends {@link ControlMessage}s (abort, naming the run by
 *   `key`) and the worker sends {@link WorkerMessage}s (log lines of a run, in batches;
 *   errors left behind by runs that have answered; that it is retiring).
 *
 * A port per worker rather than per run: creating a MessageChannel costs ~12 µs here, more
 * than half of piscina's own per-task cost.
 *
 * Everything here crosses a thread boundary by structured clone: plain data only (and the
 * hello's port, which is transferred).
 */
import type { MessagePort } from "node:worker_threads";
import type { JobTrigger } from "../context.js";

/** pino's level names, in pino's numeric order (trace 10 ... fatal 60). */
export const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

/** One run, main -> worker. */
export interface TaskPayload {
  /** Names the run on the worker's port; unique per executor (a runId repeats across attempts). */
  key: number;
  /** Absolute path of the compiled handler module (an .mjs/.js ESM file). */
  modulePath: string;
  job: string;
  runId: string;
  /** The fire's scheduled time, epoch milliseconds. */
  fireDate: number;
  attempt: number;
  params: unknown;
  env: string;
  /** `ctx.trigger`. */
  trigger: JobTrigger;
  /** The main logger's numeric level: the worker drops lines below it without posting them. */
  logLevel: number;
  /**
   * The job's `memory` limit (its pool's heap limit), null for none. Sent with the task: a
   * worker's own resourceLimits always hold a heap limit (V8's default when none was set),
   * which made every run of an unlimited pool pay for the memory checks.
   */
  memoryMb: number | null;
}

/** An Error flattened to what survives structured cloning with nothing lost. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** `err.code` when it is a string or a number (Node's and runlet's errors have one). */
  code?: string | number;
  cause?: SerializedError;
}

/** Largest result JSON, in bytes, a worker sends whole; a bigger result is cut in the worker (json-budget.ts). As the store keeps. */
export const RESULT_MAX_BYTES = 64 * 1024;

/**
 * Log lines of one run a worker sends while the run goes on, and again of its last lines
 * when it ends; the lines between are dropped and counted (workers/log-tail.ts).
 */
export const LOG_LINES_PER_RUN = 1000;
/** The same bound in bytes of log lines (message and fields, as JSON), each way. */
export const LOG_BYTES_PER_RUN = 256 * 1024;

/**
 * The exit code of a worker that ends itself because it must not run more tasks (see
 * workers/main-link.ts `retire`). Handlers cannot exit with it: their process.exit is
 * caught. A task rejected with it never started, so it is handed to the pool again.
 */
export const RETIRED_EXIT_CODE = 86;

/** The answer to a task, worker -> main. A handler's failure is an outcome, not a rejection. */
export type TaskOutcome = {
  /** The worker's threadId: a stray error its code raises later comes from that worker (worker-links.ts). */
  thread: number;
  /**
   * Whether the run posted log lines on its worker's port: the answer and the lines travel
   * apart, so the main thread reads that port before it settles the run. False for most
   * runs: nothing to read.
   */
  logged: boolean;
  /** When the handler was called (epoch ms, read before the handler could touch the clock). */
  startedAt: number;
} & (
  | { ok: true; value: unknown }
  | {
      ok: false;
      code: "JOB_FAILED" | "JOB_CANCELLED" | "JOB_EXITED" | "JOB_OUT_OF_MEMORY" | "HANDLER_NO_DEFAULT" | "RESULT_NOT_CLONEABLE";
      error: SerializedError;
    }
);

/** worker -> main, once, on the worker's parentPort (piscina emits it as the pool's 'message'). */
export interface WorkerHello {
  type: "runlet:hello";
  threadId: number;
  port: MessagePort;
}

/** main -> worker, on the worker's port. */
export type ControlMessage = {
  type: "abort";
  key: number;
  /** Why: the main side's `signal.reason` (e.g. a JOB_TIMEOUT error), flattened. */
  reason: SerializedError;
};

/** A line a handler logged through ctx.log. */
export interface LogLine {
  level: LogLevel;
  /** pino's merging object (Errors in it packed, see serialize.ts), absent for `log.info("msg")`. */
  obj?: unknown;
  msg?: string;
}

/** worker -> main, on the worker's port: log lines of a run, several at a time. */
export interface LogBatch {
  type: "logs";
  key: number;
  lines: LogLine[];
  /** Lines of the run dropped so far for going over its bounds (LOG_LINES_PER_RUN, LOG_BYTES_PER_RUN). */
  dropped: number;
  /** The run's last batch, posted before its answer: once it arrives, every line of the run has. */
  last?: true;
}

/**
 * worker -> main, on the worker's port: an uncaught error or unhandled rejection that no
 * run in flight can be failed with: raised by the code of a run that has answered (`key`,
 * `job` and `runId` name it, from its async context), or with no run's context at all.
 */
export interface StrayErrorMessage {
  type: "stray";
  error: SerializedError;
  key?: number;
  job?: string;
  runId?: string;
}

/** worker -> main, on the worker's port: the worker will run no more tasks and is ending, and why. */
export interface RetireMessage {
  type: "retire";
  reason: string;
  /** The job whose run left the worker unfit, when one did. */
  job?: string;
}

export type WorkerMessage = LogBatch | StrayErrorMessage | RetireMessage;

export function isWorkerHello(message: unknown): message is WorkerHello {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === "runlet:hello";
}

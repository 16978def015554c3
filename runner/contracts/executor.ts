import type { JobTrigger } from "../context.js";
import type { RunLogger } from "./run-logs.js";

/** One attempt of a handler, as the dispatcher asks for it. */
export interface RunRequest {
  job: string;
  runId: string;
  /** Absolute path of the compiled handler module (ESM, default-exported function). */
  modulePath: string;
  fireDate: Date;
  attempt: number;
  params: unknown;
  env: string;
  /** What started the run: `ctx.trigger`. */
  trigger: JobTrigger;
  /** Aborts the run cooperatively (timeout, replace, shutdown); a thread run is terminated after a grace period. */
  readonly signal: AbortSignal;
  /**
   * The same abort, heard without touching `signal` (the dispatcher makes its signal only
   * when read; see run-abort.ts). Callers that only have a signal leave it out.
   */
  aborts?: AbortSource;
  /** Already bound to job and runId; ctx.log writes here in either mode (and, through it, to the run's kept log). */
  log: RunLogger;
  /** Heap limit of a thread run in MB; `null` = Node's default. Inline runs ignore it. */
  memoryMb: number | null;
  /**
   * An error the run's code raised after the run had settled (JOB_STRAY_ERROR): a timer or
   * promise its handler left behind. Callers that leave it out get it logged on `log`.
   */
  strayAfterEnd?(error: Error): void;
  /**
   * A thread run that waits for a thread until later than this (epoch ms) is not started:
   * it rejects with JOB_LATE. Null or absent: it waits as long as it must.
   */
  lateAfter?: number | null;
  /** Told when the handler really started (epoch ms), where that is later than the request (a thread run waits for a thread). */
  handlerStarted?(atMs: number): void;
}

/**
 * Runs one attempt of a handler and settles with its result (structured-cloned) or a
 * RunletError whose code says what happened: JOB_FAILED (the handler threw or rejected;
 * `cause` is its error, message and stack are its own), JOB_EXITED, JOB_OUT_OF_MEMORY,
 * JOB_CANCELLED, JOB_LATE, RESULT_NOT_CLONEABLE, HANDLER_NO_DEFAULT. An error the run's code raises
 * outside its promise chain while it runs fails it (JOB_FAILED); one raised after it
 * settled goes to `strayAfterEnd`.
 * Overlap, retries, timeouts and records are the dispatcher's.
 */
export interface Executor {
  run(req: RunRequest): Promise<unknown>;
  /** Imports a handler ahead of its first run, where that saves the run the wait; never throws. */
  preload?(modulePath: string): void;
  close(): Promise<void>;
}

/** Whether a run was aborted, why, and a way to hear of it: an AbortSignal's view, without needing one. */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** Calls `listener` once, when the abort happens (not if it already has). */
  subscribe(listener: () => void): void;
  unsubscribe(listener: () => void): void;
}

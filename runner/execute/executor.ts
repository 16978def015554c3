import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";

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
  /** Aborts the run cooperatively (timeout, replace, shutdown); a thread run is terminated after a grace period. */
  signal: AbortSignal;
  /** Already bound to job and runId; ctx.log writes here in either mode. */
  log: Logger;
  /** Heap limit of a thread run in MB; `null` = Node's default. Inline runs ignore it. */
  memoryMb: number | null;
}

/**
 * Runs one attempt of a handler and settles with its result (structured-cloned) or a
 * RunletError whose code says what happened: JOB_FAILED (the handler threw or rejected;
 * `cause` is its error, message and stack are its own), JOB_EXITED, JOB_OUT_OF_MEMORY,
 * JOB_CANCELLED, RESULT_NOT_CLONEABLE, HANDLER_NO_DEFAULT.
 * Overlap, retries, timeouts and records are the dispatcher's.
 */
export interface Executor {
  run(req: RunRequest): Promise<unknown>;
  close(): Promise<void>;
}

/** A run whose signal aborted before it started is not started at all (either mode). */
export function notStarted(req: RunRequest): RunletError {
  const reason = req.signal.reason instanceof Error ? req.signal.reason.message : String(req.signal.reason);
  return new RunletError("JOB_CANCELLED", `job "${req.job}" was not started: its signal had already aborted (${reason})`, { cause: req.signal.reason });
}

/**
 * Turns what comes back from a pool worker into runlet's errors: a handler's failure
 * returned by the worker (a TaskOutcome), or a rejection from piscina itself (the worker
 * died, ran out of memory, or was terminated after an abort).
 */
import { RunletError } from "../errors.js";
import type { RunRequest } from "../contracts/index.js";
import { RETIRED_EXIT_CODE, type TaskOutcome } from "./protocol.js";
import { deserializeError } from "./serialize.js";

/** The error a failed outcome stands for, with the handler's message and stack restored. */
export function outcomeError(outcome: Extract<TaskOutcome, { ok: false }>): RunletError {
  const { error } = outcome;
  const err = new RunletError(outcome.code, error.message, error.cause ? { cause: deserializeError(error.cause) } : undefined);
  if (error.stack !== undefined) err.stack = error.stack;
  return err;
}

export interface RejectionContext {
  job: string;
  /** The run was terminated by us after its signal aborted and the grace period ran out. */
  terminated: boolean;
  /** Why the run's signal aborted (the dispatcher's reason: timeout, replace, shutdown). */
  abortReason: unknown;
  graceMs: number;
  memoryMb: number | null;
  /** The executor was closed while the run was on a thread. */
  closed: boolean;
}

// piscina 5.3.2 reports a worker that called process.exit only by this message (no code).
const EXITED = /^worker exited with code: (-?\d+)$/;

/** The error a piscina rejection stands for. */
export function rejectionError(err: unknown, ctx: RejectionContext): RunletError {
  if (ctx.terminated) {
    return new RunletError(
      "JOB_CANCELLED",
      `job "${ctx.job}" was terminated: its signal aborted (${reasonText(ctx.abortReason)}) and it was still running ${ctx.graceMs}ms later`,
      { cause: ctx.abortReason },
    );
  }
  if (ctx.closed) {
    return new RunletError("JOB_CANCELLED", `job "${ctx.job}" was terminated: the thread executor was closed while it ran`, { cause: err });
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ERR_WORKER_OUT_OF_MEMORY") {
    const limit = ctx.memoryMb === null ? "Node's default heap limit" : `its heap limit of ${ctx.memoryMb} MB (memory: ${ctx.memoryMb})`;
    return new RunletError("JOB_OUT_OF_MEMORY", `job "${ctx.job}" ran out of memory: its worker thread reached ${limit}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  const exited = EXITED.exec(message);
  if (exited) {
    return new RunletError(
      "JOB_EXITED",
      `job "${ctx.job}" ended its worker thread with process.exit(${exited[1]}); a handler should return or throw instead`,
      { cause: err },
    );
  }
  // Anything else killed the worker mid-run, e.g. an error thrown from a timer of this handler.
  const out = new RunletError("JOB_FAILED", message, { cause: err });
  if (err instanceof Error && err.stack) out.stack = err.stack;
  return out;
}

/** A run whose signal aborted before a thread took it: it was not started. */
export function abortedWhileWaiting(job: string, reason: unknown): RunletError {
  return new RunletError("JOB_CANCELLED", `job "${job}" was not started: its signal aborted (${reasonText(reason)}) while it waited for a thread`, { cause: reason });
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (reason === undefined) return "no reason given";
  return String(reason);
}

/** Whether piscina rejected a task because its worker ended itself to retire (it never started the task). */
export function isRetiredExit(err: unknown): boolean {
  return err instanceof Error && err.message === `worker exited with code: ${RETIRED_EXIT_CODE}`;
}

/** JOB_LATE when a run that waited for a thread would start after its lateness limit. */
export function lateError(req: RunRequest, now: number): RunletError | null {
  if (req.lateAfter == null || now <= req.lateAfter) return null;
  const lateMs = now - req.fireDate.getTime();
  const limitMs = req.lateAfter - req.fireDate.getTime();
  return new RunletError("JOB_LATE", `job "${req.job}" waited for a worker thread until ${lateMs}ms after its scheduled time (lateness limit ${limitMs}ms); it was not started`);
}

/** A run refused because the thread executor is closed (before it started, or while it waited for a thread). */
export function closedError(job: string): RunletError {
  return new RunletError("JOB_CANCELLED", `job "${job}" was not started: the thread executor is closed`);
}

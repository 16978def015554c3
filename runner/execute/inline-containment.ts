/**
 * Keeps an inline handler's bugs inside its run. An inline handler shares the runner's
 * process: an error thrown from a timer it left behind, a promise it let reject, or a call
 * to process.exit would otherwise end the runner. The process-wide listeners installed
 * here tell whose code raised an error from its stack (inline-runs.ts):
 *
 * - during the run, the error fails that run;
 * - after the run ended, it is handed to the request's `strayAfterEnd` (the dispatcher
 *   marks the run failed);
 * - outside any run (runlet's own code, an error whose stack names no handler, or a file
 *   the handlers of several jobs share), it is left
 *   to the process's other listeners if it has some; else, in the runner's own process
 *   (the CLI, see {@link keepRunningOutsideRuns}) it is logged and the process goes on,
 *   and in a program that embeds runlet it ends the process as Node would;
 * - `process.exit` called from a run's code (a handler's frame on the caller's stack)
 *   throws JOB_EXITED at the caller instead of ending the process, and the run fails with
 *   it even if the handler catches it.
 *
 * Installed while at least one InlineExecutor is open.
 */
import { inspect } from "node:util";
import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { failed } from "./handler-module.js";
import { exitingRun, ownerOf } from "./inline-runs.js";

export { InlineRun } from "./inline-runs.js";

/** Loggers of the open executors (one entry per executor). */
const owners: Logger[] = [];
/** Set in the runner's own process: where errors outside any run are logged before it goes on. */
let outsideRuns: Logger | null = null;
const realExit = process.exit;

/**
 * For the process that is the runner (`runlet start`): an error raised outside any run is
 * logged on `logger` and the process goes on, where Node would end it.
 */
export function keepRunningOutsideRuns(logger: Logger): void {
  outsideRuns = logger;
}

/** Starts containing errors for an executor; returns the function that stops it. */
export function contain(logger: Logger): () => void {
  if (owners.length === 0) {
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUnhandledRejection);
    process.exit = guardedExit;
  }
  owners.push(logger);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    owners.splice(owners.indexOf(logger), 1);
    if (owners.length > 0) return;
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUnhandledRejection);
    process.exit = realExit;
  };
}

/** The error a run fails with when its code called process.exit. */
export function exitedError(job: string, code: number | string | undefined): RunletError {
  return new RunletError(
    "JOB_EXITED",
    `job "${job}" called process.exit(${code ?? ""}) in an inline run; it would have ended the runner, so the call failed instead: use \`mode: thread\` for a handler that must end its process`,
  );
}

function onUncaught(err: unknown): void {
  stray(err, "uncaughtException");
}

function onUnhandledRejection(reason: unknown): void {
  stray(reason, "unhandledRejection");
}

function stray(err: unknown, event: "uncaughtException" | "unhandledRejection"): void {
  const run = ownerOf(err);
  if (!run) {
    outside(err, event);
    return;
  }
  if (run.fail) {
    run.fail(failed(err));
    return;
  }
  const error = strayError(run.req.job, err);
  if (run.req.strayAfterEnd) run.req.strayAfterEnd(error);
  else run.req.log.error({ err: error }, "the run's code raised an error after the run ended");
}

function outside(err: unknown, event: "uncaughtException" | "unhandledRejection"): void {
  // Another listener (the embedding program's, a test runner's) takes it as it would without runlet.
  if (process.listenerCount(event) > 1) return;
  if (outsideRuns) {
    outsideRuns.error({ err }, `${event === "uncaughtException" ? "an uncaught exception" : "an unhandled rejection"} outside any run (not attributable to a job); the runner goes on`);
    return;
  }
  // What Node does with nobody listening: print it, exit 1.
  process.stderr.write(`${event === "uncaughtException" ? "Uncaught" : "Unhandled rejection:"} ${inspect(err)}\n`);
  realExit.call(process, 1);
}

/** JOB_STRAY_ERROR: an error a handler's leftover timer or promise raised after its run ended. */
export function strayError(job: string, err: unknown): RunletError {
  const cause = failed(err);
  const out = new RunletError(
    "JOB_STRAY_ERROR",
    `job "${job}" raised an error after its run ended (from a timer or promise its handler left behind): ${cause.message}`,
    { cause: err },
  );
  out.stack = cause.stack;
  return out;
}

function guardedExit(code?: number | string | null): never {
  const run = exitingRun();
  if (!run) return realExit.call(process, code);
  run.exitCode = code ?? 0;
  throw exitedError(run.req.job, code ?? undefined);
}

/**
 * The pool's worker entry: piscina calls the default export once per run, in a worker
 * thread. It imports the handler (cached for the worker's life: recycling the pool is what
 * frees old modules), builds the same context an inline run gets, and answers with a
 * TaskOutcome. A handler's failure is returned, not thrown, so its name, stack and code
 * cross the thread boundary intact.
 *
 * A worker serves one job's runs after another; before it starts a run of another job than
 * its last, it checks that the last one left the shared globals as they were (global-watch.ts).
 * If not, or if a run left a stray error, called process.exit or went over its memory
 * limit, the worker retires: it ends without starting another task (main-link.ts), and
 * the main thread hands that task to another worker.
 *
 * Built to dist/workers/pool-worker.js by scripts/build.mjs; runner/execute/thread-executor.ts
 * points piscina at that file.
 */
import { threadId } from "node:worker_threads";
import { RunletError } from "../runner/errors.js";
import { HandlerCache, callHandler, cloneResult, failed } from "../runner/execute/handler-module.js";
import { cutToFit } from "../runner/execute/json-budget.js";
import { RESULT_MAX_BYTES, type TaskOutcome, type TaskPayload } from "../runner/execute/protocol.js";
import { RunContext } from "../runner/execute/run-context.js";
import { serializeError } from "../runner/execute/serialize.js";
import { abortedWhileWaiting } from "../runner/execute/thread-errors.js";
import { GlobalWatch } from "./global-watch.js";
import { MainLink } from "./main-link.js";
import { MEMORY_CHECK_MS, overLimit } from "./memory-cap.js";
import type { RunState } from "./run-state.js";

// Handlers are compiled with source maps: make their stacks point at the .ts lines.
process.setSourceMapsEnabled(true);
const handlers = new HandlerCache();
// Made as the module loads, so the main thread has this worker's port before its first task.
const link = new MainLink();
// Last, so that the picture includes what runlet itself set up (process.exit, listeners).
const globals = new GlobalWatch();
/** The job of the last run this worker started. */
let lastJob: string | null = null;

type FailCode = Extract<TaskOutcome, { ok: false }>["code"];

export default function runTask(task: TaskPayload): Promise<TaskOutcome> {
  // Ending here, before the task starts, hands it back: piscina rejects it with
  // RETIRED_EXIT_CODE and the main thread gives it to another worker.
  if (link.retiring) link.exitNow();
  if (lastJob !== null && task.job !== lastJob) {
    const changed = globals.changed();
    if (changed !== null) {
      link.retire(`job "${lastJob}" changed the worker's globals (${changed}); the run of job "${task.job}" goes to a fresh worker`, lastJob);
      link.exitNow();
    }
  }
  lastJob = task.job;
  const run = link.start(task.key, task.job, task.runId, task.modulePath);
  return answer(task, run);
}

async function answer(task: TaskPayload, run: RunState): Promise<TaskOutcome> {
  let outcome: TaskOutcome;
  if (run.abortReason) {
    // Aborted while it waited for a thread: not started, as a run aborted before run() is not.
    const err = abortedWhileWaiting(task.job, run.abortReason.message);
    outcome = { thread: threadId, logged: false, startedAt: now(), ok: false, code: "JOB_CANCELLED", error: serializeError(err) };
  } else {
    outcome = await call(task, run);
  }
  link.end(run);
  outcome.logged = run.logged;
  return outcome;
}

async function call(task: TaskPayload, run: RunState): Promise<TaskOutcome> {
  const limitMb = task.memoryMb;
  const watchMemory = limitMb === null ? undefined : setInterval(() => checkMemory(task.job, limitMb, run), MEMORY_CHECK_MS);
  let startedAt = now();
  try {
    const handler = handlers.ready(task.modulePath) ?? (await handlers.load(task.modulePath));
    // Read before the handler is called, so a handler that changes the clock cannot change it.
    startedAt = now();
    const ctx = new RunContext(task.job, task.runId, new Date(task.fireDate), task.attempt, task.params, task.env, task.trigger, link.logger(run, task.logLevel), run);
    const value = await new Promise((resolve, reject) => {
      run.onUncaught = (err) => reject(err instanceof RunletError ? err : failed(err));
      callHandler(handler, ctx).then(resolve, reject);
    });
    run.onUncaught = null;
    if (limitMb !== null) {
      const over = overLimit(task.job, limitMb);
      if (over) throw retireFor(over, task.job);
    }
    if (run.exitCode !== undefined) throw exited(task.job, run.exitCode);
    // Cut here, before anything copies it: a 200 MB result never reaches the main thread.
    const kept = cutToFit(value, RESULT_MAX_BYTES);
    // Checked here rather than left to piscina's postMessage, whose failure would kill the worker.
    if (kept === value) cloneResult(task.job, value);
    return { thread: threadId, logged: false, startedAt, ok: true, value: kept };
  } catch (err) {
    run.onUncaught = null;
    const cause = run.exitCode !== undefined ? exited(task.job, run.exitCode) : err;
    return { thread: threadId, logged: false, startedAt, ok: false, code: codeOf(cause), error: serializeError(cause) };
  } finally {
    clearInterval(watchMemory);
  }
}

/** Date.now as the worker started: a handler of this worker may have replaced the global one. */
const wallClock = Date.now;

/** Epoch ms, on the main thread's clock. */
function now(): number {
  return wallClock();
}

/** Fails the run in flight, and retires the worker, once the worker holds more than the job's limit. */
function checkMemory(job: string, limitMb: number, run: RunState): void {
  const over = overLimit(job, limitMb);
  if (over) run.fail(retireFor(over, job));
}

function retireFor(err: RunletError, job: string): RunletError {
  link.retire(`job "${job}" went over its memory limit`, job);
  return err;
}

function exited(job: string, code: number | string): RunletError {
  return new RunletError(
    "JOB_EXITED",
    `job "${job}" called process.exit(${code}) in its worker thread; the call failed, the run is failed and the worker replaced: a handler should return or throw instead`,
  );
}

const CODES = new Set<string>(["JOB_FAILED", "JOB_EXITED", "JOB_OUT_OF_MEMORY", "HANDLER_NO_DEFAULT", "RESULT_NOT_CLONEABLE"]);

function codeOf(err: unknown): FailCode {
  const code = err instanceof RunletError ? err.code : undefined;
  return code !== undefined && CODES.has(code) ? (code as FailCode) : "JOB_FAILED";
}

/**
 * A task that does nothing, run only to make piscina start a worker: with minThreads 0, when
 * a worker dies (process.exit, out of memory, terminated) while runs wait in the queue,
 * piscina 5.3.2 starts no replacement until the next run() call, so the waiting runs hang.
 */
export function wake(): null {
  return null;
}

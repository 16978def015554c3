/**
 * The pool's worker entry: piscina calls the default export once per run, in a worker
 * thread. It imports the handler (cached for the worker's life: recycling the pool is what
 * frees old modules), builds the same context an inline run gets, and answers with a
 * TaskOutcome. A handler's failure is returned, not thrown, so its name, stack and code
 * cross the thread boundary intact.
 *
 * Built to dist/workers/pool-worker.js by scripts/build.mjs; runner/execute/thread-executor.ts
 * points piscina at that file.
 */
import { threadId } from "node:worker_threads";
import { RunletError } from "../runner/errors.js";
import { HandlerCache, callHandler, cloneResult, failed } from "../runner/execute/handler-module.js";
import type { TaskOutcome, TaskPayload } from "../runner/execute/protocol.js";
import { RunContext } from "../runner/execute/run-context.js";
import { serializeError } from "../runner/execute/serialize.js";
import { abortedWhileWaiting } from "../runner/execute/thread-errors.js";
import { MainLink, type RunState } from "./main-link.js";

// Handlers are compiled with source maps: make their stacks point at the .ts lines.
process.setSourceMapsEnabled(true);
const handlers = new HandlerCache();
// Made as the module loads, so the main thread has this worker's port before its first task.
const link = new MainLink();

export default async function runTask(task: TaskPayload): Promise<TaskOutcome> {
  const run = link.start(task.key);
  if (run.abortReason) {
    // Aborted while it waited for a thread: not started, as a run aborted before run() is not.
    const err = abortedWhileWaiting(task.job, run.abortReason.message);
    link.end(task.key);
    return { logsOn: undefined, ok: false, code: "JOB_CANCELLED", error: serializeError(err) };
  }
  try {
    const handler = handlers.ready(task.modulePath) ?? (await handlers.load(task.modulePath));
    const ctx = new RunContext(task.job, task.runId, new Date(task.fireDate), task.attempt, task.params, task.env, task.trigger, link.logger(task.key, task.logLevel), run);
    const value = await new Promise((resolve, reject) => {
      run.onUncaught = (err) => reject(failed(err));
      callHandler(handler, ctx).then(resolve, reject);
    });
    run.onUncaught = null;
    // Checked here rather than left to piscina's postMessage, whose failure would kill the worker.
    cloneResult(task.job, value);
    return { logsOn: logsOn(run), ok: true, value };
  } catch (err) {
    if (err instanceof RunletError && (err.code === "HANDLER_NO_DEFAULT" || err.code === "RESULT_NOT_CLONEABLE" || err.code === "JOB_FAILED")) {
      return { logsOn: logsOn(run), ok: false, code: err.code, error: serializeError(err) };
    }
    return { logsOn: logsOn(run), ok: false, code: "JOB_FAILED", error: serializeError(err) };
  } finally {
    // Lines a stray timer logs after this are dropped on the main side: the run has settled.
    link.end(task.key);
  }
}

/** Where the main thread must read this run's log lines before settling it: nowhere if it logged none. */
function logsOn(run: RunState): number | undefined {
  return run.logged ? threadId : undefined;
}

/**
 * A task that does nothing, run only to make piscina start a worker: with minThreads 0, when
 * a worker dies (process.exit, out of memory, terminated) while runs wait in the queue,
 * piscina 5.3.2 starts no replacement until the next run() call, so the waiting runs hang.
 */
export function wake(): null {
  return null;
}

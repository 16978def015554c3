import type { Executor, RunRequest } from "../contracts/index.js";
import { RunletError } from "../errors.js";
import { abortsOf, notStarted } from "./executor.js";
import type { JobHandler } from "../context.js";
import { RunContext } from "./run-context.js";
import { HandlerCache, callHandler, failed } from "./handler-module.js";

/**
 * Runs handlers in the main thread. Cheapest, but a handler that ignores `ctx.signal`
 * cannot be stopped: after an abort the run's promise stays pending until the handler
 * settles, and the dispatcher decides what to record meanwhile.
 */
export class InlineExecutor implements Executor {
  // Modules are never unloaded from the main thread; each compiled version has its own path.
  private readonly handlers = new HandlerCache();
  private closed = false;

  constructor() {
    // Same stacks as in a worker (pool-worker.ts): handlers are compiled with source maps.
    process.setSourceMapsEnabled(true);
  }

  run(req: RunRequest): Promise<unknown> {
    if (this.closed) return Promise.reject(new RunletError("JOB_CANCELLED", `job "${req.job}" was not started: the inline executor is closed`));
    if (abortsOf(req).aborted) return Promise.reject(notStarted(req));
    const handler = this.handlers.ready(req.modulePath);
    if (handler) return this.call(handler, req);
    return this.handlers.load(req.modulePath).then((loaded) => this.call(loaded, req));
  }

  /** A failed import is not kept: the run that needs it imports again and reports the error. */
  preload(modulePath: string): void {
    if (this.closed || this.handlers.ready(modulePath)) return;
    this.handlers.load(modulePath).catch(() => undefined);
  }

  private call(handler: JobHandler, req: RunRequest): Promise<unknown> {
    let ctx: RunContext;
    try {
      ctx = new RunContext(req.job, req.runId, new Date(req.fireDate.getTime()), req.attempt, copyParams(req.params), req.env, req.log, req);
    } catch (err) {
      // Params that cannot be copied (an invoke's own object): a failed run, never a throw at the caller.
      return Promise.reject(failed(err, `job "${req.job}" was not started: its params cannot be copied: `));
    }
    return callHandler(handler, ctx, req.job);
  }

  /** Refuses new runs; runs in flight go on (they cannot be stopped). */
  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * A copy, as a thread run gets: a handler mutating its params must not change the next
 * run's. An empty object (most jobs have no params) is copied by making a new one.
 */
function copyParams(params: unknown): unknown {
  if (params === null || typeof params !== "object") return params;
  if (Object.getPrototypeOf(params) === Object.prototype && isEmpty(params)) return {};
  return structuredClone(params);
}

function isEmpty(obj: object): boolean {
  for (const _ in obj) return false;
  return true;
}

import { RunletError } from "../errors.js";
import { notStarted, type Executor, type RunRequest } from "./executor.js";
import { callHandler, cloneResult, loadHandler, type ModuleCache } from "./handler-module.js";

/**
 * Runs handlers in the main thread. Cheapest, but a handler that ignores `ctx.signal`
 * cannot be stopped: after an abort the run's promise stays pending until the handler
 * settles, and the dispatcher decides what to record meanwhile.
 */
export class InlineExecutor implements Executor {
  // Modules are never unloaded from the main thread; each compiled version has its own path.
  private readonly modules: ModuleCache = new Map();
  private closed = false;

  constructor() {
    // Same stacks as in a worker (pool-worker.ts): handlers are compiled with source maps.
    process.setSourceMapsEnabled(true);
  }

  async run(req: RunRequest): Promise<unknown> {
    if (this.closed) throw new RunletError("JOB_CANCELLED", `job "${req.job}" was not started: the inline executor is closed`);
    if (req.signal.aborted) throw notStarted(req);
    const handler = await loadHandler(req.modulePath, this.modules);
    const value = await callHandler(handler, {
      job: req.job,
      runId: req.runId,
      fireDate: new Date(req.fireDate.getTime()),
      attempt: req.attempt,
      // A copy, as a thread run gets: a handler mutating its params must not change the next run's.
      params: req.params !== null && typeof req.params === "object" ? structuredClone(req.params) : req.params,
      env: req.env,
      signal: req.signal,
      log: req.log,
    });
    return cloneResult(req.job, value);
  }

  /** Refuses new runs; runs in flight go on (they cannot be stopped). */
  async close(): Promise<void> {
    this.closed = true;
  }
}

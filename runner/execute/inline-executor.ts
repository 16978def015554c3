import type { Executor, RunRequest } from "../contracts/index.js";
import { RunletError } from "../errors.js";
import { abortsOf, notStarted } from "./executor.js";
import type { JobHandler, JobTrigger } from "../context.js";
import { RunContext } from "./run-context.js";
import { HandlerCache, SETTLED_UNDEFINED, failed } from "./handler-module.js";
import { contain, exitedError } from "./inline-containment.js";
import { InlineRun, callIn, inFlight, settled, settledAtOnce } from "./inline-runs.js";
import { silentLogger, type Logger } from "../log/logger.js";

export interface InlineExecutorOptions {
  /** Where errors raised outside any run are logged (see inline-containment.ts). @default silent */
  logger?: Logger;
}

/**
 * Runs handlers in the main thread. Cheapest, but a handler that ignores `ctx.signal`
 * cannot be stopped: after an abort the run's promise stays pending until the handler
 * settles, and the dispatcher decides what to record meanwhile.
 */
export class InlineExecutor implements Executor {
  // Modules are never unloaded from the main thread; each compiled version has its own path.
  private readonly handlers = new HandlerCache();
  private closed = false;
  /** Stops containing handlers' stray errors and process.exit calls (see inline-containment.ts). */
  private readonly release: () => void;

  constructor(options: InlineExecutorOptions = {}) {
    // Same stacks as in a worker (pool-worker.ts): handlers are compiled with source maps.
    process.setSourceMapsEnabled(true);
    this.release = contain(options.logger ?? silentLogger());
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
      ctx = new RunContext(req.job, req.runId, new Date(req.fireDate.getTime()), req.attempt, copyParams(req.params), req.env, copyTrigger(req.trigger), req.log, req);
    } catch (err) {
      // Params that cannot be copied (an invoke's own object): a failed run, never a throw at the caller.
      return Promise.reject(failed(err, `job "${req.job}" was not started: its params cannot be copied: `));
    }
    const run = new InlineRun(req);
    return settleContained(run, callIn(run, handler, ctx));
  }

  /** Refuses new runs; runs in flight go on (they cannot be stopped), but their stray errors are no longer contained. */
  async close(): Promise<void> {
    this.closed = true;
    this.release();
  }
}

/**
 * An `after` trigger carries the upstream run's record: each run gets its own copy, as a
 * thread run does (deep only where it holds objects: a thousand runs share one trigger).
 */
function copyTrigger(trigger: JobTrigger): JobTrigger {
  if (trigger.kind !== "after") return trigger;
  if (trigger.error === null && (trigger.result === null || typeof trigger.result !== "object")) return { ...trigger };
  return structuredClone(trigger);
}

/**
 * The run's outcome, failed instead by an error its code raises outside its promise chain
 * while it runs, or by a process.exit it called (even one the handler caught).
 */
function settleContained(run: InlineRun, outcome: Promise<unknown>): Promise<unknown> {
  if (run.exitCode !== undefined) {
    settled(run);
    return Promise.reject(exitedError(run.req.job, run.exitCode));
  }
  // Returned nothing, synchronously (most handlers of a busy schedule): it has ended already.
  if (outcome === SETTLED_UNDEFINED) {
    settledAtOnce(run);
    return outcome;
  }
  inFlight(run);
  return new Promise((resolve, reject) => {
    run.fail = reject;
    outcome.then(
      (value) => {
        run.fail = null;
        settled(run);
        if (run.exitCode === undefined) resolve(value);
        else reject(exitedError(run.req.job, run.exitCode));
      },
      (err: unknown) => {
        run.fail = null;
        settled(run);
        reject(run.exitCode === undefined ? err : exitedError(run.req.job, run.exitCode));
      },
    );
  });
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

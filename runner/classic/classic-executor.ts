/**
 * The executor behind class jobs: what the dispatcher calls for one attempt. An inline
 * factory's callback is a function in this process, not a module path, so it is called
 * here; a thread factory's worker runs on runlet's worker-thread pool (ThreadExecutor),
 * as a compiled entry module whose default export calls the worker instance.
 */
import type { Executor, RunRequest } from "../contracts/index.js";
import type { CompiledHandler } from "../compile/index.js";
import { RunletError } from "../errors.js";
import { cloneResult, failed } from "../execute/handler-module.js";
import { abortsOf, notStarted } from "../execute/executor.js";
import type { WorkerOutcome } from "./abstract-base-worker.js";
import type { JobCallback } from "./factory-parts.js";

/** What one class job runs: a callback (inline) or a compiled worker entry (thread). */
export type ClassicTarget = { kind: "callback"; callback: JobCallback } | { kind: "worker"; compiled: Promise<CompiledHandler> };

/**
 * The params of a manual trigger. A manifest job's params are data for its handler; a class
 * job has none, so this slot carries the date the caller passed to the trigger (the
 * dispatcher stamps an invoke with the current time).
 */
export class ManualFire {
  constructor(readonly fireDate: Date) {}
}

export interface ClassicExecutorOptions {
  /** The target of a job by name, as registered now. */
  targetOf(job: string): ClassicTarget | undefined;
  /** Runs worker entries: the core's worker pool, which the core closes. */
  threads: Executor;
}

export class ClassicExecutor implements Executor {
  constructor(private readonly options: ClassicExecutorOptions) {}

  async run(req: RunRequest): Promise<unknown> {
    if (abortsOf(req).aborted) throw notStarted(req);
    const target = this.options.targetOf(req.job);
    if (!target) throw new RunletError("JOB_UNKNOWN", `no class job named "${req.job}" is registered with this runtime`);
    const fireDate = req.params instanceof ManualFire ? req.params.fireDate : req.fireDate;
    if (target.kind === "callback") return runCallback(req, target.callback, fireDate);
    // A worker that did not compile fails each run with the compile error, until create() again.
    const { modulePath } = await target.compiled;
    // Spelled out: a spread would drop `signal`, a getter of the dispatcher's request.
    const outcome = await this.options.threads.run({ ...req, signal: req.signal, modulePath, fireDate, params: null });
    return resultOf(outcome as WorkerOutcome);
  }

  /** Nothing of its own to close: the pool is the core's. */
  async close(): Promise<void> {}
}

async function runCallback(req: RunRequest, callback: JobCallback, fireDate: Date): Promise<unknown> {
  let value: unknown;
  try {
    // A copy: a callback mutating its date must not change the record's.
    value = await callback(new Date(fireDate.getTime()));
  } catch (err) {
    throw failed(err);
  }
  if (value === undefined) return null;
  try {
    return cloneResult(req.job, value);
  } catch (err) {
    // The callback is typed `void`: what it happens to return must not fail a run that worked.
    req.log.warn({ err }, "the job callback returned a value that cannot be recorded; recorded null instead");
    return null;
  }
}

/**
 * A worker run's recorded result: what `run()` returned, or, when it returned nothing, what
 * it posted on `this.parentPort`: the one message, or all of them in order when several.
 */
export function resultOf(outcome: WorkerOutcome): unknown {
  if (outcome.returned !== undefined) return outcome.returned;
  if (outcome.messages.length === 0) return null;
  return outcome.messages.length === 1 ? outcome.messages[0] : outcome.messages;
}

/**
 * The main thread's inline runs, as their stray errors and process.exit calls are traced
 * back to them (by the error's stack, see module-runs.ts).
 */
import type { JobContext, JobHandler } from "../context.js";
import type { RunRequest } from "../contracts/index.js";
import { callHandler } from "./handler-module.js";
import { ModuleRuns, type ModuleRun } from "./module-runs.js";

/** An inline run, as its stray errors and process.exit calls reach it. */
export class InlineRun implements ModuleRun {
  /** Fails the run; null once the run has settled. */
  fail: ((err: unknown) => void) | null = null;
  /** The code of a process.exit the run's code called, if it did. */
  exitCode: number | string | undefined = undefined;
  endedAt = 0;

  constructor(readonly req: RunRequest) {}

  get job(): string {
    return this.req.job;
  }

  get modulePath(): string {
    return this.req.modulePath;
  }
}

const runs = new ModuleRuns<InlineRun>();
/** The run whose handler is being called right now, synchronously: a process.exit in that call is its. */
let calling: InlineRun | null = null;

/** Calls `handler` for `run`, noting the run meanwhile: a process.exit in the call is its (see callHandler for the rest). */
export function callIn(run: InlineRun, handler: JobHandler, ctx: JobContext): Promise<unknown> {
  const outer = calling;
  calling = run;
  try {
    return callHandler(handler, ctx, run.req.job);
  } finally {
    calling = outer;
  }
}

/** The run's handler returned a promise: it is in flight until `settled`. A run that returned at once is only settled. */
export function inFlight(run: InlineRun): void {
  runs.started(run);
}

/** The run's outcome is known: later errors of its module are charged to it as strays. */
export function settled(run: InlineRun): void {
  runs.settled(run);
}

/** The run ended as its handler returned, never in flight: filed after the fire's pass (see ModuleRuns.settledAtOnce). */
export function settledAtOnce(run: InlineRun): void {
  runs.settledAtOnce(run);
}

/** The run whose code raised `err`, if its stack names one; null if not. */
export function ownerOf(err: unknown): InlineRun | null {
  return runs.ownerOf(err);
}

/** The run whose code is calling process.exit right now, if any. */
export function exitingRun(): InlineRun | null {
  return calling ?? runs.callingRun();
}

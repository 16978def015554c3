import type { JobContext, JobLogger, JobTrigger } from "../context.js";

/**
 * The `ctx` a handler gets, inline or in a worker: its `signal` is read through from the
 * run, which makes it only when asked (see run-abort.ts). A class rather than an object
 * literal with a getter: V8 builds a literal's getter anew each time (~260 bytes a run).
 */
export class RunContext<P = unknown> implements JobContext<P> {
  constructor(
    readonly job: string,
    readonly runId: string,
    readonly fireDate: Date,
    readonly attempt: number,
    readonly params: P,
    readonly env: string,
    readonly trigger: JobTrigger,
    readonly log: JobLogger,
    aborts: { readonly signal: AbortSignal },
  ) {
    this.#aborts = aborts;
  }

  /** A #private field, not a property: `{ ...ctx }`, `Object.keys(ctx)` and JSON never see it. */
  readonly #aborts: { readonly signal: AbortSignal };

  get signal(): AbortSignal {
    return this.#aborts.signal;
  }
}

/** The logger a handler gets as `ctx.log`: pino's call shapes, bound to the job and run. */
export interface JobLogger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  fatal(obj: object | string, msg?: string): void;
}

/**
 * What started a run: its schedule (caught-up fires too), an invoke, or the end of a run
 * of another job it runs `after` (that run's record: its result, or its error).
 */
export type JobTrigger =
  | { kind: "schedule" }
  | { kind: "invoke" }
  | {
      kind: "after";
      job: string;
      runId: string;
      status: "ok" | "failed" | "timeout" | "cancelled" | "lost";
      result: unknown;
      error: { message: string; code?: string; stack?: string } | null;
    };

/** What a handler is called with. The same inline and in a worker thread. */
export interface JobContext<P = unknown> {
  /** The job's name in the manifest. */
  job: string;
  /** This run's id: the same for every attempt of the run (an idempotency key). */
  runId: string;
  /** The time the fire was scheduled for (not when the timer woke up). */
  fireDate: Date;
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  /** The job's `params` from the manifest (or the invoke's params). */
  params: P;
  /** The environment name the runner was started with. */
  env: string;
  /** What started this run; for `after`, the upstream run's record. */
  trigger: JobTrigger;
  /** Aborts on timeout, on `overlap: replace`, and on shutdown. */
  signal: AbortSignal;
  log: JobLogger;
}

/** A handler module's default export. Its return value must be structured-cloneable. */
export type JobHandler<P = unknown, R = unknown> = (ctx: JobContext<P>) => R | Promise<R>;

/** Types a handler; returns it unchanged (like vitest's `defineConfig`). */
export function defineJob<P = unknown, R = unknown>(handler: JobHandler<P, R>): JobHandler<P, R> {
  return handler;
}

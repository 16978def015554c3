import type { JobTrigger } from "../context.js";
import { LOG_POLICY_DEFAULTS, type JobDefinition, type LogPolicy, type RunError, type RunLogger, type RunRecord, type RunRequest } from "../contracts/index.js";
import type { RunAbort } from "./run-abort.js";

/**
 * One try: what the dispatcher hands an executor and, once started, what the executor
 * returned. A class, so that `signal` is one shared getter (see run-context.ts); one
 * object, because every byte of it is paid by each job of a ten-thousand-job fire.
 */
export class Attempt implements RunRequest {
  readonly job: string;
  readonly memoryMb: number | null;
  /** ctx.log: set as soon as the attempt is made (a tee of it, see run-log-capture.ts). */
  log!: RunLogger;
  /** Set as soon as the executor returns. */
  execution!: Promise<unknown>;
  /** The run's last record, once this attempt ended it: what a stray error amends. */
  final: RunRecord | null = null;
  /** Set when the run goes on to another attempt: this one will have no record of its own. */
  retried = false;
  /** A stray error that came before the record was written (the executor's answer and the error race). */
  pendingStray: Error | null = null;
  /** When the handler really started, if the executor said (a thread run waits for a thread). */
  handlerStartedAtMs: number | null = null;
  /** Scheduled runs wait for a thread at most until their lateness limit (see RunRequest.lateAfter). */
  readonly lateAfter: number | null;
  /** How the run's records hide what the manifest took from the environment (a stray error's amendment uses it). */
  readonly logPolicy: LogPolicy;

  constructor(
    def: JobDefinition,
    readonly modulePath: string,
    readonly runId: string,
    readonly fireDate: Date,
    readonly attempt: number,
    readonly params: unknown,
    readonly env: string,
    readonly trigger: JobTrigger,
    readonly aborts: RunAbort,
    readonly startedAtMs: number,
    private readonly strays: (attempt: Attempt, error: Error) => void,
    lateAfter: number | null,
  ) {
    this.job = def.name;
    this.memoryMb = def.memoryMb;
    this.lateAfter = lateAfter;
    this.logPolicy = def.logs ?? LOG_POLICY_DEFAULTS;
  }

  handlerStarted(atMs: number): void {
    this.handlerStartedAtMs = atMs;
  }

  get signal(): AbortSignal {
    return this.aborts.signal;
  }

  strayAfterEnd(error: Error): void {
    this.strays(this, error);
  }
}

export function toRunError(err: unknown): RunError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { message: err.message, ...(typeof code === "string" ? { code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
  }
  return { message: String(err) };
}

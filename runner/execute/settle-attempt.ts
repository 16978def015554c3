// How one try ends (timeout, aborts, grace) and the backoff wait before the next: the timing half of retries.
import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { ActiveJob, Clock, RunError } from "../contracts/index.js";
import { toRunError, type Attempt } from "./attempt.js";
import type { LiveRun } from "./live-run.js";

/** What settleAttempt found: the handler's result, or why the try did not succeed. */
export type AttemptOutcome = { status: "ok"; result: unknown } | { status: "failed" | "timeout" | "cancelled" | "skipped"; error: RunError };

/**
 * How a try ends: the executor's answer raced against the job's timeout and the run's
 * aborts. One object and one promise per try, settled from the executor's callbacks: an
 * async function racing a second promise against the answer was the largest allocation of
 * a run (~1.5 KB: its frame, a context holding every variable its closures shared, the
 * race's promise and its result objects) and a promise hop more before the run's record.
 */
export function settleAttempt(clock: Clock, abortGraceMs: number, job: ActiveJob, run: LiveRun, begun: Attempt, log: Logger): Promise<AttemptOutcome> {
  const settling = new Settling(clock, abortGraceMs, job, run, begun, log);
  const done = new Promise<AttemptOutcome>((resolve) => {
    settling.resolve = resolve;
  });
  settling.start();
  return done;
}

class Settling {
  resolve!: (outcome: AttemptOutcome) => void;
  private settled = false;
  private timedOut = false;
  private timeout: unknown = undefined;
  private graceTimer: unknown = undefined;
  /** The run's abort reaches the attempt's own abort (a job with a timeout has one). */
  private readonly onRunAbort = (): void => {
    this.begun.aborts.abort(this.run.reason);
    this.armGrace();
  };

  constructor(
    private readonly clock: Clock,
    private readonly abortGraceMs: number,
    private readonly job: ActiveJob,
    private readonly run: LiveRun,
    private readonly begun: Attempt,
    private readonly log: Logger,
  ) {}

  start(): void {
    const { run, begun, clock } = this;
    const { def } = this.job;
    const abort = begun.aborts;
    run.subscribe(this.onRunAbort);
    // The handler may have aborted its own run as it started, before this listened.
    if (abort !== run && run.aborted) abort.abort(run.reason);
    if (abort.aborted) this.armGrace();
    // Counted from the handler's start, which may be a moment before this (see fireAll).
    if (def.timeoutMs !== null) {
      this.timeout = clock.setTimeout(() => {
        this.timedOut = true;
        abort.abort(new RunletError("JOB_TIMEOUT", `timed out after ${def.timeoutMs}ms`));
        this.armGrace();
      }, Math.max(0, def.timeoutMs - (clock.now() - begun.startedAtMs)));
    }
    begun.execution.then(
      (result) => this.end(true, result),
      (error: unknown) => this.end(false, error),
    );
  }

  /**
   * An inline handler cannot be killed: after an abort it gets a grace period, then the
   * run is recorded as ended while the handler may still be running.
   */
  private armGrace(): void {
    if (this.graceTimer !== undefined || this.settled) return;
    this.graceTimer = this.clock.setTimeout(() => this.giveUp(), this.abortGraceMs + (this.job.def.mode === "thread" ? 1000 : 0));
  }

  private giveUp(): void {
    if (this.settled) return;
    if (this.job.def.mode === "inline") {
      this.log.warn({ graceMs: this.abortGraceMs }, "inline handler did not stop after its signal aborted; it cannot be terminated in the main thread: use `mode: thread` for handlers that may hang");
    }
    this.finish("gave up", undefined);
  }

  /** The executor answered: `ok` with the handler's result, or not with its error. */
  private end(ok: boolean, value: unknown): void {
    if (this.settled) return;
    this.finish(ok ? "ok" : "error", value);
  }

  private finish(answer: "ok" | "error" | "gave up", value: unknown): void {
    this.settled = true;
    const { clock, begun } = this;
    this.run.unsubscribe(this.onRunAbort);
    if (this.timeout !== undefined) clock.clearTimeout(this.timeout);
    if (this.graceTimer !== undefined) clock.clearTimeout(this.graceTimer);
    const abort = begun.aborts;
    if (this.timedOut) this.resolve({ status: "timeout", error: { message: `timed out after ${this.job.def.timeoutMs}ms`, code: "JOB_TIMEOUT" } });
    else if (abort.aborted) this.resolve({ status: "cancelled", error: toRunError(abort.reason) });
    else if (answer === "gave up") this.resolve({ status: "failed", error: { message: "run did not settle", code: "JOB_FAILED" } });
    else if (answer === "ok") this.resolve({ status: "ok", result: value });
    else {
      const error = toRunError(value);
      this.resolve({ status: error.code === "JOB_LATE" ? "skipped" : "failed", error });
    }
  }
}

/** Waits `ms`, or less when the run is aborted meanwhile. */
export function sleepUnlessAborted(clock: Clock, ms: number, run: LiveRun): Promise<void> {
  if (run.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onRunAbort = () => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      run.unsubscribe(onRunAbort);
      resolve();
    }, ms);
    run.subscribe(onRunAbort);
  });
}

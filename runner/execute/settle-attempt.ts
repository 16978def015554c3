// How one try ends (timeout, aborts, grace) and the backoff wait before the next: the timing half of retries.
import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { ActiveJob, Clock, RunError } from "../contracts/index.js";
import { toRunError, type Attempt } from "./attempt.js";
import type { LiveRun } from "./live-run.js";

/** What settleAttempt found: the handler's result, or why the try did not succeed. */
export type AttemptOutcome = { status: "ok"; result: unknown } | { status: "failed" | "timeout" | "cancelled" | "skipped"; error: RunError };

/** How a try ends: the executor's answer raced against the job's timeout and the run's aborts. */
export async function settleAttempt(
  clock: Clock,
  abortGraceMs: number,
  job: ActiveJob,
  run: LiveRun,
  begun: Attempt,
  log: Logger,
): Promise<AttemptOutcome> {
  const { def } = job;
  const abort = begun.aborts;
  // An inline handler cannot be killed: after an abort it gets a grace period, then the
  // run is recorded as ended while the handler may still be running.
  type Settled = { settled: true; ok: true; result: unknown } | { settled: true; ok: false; error: unknown } | { settled: false };
  let giveUp!: (outcome: Settled) => void;
  let graceTimer: unknown;
  const armGrace = () => {
    graceTimer ??= clock.setTimeout(() => giveUp({ settled: false }), abortGraceMs + (def.mode === "thread" ? 1000 : 0));
  };
  const onRunAbort = () => {
    abort.abort(run.reason);
    armGrace();
  };
  run.subscribe(onRunAbort);
  // The handler may have aborted its own run as it started, before this listened.
  if (abort !== run && run.aborted) abort.abort(run.reason);
  if (abort.aborted) armGrace();
  let timedOut = false;
  // Counted from the handler's start, which may be a moment before this (see fireAll).
  const timeout =
    def.timeoutMs === null
      ? undefined
      : clock.setTimeout(() => {
          timedOut = true;
          abort.abort(new RunletError("JOB_TIMEOUT", `timed out after ${def.timeoutMs}ms`));
          armGrace();
        }, Math.max(0, def.timeoutMs - (clock.now() - begun.startedAtMs)));

  // One promise settled by whichever comes first: the executor's answer, or giving up on it.
  const outcome = await new Promise<Settled>((resolve) => {
    giveUp = resolve;
    begun.execution.then((result) => resolve({ settled: true, ok: true, result }), (error: unknown) => resolve({ settled: true, ok: false, error }));
  });
  run.unsubscribe(onRunAbort);
  if (timeout !== undefined) clock.clearTimeout(timeout);
  if (graceTimer !== undefined) clock.clearTimeout(graceTimer);

  if (!outcome.settled && def.mode === "inline") {
    log.warn({ graceMs: abortGraceMs }, "inline handler did not stop after its signal aborted; it cannot be terminated in the main thread: use `mode: thread` for handlers that may hang");
  }
  if (timedOut) return { status: "timeout", error: { message: `timed out after ${def.timeoutMs}ms`, code: "JOB_TIMEOUT" } };
  if (abort.aborted) return { status: "cancelled", error: toRunError(abort.reason) };
  if (!outcome.settled) return { status: "failed", error: { message: "run did not settle", code: "JOB_FAILED" } };
  if (outcome.ok) return { status: "ok", result: outcome.result };
  const error = toRunError(outcome.error);
  return { status: error.code === "JOB_LATE" ? "skipped" : "failed", error };
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

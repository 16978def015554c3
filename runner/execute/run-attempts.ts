// How a started run goes: its attempts begun on the executor, their records, retries, and stray errors charged to it.
import { keptError, keptParams } from "../log/kept-params.js";
import type { Logger } from "../log/logger.js";
import { LOG_POLICY_DEFAULTS, type ActiveJob, type LogPolicy, type Clock, type Executor, type RunError, type RunLogger, type RunMode, type RunRecord, type RunStatus } from "../contracts/index.js";
import { Attempt, toRunError } from "./attempt.js";
import { AttemptHistory, failLast } from "./attempt-history.js";
import { IsoTimes } from "./iso-time.js";
import type { LiveRun } from "./live-run.js";
import { retryDelay } from "./retry-delay.js";
import { RunAbort } from "./run-abort.js";
import { settleAttempt, sleepUnlessAborted, type AttemptOutcome } from "./settle-attempt.js";

/** The part of DispatcherOptions a run's attempts use (the dispatcher hands its own options). */
export interface AttemptRunnerOptions {
  executors: Record<RunMode, Executor>;
  clock: Clock;
  env: string;
  onRecord: (record: RunRecord) => void;
  handlerLog?: (attempt: Attempt, log: Logger, run: { readonly ended: boolean }) => RunLogger;
}

/** Runs the attempts of each run the dispatcher started, from its first to its final record. */
export class AttemptRunner {
  private readonly runTimes = new IsoTimes();

  constructor(
    private readonly options: AttemptRunnerOptions,
    private readonly abortGraceMs: number,
    /** The dispatcher's, shared with its skip records: scheduled times and start/end times kept apart, so the two do not evict each other. */
    private readonly scheduledTimes: IsoTimes,
  ) {}

  /**
   * Everything after the first attempt started, to the run's final record; then `after`
   * (the dispatcher unlists the run), before the returned promise settles. Called here
   * rather than in a `.finally()` on it, which cost every run a closure and a promise.
   * Not an async function: most runs end with their first try, and an async loop kept its
   * frame (every variable of every try) across the await; the first try is followed with
   * one `then`, and only a retry goes on in the async loop (retryFrom): ~600 bytes a run less.
   */
  runAttempts(run: LiveRun, after: (run: LiveRun) => void): Promise<RunRecord> {
    let followed: FollowedRun;
    let pending: Promise<AttemptOutcome>;
    try {
      followed = new FollowedRun(this, run, this.scheduledTimes);
      pending = this.settleTry(followed, run.first, run.attempt);
    } catch (err) {
      after(run);
      return Promise.reject(err);
    }
    return pending.then((outcome) => {
      let ended: RunRecord | null;
      try {
        ended = this.endTry(followed, run.first, run.attempt, outcome);
      } catch (err) {
        after(run);
        throw err;
      }
      if (ended) {
        after(run);
        return ended;
      }
      return this.retryFrom(followed, run.first, run.attempt, after);
    });
  }

  /** The attempts after a failed one that is retried, to the run's final record; then `after`. */
  private async retryFrom(followed: FollowedRun, failed: Attempt, failedAttempt: number, after: (run: LiveRun) => void): Promise<RunRecord> {
    const { run } = followed;
    const { job, fireDate, params, log } = run;
    const { def } = job;
    try {
      for (let attempt = failedAttempt, begun = failed; ; ) {
        await sleepUnlessAborted(this.options.clock, retryDelay(def.retries, attempt), run);
        // A claimed run retries only while this process still owns it; if not, the claim aborted it.
        if (run.claim && !run.aborted) await run.claim.beforeRetry(attempt + 1);
        if (run.aborted) {
          const ended = followed.record("cancelled", attempt, followed.finishedAt, toRunError(run.reason), null);
          run.ended = true;
          this.options.onRecord(ended);
          return ended;
        }
        begun = this.beginAttempt(job, run, fireDate, ++attempt, params, log, true);
        const ended = this.endTry(followed, begun, attempt, await this.settleTry(followed, begun, attempt));
        if (ended) return ended;
      }
    } finally {
      after(run);
    }
  }

  /** One try begun: its settling under timeout and aborts, and its "running" record. */
  private settleTry(followed: FollowedRun, begun: Attempt, attempt: number): Promise<AttemptOutcome> {
    const { run, tries } = followed;
    if (begun === run.first && run.startLogDeferred) this.logStart(run, begun.attempt, begun.startedAtMs);
    const pending = settleAttempt(this.options.clock, this.abortGraceMs, run.job, run, begun, run.log);
    // The handler has its run now (an inline one is already going; fireAll starts every
    // handler of a fire before it follows any run here), so its records wait for nothing.
    tries?.begin(attempt, this.runTimes.at(begun.handlerStartedAtMs ?? begun.startedAtMs));
    this.options.onRecord(followed.record("running", attempt, null, null, null));
    return pending;
  }

  /** A try settled: the run's final record, or null when it is retried (the caller waits and begins the next). */
  private endTry(followed: FollowedRun, begun: Attempt, attempt: number, settled: AttemptOutcome): RunRecord | null {
    const { run, tries, policy } = followed;
    const { def } = run.job;
    const { log } = run;
    // What the record and the runner's log keep of an error: values from the environment
    // hidden (a library's message may quote a URL with its token). A result is what the
    // handler chose to return, kept as returned.
    const outcome = keptOutcome(settled, policy);
    const endedAtMs = this.options.clock.now();
    // A thread run may have waited for a thread: its record starts when its handler did.
    if (begun === run.first && begun.handlerStartedAtMs !== null) followed.startedAt = this.runTimes.at(begun.handlerStartedAtMs);
    const durationMs = endedAtMs - (begun.handlerStartedAtMs ?? begun.startedAtMs);
    const finishedAt = (followed.finishedAt = this.runTimes.at(endedAtMs));
    const retryable = outcome.status !== "ok" && outcome.status !== "cancelled" && outcome.status !== "skipped" && !run.aborted && attempt <= def.retries.max;
    tries?.end(this.runTimes.at(begun.handlerStartedAtMs ?? begun.startedAtMs), finishedAt, outcome.status, outcome.status === "ok" ? null : outcome.error);

    if (outcome.status === "ok") {
      if (log.isLevelEnabled("info")) log.info({ event: "run-ended", status: "ok", durationMs, attempt }, "run ended");
      const ended = followed.record("ok", attempt, finishedAt, null, outcome.result ?? null);
      this.endWith(run, begun, ended);
      return ended;
    }
    const level = retryable ? "warn" : "error";
    log[level]({ event: retryable ? "run-attempt-failed" : "run-ended", status: outcome.status, durationMs, attempt, err: outcome.error }, retryable ? "run attempt failed; will retry" : "run ended");
    if (!retryable) {
      const ended = followed.record(outcome.status, attempt, finishedAt, outcome.error, null);
      if (outcome.status === "skipped") {
        // It waited for a worker thread past its lateness limit and never started.
        ended.reason = "late";
        ended.startedAt = null;
        ended.finishedAt = null;
      }
      this.endWith(run, begun, ended);
      return ended;
    }
    begun.retried = true;
    if (begun.pendingStray) log.error({ err: keptError(toRunError(begun.pendingStray), policy), attempt }, "the code of this attempt raised an error after it ended; the run is retried");
    return null;
  }

  /** @internal start and end times, for FollowedRun. */
  runTimeAt(ms: number): string {
    return this.runTimes.at(ms);
  }

  /**
   * An error a run's code raised after its attempt settled (a timer or promise its handler
   * left behind) is charged to that run: a run that had ended ok is recorded again, failed
   * with it. One that had already failed keeps its first error; the stray one is logged.
   */
  private readonly strays = (attempt: Attempt, error: Error): void => {
    const { final, log } = attempt;
    if (!final && !attempt.retried) {
      // The executor has answered (or is answering) but the run's record is not written yet: charge it then.
      attempt.pendingStray ??= error;
      return;
    }
    if (final?.status !== "ok") {
      log.error({ err: keptError(toRunError(error), attempt.logPolicy), attempt: attempt.attempt }, final ? "the run's code raised an error after the run ended (already recorded as failed)" : "the code of an earlier attempt of this run raised an error after that attempt ended");
      return;
    }
    const amended: RunRecord = { ...final, status: "failed", error: keptError(toRunError(error), attempt.logPolicy) };
    amended.attempts = failLast(final.attempts, amended.error!);
    attempt.final = amended;
    log.error({ err: amended.error, attempt: attempt.attempt }, "the run's code raised an error after the run ended ok; the run is recorded as failed");
    this.options.onRecord(amended);
  };

  /** The run's last record: written, and charged with a stray error that came before it. */
  private endWith(run: LiveRun, begun: Attempt, ended: RunRecord): void {
    begun.final = ended;
    run.ended = true;
    this.options.onRecord(ended);
    if (begun.pendingStray) this.strays(begun, begun.pendingStray);
  }

  /** Starts one try on the job's executor, synchronously: nothing is waited for here. */
  beginAttempt(job: ActiveJob, run: LiveRun, fireDate: Date, attempt: number, params: unknown, log: Logger, logStart: boolean): Attempt {
    const { def } = job;
    const startedAtMs = this.options.clock.now();
    if (logStart) this.logStart(run, attempt, startedAtMs);
    // Without a timeout the attempt uses the run's signal; with one, its own, aborted by the
    // run (replace, shutdown) or by the timeout.
    const abort = def.timeoutMs === null ? run : new RunAbort();
    if (abort !== run && run.aborted) abort.abort(run.reason);
    // Only a scheduled fire's first try can be late (while it waits for a worker thread).
    const lateAfter = run.trigger === "schedule" && attempt === run.attempt ? fireDate.getTime() + def.latenessMs : null;
    const begun = new Attempt(def, job.modulePath, run.runId, fireDate, attempt, params, this.options.env, run.cause, abort, startedAtMs, this.strays, lateAfter);
    begun.log = this.options.handlerLog ? this.options.handlerLog(begun, log, run) : log;
    try {
      begun.execution = this.options.executors[def.mode].run(begun);
    } catch (error) {
      // An executor may start a handler in this tick: whatever it throws is this run's failure.
      begun.execution = Promise.reject(error);
    }
    return begun;
  }

  /** "run started", with the run's lateness: the first attempt's, also when a retry logs it. */
  logStart(run: LiveRun, attempt: number, startedAtMs: number): void {
    // Checked first: the argument object costs a run of a silent logger ~60 bytes.
    if (!run.log.isLevelEnabled("info")) return;
    // An invoke, or a run after another, was not scheduled: it has no lateness.
    const latenessMs = run.trigger === "invoke" || run.trigger === "after" ? undefined : (run.first?.startedAtMs ?? startedAtMs) - run.fireDate.getTime();
    // The string, not the Date: pino serializes a Date through its slow path (~1.5 µs a line).
    const scheduledAt = this.scheduledTimes.at(run.fireDate.getTime());
    run.log.info({ event: "run-started", scheduledAt, latenessMs, attempt, mode: run.job.def.mode }, "run started");
  }
}

function keptOutcome(outcome: AttemptOutcome, policy: LogPolicy): AttemptOutcome {
  return outcome.status === "ok" ? outcome : { status: outcome.status, error: keptError(outcome.error, policy) };
}

/**
 * What the records of one run share, from its first try to its last. Every record of a run
 * is built here, whole, with its fields in one order (the order skip() uses too): one
 * object shape for the store and listeners, where spreading a shared base into each took
 * several µs a record. The two fixed times are read once (and shared with the other runs
 * of the fire, see IsoTimes).
 */
class FollowedRun {
  readonly upstreamRunId: string | null;
  readonly policy: LogPolicy;
  /** Made here, after the handler started (its ctx.params is its own copy): hidden as its log lines are. */
  readonly kept: unknown;
  readonly tries: AttemptHistory | null;
  scheduledAt: string | undefined = undefined;
  startedAt: string | undefined = undefined;
  /** When the last try ended: a run aborted in its backoff ends then. */
  finishedAt: string | null = null;

  constructor(
    private readonly runner: AttemptRunner,
    readonly run: LiveRun,
    private readonly scheduledTimes: IsoTimes,
  ) {
    const { def } = run.job;
    this.upstreamRunId = run.cause.kind === "after" ? run.cause.runId : null;
    this.policy = def.logs ?? LOG_POLICY_DEFAULTS;
    this.kept = keptParams(run.params, this.policy);
    this.tries = def.retries.max > 0 || run.attempt > 1 ? new AttemptHistory(run.attempt) : null;
  }

  record(status: RunStatus, attempt: number, finishedAt: string | null, error: RunError | null, result: unknown): RunRecord {
    const { run } = this;
    return {
      runId: run.runId,
      job: run.job.def.name,
      status,
      scheduledAt: (this.scheduledAt ??= this.scheduledTimes.at(run.fireDate.getTime())),
      startedAt: (this.startedAt ??= this.runner.runTimeAt(run.first.startedAtMs)),
      finishedAt,
      attempt,
      error,
      result,
      reason: null,
      trigger: run.trigger,
      upstreamRunId: this.upstreamRunId,
      params: this.kept,
      attempts: this.tries?.snapshot(),
    };
  }
}

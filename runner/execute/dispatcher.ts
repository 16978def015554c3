import type { JobTrigger } from "../context.js";
import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { checkOptions, SHARED_DEFAULTS, type ActiveJob, type Clock, type Executor, type GateClaim, type JobDefinition, type RunError, type RunGate, type RunLogger, type RunMode, type RunRecord, type RunStatus, type RunTrigger, type OptionRule } from "../contracts/index.js";
import { Attempt, toRunError } from "./attempt.js";
import { retryDelay } from "./retry-delay.js";
import { RunAbort } from "./run-abort.js";
import { IsoTimes } from "./iso-time.js";
import { newRunId } from "./run-id.js";

export interface DispatcherOptions {
  executors: Record<RunMode, Executor>;
  logger: Logger;
  clock: Clock;
  /** The environment name handed to handlers as `ctx.env`. */
  env: string;
  /** Called with every record: once when a run starts (`running`), once when it ends. */
  onRecord: (record: RunRecord) => void;
  /**
   * The logger an attempt's handler writes `ctx.log` to, in place of the run's own (which
   * keeps the runner's "run started/ended" lines): the runner keeps these lines with the run.
   * @default the run's logger
   */
  handlerLog?: (def: JobDefinition, runId: string, attempt: number, log: Logger) => RunLogger;
  /** How long a run may go on after its signal aborted before it is given up on. @default 2000 */
  abortGraceMs?: number;
  /**
   * Several replicas sharing a store: every fire and invoke is claimed through the gate
   * first, and runs only when this process won it. The gate's store then decides lateness
   * and `overlap: skip` for the whole group, so they are not decided here. @default none
   */
  gate?: RunGate;
}

const DEFAULTS = { abortGraceMs: SHARED_DEFAULTS.abortGraceMs } as const satisfies Partial<DispatcherOptions>;

const OPTION_RULES = {
  executors: "object",
  logger: "object",
  clock: "object",
  env: "string",
  onRecord: "function",
  handlerLog: "function",
  abortGraceMs: "ms",
  gate: "object",
} as const satisfies Record<keyof DispatcherOptions, OptionRule>;

/** `ctx.trigger` of a scheduled (or caught-up) run, and of an invoke: frozen, shared by every run. */
const BY_SCHEDULE: JobTrigger = Object.freeze({ kind: "schedule" });
const BY_INVOKE: JobTrigger = Object.freeze({ kind: "invoke" });

function causeOf(trigger: RunTrigger): JobTrigger {
  return trigger === "invoke" ? BY_INVOKE : BY_SCHEDULE;
}

/** The `ctx.trigger` of a run started by the end of `upstream` (its final record). */
export function afterTrigger(upstream: RunRecord): JobTrigger & { kind: "after" } {
  // Frozen: every run it starts shares it (an inline run gets a copy where it holds objects).
  return Object.freeze({ kind: "after", job: upstream.job, runId: upstream.runId, status: upstream.status as "ok", result: upstream.result ?? null, error: upstream.error });
}

/** A run to start under a claim made elsewhere (a retry taken over from another replica). */
interface ClaimedStart {
  runId: string;
  claim: GateClaim;
  firstAttempt?: number;
}

/**
 * A run in flight, as listed in its job's state from the moment its first attempt starts;
 * follow() takes it from there. It is its own abort (replace, shutdown, abortRun), which
 * the current attempt or backoff subscribes to: one object less for each run of a big fire.
 */
class LiveRun extends RunAbort {
  done!: Promise<RunRecord>;
  /** Set once its first attempt has started (undefined while it starts). */
  first!: Attempt;
  /** Its first attempt's "run started" is logged when it is followed (see begin). */
  startLogDeferred = false;

  constructor(
    readonly runId: string,
    readonly job: ActiveJob,
    readonly state: JobState,
    readonly fireDate: Date,
    readonly trigger: RunTrigger,
    readonly params: unknown,
    readonly claim: GateClaim | undefined,
    readonly attempt: number,
    readonly log: Logger,
    readonly cause: JobTrigger,
  ) {
    super();
  }
}

/** A fire waiting for a run of its job to end (`overlap: queue`). */
interface QueuedFire {
  job: ActiveJob;
  fireDate: Date;
  trigger: RunTrigger;
  cause: JobTrigger;
}

interface JobState {
  running: Map<string, LiveRun>;
  /** `overlap: queue`: fires waiting for a run to end, oldest first (one, or up to `concurrency`). */
  queued: QueuedFire[];
}

/**
 * Turns fires and invokes into runs: applies lateness and overlap, runs attempts with
 * timeout and retries on the job's executor, and reports a record at start and at end.
 * Runs never throw out of here: every outcome becomes a record.
 */
export class Dispatcher {
  private readonly states = new Map<string, JobState>();
  private readonly abortGraceMs: number;
  /** Scheduled times and start/end times kept apart, so the two do not evict each other. */
  private readonly scheduledTimes = new IsoTimes();
  private readonly runTimes = new IsoTimes();

  constructor(private readonly options: DispatcherOptions) {
    checkOptions("DispatcherOptions", options, OPTION_RULES, ["executors", "logger", "clock", "env", "onRecord"]);
    this.abortGraceMs = options.abortGraceMs ?? DEFAULTS.abortGraceMs;
  }

  /**
   * A scheduled fire (or a caught-up one, `trigger: "catch-up"`, exempt from lateness).
   * Resolves with the run's final record, or null when the fire was skipped or queued.
   */
  fire(job: ActiveJob, fireDate: Date, trigger: RunTrigger = "schedule"): Promise<RunRecord | null> {
    if (this.options.gate) return this.fireClaimed(job, fireDate, trigger, this.options.gate);
    return this.admit(job, fireDate, trigger, causeOf(trigger)) ? this.start(job, fireDate, trigger, job.def.params) : Promise.resolve(null);
  }

  /**
   * The runs of `jobs` started by the end of an upstream run (`after`), whose final record
   * is `upstream`. Overlap and concurrency apply as to a fire; lateness does not. As in
   * fireAll, every handler is started before any run's bookkeeping: one run that starts a
   * thousand others must not make the last wait behind the first 999's records.
   */
  afterAll(jobs: Iterable<ActiveJob>, upstream: RunRecord): void {
    const cause = afterTrigger(upstream);
    // The upstream's own scheduled time: the same on every replica that sees the run end
    // (part of its claim's key), and the date a pipeline's later steps are for.
    const fireDate = new Date(upstream.scheduledAt);
    const gate = this.options.gate;
    if (gate) {
      for (const job of jobs) void this.fireClaimed(job, fireDate, "after", gate, cause);
      return;
    }
    const started: LiveRun[] = [];
    try {
      for (const job of jobs) {
        if (this.admit(job, fireDate, "after", cause)) started.push(this.begin(job, fireDate, "after", job.def.params, undefined, true, cause));
      }
    } finally {
      for (const run of started) void this.follow(run);
    }
  }

  /**
   * The jobs of one scheduled fire, as fire() runs each, but every handler is started
   * before any run's bookkeeping (timers, records, the promises that follow it): when ten
   * thousand jobs share a second, the last handler starts without waiting behind the
   * others' bookkeeping and the collector pauses it causes.
   */
  fireAll(jobs: Iterable<ActiveJob>, fireDate: Date): void {
    const gate = this.options.gate;
    if (gate) {
      for (const job of jobs) void this.fireClaimed(job, fireDate, "schedule", gate);
      return;
    }
    const started: LiveRun[] = [];
    try {
      for (const job of jobs) {
        if (this.admit(job, fireDate, "schedule", BY_SCHEDULE)) started.push(this.begin(job, fireDate, "schedule", job.def.params, undefined, true));
      }
    } finally {
      // Even if a start threw, every run already started is followed to its end.
      for (const run of started) void this.follow(run);
    }
  }

  /** Lateness, overlap and concurrency: whether a fire starts now (else it was skipped, queued, or it replaces). */
  private admit(job: ActiveJob, fireDate: Date, trigger: RunTrigger, cause: JobTrigger): boolean {
    const { def } = job;
    const now = this.options.clock.now();
    if (trigger === "schedule" && now - fireDate.getTime() > def.latenessMs) {
      this.skip(def, fireDate, "late", trigger, `started ${now - fireDate.getTime()}ms after its scheduled time (lateness limit ${def.latenessMs}ms)`, "skipped", cause);
      return false;
    }
    const state = this.states.get(def.name);
    if (state && state.running.size > 0) {
      switch (def.overlap) {
        case "skip":
          this.skip(def, fireDate, "overlap", trigger, "the previous run is still going (overlap: skip)", "skipped", cause);
          return false;
        case "queue": {
          const bound = def.concurrency ?? 1;
          if (state.running.size < bound) break;
          if (state.queued.length >= bound) {
            const reason = def.concurrency === null ? "overlap" : "concurrency";
            this.skip(def, fireDate, reason, trigger, `${state.running.size} runs are going and ${state.queued.length} fires already wait (overlap: queue, concurrency: ${bound})`, "skipped", cause);
          } else {
            state.queued.push({ job, fireDate, trigger, cause });
          }
          return false;
        }
        case "replace":
          for (const run of state.running.values()) run.abort(new RunletError("JOB_CANCELLED", "replaced by a newer fire (overlap: replace)"));
          break;
        case "allow":
          if (def.concurrency !== null && state.running.size >= def.concurrency) {
            this.skip(def, fireDate, "concurrency", trigger, `${state.running.size} runs are going (overlap: allow, concurrency: ${def.concurrency})`, "skipped", cause);
            return false;
          }
          break;
      }
    }
    return true;
  }

  /** Runs a job now, whatever its schedule and overlap; resolves with the final record. */
  invoke(job: ActiveJob, params: unknown = job.def.params): Promise<RunRecord> {
    const fireDate = new Date(this.options.clock.now());
    const gate = this.options.gate;
    if (!gate) return this.start(job, fireDate, "invoke", params);
    return (async () => {
      const runId = newRunId();
      const claim = await gate.claim({ def: job.def, fireDate, trigger: "invoke", runId });
      if (!claim) throw new RunletError("STORE_WRITE", `could not claim an invoke of ${job.def.name} in the shared store; it did not run`);
      return this.start(job, fireDate, "invoke", params, { runId, claim });
    })();
  }

  /** Runs attempt `attempt` onward of a run this process took over (same run id). */
  resume(job: ActiveJob, run: { runId: string; fireDate: Date; trigger: RunTrigger; attempt: number; claim: GateClaim }): Promise<RunRecord> {
    return this.start(job, run.fireDate, run.trigger, job.def.params, { runId: run.runId, claim: run.claim, firstAttempt: run.attempt });
  }

  /** Aborts one run in flight (its `ctx.signal`); false when it is not running here. */
  abortRun(runId: string, reason: Error): boolean {
    for (const state of this.states.values()) {
      const run = state.running.get(runId);
      if (run) {
        run.abort(reason);
        return true;
      }
    }
    return false;
  }

  /** Runs in flight across every job. */
  get inFlight(): number {
    let n = 0;
    for (const state of this.states.values()) n += state.running.size;
    return n;
  }

  /** Drops waiting fires (recorded as cancelled) and waits up to `timeoutMs` for runs in flight. */
  async drain(timeoutMs: number): Promise<boolean> {
    for (const state of this.states.values()) {
      for (const queued of state.queued) this.skip(queued.job.def, queued.fireDate, "shutdown", queued.trigger, "the runner stopped before it could run", "cancelled", queued.cause);
      state.queued = [];
    }
    await null; // as in abortAll: every run started by a fire in progress is followed first
    const all = [...this.states.values()].flatMap((s) => [...s.running.values()].map((r) => r.done));
    if (all.length === 0) return true;
    let timer: unknown;
    const timedOut = new Promise<false>((resolve) => {
      timer = this.options.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([Promise.all(all).then(() => true as const), timedOut]);
    this.options.clock.clearTimeout(timer);
    return finished;
  }

  /** Aborts every run in flight (their `ctx.signal`) and waits for them to end. */
  async abortAll(reason: string): Promise<void> {
    const runs = [...this.states.values()].flatMap((s) => [...s.running.values()]);
    for (const run of runs) run.abort(new RunletError("JOB_CANCELLED", reason));
    // Called by a handler while fireAll starts a fire, the runs after it are followed (and
    // have `done`) only once that synchronous pass ends.
    await null;
    await Promise.all(runs.map((r) => r.done));
  }

  private state(name: string): JobState {
    let state = this.states.get(name);
    if (!state) this.states.set(name, (state = { running: new Map(), queued: [] }));
    return state;
  }

  private skip(def: JobDefinition, fireDate: Date, reason: string, trigger: RunTrigger, why: string, status: "skipped" | "cancelled" = "skipped", cause: JobTrigger = BY_SCHEDULE): void {
    const runId = newRunId();
    const scheduledAt = this.scheduledTimes.at(fireDate.getTime());
    this.options.logger.warn({ job: def.name, runId, scheduledAt, reason }, `run ${status}: ${why}`);
    const upstreamRunId = cause.kind === "after" ? cause.runId : null;
    this.options.onRecord({ runId, job: def.name, status, scheduledAt, startedAt: null, finishedAt: null, attempt: 0, error: null, result: null, reason, trigger, upstreamRunId });
  }

  /** A fire under a gate: run only if this process wins its claim. */
  private async fireClaimed(job: ActiveJob, fireDate: Date, trigger: RunTrigger, gate: RunGate, cause: JobTrigger = causeOf(trigger)): Promise<RunRecord | null> {
    const runId = newRunId();
    const upstreamRunId = cause.kind === "after" ? cause.runId : undefined;
    const claim = await gate.claim({ def: job.def, fireDate, trigger, runId, upstreamRunId });
    if (!claim) return null;
    // `replace` can only reach runs of this process; the claim does not hold other replicas' runs.
    if (job.def.overlap === "replace") {
      for (const run of this.state(job.def.name).running.values()) run.abort(new RunletError("JOB_CANCELLED", "replaced by a newer fire (overlap: replace)"));
    }
    return this.start(job, fireDate, trigger, job.def.params, { runId, claim }, cause);
  }

  private start(job: ActiveJob, fireDate: Date, trigger: RunTrigger, params: unknown, claimed?: ClaimedStart, cause: JobTrigger = causeOf(trigger)): Promise<RunRecord> {
    return this.follow(this.begin(job, fireDate, trigger, params, claimed, false, cause));
  }

  /**
   * Lists a run and starts its first attempt: an inline handler is running when this returns.
   * `deferStartLog`: the "run started" line is written when the run is followed (fireAll
   * starts every handler of a fire first; a line each, at info, took as long as the start).
   */
  private begin(job: ActiveJob, fireDate: Date, trigger: RunTrigger, params: unknown, claimed?: ClaimedStart, deferStartLog = false, cause: JobTrigger = causeOf(trigger)): LiveRun {
    const { def } = job;
    const state = this.state(def.name);
    const runId = claimed?.runId ?? newRunId();
    // A silent logger's child would be as silent: skip making one per run.
    const { logger } = this.options;
    const log = logger.levelVal === Infinity ? logger : logger.child({ job: def.name, runId });
    const run = new LiveRun(runId, job, state, fireDate, trigger, params, claimed?.claim, claimed?.firstAttempt ?? 1, log, cause);
    // Listed before its handler starts: what the handler does at once (abortRun of its own
    // id, a fire of its own job) sees it.
    state.running.set(runId, run);
    try {
      run.startLogDeferred = deferStartLog;
      run.first = this.beginAttempt(job, run, fireDate, run.attempt, params, log, !deferStartLog);
    } catch (err) {
      // Not followed, so nothing else would unlist it (or release its claim).
      state.running.delete(runId);
      claimed?.claim.release();
      throw err;
    }
    return run;
  }

  /** Everything after a run's handler started: its timeout, records, retries, and the fire queued behind it. */
  private follow(run: LiveRun): Promise<RunRecord> {
    const { state, claim } = run;
    run.done = this.runAttempts(run).finally(() => {
      claim?.release();
      state.running.delete(run.runId);
      const next = state.queued[0];
      if (next && state.running.size < (next.job.def.concurrency ?? 1)) {
        state.queued.shift();
        void this.start(next.job, next.fireDate, next.trigger, next.job.def.params, undefined, next.cause);
      }
    });
    return run.done;
  }

  private async runAttempts(run: LiveRun): Promise<RunRecord> {
    const { job, fireDate, trigger, params, log } = run;
    const { def } = job;
    const { clock, onRecord } = this.options;
    const startedAtMs = run.first.startedAtMs;
    const upstreamRunId = run.cause.kind === "after" ? run.cause.runId : null;
    // Every record of a run is built here, whole, with its fields in one order (the order
    // skip() uses too): one object shape for the store and listeners, where spreading a
    // shared base into each took several µs a record. The two fixed times are read once (and
    // shared with the other runs of the fire, see IsoTimes).
    let scheduledAt: string | undefined;
    let startedAt: string | undefined;
    const record = (status: RunStatus, attempt: number, finishedAt: string | null, error: RunError | null, result: unknown): RunRecord => ({
      runId: run.runId,
      job: def.name,
      status,
      scheduledAt: (scheduledAt ??= this.scheduledTimes.at(fireDate.getTime())),
      startedAt: (startedAt ??= this.runTimes.at(startedAtMs)),
      finishedAt,
      attempt,
      error,
      result,
      reason: null,
      trigger,
      upstreamRunId,
    });

    for (let attempt = run.attempt, begun = run.first; ; begun = this.beginAttempt(job, run, fireDate, ++attempt, params, log, true)) {
      if (begun === run.first && run.startLogDeferred) this.logStart(run, begun.attempt, begun.startedAtMs);
      const pending = this.settleAttempt(job, run, begun, log);
      // The handler has its run now (an inline one is already going; fireAll starts every
      // handler of a fire before it follows any run here), so its records wait for nothing.
      onRecord(record("running", attempt, null, null, null));
      const outcome = await pending;
      const endedAtMs = clock.now();
      // A thread run may have waited for a thread: its record starts when its handler did.
      if (begun === run.first && begun.handlerStartedAtMs !== null) startedAt = this.runTimes.at(begun.handlerStartedAtMs);
      const durationMs = endedAtMs - (begun.handlerStartedAtMs ?? begun.startedAtMs);
      const finishedAt = this.runTimes.at(endedAtMs);

      if (outcome.status === "ok") {
        if (log.isLevelEnabled("info")) log.info({ status: "ok", durationMs, attempt }, "run ended");
        const ended = record("ok", attempt, finishedAt, null, outcome.result ?? null);
        this.endWith(begun, ended);
        return ended;
      }
      const retryable = outcome.status !== "cancelled" && outcome.status !== "skipped" && !run.aborted && attempt <= def.retries.max;
      const level = retryable ? "warn" : "error";
      log[level]({ status: outcome.status, durationMs, attempt, err: outcome.error }, retryable ? "run attempt failed; will retry" : "run ended");
      if (!retryable) {
        const ended = record(outcome.status, attempt, finishedAt, outcome.error, null);
        if (outcome.status === "skipped") {
          // It waited for a worker thread past its lateness limit and never started.
          ended.reason = "late";
          ended.startedAt = null;
          ended.finishedAt = null;
        }
        this.endWith(begun, ended);
        return ended;
      }
      begun.retried = true;
      if (begun.pendingStray) log.error({ err: begun.pendingStray, attempt }, "the code of this attempt raised an error after it ended; the run is retried");
      await this.sleep(retryDelay(def.retries, attempt), run);
      // A claimed run retries only while this process still owns it; if not, the claim aborted it.
      if (run.claim && !run.aborted) await run.claim.beforeRetry(attempt + 1);
      if (run.aborted) {
        const ended = record("cancelled", attempt, finishedAt, toRunError(run.reason), null);
        onRecord(ended);
        return ended;
      }
    }
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
      log.error({ err: error, attempt: attempt.attempt }, final ? "the run's code raised an error after the run ended (already recorded as failed)" : "the code of an earlier attempt of this run raised an error after that attempt ended");
      return;
    }
    const amended: RunRecord = { ...final, status: "failed", error: toRunError(error) };
    attempt.final = amended;
    log.error({ err: error, attempt: attempt.attempt }, "the run's code raised an error after the run ended ok; the run is recorded as failed");
    this.options.onRecord(amended);
  };

  /** The run's last record: written, and charged with a stray error that came before it. */
  private endWith(begun: Attempt, ended: RunRecord): void {
    begun.final = ended;
    this.options.onRecord(ended);
    if (begun.pendingStray) this.strays(begun, begun.pendingStray);
  }

  /** Starts one try on the job's executor, synchronously: nothing is waited for here. */
  private beginAttempt(job: ActiveJob, run: LiveRun, fireDate: Date, attempt: number, params: unknown, log: Logger, logStart: boolean): Attempt {
    const { def } = job;
    const startedAtMs = this.options.clock.now();
    if (logStart) this.logStart(run, attempt, startedAtMs);
    // Without a timeout the attempt uses the run's signal; with one, its own, aborted by the
    // run (replace, shutdown) or by the timeout.
    const abort = def.timeoutMs === null ? run : new RunAbort();
    if (abort !== run && run.aborted) abort.abort(run.reason);
    const handlerLog = this.options.handlerLog ? this.options.handlerLog(def, run.runId, attempt, log) : log;
    // Only a scheduled fire's first try can be late (while it waits for a worker thread).
    const lateAfter = run.trigger === "schedule" && attempt === run.attempt ? fireDate.getTime() + def.latenessMs : null;
    const begun = new Attempt(def, job.modulePath, run.runId, fireDate, attempt, params, this.options.env, run.cause, abort, handlerLog, startedAtMs, this.strays, lateAfter);
    try {
      begun.execution = this.options.executors[def.mode].run(begun);
    } catch (error) {
      // An executor may start a handler in this tick: whatever it throws is this run's failure.
      begun.execution = Promise.reject(error);
    }
    return begun;
  }

  /** "run started", with the run's lateness: the first attempt's, also when a retry logs it. */
  private logStart(run: LiveRun, attempt: number, startedAtMs: number): void {
    // Checked first: the argument object costs a run of a silent logger ~60 bytes.
    if (!run.log.isLevelEnabled("info")) return;
    // An invoke, or a run after another, was not scheduled: it has no lateness.
    const latenessMs = run.trigger === "invoke" || run.trigger === "after" ? undefined : (run.first?.startedAtMs ?? startedAtMs) - run.fireDate.getTime();
    // The string, not the Date: pino serializes a Date through its slow path (~1.5 µs a line).
    const scheduledAt = this.scheduledTimes.at(run.fireDate.getTime());
    run.log.info({ scheduledAt, latenessMs, attempt, mode: run.job.def.mode }, "run started");
  }

  /** How a try ends: the executor's answer raced against the job's timeout and the run's aborts. */
  private async settleAttempt(
    job: ActiveJob,
    run: LiveRun,
    begun: Attempt,
    log: Logger,
  ): Promise<{ status: "ok"; result: unknown } | { status: "failed" | "timeout" | "cancelled" | "skipped"; error: RunError }> {
    const { def } = job;
    const { clock } = this.options;
    const abort = begun.aborts;
    // An inline handler cannot be killed: after an abort it gets a grace period, then the
    // run is recorded as ended while the handler may still be running.
    type Settled = { settled: true; ok: true; result: unknown } | { settled: true; ok: false; error: unknown } | { settled: false };
    let giveUp!: (outcome: Settled) => void;
    let graceTimer: unknown;
    const armGrace = () => {
      graceTimer ??= clock.setTimeout(() => giveUp({ settled: false }), this.abortGraceMs + (def.mode === "thread" ? 1000 : 0));
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
      log.warn({ graceMs: this.abortGraceMs }, "inline handler did not stop after its signal aborted; it cannot be terminated in the main thread: use `mode: thread` for handlers that may hang");
    }
    if (timedOut) return { status: "timeout", error: { message: `timed out after ${def.timeoutMs}ms`, code: "JOB_TIMEOUT" } };
    if (abort.aborted) return { status: "cancelled", error: toRunError(abort.reason) };
    if (!outcome.settled) return { status: "failed", error: { message: "run did not settle", code: "JOB_FAILED" } };
    if (outcome.ok) return { status: "ok", result: outcome.result };
    const error = toRunError(outcome.error);
    return { status: error.code === "JOB_LATE" ? "skipped" : "failed", error };
  }

  /** Waits `ms`, or less when the run is aborted meanwhile. */
  private sleep(ms: number, run: LiveRun): Promise<void> {
    const { clock } = this.options;
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
}

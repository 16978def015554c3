import type { JobTrigger } from "../context.js";
import { RunletError } from "../errors.js";
import { keptParams } from "../log/kept-params.js";
import { checkOptions, LOG_POLICY_DEFAULTS, type ActiveJob, type GateClaim, type JobDefinition, type RunGate, type RunRecord, type RunTrigger } from "../contracts/index.js";
import { DEFAULTS, OPTION_RULES, type DispatcherOptions } from "./dispatcher-options.js";
import { IsoTimes } from "./iso-time.js";
import { afterTrigger, BY_SCHEDULE, causeOf, LiveRun, type ClaimedStart, type JobState } from "./live-run.js";
import { admitFire, type SkipFire } from "./overlap-gate.js";
import { FireTimes } from "./fire-times.js";
import { AttemptRunner } from "./run-attempts.js";
import { newRunId } from "./run-id.js";
import { RunningRuns } from "./running-runs.js";
// Part of this module's exports before LiveRun and the options had modules of their own.
export { afterTrigger, type DispatcherOptions };

/**
 * Turns fires and invokes into runs: applies lateness and overlap, runs attempts with
 * timeout and retries on the job's executor, and reports a record at start and at end.
 * Runs never throw out of here: every outcome becomes a record.
 */
export class Dispatcher {
  private readonly states = new Map<string, JobState>();
  private readonly abortGraceMs: number;
  /** Scheduled times, shared with the attempts' records (which keep start/end times apart). */
  private readonly scheduledTimes = new IsoTimes();
  private readonly attempts: AttemptRunner;
  /** Fires claimed ahead wait here for their time. */
  private readonly fireTimes: FireTimes;
  /** Fires under a gate not yet started: being claimed, or claimed and waiting for their time. */
  private readonly opening = new Set<Promise<unknown>>();

  constructor(private readonly options: DispatcherOptions) {
    checkOptions("DispatcherOptions", options, OPTION_RULES, ["executors", "logger", "clock", "env", "onRecord"]);
    this.abortGraceMs = options.abortGraceMs ?? DEFAULTS.abortGraceMs;
    this.attempts = new AttemptRunner(options, this.abortGraceMs, this.scheduledTimes);
    this.fireTimes = new FireTimes(options.clock);
  }

  /**
   * A scheduled fire (or a caught-up one, `trigger: "catch-up"`, exempt from lateness).
   * Resolves with the run's final record, or null when the fire was skipped or queued.
   */
  fire(job: ActiveJob, fireDate: Date, trigger: RunTrigger = "schedule"): Promise<RunRecord | null> {
    if (this.options.gate) return this.fireClaimed(job, fireDate, trigger, this.options.gate);
    const state = this.admit(job, fireDate, trigger, causeOf(trigger));
    return state ? this.start(job, fireDate, trigger, job.def.params, undefined, causeOf(trigger), state) : Promise.resolve(null);
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
        const state = this.admit(job, fireDate, "after", cause);
        if (state) started.push(this.begin(job, fireDate, "after", job.def.params, undefined, true, cause, state));
      }
    } finally {
      for (const run of started) void this.follow(run);
    }
  }

  /**
   * The jobs of one scheduled fire, as fire() runs each, but every handler is started before any run's
   * bookkeeping (timers, records, the promises that follow it): when ten thousand jobs share a second,
   * the last handler starts without waiting behind the others' bookkeeping and the collector pauses it causes.
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
        const state = this.admit(job, fireDate, "schedule", BY_SCHEDULE);
        if (state) started.push(this.begin(job, fireDate, "schedule", job.def.params, undefined, true, BY_SCHEDULE, state));
      }
    } finally {
      // Even if a start threw, every run already started is followed to its end.
      for (const run of started) void this.follow(run);
    }
  }

  /** Lateness, overlap and concurrency: the job's state if the fire starts now (for begin(): one lookup a run), else null (skipped, queued, or it replaces). */
  private admit(job: ActiveJob, fireDate: Date, trigger: RunTrigger, cause: JobTrigger): JobState | null {
    const state = this.state(job.def.name);
    return admitFire(state, job, fireDate, trigger, cause, this.options.clock.now(), this.skipFire) ? state : null;
  }

  /** skip() for admitFire: made once, not a closure per fire. */
  private readonly skipFire: SkipFire = (def, date, reason, trig, why, status, c) => this.skip(def, date, reason, trig, why, status, c);

  /** Runs a job now, whatever its schedule and overlap; resolves with the final record. */
  invoke(job: ActiveJob, params: unknown = job.def.params): Promise<RunRecord> {
    const fireDate = new Date(this.options.clock.now());
    const gate = this.options.gate;
    if (!gate) return this.start(job, fireDate, "invoke", params);
    return (async () => {
      const runId = newRunId();
      const claim = await gate.claim({ def: job.def, fireDate, trigger: "invoke", runId });
      if (!claim || claim === "later") throw new RunletError("STORE_WRITE", `could not claim an invoke of ${job.def.name} in the shared store; it did not run`);
      return this.start(job, fireDate, "invoke", params, { runId, claim });
    })();
  }

  /**
   * Runs attempt `attempt` onward of a run this process took over (same run id). Its params
   * are its job's (only invokes have others, and an invoke is not retried elsewhere); a run
   * started by another's end gets the `ctx.trigger` its claim kept.
   */
  resume(job: ActiveJob, run: { runId: string; fireDate: Date; trigger: RunTrigger; attempt: number; claim: GateClaim; cause?: JobTrigger | null }): Promise<RunRecord> {
    return this.start(job, run.fireDate, run.trigger, job.def.params, { runId: run.runId, claim: run.claim, firstAttempt: run.attempt }, run.cause ?? causeOf(run.trigger));
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

  /** The job of a run in flight here, or null. */
  jobOfRun(runId: string): string | null {
    for (const state of this.states.values()) {
      const run = state.running.get(runId);
      if (run) return run.job.def.name;
    }
    return null;
  }

  /** Runs in flight across every job. */
  get inFlight(): number {
    let n = 0;
    for (const state of this.states.values()) n += state.running.size;
    return n;
  }

  /** Drops waiting fires (recorded as cancelled) and waits up to `timeoutMs` for claimed fires to start and for runs in flight to end. */
  async drain(timeoutMs: number): Promise<boolean> {
    for (const state of this.states.values()) {
      for (const queued of state.queued) this.skip(queued.job.def, queued.fireDate, "shutdown", queued.trigger, "the runner stopped before it could run", "cancelled", queued.cause);
      state.queued = [];
    }
    await null; // as in abortAll: every run started by a fire in progress is followed first
    if (this.opening.size === 0 && this.inFlight === 0) return true;
    let timer: unknown;
    const timedOut = new Promise<false>((resolve) => {
      timer = this.options.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    const settled = Promise.all(this.opening).then(() => Promise.all(this.runs().map((r) => r.done))).then(() => true as const);
    const finished = await Promise.race([settled, timedOut]);
    this.options.clock.clearTimeout(timer);
    return finished;
  }

  /** Aborts every run in flight (their `ctx.signal`), and those of fires claimed and starting meanwhile, and waits for them to end. */
  async abortAll(reason: string): Promise<void> {
    const aborted = new Set<LiveRun>();
    const abort = () => {
      for (const run of this.runs()) {
        if (!aborted.has(run)) run.abort(new RunletError("JOB_CANCELLED", reason));
        aborted.add(run);
      }
    };
    abort();
    // Called by a handler while fireAll starts a fire, the runs after it are followed (and
    // have `done`) only once that synchronous pass ends.
    await null;
    if (this.opening.size > 0) {
      await Promise.all(this.opening);
      abort();
    }
    await Promise.all([...aborted].map((r) => r.done));
  }

  private runs(): LiveRun[] {
    return [...this.states.values()].flatMap((s) => [...s.running.values()]);
  }

  private state(name: string): JobState {
    let state = this.states.get(name);
    if (!state) this.states.set(name, (state = { running: new RunningRuns(), queued: [] }));
    return state;
  }

  private skip(def: JobDefinition, fireDate: Date, reason: string, trigger: RunTrigger, why: string, status: "skipped" | "cancelled" = "skipped", cause: JobTrigger = BY_SCHEDULE): void {
    const runId = newRunId();
    const scheduledAt = this.scheduledTimes.at(fireDate.getTime());
    this.options.logger.warn({ job: def.name, runId, scheduledAt, reason }, `run ${status}: ${why}`);
    const upstreamRunId = cause.kind === "after" ? cause.runId : null;
    const params = keptParams(def.params, def.logs ?? LOG_POLICY_DEFAULTS);
    this.options.onRecord({ runId, job: def.name, status, scheduledAt, startedAt: null, finishedAt: null, attempt: 0, error: null, result: null, reason, trigger, upstreamRunId, params });
  }

  /**
   * A fire under a gate: run only if this process wins its claim. One handed over before its time (the scheduler's
   * lead) is claimed at once and started at its time; that of a job whose claim decides overlap (skip, queue) is
   * claimed again at its time when a run of it was live in the group then (the gate answers `"later"`): that run may
   * end first. A stop waits for every fire being claimed or waiting for its time (`opening`): what is claimed runs.
   */
  private fireClaimed(job: ActiveJob, fireDate: Date, trigger: RunTrigger, gate: RunGate, cause: JobTrigger = causeOf(trigger)): Promise<RunRecord | null> {
    const begun = this.claimThenBegin(job, fireDate, trigger, gate, cause);
    // Followed first: once `opening` settles, its run is listed with its `done`.
    const ran = begun.then((run) => (run ? this.follow(run) : null));
    const opening: Promise<unknown> = begun.catch(() => undefined).finally(() => this.opening.delete(opening));
    this.opening.add(opening);
    return ran;
  }

  private async claimThenBegin(job: ActiveJob, fireDate: Date, trigger: RunTrigger, gate: RunGate, cause: JobTrigger): Promise<LiveRun | null> {
    const at = fireDate.getTime();
    const runId = newRunId();
    const upstreamRunId = cause.kind === "after" ? cause.runId : undefined;
    let claim = await gate.claim({ def: job.def, fireDate, trigger, runId, upstreamRunId, cause, ahead: at > this.options.clock.now() });
    // A run of this skip/queue job was live when claimed ahead: its overlap is decided at the fire's time.
    if (claim === "later") claim = await this.fireTimes.until(at).then(() => gate.claim({ def: job.def, fireDate, trigger, runId, upstreamRunId, cause }));
    if (!claim || claim === "later") return null;
    return this.fireTimes.at(at, () => {
      // Waiting for its time, this process may have been paused past the claim's lease.
      if (!claim.startable()) {
        claim.release();
        return null;
      }
      // `replace` can only reach runs of this process; the claim does not hold other replicas' runs.
      if (job.def.overlap === "replace") {
        for (const run of this.state(job.def.name).running.values()) run.abort(new RunletError("JOB_CANCELLED", "replaced by a newer fire (overlap: replace)"));
      }
      return this.begin(job, fireDate, trigger, job.def.params, { runId, claim }, true, cause);
    });
  }

  private start(job: ActiveJob, fireDate: Date, trigger: RunTrigger, params: unknown, claimed?: ClaimedStart, cause: JobTrigger = causeOf(trigger), state?: JobState): Promise<RunRecord> {
    return this.follow(this.begin(job, fireDate, trigger, params, claimed, false, cause, state));
  }

  /**
   * Lists a run and starts its first attempt: an inline handler is running when this returns.
   * `deferStartLog`: the "run started" line is written when the run is followed (fireAll
   * starts every handler of a fire first; a line each, at info, took as long as the start).
   */
  private begin(job: ActiveJob, fireDate: Date, trigger: RunTrigger, params: unknown, claimed?: ClaimedStart, deferStartLog = false, cause: JobTrigger = causeOf(trigger), state = this.state(job.def.name)): LiveRun {
    const { def } = job;
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
      run.first = this.attempts.beginAttempt(job, run, fireDate, run.attempt, params, log, !deferStartLog);
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
    run.done = this.attempts.runAttempts(run, this.unlist);
    return run.done;
  }

  /** A run ended: its claim is released, it is unlisted, and the fire queued behind it starts. */
  private readonly unlist = (run: LiveRun): void => {
    const { state, claim } = run;
    claim?.release();
    state.running.delete(run.runId);
    const next = state.queued[0];
    if (next && state.running.size < (next.job.def.concurrency ?? 1)) {
      state.queued.shift();
      void this.start(next.job, next.fireDate, next.trigger, next.job.def.params, undefined, next.cause);
    }
  };
}

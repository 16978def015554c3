import { EventEmitter } from "node:events";
import { resolve } from "node:path";
import { AttachedParts, type AttachedJobs } from "./attach/attached-jobs.js";
import { type ActiveJob, type Clock, type Executor, type JobDefinition, type Manifest, type RunMode, type RunRecord, LOG_POLICY_DEFAULTS, systemClock } from "./contracts/index.js";
import { RunletError } from "./errors.js";
import { Dispatcher } from "./execute/dispatcher.js";
import { InlineExecutor } from "./execute/inline-executor.js";
import { emitRecord } from "./execute/record-events.js";
import { ThreadExecutor } from "./execute/thread-executor.js";
import { silentLogger, type Logger } from "./log/logger.js";
import { RunLogCapture } from "./log/run-log-capture.js";
import { resolveEnvironment } from "./manifest/index.js";
import { catchUpMissedFires, recoverAtStart } from "./recovery/start-recovery.js";
import { ReplicaLink } from "./recovery/replica-link.js";
import { ReloadPipeline, type ReloadResult } from "./reload/reload-pipeline.js";
import type { RunnerEvents, RunnerOptions } from "./runner-options.js";
import { Scheduler, type FireBatch } from "./schedule/index.js";
import { MemoryStore } from "./store/memory-store.js";
import { currentOwner } from "./store/owner.js";
import { storedRun, type RunStore } from "./store/run-store.js";
import type { FencedRun } from "./store/postgres/fire-claims.js";

export type { AttachedJobs } from "./attach/attached-jobs.js";
export type { ReloadResult } from "./reload/reload-pipeline.js";
export type { RunnerEvents, RunnerOptions } from "./runner-options.js";

/**
 * A runner: a handle over one manifest, its compiled handlers, the schedule and the runs.
 * Create it, `start()` it, `stop()` it (or `await using runner = createRunner(...)`).
 * This file only wires the stages together: reload/ loads and swaps jobs in, schedule/
 * fires them, execute/ runs them, store/ records them, recovery/ handles start-up and
 * the replica group.
 */
export class Runner extends EventEmitter<RunnerEvents> {
  readonly manifestPath: string;
  readonly env: string;
  readonly store: RunStore;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly dispatcher: Dispatcher;
  private readonly scheduler: Scheduler;
  private readonly executors: Record<RunMode, Executor>;
  private readonly active = new Map<string, ActiveJob>();
  private readonly pipeline: ReloadPipeline;
  private readonly replicas: ReplicaLink;
  private readonly attached = new AttachedParts();
  private readonly paused = new Set<string>();
  private readonly owner = currentOwner();
  private started = false;
  private stopping: Promise<void> | null = null;
  /** The `ctx.log` lines of runs in flight, kept with each run when it ends. */
  readonly runLogs: RunLogCapture;

  constructor(private readonly options: RunnerOptions = {}) {
    super();
    this.manifestPath = resolve(options.manifest ?? "jobs.yaml");
    this.env = resolveEnvironment(options.env);
    this.logger = options.logger ?? silentLogger();
    this.clock = options.clock ?? systemClock;
    this.store = options.store ?? new MemoryStore({ logger: this.logger, keepFor: (job) => this.historyKeep(job) });
    this.executors = {
      inline: options.executors?.inline ?? new InlineExecutor({ logger: this.logger }),
      thread: options.executors?.thread ?? new ThreadExecutor({ logger: this.logger, graceMs: options.abortGraceMs }),
    };
    this.replicas = new ReplicaLink({
      store: this.store,
      logger: this.logger,
      manifestPath: this.manifestPath,
      abortRun: (runId, reason) => this.dispatcher.abortRun(runId, reason),
      jobFor: (name) => (this.stopping ? null : (this.active.get(name) ?? null)),
      resume: (job, run, claim) => void this.dispatcher.resume(job, { runId: run.runId, fireDate: run.scheduledAt, trigger: run.trigger, attempt: run.attempt, claim }),
    });
    this.runLogs = new RunLogCapture({
      now: () => this.clock.now(),
      // Heard inside the handler's ctx.log call: a listener that throws must not fail the run.
      onLine: (line) => {
        try {
          this.emit("log", line);
        } catch (err) {
          this.logger.error({ err, runId: line.runId }, "a 'log' listener threw; the run goes on");
        }
      },
      onDropped: (job, count) => this.emit("log-dropped", { job, count }),
    });
    this.dispatcher = new Dispatcher({
      executors: this.executors,
      handlerLog: (def, runId, attempt, log) => this.runLogs.attempt(def.name, def.logs ?? LOG_POLICY_DEFAULTS, runId, attempt, log),
      logger: this.logger,
      clock: this.clock,
      env: this.env,
      abortGraceMs: options.abortGraceMs,
      onRecord: (record) => this.onRecord(record),
      gate: this.replicas.gate,
    });
    this.scheduler = new Scheduler({
      clock: this.clock,
      onFire: (batch) => this.onFire(batch),
      // A bug in dispatch must not stop the timer or the process: log it, keep firing.
      onError: (err, batch) => this.logger.error({ err, jobs: batch?.jobs, fireDate: batch?.fireDate }, "dispatching a fire failed"),
    });
    this.pipeline = new ReloadPipeline({
      manifestPath: this.manifestPath,
      env: this.env,
      logger: this.logger,
      watch: options.watch ?? false,
      active: this.active,
      scheduler: this.scheduler,
      executors: this.executors,
      paused: this.paused,
      isStarted: () => this.started,
      isStopping: () => this.stopping !== null,
      onApplied: (next) => this.replicas.publish(next.jobs),
      onResult: (result) => this.emit("reload", result),
    });
  }

  /** The manifest running now (the last good one). */
  get manifest(): Manifest {
    const current = this.pipeline.manifest;
    if (!current) throw new RunletError("BAD_INPUT", "the runner has not loaded its manifest yet: call start() or load()");
    return current;
  }

  /** Every job: the manifest's, then those of attached parts (class-based jobs). */
  get jobs(): JobDefinition[] {
    return this.attached.jobsAfter(this.pipeline.jobs);
  }

  /**
   * Runs jobs defined elsewhere (the class-based API's runtime) beside the manifest's: they
   * show up in `jobs`, `nextFireOf` and `inFlight`, and stop with the runner, before its
   * store closes. Returns a function that detaches the part again.
   */
  attach(part: AttachedJobs): () => void {
    return this.attached.add(part);
  }

  /** Runs in flight now. */
  get inFlight(): number {
    return this.dispatcher.inFlight + this.attached.inFlight;
  }

  /** When a job fires next, or null (invoke-only, disabled, or no fire left). */
  nextFireOf(job: string): Date | null {
    if (this.scheduler.has(job)) return this.scheduler.nextFireOf(job);
    return this.attached.nextFireOf(job) ?? null;
  }

  /** Loads and compiles the manifest without scheduling. Throws ManifestError on any problem. */
  async load(): Promise<Manifest> {
    if (this.pipeline.manifest) return this.pipeline.manifest;
    const result = await this.reload();
    if (result.error) throw result.error;
    return this.manifest;
  }

  /** Loads (if needed) and starts firing on schedule. */
  async start(): Promise<void> {
    if (this.options.watch) this.pipeline.startWatching();
    const result = await this.reload();
    if (!result.ok) {
      await this.pipeline.close();
      throw result.error;
    }
    await this.pipeline.watching;
    this.pipeline.preloadInline();
    const { paused, lost } = await recoverAtStart(this.store, this.pipeline.jobs, this.logger);
    for (const job of paused) this.paused.add(job);
    await this.replicas.join(this.pipeline.jobs);
    this.started = true;
    this.scheduler.start();
    // A run lost with the process before this one ended as `lost`: the jobs after its failure start now.
    for (const run of lost) this.startAfter(run);
    this.logger.info({ manifest: this.manifestPath, env: this.env, jobs: this.jobs.length, scheduled: this.scheduler.size }, "runner started");
    void catchUpMissedFires({ jobs: this.pipeline.jobs, store: this.store, logger: this.logger, now: new Date(this.clock.now()), fire: (name, fireDate) => this.fireMissed(name, fireDate) });
  }

  /** Whether a job is paused (persisted in the store; a paused job does not fire). */
  isPaused(job: string): boolean {
    return this.paused.has(job);
  }

  /** Pauses or resumes a job; persisted, so it holds across restarts. */
  async setPaused(job: string, paused: boolean): Promise<void> {
    if (!this.active.has(job)) throw new RunletError("JOB_UNKNOWN", `no job named "${job}"`);
    if (paused) this.paused.add(job);
    else this.paused.delete(job);
    this.logger.info({ job, paused }, paused ? "job paused" : "job resumed");
    await this.store.setJobState(job, { paused });
  }

  /** Ready to serve: a manifest is loaded and the store takes writes. */
  async isReady(): Promise<{ ready: boolean; reasons: string[] }> {
    const reasons: string[] = [];
    if (!this.pipeline.manifest) reasons.push("manifest not loaded");
    try {
      await this.store.history({ limit: 1 });
      if (this.store.pending() > 0) reasons.push(`store has ${this.store.pending()} unwritten records`);
    } catch (err) {
      reasons.push(`store unreachable: ${(err as Error).message}`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  /** Runs the store keeps for `job` (its `history.keep`); a store's `keepFor` option can ask this. */
  historyKeep(job: string): number {
    return this.active.get(job)?.def.historyKeep ?? 100;
  }

  /**
   * Reads the manifest again and applies what changed: added jobs scheduled, removed ones
   * cancelled (their runs in flight finish), changed ones rescheduled; handlers whose files
   * (or imports) are in `changedFiles` are rebuilt (all, when it is not given). An invalid
   * manifest or a handler that fails to compile changes nothing: the last good state keeps
   * running. Reloads run one at a time, in order.
   */
  reload(changedFiles?: string[]): Promise<ReloadResult> {
    return this.pipeline.reload(changedFiles);
  }

  /** Runs a job now and resolves with its final record (status ok, failed, timeout, ...). */
  invoke(name: string, params?: unknown): Promise<RunRecord> {
    // Not async: once loaded, an invoke goes straight to the dispatcher (an async function
    // and its await cost a busy caller ~1 KB of garbage per run).
    if (!this.pipeline.manifest) return this.load().then(() => this.invoke(name, params));
    const job = this.active.get(name);
    if (!job) return Promise.reject(new RunletError("JOB_UNKNOWN", `no job named "${name}" in ${this.manifestPath} (jobs: ${[...this.active.keys()].join(", ") || "none"})`));
    try {
      return this.dispatcher.invoke(job, params === undefined ? job.def.params : params);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Stops firing, lets runs in flight finish for up to `shutdownGraceMs`, then aborts the
   * rest (their `ctx.signal`) and closes the worker pool. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.scheduler.stop();
      this.replicas.stopReaping();
      const closing = this.pipeline.close();
      await this.attached.stop();
      await closing;
      const drained = await this.dispatcher.drain(this.options.shutdownGraceMs ?? 30_000);
      if (!drained) {
        this.logger.warn({ inFlight: this.dispatcher.inFlight }, "shutdown grace period over: aborting runs still in flight");
        await this.dispatcher.abortAll("the runner is shutting down");
      }
      await this.replicas.leave();
      await Promise.all(Object.values(this.executors).map((e) => e.close()));
      await this.pipeline.dispose();
      await this.store.close();
      if (this.started) this.logger.info({}, "runner stopped");
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private onFire(batch: FireBatch): void {
    const jobs: ActiveJob[] = [];
    for (const name of batch.jobs) {
      const job = this.active.get(name);
      if (job && !this.paused.has(name)) jobs.push(job);
    }
    try {
      this.dispatcher.fireAll(jobs, batch.fireDate);
    } finally {
      // After every job of the batch has started: bookkeeping must not delay the last start.
      for (const job of jobs) this.rememberFire(job.def.name, batch.fireDate);
    }
  }

  /** One caught-up fire; false once the job may no longer fire. */
  private async fireMissed(name: string, fireDate: Date): Promise<boolean> {
    const job = this.active.get(name);
    if (!job || this.stopping || this.paused.has(name)) return false;
    this.rememberFire(name, fireDate);
    await this.dispatcher.fire(job, fireDate, "catch-up");
    return true;
  }

  private onRecord(record: RunRecord): void {
    const stored: FencedRun = storedRun(record, this.owner);
    // A claimed run's records are written only while its claim still holds this fence.
    const fence = this.replicas.fenceOf(record.runId);
    if (fence !== undefined) stored.fence = fence;
    this.store.record(stored).catch((err: unknown) => {
      this.logger.error({ err, runId: record.runId }, "could not record a run");
    });
    emitRecord(this, record, this.logger);
    if (record.status !== "running") this.keepLogs(record.runId);
    if (record.status !== "running" && !this.pipeline.after.isEmpty) this.startAfter(record);
  }

  /** A run ended: its kept lines go to the store, queued behind its final record. */
  private keepLogs(runId: string): void {
    const logs = this.runLogs.end(runId);
    if (!logs) return;
    this.store.recordLogs(logs).catch((err: unknown) => {
      this.logger.error({ err, runId }, "could not keep a run's log lines");
    });
    this.emit("logs", logs);
  }

  /**
   * Starts the jobs that run after the run that ended as `record` (its final attempt: a
   * retry is not an end). Only while the runner is started: `runlet invoke` runs one job.
   * A disabled or paused downstream job is not started, as it would not fire.
   */
  private startAfter(record: RunRecord): void {
    if (!this.started || this.stopping) return;
    for (const name of this.pipeline.after.startedBy(record)) {
      const job = this.active.get(name);
      if (!job || !job.def.enabled || this.paused.has(name)) continue;
      this.dispatcher.after(job, record).catch((err: unknown) => {
        this.logger.error({ err, job: name, upstream: record.job, upstreamRunId: record.runId }, "starting a job after its upstream run failed");
      });
    }
  }

  /** The last fire time per job, for catch-up after a restart. Batched by the store. */
  private rememberFire(job: string, fireDate: Date): void {
    this.store.setJobState(job, { lastFireAt: fireDate }).catch((err: unknown) => {
      this.logger.error({ err, job }, "could not record the last fire time");
    });
  }
}

export function createRunner(options: RunnerOptions = {}): Runner {
  return new Runner(options);
}

import { EventEmitter } from "node:events";
import { dirname, join, resolve } from "node:path";
import { checkOptions, historyKeepOf, systemClock, type JobDefinition, type Manifest, type RunLogs, type RunRecord } from "./contracts/index.js";
import { AfterChains } from "./core/after-chains.js";
import { relayCoreEvents, teller, type Tell } from "./core/event-relay.js";
import { invokeJob, setJobPaused } from "./core/job-actions.js";
import { liveLogsOf } from "./core/live-logs.js";
import { readiness } from "./core/readiness.js";
import { RunCore } from "./core/run-core.js";
import { reportStarted } from "./core/started-report.js";
import { RunletError } from "./errors.js";
import { InlineExecutor } from "./execute/inline-executor.js";
import { ThreadExecutor } from "./execute/thread-executor.js";
import { createLogger, type Logger } from "./log/logger.js";
import type { RunLogCapture } from "./log/run-log-capture.js";
import { resolveEnvironment } from "./manifest/index.js";
import { catchUpMissedFires, recoverAtStart } from "./recovery/start-recovery.js";
import { ReloadPipeline, type ReloadResult } from "./reload/reload-pipeline.js";
import { RUNNER_DEFAULTS, RUNNER_OPTION_RULES, type RunnerEvents, type RunnerOptions } from "./runner-options.js";
import { SqliteStore } from "./store/sqlite-store.js";
import type { RunStore } from "./store/run-store.js";

export type { ReloadResult } from "./reload/reload-pipeline.js";
export { RUNNER_DEFAULTS, type RunnerEvents, type RunnerOptions } from "./runner-options.js";

/**
 * A runner: a handle over one manifest, its compiled handlers, the schedule and the runs.
 * Create it, `start()` it, `stop()` it (or `await using runner = createRunner(...)`).
 * This file only creates the stages and wires them together: reload/ loads the manifest
 * and swaps its jobs into the core (core/: one timer heap, dispatcher, pool, claim gate
 * and record path, shared with class jobs), recovery/ handles start-up.
 */
export class Runner extends EventEmitter<RunnerEvents> {
  readonly manifestPath: string;
  readonly env: string;
  readonly store: RunStore;
  /** The runtime the manifest's jobs run on; class jobs beside this runner run on it too (ClassicRuntime). */
  readonly core: RunCore;
  private readonly logger: Logger;
  private readonly pipeline: ReloadPipeline;
  private readonly tell: Tell<RunnerEvents>;
  private readonly afterChains: AfterChains;
  private started = false;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: RunnerOptions = {}) {
    super();
    checkOptions("RunnerOptions", options, RUNNER_OPTION_RULES);
    this.manifestPath = resolve(options.manifest ?? RUNNER_DEFAULTS.manifest);
    this.env = resolveEnvironment(options.env);
    this.logger = options.logger ?? createLogger();
    this.tell = teller(this as EventEmitter, this.logger);
    this.store = options.store ?? new SqliteStore(join(dirname(this.manifestPath), ".runlet", "runs.db"), { logger: this.logger, keepFor: (job) => this.historyKeep(job) });
    this.core = new RunCore({
      env: this.env,
      logger: this.logger,
      clock: options.clock ?? systemClock,
      store: this.store,
      executors: {
        inline: options.executors?.inline ?? new InlineExecutor({ logger: this.logger }),
        thread: options.executors?.thread ?? new ThreadExecutor({ logger: this.logger, graceMs: options.abortGraceMs }),
      },
      abortGraceMs: options.abortGraceMs,
      manifestPath: this.manifestPath,
    });
    this.afterChains = new AfterChains({ core: this.core, after: () => this.pipeline.after, isLive: () => this.started && !this.stopping, logger: this.logger });
    relayCoreEvents(this.core, this as EventEmitter, { tell: this.tell, logger: this.logger, onEnded: (record) => this.afterChains.start(record) });
    // Another replica's run, lost for good: what runs after its failure starts (claimed once in the group).
    this.core.on("lost", (record) => this.afterChains.start(record));
    this.pipeline = new ReloadPipeline({
      manifestPath: this.manifestPath,
      env: this.env,
      logger: this.logger,
      watch: options.watch ?? RUNNER_DEFAULTS.watch,
      active: this.core.active,
      scheduler: this.core.scheduler,
      executors: this.core.executors,
      paused: this.core.paused,
      isStarted: () => this.started,
      isStopping: () => this.stopping !== null,
      onApplied: (next) => this.core.publish(next.jobs),
      onResult: (result) => {
        this.tell("reload", result);
        this.tell(result.ok ? "reload-applied" : "reload-refused", result);
      },
    });
  }

  /** The manifest running now (the last good one). */
  get manifest(): Manifest {
    const current = this.pipeline.manifest;
    if (!current) throw new RunletError("BAD_INPUT", "the runner has not loaded its manifest yet: call start() or load()");
    return current;
  }

  /** The `ctx.log` lines of runs in flight, kept with each run when it ends. */
  get runLogs(): RunLogCapture {
    return this.core.runLogs;
  }

  /** The lines kept so far of a run in flight here; null when it is not (read the store). */
  liveLogs(runId: string): RunLogs | null {
    return liveLogsOf(this.core, runId);
  }

  /** Every job: the manifest's, then those defined in code beside it (class jobs). */
  get jobs(): JobDefinition[] {
    const hosted = this.core.hostedJobs;
    return hosted.length === 0 ? this.pipeline.jobs : [...this.pipeline.jobs, ...hosted];
  }

  /** Runs in flight now. */
  get inFlight(): number {
    return this.core.dispatcher.inFlight;
  }

  /** When a job fires next, or null (invoke-only, disabled, or no fire left). */
  nextFireOf(job: string): Date | null {
    return this.core.nextFireOf(job);
  }

  /** Loads and compiles the manifest without scheduling. Throws ManifestError on any problem. */
  async load(): Promise<Manifest> {
    if (this.pipeline.manifest) return this.pipeline.manifest;
    const result = await this.reload();
    if (result.error) throw result.error;
    return this.manifest;
  }

  /** Loads (if needed), recovers what a dead process left, and starts firing on schedule. */
  async start(): Promise<void> {
    await this.pipeline.start();
    const { paused, lost } = await recoverAtStart(this.store, this.pipeline.jobs, this.logger);
    for (const job of paused) this.core.paused.add(job);
    await this.core.start(this.pipeline.jobs);
    this.started = true;
    // A run lost with the process before this one ended as `lost`: the jobs after its failure start now.
    for (const run of lost) this.afterChains.start(run);
    const { core, manifestPath: manifest, env, logger } = this;
    this.tell("started", reportStarted({ manifest, env, jobs: this.jobs, scheduled: core.scheduler.size, nextFireOf: (job) => this.nextFireOf(job), logger }));
    void catchUpMissedFires({ jobs: this.pipeline.jobs, store: this.store, logger, now: new Date(core.clock.now()), fire: (name, fireDate) => core.fireMissed(name, fireDate) });
  }

  /** Whether a job is paused (persisted in the store; a paused job does not fire). */
  isPaused(job: string): boolean {
    return this.core.paused.has(job);
  }

  /** Pauses or resumes a job; persisted, so it holds across restarts. */
  setPaused(job: string, paused: boolean): Promise<void> {
    return setJobPaused(this.core, job, paused);
  }

  /** Ready to serve: a manifest is loaded and the store takes writes. */
  isReady(): Promise<{ ready: boolean; reasons: string[]; warnings: string[] }> {
    return readiness(this.store, this.pipeline.manifest !== null, () => this.pipeline.freshness.warnings());
  }

  /** Runs the store keeps for `job` (its `history.keep`); a store's `keepFor` option can ask this. */
  historyKeep(job: string): number {
    return historyKeepOf(this.core.jobOf(job)?.def);
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
    // Not async (see invokeJob): only the first invoke of an unloaded runner waits for the load.
    if (!this.pipeline.manifest) return this.load().then(() => this.invoke(name, params));
    return invokeJob(this.core, this.manifestPath, name, params);
  }

  /**
   * Stops firing, lets runs in flight finish for up to `shutdownGraceMs`, then aborts the
   * rest (their `ctx.signal`) and closes the worker pool. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.core.beginStop();
      await this.pipeline.close();
      await this.core.finishStop(this.options.shutdownGraceMs ?? RUNNER_DEFAULTS.shutdownGraceMs);
      await this.pipeline.dispose();
      if (this.started) this.logger.info({ event: "stopped" }, "runner stopped");
      this.tell("stopped");
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export function createRunner(options: RunnerOptions = {}): Runner {
  return new Runner(options);
}

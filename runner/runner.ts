import { EventEmitter } from "node:events";
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { HandlerCompiler, type CompiledHandler } from "./compile/index.js";
import { ManifestError, RunletError } from "./errors.js";
import { Dispatcher } from "./execute/dispatcher.js";
import { InlineExecutor } from "./execute/inline-executor.js";
import { emitRecord } from "./execute/record-events.js";
import { ThreadExecutor } from "./execute/thread-executor.js";
import { silentLogger, type Logger } from "./log/logger.js";
import { loadManifest, resolveEnvironment } from "./manifest/index.js";
import { Scheduler, type FireBatch } from "./schedule/index.js";
import { describeDiff, diffJobs, type ManifestDiff } from "./reload/diff-jobs.js";
import { ProjectWatcher } from "./watch/project-watcher.js";
import { MemoryStore } from "./store/memory-store.js";
import { storedRun, type RunStore } from "./store/run-store.js";
import { missedFires } from "./recovery/missed-fires.js";
import { currentOwner, ownerIsGone } from "./store/owner.js";
import { handlerPathsIn } from "./watch/wanted-files.js";
import { ClaimedRuns } from "./store/postgres/claimed-runs.js";
import { fireClaimsOf, type AcquiredRun, type FencedRun } from "./store/postgres/fire-claims.js";
import { type ActiveJob, type Clock, type Executor, type GateClaim, type JobDefinition, type Manifest, type RunMode, type RunRecord, systemClock } from "./contracts/index.js";

export interface RunnerOptions {
  /** The manifest file. @default "./jobs.yaml" */
  manifest?: string;
  /** The environment `enabled` is read for. @default --env, RUNLET_ENV, NODE_ENV, "development" */
  env?: string;
  /** @default a logger that drops everything */
  logger?: Logger;
  /** Time source for timers; tests inject a fake one. @default the system clock */
  clock?: Clock;
  /** How long `stop()` waits for runs in flight before aborting them. @default 30000 */
  shutdownGraceMs?: number;
  /** How long an aborted run may go on before it is terminated (thread) or given up on (inline). @default 2000 */
  abortGraceMs?: number;
  /** Hot reload: watch the manifest and handlers (and their imports) and apply edits live. @default false */
  watch?: boolean;
  /** Where runs are recorded. The runner closes it on stop. @default an in-memory store */
  store?: RunStore;
  /** Executors by mode, for tests and embedding. @default inline + a worker-thread pool */
  executors?: Partial<Record<RunMode, Executor>>;
}

/** Jobs run by another part beside the runner (see `Runner.attach`). */
export interface AttachedJobs {
  readonly jobs: JobDefinition[];
  nextFireOf(job: string): Date | null;
  readonly inFlight: number;
  stop(): Promise<void>;
}

export interface RunnerEvents {
  /** Every run record: when a run starts and when it ends (and skipped fires). */
  record: [RunRecord];
  /** A reload was applied (or refused: `error` set, the last good manifest kept). */
  reload: [ReloadResult];
}

export interface ReloadResult {
  ok: boolean;
  diff: ManifestDiff | null;
  /** Handler files whose compiled module changed. */
  rebuilt: string[];
  durationMs: number;
  error?: ManifestError | RunletError;
}

/** Worker pools are replaced once reloads pause this long, or after this many reloads (see recycleThreads). */
const RECYCLE_QUIET_MS = 1000;
const RECYCLE_AFTER_RELOADS = 20;

/**
 * A runner: a handle over one manifest, its compiled handlers, the schedule and the runs.
 * Create it, `start()` it, `stop()` it (or `await using runner = createRunner(...)`).
 */
export class Runner extends EventEmitter<RunnerEvents> {
  readonly manifestPath: string;
  readonly env: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private compiler: HandlerCompiler | null = null;
  private readonly dispatcher: Dispatcher;
  private readonly scheduler: Scheduler;
  private readonly executors: Record<RunMode, Executor>;
  private readonly active = new Map<string, ActiveJob>();
  private current: Manifest | null = null;
  private attached: AttachedJobs[] = [];
  private compiled = new Map<string, CompiledHandler>();
  private reloading: Promise<void> = Promise.resolve();
  /** A replacement of the worker pools waiting for reloads to pause (see recycleThreads). */
  private recycleTimer: NodeJS.Timeout | undefined;
  private reloadsSinceRecycle = 0;
  private watcher: ProjectWatcher | null = null;
  private readonly paused = new Set<string>();
  private readonly owner = currentOwner();
  readonly store: RunStore;
  /** Several replicas share the store: each fire is claimed first. Null for single-process stores. */
  private readonly replicas: ClaimedRuns | null;
  private started = false;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: RunnerOptions = {}) {
    super();
    this.manifestPath = resolve(options.manifest ?? "jobs.yaml");
    this.env = resolveEnvironment(options.env);
    this.logger = options.logger ?? silentLogger();
    this.clock = options.clock ?? systemClock;
    this.store = options.store ?? new MemoryStore({ logger: this.logger, keepFor: (job) => this.historyKeep(job) });
    this.executors = {
      inline: options.executors?.inline ?? new InlineExecutor(),
      thread: options.executors?.thread ?? new ThreadExecutor({ logger: this.logger, graceMs: options.abortGraceMs }),
    };
    const claiming = fireClaimsOf(this.store);
    this.replicas = claiming
      ? new ClaimedRuns({ store: claiming, logger: this.logger, abortRun: (runId, reason) => this.dispatcher.abortRun(runId, reason), resume: (run, claim) => this.resume(run, claim) })
      : null;
    this.dispatcher = new Dispatcher({
      executors: this.executors,
      logger: this.logger,
      clock: this.clock,
      env: this.env,
      abortGraceMs: options.abortGraceMs,
      onRecord: (record) => this.onRecord(record),
      gate: this.replicas ?? undefined,
    });
    this.scheduler = new Scheduler({
      clock: this.clock,
      onFire: (batch) => this.onFire(batch),
      // A bug in dispatch must not stop the timer or the process: log it, keep firing.
      onError: (err, batch) => this.logger.error({ err, jobs: batch?.jobs, fireDate: batch?.fireDate }, "dispatching a fire failed"),
    });
  }

  /** The manifest running now (the last good one). */
  get manifest(): Manifest {
    if (!this.current) throw new RunletError("BAD_INPUT", "the runner has not loaded its manifest yet: call start() or load()");
    return this.current;
  }

  private get manifestJobs(): JobDefinition[] {
    return this.current?.jobs ?? [];
  }

  /** Every job: the manifest's, then those of attached parts (class-based jobs). */
  get jobs(): JobDefinition[] {
    const own = this.current?.jobs ?? [];
    return this.attached.length === 0 ? own : [...own, ...this.attached.flatMap((part) => part.jobs)];
  }

  /**
   * Runs jobs defined elsewhere (the class-based API's runtime) beside the manifest's: they
   * show up in `jobs`, `nextFireOf` and `inFlight`, and stop with the runner, before its
   * store closes. Returns a function that detaches the part again.
   */
  attach(part: AttachedJobs): () => void {
    this.attached.push(part);
    return () => {
      this.attached = this.attached.filter((p) => p !== part);
    };
  }

  /** Runs in flight now. */
  get inFlight(): number {
    return this.dispatcher.inFlight + this.attached.reduce((n, part) => n + part.inFlight, 0);
  }

  /** When a job fires next, or null (invoke-only, disabled, or no fire left). */
  nextFireOf(job: string): Date | null {
    if (this.scheduler.has(job)) return this.scheduler.nextFireOf(job);
    for (const part of this.attached) if (part.jobs.some((j) => j.name === job)) return part.nextFireOf(job);
    return null;
  }

  /** Loads and compiles the manifest without scheduling. Throws ManifestError on any problem. */
  async load(): Promise<Manifest> {
    if (this.current) return this.current;
    const result = await this.reload();
    if (result.error) throw result.error;
    return this.manifest;
  }

  /** Loads (if needed) and starts firing on schedule. */
  async start(): Promise<void> {
    if (this.options.watch) {
      this.watcher = new ProjectWatcher({ logger: this.logger, onChange: (files) => void this.reload(files) });
    }
    const result = await this.reload();
    if (!result.ok) {
      await this.watcher?.close();
      throw result.error;
    }
    await this.watcher?.ready;
    this.preloadInline(this.active.values());
    await this.recover();
    await this.replicas?.join(this.manifestGeneration(), this.manifestJobs);
    this.started = true;
    this.scheduler.start();
    this.logger.info({ manifest: this.manifestPath, env: this.env, jobs: this.jobs.length, scheduled: this.scheduler.size }, "runner started");
    void this.catchUp(new Date(this.clock.now()));
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
    if (!this.current) reasons.push("manifest not loaded");
    try {
      await this.store.history({ limit: 1 });
      if (this.store.pending() > 0) reasons.push(`store has ${this.store.pending()} unwritten records`);
    } catch (err) {
      reasons.push(`store unreachable: ${(err as Error).message}`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  /** Start-up: runs a dead process left `running` become `lost`; paused jobs are read back. */
  private async recover(): Promise<void> {
    // Before this process starts any run, a record owned by its own pid is an earlier
    // process's (pid 1 in a restarted container).
    const lost = await this.store.reapLost((owner) => ownerIsGone(owner, { selfIsGone: true }));
    for (const run of lost) this.logger.warn({ job: run.job, runId: run.runId, scheduledAt: run.scheduledAt }, "run lost: the process running it is gone");
    for (const job of this.manifestJobs) if ((await this.store.jobState(job.name)).paused) this.paused.add(job.name);
  }

  /** Fires missed while no runner was up, per each job's catchUp policy, oldest first. */
  private async catchUp(now: Date): Promise<void> {
    await Promise.all(
      this.manifestJobs.map(async (def) => {
        if (def.catchUp === "none") return;
        const { fires, dropped } = missedFires(def, (await this.store.jobState(def.name)).lastFireAt, now);
        if (fires.length === 0) return;
        this.logger.info({ job: def.name, missed: fires.length, dropped, policy: def.catchUp }, "catching up missed fires");
        for (const fire of fires) {
          const job = this.active.get(def.name);
          if (!job || this.stopping || this.paused.has(def.name)) return;
          this.rememberFire(def.name, fire);
          await this.dispatcher.fire(job, fire, "catch-up");
        }
      }),
    );
  }

  private onRecord(record: RunRecord): void {
    const stored: FencedRun = storedRun(record, this.owner);
    // A claimed run's records are written only while its claim still holds this fence.
    const fence = this.replicas?.fenceOf(record.runId);
    if (fence !== undefined) stored.fence = fence;
    this.store.record(stored).catch((err: unknown) => {
      this.logger.error({ err, runId: record.runId }, "could not record a run");
    });
    emitRecord(this, record, this.logger);
  }

  /** The last fire time per job, for catch-up after a restart. Batched by the store. */
  private rememberFire(job: string, fireDate: Date): void {
    this.store.setJobState(job, { lastFireAt: fireDate }).catch((err: unknown) => {
      this.logger.error({ err, job }, "could not record the last fire time");
    });
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
    const next = this.reloading.then(() => this.reloadNow(changedFiles));
    this.reloading = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async reloadNow(changedFiles: string[] | undefined): Promise<ReloadResult> {
    const began = performance.now();
    let result: ReloadResult;
    try {
      const next = loadManifest(this.manifestPath, { env: this.env });
      const { compiled, rebuilt } = await this.compileChanged(next, changedFiles);
      const diff = diffJobs(this.current?.jobs ?? [], next.jobs);
      const replacedModules = this.apply(next, compiled, diff);
      if (replacedModules.some((job) => job.def.mode === "thread")) this.recycleThreads();
      if (this.started) this.preloadInline(this.active.values());
      if (this.started) await this.replicas?.publish(this.manifestGeneration(), next.jobs);
      result = { ok: true, diff, rebuilt, durationMs: performance.now() - began };
      if (this.started || this.options.watch) this.logger.info({ ...diff, rebuilt: rebuilt.length, durationMs: round(result.durationMs) }, `reloaded: ${describeDiff(diff, rebuilt.length)}`);
    } catch (err) {
      const error = err instanceof RunletError ? err : new RunletError("BAD_INPUT", String(err), { cause: err });
      result = { ok: false, diff: null, rebuilt: [], durationMs: performance.now() - began, error };
      if (this.current) this.logger.error({ code: error.code }, `reload refused; the last good manifest and build keep running:\n${error.message}`);
    }
    this.watcher?.update(this.watchedFiles());
    this.emit("reload", result);
    return result;
  }

  /** Runs a job now and resolves with its final record (status ok, failed, timeout, ...). */
  invoke(name: string, params?: unknown): Promise<RunRecord> {
    // Not async: once loaded, an invoke goes straight to the dispatcher (an async function
    // and its await cost a busy caller ~1 KB of garbage per run).
    if (!this.current) return this.load().then(() => this.invoke(name, params));
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
      clearTimeout(this.recycleTimer);
      this.replicas?.stopReaping();
      await Promise.all(this.attached.map((part) => part.stop()));
      await this.watcher?.close();
      const drained = await this.dispatcher.drain(this.options.shutdownGraceMs ?? 30_000);
      if (!drained) {
        this.logger.warn({ inFlight: this.dispatcher.inFlight }, "shutdown grace period over: aborting runs still in flight");
        await this.dispatcher.abortAll("the runner is shutting down");
      }
      await this.replicas?.leave();
      await Promise.all(Object.values(this.executors).map((e) => e.close()));
      await this.compiler?.dispose();
      await this.store.close();
      if (this.started) this.logger.info({}, "runner stopped");
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Compiles new handlers and those touched by `changedFiles`; reuses the rest. */
  private async compileChanged(manifest: Manifest, changedFiles: string[] | undefined): Promise<{ compiled: Map<string, CompiledHandler>; rebuilt: string[] }> {
    const compiler = (this.compiler ??= new HandlerCompiler({ root: manifest.root }));
    const changed = changedFiles && new Set(changedFiles);
    const handlers = [...new Set(manifest.jobs.map((j) => j.handlerPath))];
    const stale = handlers.filter((h) => {
      const known = this.compiled.get(h);
      return !known || !changed || known.inputs.some((input) => changed.has(input));
    });
    const { compiled, problems } = await compiler.compileAll(stale);
    if (problems.length > 0) throw new ManifestError(problems);
    const result = new Map(handlers.map((h) => [h, compiled.get(h) ?? this.compiled.get(h)!]));
    const rebuilt = stale.filter((h) => compiled.get(h)?.modulePath !== this.compiled.get(h)?.modulePath);
    this.compiled = result;
    return { compiled: result, rebuilt };
  }

  /** Swaps in the new jobs; returns those whose module changed. Runs in flight keep theirs. */
  private apply(next: Manifest, compiled: Map<string, CompiledHandler>, diff: ManifestDiff): ActiveJob[] {
    const replaced: ActiveJob[] = [];
    // A set, not Array.includes: at 100,000 added jobs the scan was quadratic (28 s vs 11 s).
    const toSchedule = new Set([...diff.rescheduled, ...diff.added]);
    for (const name of diff.removed) {
      this.scheduler.remove(name);
      this.active.delete(name);
    }
    for (const job of next.jobs) {
      const active = { def: job, modulePath: compiled.get(job.handlerPath)!.modulePath };
      const before = this.active.get(job.name);
      if (before && before.modulePath !== active.modulePath) replaced.push(active);
      this.active.set(job.name, active);
      if (toSchedule.has(job.name)) {
        if (job.enabled && job.schedule) this.scheduler.add(job.name, job.schedule);
        else this.scheduler.remove(job.name);
      }
    }
    this.current = next;
    return replaced;
  }

  /**
   * Scheduled inline handlers (not paused) are imported once the runner starts (and after each reload),
   * so their first fire does not wait for the import: 1,000 jobs on one schedule otherwise
   * start their first second ~50 ms late. Invoke-only jobs load when invoked.
   */
  private preloadInline(jobs: Iterable<ActiveJob>): void {
    if (this.stopping) return;
    const modules = new Set<string>();
    for (const { def, modulePath } of jobs) {
      if (def.mode === "inline" && def.enabled && def.schedule && !this.paused.has(def.name)) modules.add(modulePath);
    }
    for (const modulePath of modules) this.executors.inline.preload?.(modulePath);
  }

  /**
   * Workers cache every module they import: new runs go to fresh workers, old ones close
   * once their runs end. Not awaited: a long run must not hold up this reload or the next.
   */
  private recycleThreads(): void {
    // Not at once: until the pool is replaced, its workers import the new module on their
    // next run (~15 ms) instead of that run waiting for a new worker to boot (~50 ms). The
    // pool is replaced once reloads pause for a second (a formatter or a branch switch gets
    // one new pool, not one per file), or after 20 reloads without a pause, which bounds
    // the stale modules a worker can hold.
    clearTimeout(this.recycleTimer);
    // A reload still finishing while the runner stops: its pools are being closed anyway.
    if (this.stopping) return;
    if (++this.reloadsSinceRecycle >= RECYCLE_AFTER_RELOADS) this.recycleNow();
    else this.recycleTimer = setTimeout(() => this.recycleNow(), RECYCLE_QUIET_MS).unref();
  }

  private recycleNow(): void {
    clearTimeout(this.recycleTimer);
    this.recycleTimer = undefined;
    this.reloadsSinceRecycle = 0;
    const thread = this.executors.thread as Executor & { recycle?: () => Promise<void> };
    void thread.recycle?.();
  }

  /** The manifest, every local file each handler imports, and handler files not there yet. */
  private watchedFiles(): string[] {
    const files = new Set<string>([this.manifestPath, ...handlerPathsIn(this.manifestPath)]);
    for (const compiled of this.compiled.values()) for (const input of compiled.inputs) files.add(input);
    return [...files];
  }

  /** A run another replica lost, taken over here for its next attempt (same run id). */
  private resume(run: AcquiredRun, claim: GateClaim): void {
    const job = this.active.get(run.job);
    if (!job || this.stopping) {
      // Not run here after all: its lease runs out and the group's reaper decides again.
      claim.release();
      return;
    }
    void this.dispatcher.resume(job, { runId: run.runId, fireDate: run.scheduledAt, trigger: run.trigger, attempt: run.attempt, claim });
  }

  /**
   * Which manifest is newer when replicas disagree: the manifest file's modification time
   * (a deploy or an edit writes it; an old replica restarting does not).
   */
  private manifestGeneration(): number {
    try {
      return Math.floor(statSync(this.manifestPath).mtimeMs);
    } catch (err) {
      this.logger.warn({ err, manifest: this.manifestPath }, "cannot read the manifest's modification time; publishing it as the oldest");
      return 0;
    }
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
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export function createRunner(options: RunnerOptions = {}): Runner {
  return new Runner(options);
}

/**
 * Where class jobs (JobFactory, ThreadJobFactory) run. node-schedule fires them, since
 * `create()` must return its `Job`; every fire then goes through runlet's Dispatcher, as a
 * manifest job's does: overlap, timeout, run records at start and end, logs bound to job
 * and run, errors caught and recorded while the job stays scheduled. Thread jobs run on
 * runlet's worker-thread pool (ThreadExecutor).
 *
 * A runtime stands alone (its own store, a memory one by default), or beside a Runner
 * (`{ runner }`): then its records go to the runner's store and out as the runner's `record`
 * events, so class jobs show up with manifest jobs in history, metrics and the dashboard's
 * run feed.
 */
import { EventEmitter } from "node:events";
import { dirname } from "node:path";
import schedule from "node-schedule";
import { RunletError } from "../errors.js";
import { Dispatcher } from "../execute/dispatcher.js";
import { emitRecord } from "../execute/record-events.js";
import { ThreadExecutor } from "../execute/thread-executor.js";
import { createLogger, type Logger } from "../log/logger.js";
import { resolveEnvironment } from "../manifest/index.js";
import { MemoryStore } from "../store/memory-store.js";
import { currentOwner } from "../store/owner.js";
import { storedRun, type RunStore } from "../store/run-store.js";
import { type ActiveJob, type Clock, type JobDefinition, type RunRecord, systemClock } from "../contracts/index.js";
import { ClassicExecutor, ManualFire, type ClassicTarget } from "./classic-executor.js";
import { definitionOf } from "./definition.js";
import { FACTORY_PARTS, type FactoryParts } from "./factory-parts.js";
import { WorkerBuilds } from "./worker-build.js";

/** The part of a Runner a runtime beside it uses (a `Runner` has it). */
export interface RunnerLink {
  readonly env: string;
  readonly manifestPath: string;
  readonly store: RunStore;
  /** Its manifest's jobs: a class job may not take one of their names. */
  readonly jobs: JobDefinition[];
  emit(event: "record", record: RunRecord): boolean;
  /** The runner lists, counts and stops this runtime's jobs with its own (Runner.attach). */
  attach?(part: { readonly jobs: JobDefinition[]; nextFireOf(job: string): Date | null; readonly inFlight: number; stop(): Promise<void> }): () => void;
}

export interface ClassicRuntimeOptions {
  /**
   * Run beside this runner: its environment, store and project root, and every record also
   * emitted as the runner's `record` event. The runner closes its store when it stops, so
   * stop this runtime first.
   * @default none: a runtime of its own
   */
  runner?: RunnerLink;
  /** @default a pino logger writing JSON lines to stderr */
  logger?: Logger;
  /** Where runs are recorded; closed by `stop()` unless it is the runner's. @default the runner's store, else an in-memory store */
  store?: RunStore;
  /** The environment name in logs. @default the runner's, else RUNLET_ENV, NODE_ENV, "development" */
  env?: string;
  /** The project root thread workers are compiled in (`<root>/.runlet/`). @default the runner's manifest folder, else the nearest folder with a package.json above each worker file */
  root?: string;
  /** How long `stop()` waits for runs in flight before aborting them. @default 30000 */
  shutdownGraceMs?: number;
  /** How long an aborted run may go on before it is terminated (thread) or given up on (inline). @default 2000 */
  abortGraceMs?: number;
  /** Worker threads in the pool. @default os.availableParallelism() */
  maxThreads?: number;
  /** The dispatcher's clock (timeouts, lateness, retries); node-schedule reads the global one. @default the system clock */
  clock?: Clock;
}

const defaults = { shutdownGraceMs: 30_000, abortGraceMs: 2000 } satisfies ClassicRuntimeOptions;

/** Anything with factory parts: a JobFactory (typed structurally to keep the import one way). */
export interface ClassicFactory {
  [FACTORY_PARTS](): FactoryParts;
}

/** One class job known to the runtime. */
interface Entry {
  factory: ClassicFactory;
  parts: FactoryParts;
  def: JobDefinition;
  target: ClassicTarget | null;
  /** The node-schedule job of the last `create()`. */
  job: schedule.Job | null;
}

export class ClassicRuntime extends EventEmitter<{ record: [RunRecord] }> {
  readonly env: string;
  readonly store: RunStore;
  private readonly options: ClassicRuntimeOptions;
  private readonly logger: Logger;
  private readonly entries = new Map<string, Entry>();
  private readonly dispatcher: Dispatcher;
  private readonly executor: ClassicExecutor;
  private readonly builds: WorkerBuilds;
  private readonly owner = currentOwner();
  private lastId = 0;
  private stopping: Promise<void> | null = null;

  constructor(options: ClassicRuntimeOptions = {}) {
    super();
    this.options = options;
    const { runner } = options;
    this.logger = options.logger ?? createLogger();
    this.env = options.env ?? runner?.env ?? resolveEnvironment();
    this.store = options.store ?? runner?.store ?? new MemoryStore({ logger: this.logger, keepFor: (job) => this.entries.get(job)?.def.historyKeep ?? 100 });
    this.builds = new WorkerBuilds(options.root ?? (runner ? dirname(runner.manifestPath) : null));
    const abortGraceMs = options.abortGraceMs ?? defaults.abortGraceMs;
    this.executor = new ClassicExecutor({
      targetOf: (job) => this.entries.get(job)?.target ?? undefined,
      threads: new ThreadExecutor({ logger: this.logger, graceMs: abortGraceMs, ...(options.maxThreads ? { maxThreads: options.maxThreads } : {}) }),
    });
    this.dispatcher = new Dispatcher({
      executors: { inline: this.executor, thread: this.executor },
      logger: this.logger,
      clock: options.clock ?? systemClock,
      env: this.env,
      abortGraceMs,
      onRecord: (record) => this.onRecord(record),
    });
    runner?.attach?.(this);
  }

  /** The class jobs known here, as job definitions (what `list` and the dashboard show of a job). */
  get jobs(): JobDefinition[] {
    return [...this.entries.values()].map((e) => ({ ...e.def, enabled: isScheduled(e.job) }));
  }

  /** When a class job fires next (node-schedule's next invocation), or null. */
  nextFireOf(name: string): Date | null {
    const job = this.entries.get(name)?.job;
    const next = isScheduled(job) ? job!.nextInvocation() : null;
    return next ? new Date(next.getTime()) : null;
  }

  /** Runs of class jobs in flight now. */
  get inFlight(): number {
    return this.dispatcher.inFlight;
  }

  get stopped(): boolean {
    return this.stopping !== null;
  }

  /**
   * Schedules a factory with node-schedule (what `create()` calls) and returns the Job.
   * Throws RunletError BAD_INPUT when node-schedule cannot schedule the spec.
   */
  schedule(factory: ClassicFactory): schedule.Job {
    const entry = this.register(factory);
    const spec = entry.parts.spec();
    entry.def = definitionOf(entry.parts, spec);
    entry.target = this.targetFor(entry);
    // A name of its own per create(): node-schedule orphans a job whose name is reused.
    const name = `runlet:${entry.parts.name}#${++this.lastId}`;
    const job = schedule.scheduleJob(name, spec, (fireDate: Date) => this.fire(entry, fireDate));
    if (!job) {
      // node-schedule keeps a job it could not schedule in its registry.
      schedule.cancelJob(name);
      throw new RunletError(
        "BAD_INPUT",
        `${entry.parts.className} (job "${entry.parts.name}"): node-schedule cannot schedule what getSpec() returned (${describe(spec)}); expected a cron string of 5 or 6 fields, a RecurrenceRule, an object such as { hour: 0, minute: 0 }, or a Date in the future`,
      );
    }
    entry.job = job;
    this.logger.info({ job: entry.parts.name, class: entry.parts.className, mode: entry.def.mode, next: job.nextInvocation()?.toISOString() }, "class job scheduled");
    return job;
  }

  /** Runs a factory's job now (a manual trigger); resolves with the final record, failed or not. */
  async invoke(factory: ClassicFactory, fireDate: Date): Promise<RunRecord> {
    const entry = this.register(factory);
    entry.target ??= this.targetFor(entry);
    return this.dispatcher.invoke({ def: entry.def, modulePath: entry.def.handlerPath }, new ManualFire(fireDate));
  }

  /**
   * Cancels every class job, lets runs in flight finish for up to `shutdownGraceMs`, then
   * aborts the rest and closes the worker pool (and the store, unless it is the runner's).
   * Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const entry of this.entries.values()) if (isScheduled(entry.job)) entry.job!.cancel();
      const drained = await this.dispatcher.drain(this.options.shutdownGraceMs ?? defaults.shutdownGraceMs);
      if (!drained) {
        this.logger.warn({ inFlight: this.dispatcher.inFlight }, "shutdown grace period over: aborting class-job runs still in flight");
        await this.dispatcher.abortAll("the class-job runtime is shutting down");
      }
      await this.executor.close();
      await this.builds.dispose();
      if (this.store !== this.options.runner?.store) await this.store.close();
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private register(factory: ClassicFactory): Entry {
    if (this.stopping) throw new RunletError("BAD_INPUT", "this class-job runtime has stopped; create a new one (or call configureRuntime()) to schedule jobs again");
    const parts = factory[FACTORY_PARTS]();
    const existing = this.entries.get(parts.name);
    if (existing?.factory === factory) {
      existing.parts = parts;
      return existing;
    }
    if (existing && isScheduled(existing.job)) {
      throw new RunletError("BAD_INPUT", `two class jobs are named "${parts.name}" (${existing.parts.className} and ${parts.className}); give one another name: super({ name: "..." })`);
    }
    const runner = this.options.runner;
    if (runner?.jobs.some((j) => j.name === parts.name)) {
      throw new RunletError("BAD_INPUT", `${parts.className}: "${parts.name}" is already a job of ${runner.manifestPath}; give the class job another name: super({ name: "..." })`);
    }
    const entry: Entry = { factory, parts, def: definitionOf(parts, null), target: null, job: null };
    this.entries.set(parts.name, entry);
    return entry;
  }

  /** The callback is taken once per create(), as node-schedule took it in the original API. */
  private targetFor(entry: Entry): ClassicTarget {
    const file = entry.parts.workerFile();
    if (file === null) return { kind: "callback", callback: entry.parts.callback() };
    const compiled = this.builds.build(file, `${entry.parts.className} (job "${entry.parts.name}")`);
    // Reported now, where it is found; each fire then records it as its run's error.
    compiled.catch((err: unknown) => this.logger.error({ err, job: entry.parts.name }, "a class job's worker did not compile; its runs fail until it is created again"));
    return { kind: "worker", compiled };
  }

  private fire(entry: Entry, fireDate: Date): void {
    if (this.stopping) return;
    const active: ActiveJob = { def: entry.def, modulePath: entry.def.handlerPath };
    this.dispatcher.fire(active, fireDate).catch((err: unknown) => {
      this.logger.error({ err, job: entry.parts.name }, "a class job's fire could not be dispatched");
    });
  }

  private onRecord(record: RunRecord): void {
    this.store.record(storedRun(record, this.owner)).catch((err: unknown) => {
      this.logger.error({ err, runId: record.runId, job: record.job }, "could not record a run");
    });
    emitRecord(this, record, this.logger);
    if (this.options.runner) emitRecord(this.options.runner, record, this.logger);
  }
}

function isScheduled(job: schedule.Job | null | undefined): boolean {
  return !!job && schedule.scheduledJobs[job.name] === job;
}

function describe(spec: unknown): string {
  if (spec instanceof Date) return `the Date ${Number.isNaN(spec.getTime()) ? "Invalid Date" : spec.toISOString()}`;
  if (typeof spec === "string") return `the string ${JSON.stringify(spec)}`;
  if (spec === null || typeof spec !== "object") return String(spec);
  return `an object (${spec.constructor?.name ?? "no prototype"})`;
}

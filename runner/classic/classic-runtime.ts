/**
 * Where class jobs (JobFactory, ThreadJobFactory) run: on the same runtime as manifest
 * jobs (RunCore): one timer heap, one dispatcher (overlap, timeout, records at start and
 * end, logs bound to job and run, errors caught and recorded while the job stays
 * scheduled), one worker pool for thread jobs, and, when replicas share a PostgreSQL
 * store, the same claim gate, so each fire of a class job runs once across the replicas.
 *
 * A runtime stands alone (a core of its own, with a memory store by default), or beside a
 * Runner (`{ runner }`): then its jobs are hosted by the runner's core, so they share its
 * store, pool, gate and `record` events, and show up with manifest jobs in history,
 * metrics and the dashboard.
 */
import { EventEmitter } from "node:events";
import { dirname } from "node:path";
import type schedule from "node-schedule";
import { checkOptions, historyKeepOf, systemClock, type JobDefinition, type RunRecord } from "../contracts/index.js";
import { RunCore } from "../core/run-core.js";
import { RunletError } from "../errors.js";
import { InlineExecutor } from "../execute/inline-executor.js";
import { emitRecord } from "../execute/record-events.js";
import { ThreadExecutor } from "../execute/thread-executor.js";
import { createLogger, type Logger } from "../log/logger.js";
import { resolveEnvironment } from "../manifest/index.js";
import { MemoryStore } from "../store/memory-store.js";
import type { RunStore } from "../store/run-store.js";
import { classJobHandle } from "./class-job-handle.js";
import { ClassicExecutor, ManualFire } from "./classic-executor.js";
import { CLASSIC_DEFAULTS, CLASSIC_OPTION_RULES, checkBesideRunner, type ClassicRuntimeOptions } from "./classic-options.js";
import { ClassEntries, type ClassicFactory, type Entry } from "./class-entries.js";
import { OwnRuns } from "./own-runs.js";
import { WorkerBuilds } from "./worker-build.js";

export type { ClassicRuntimeOptions, RunnerLink } from "./classic-options.js";
export type { ClassicFactory } from "./class-entries.js";

export class ClassicRuntime extends EventEmitter<{ record: [RunRecord] }> {
  readonly env: string;
  readonly store: RunStore;
  private readonly options: ClassicRuntimeOptions;
  private readonly logger: Logger;
  private readonly core: RunCore;
  /** Whether the core is this runtime's own (standalone), so stop() stops it. */
  private readonly ownCore: boolean;
  private readonly entries: ClassEntries;
  private readonly executor: ClassicExecutor;
  private readonly builds: WorkerBuilds;
  private readonly runs: OwnRuns;
  private stopping: Promise<void> | null = null;

  constructor(options: ClassicRuntimeOptions = {}) {
    super();
    checkOptions("ClassicRuntimeOptions", options, CLASSIC_OPTION_RULES);
    checkBesideRunner(options);
    this.options = options;
    const { runner } = options;
    this.logger = options.logger ?? createLogger();
    this.ownCore = !runner;
    this.core = runner?.core ?? this.ownRuntime();
    this.env = this.core.env;
    this.store = this.core.store;
    this.entries = new ClassEntries(runner ?? null);
    this.builds = new WorkerBuilds(options.root ?? (runner ? dirname(runner.manifestPath) : null));
    this.executor = new ClassicExecutor({ targetOf: (job) => this.entries.get(job)?.target ?? undefined, threads: this.core.executors.thread });
    this.runs = new OwnRuns(this.core);
    this.core.on("record", (record) => {
      if (!this.entries.has(record.job)) return;
      this.runs.track(record);
      emitRecord(this, record, this.logger);
    });
  }

  /** The class jobs known here, as job definitions (what `list` and the dashboard show of a job). */
  get jobs(): JobDefinition[] {
    return this.entries.definitions();
  }

  /** When a class job fires next, or null. */
  nextFireOf(name: string): Date | null {
    return this.entries.get(name)?.def.enabled ? this.core.nextFireOf(name) : null;
  }

  /** Runs of class jobs in flight now. */
  get inFlight(): number {
    return this.runs.size;
  }

  get stopped(): boolean {
    return this.stopping !== null;
  }

  /**
   * Schedules a factory's job on the runtime's timer heap (what `create()` calls) and returns
   * its node-schedule `Job` handle. Throws RunletError BAD_INPUT for a spec that cannot be
   * scheduled, leaving nothing scheduled.
   */
  schedule(factory: ClassicFactory): schedule.Job {
    const entry = this.register(factory);
    const spec = entry.parts.spec();
    const def = { ...this.entries.definitionOf(entry, spec), enabled: true };
    const target = this.targetFor(entry);
    try {
      if (!def.schedule || !this.host(entry, def)) throw new Error("no fire ahead");
    } catch (err) {
      this.host(entry, { ...def, enabled: false });
      throw new RunletError(
        "BAD_INPUT",
        `${entry.parts.className} (job "${entry.parts.name}"): node-schedule cannot schedule what getSpec() returned (${describe(spec)}); expected a cron string of 5 or 6 fields, a RecurrenceRule, an object such as { hour: 0, minute: 0 }, or a Date in the future`,
        { cause: err },
      );
    }
    entry.target = target;
    const handle = classJobHandle(`runlet:${entry.parts.name}#${this.entries.nextId()}`, {
      next: () => (entry.handle === handle && entry.def.enabled ? this.core.nextFireOf(entry.parts.name) : null),
      cancel: () => {
        if (entry.handle === handle && entry.def.enabled) this.host(entry, { ...entry.def, enabled: false });
      },
    });
    entry.handle = handle;
    this.logger.info({ job: entry.parts.name, class: entry.parts.className, mode: def.mode, next: handle.nextInvocation()?.toISOString() }, "class job scheduled");
    return handle;
  }

  /** Runs a factory's job now (a manual trigger); resolves with the final record, failed or not. */
  async invoke(factory: ClassicFactory, fireDate: Date): Promise<RunRecord> {
    const entry = this.register(factory);
    entry.target ??= this.targetFor(entry);
    if (!this.core.jobOf(entry.parts.name)) this.host(entry, entry.def);
    return this.core.dispatcher.invoke({ def: entry.def, modulePath: entry.def.handlerPath }, new ManualFire(fireDate));
  }

  /**
   * Unschedules every class job, lets runs in flight finish for up to `shutdownGraceMs`, then
   * aborts the rest (and, standalone, closes the worker pool and the store). Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const entry of this.entries.all()) if (entry.def.enabled && !this.core.isStopping) this.host(entry, { ...entry.def, enabled: false });
      const graceMs = this.options.shutdownGraceMs ?? CLASSIC_DEFAULTS.shutdownGraceMs;
      if (this.ownCore) {
        this.core.beginStop();
        await this.core.finishStop(graceMs);
      } else {
        await this.runs.drain(graceMs, "the class-job runtime is shutting down", this.logger);
      }
      await this.builds.dispose();
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** A core of its own: the class jobs' timer heap, dispatcher and pool. */
  private ownRuntime(): RunCore {
    const options = this.options;
    const abortGraceMs = options.abortGraceMs ?? CLASSIC_DEFAULTS.abortGraceMs;
    const core = new RunCore({
      env: options.env ?? resolveEnvironment(),
      logger: this.logger,
      clock: options.clock ?? systemClock,
      store: options.store ?? new MemoryStore({ logger: this.logger, keepFor: (job) => historyKeepOf(this.entries.get(job)?.def) }),
      executors: {
        inline: new InlineExecutor({ logger: this.logger }),
        thread: new ThreadExecutor({ logger: this.logger, graceMs: abortGraceMs, ...(options.maxThreads ? { maxThreads: options.maxThreads } : {}) }),
      },
      abortGraceMs,
      manifestPath: null,
      name: "the class-job runtime",
      runsName: "class-job runs",
    });
    core.start([]).catch((err: unknown) => this.logger.error({ err }, "the class-job runtime could not join its replica group; its fires go unclaimed until it can"));
    return core;
  }

  /** Hands the job to the core; true when it has a fire ahead (or is not scheduled). */
  private host(entry: Entry, def: JobDefinition): boolean {
    this.core.host({ def, modulePath: def.handlerPath, executor: this.executor });
    entry.def = def;
    return !def.enabled || this.core.nextFireOf(def.name) !== null;
  }

  private register(factory: ClassicFactory): Entry {
    if (this.stopping) throw new RunletError("BAD_INPUT", "this class-job runtime has stopped; create a new one (or call configureRuntime()) to schedule jobs again");
    return this.entries.register(factory);
  }

  /** The callback is taken once per create(), as node-schedule took it in the original API. */
  private targetFor(entry: Entry) {
    const file = entry.parts.workerFile();
    if (file === null) return { kind: "callback" as const, callback: entry.parts.callback() };
    const compiled = this.builds.build(file, `${entry.parts.className} (job "${entry.parts.name}")`);
    // Reported now, where it is found; each fire then records it as its run's error.
    compiled.catch((err: unknown) => this.logger.error({ err, job: entry.parts.name }, "a class job's worker did not compile; its runs fail until it is created again"));
    return { kind: "worker" as const, compiled };
  }
}

function describe(spec: unknown): string {
  if (spec instanceof Date) return `the Date ${Number.isNaN(spec.getTime()) ? "Invalid Date" : spec.toISOString()}`;
  if (typeof spec === "string") return `the string ${JSON.stringify(spec)}`;
  if (spec === null || typeof spec !== "object") return String(spec);
  return `an object (${spec.constructor?.name ?? "no prototype"})`;
}

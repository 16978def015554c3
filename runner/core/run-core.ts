import { EventEmitter } from "node:events";
import type { JobTrigger } from "../context.js";
import { type ActiveJob, type Clock, type Executor, type JobDefinition, type LiveLogLine, type RunLogs, type RunMode, type RunRecord } from "../contracts/index.js";
import { coordinationFor, type Coordination } from "../coordinate/index.js";
import { Dispatcher } from "../execute/dispatcher.js";
import { emitRecord } from "../execute/record-events.js";
import type { Logger } from "../log/logger.js";
import { RunLogCapture } from "../log/run-log-capture.js";
import { Scheduler, type FireBatch } from "../schedule/index.js";
import { currentOwner } from "../store/owner.js";
import { storedRun, type RunStore } from "../store/run-store.js";
import { HostedJobs, type HostedJob } from "./hosted-jobs.js";
import { OwnedSchedules } from "./owned-schedules.js";
import { takeoverFires } from "./takeover-fires.js";

export type { HostedJob } from "./hosted-jobs.js";

export interface RunCoreOptions {
  env: string;
  logger: Logger;
  clock: Clock;
  store: RunStore;
  executors: Record<RunMode, Executor>;
  abortGraceMs?: number;
  /** The manifest whose modification time orders the replicas' specs; null without one (class jobs only). */
  manifestPath: string | null;
  /** What shuts down, in the reason runs aborted at shutdown get. @default "the runner" */
  name?: string;
  /** What its runs are called in the log at shutdown. @default "runs" */
  runsName?: string;
}

export interface RunCoreEvents {
  record: [RunRecord];
  /** A scheduled fire handed to the dispatcher (replicas: up to the gate's lead before its time), with the jobs it started. */
  fire: [{ fireDate: Date; jobs: string[] }];
  /** A `ctx.log` line a run in flight kept (see `logs:` in the manifest). */
  log: [LiveLogLine];
  /** Lines of a run's log dropped to keep it within its bounds. */
  "log-dropped": [{ job: string; count: number }];
  /** Lines that reached runs' logs (kept or dropped), per job: counted without hearing each line. */
  "log-captured": [{ job: string; count: number }];
  /** A run's kept log, handed to the store as the run ended. */
  logs: [RunLogs];
  /** A run of another replica this one's reaper recorded as lost for good (its record as stored). */
  lost: [RunRecord];
}

/**
 * The one runtime every job runs on: one timer heap (Scheduler), one dispatcher over one
 * pair of executors (one worker pool), one claim gate when replicas share the store, one
 * record path into the store. Manifest jobs are swapped in by the reload pipeline
 * (`active`); jobs defined in code (class jobs) are hosted beside them with executors of
 * their own (`host`).
 */
export class RunCore extends EventEmitter<RunCoreEvents> {
  readonly env: string;
  readonly store: RunStore;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The executors by mode, as given (the pipeline preloads and recycles them). */
  readonly executors: Record<RunMode, Executor>;
  /** Manifest jobs by name. */
  readonly active = new Map<string, ActiveJob>();
  readonly paused = new Set<string>();
  /** The jobs' schedules; on a shared store only those this replica owns are armed. */
  readonly scheduler: OwnedSchedules;
  readonly dispatcher: Dispatcher;
  /** The `ctx.log` lines of runs in flight, kept with each run when it ends. */
  readonly runLogs: RunLogCapture;
  private readonly hosted = new HostedJobs();
  /** Claims across replicas, sole ownership of a SQLite file, or nothing: chosen by the store. */
  private readonly coordination: Coordination;
  private readonly owner = currentOwner();
  private manifestJobs: JobDefinition[] = [];
  /** A graceful stop in a group that splits the schedule: firing goes on until the others can fire this replica's jobs. */
  private handoff: Promise<void> | null = null;
  private started = false;
  private stopping = false;

  constructor(private readonly options: RunCoreOptions) {
    super();
    ({ env: this.env, store: this.store, logger: this.logger, clock: this.clock, executors: this.executors } = options);
    this.coordination = coordinationFor(this.store, {
      logger: this.logger,
      manifestPath: options.manifestPath,
      abortRun: (runId, reason) => this.dispatcher.abortRun(runId, reason),
      jobFor: (name) => (this.stopping ? null : (this.jobOf(name) ?? null)),
      resume: (job, run, claim) => void this.dispatcher.resume(job, { runId: run.runId, fireDate: run.scheduledAt, trigger: run.trigger, attempt: run.attempt, claim, cause: run.cause as JobTrigger | null }),
      onLost: (record) => this.emit("lost", record),
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
      hearsLines: () => this.listenerCount("log") > 0,
      onDropped: (job, count) => this.emit("log-dropped", { job, count }),
      onCaptured: (job, count) => this.emit("log-captured", { job, count }),
      // A long run's lines so far reach the store too: `logs --follow` reads them from another process.
      liveEveryMs: 200,
      onLive: (logs) => {
        this.store.recordLogs(logs).catch((err: unknown) => this.logger.warn({ err, runId: logs.runId }, "could not keep the log lines of a run in flight"));
      },
    });
    this.dispatcher = new Dispatcher({
      executors: { inline: this.hosted.routing(this.executors.inline), thread: this.hosted.routing(this.executors.thread) },
      handlerLog: (attempt, log, run) => this.runLogs.attempt(attempt, log, run),
      logger: this.logger,
      clock: this.clock,
      env: this.env,
      abortGraceMs: options.abortGraceMs,
      onRecord: (record) => this.onRecord(record),
      gate: this.coordination.gate,
    });
    const timers = new Scheduler({
      clock: this.clock,
      // Replicas claim each fire this long before its time; the dispatcher starts it at its time.
      leadMs: this.coordination.gate?.aheadMs ?? 0,
      onFire: (batch) => this.onFire(batch),
      // A bug in dispatch must not stop the timer or the process: log it, keep firing.
      onError: (err, batch) => this.logger.error({ err, jobs: batch?.jobs, fireDate: batch?.fireDate }, "dispatching a fire failed"),
    });
    const partition = this.coordination.partition;
    this.scheduler = new OwnedSchedules(timers, this.clock, partition && ((job) => partition.owns(job)));
    partition?.onChange(() => this.rebalance());
  }

  /** A manifest job, else a hosted one. */
  jobOf(name: string): ActiveJob | undefined {
    return this.active.get(name) ?? this.hosted.get(name);
  }

  /** The hosted jobs' definitions, in the order they were first hosted. */
  get hostedJobs(): JobDefinition[] {
    return [...this.hosted.values()].map((job) => job.def);
  }

  /**
   * Hosts a job defined in code, or replaces its definition: scheduled when it is enabled
   * and has a schedule, unscheduled otherwise. Throws what the scheduler throws for a
   * schedule it cannot compute, and then changes nothing.
   */
  host(job: HostedJob): void {
    if (job.def.enabled && job.def.schedule) this.scheduler.add(job.def.name, job.def.schedule);
    else this.scheduler.remove(job.def.name);
    this.hosted.set(job);
    if (this.started) void this.coordination.publish(this.allJobs());
  }

  /** When a job fires next; null once stopping. */
  nextFireOf(name: string): Date | null {
    return this.stopping ? null : this.scheduler.nextFireOf(name);
  }

  /**
   * Joins the replica group (a shared store) or takes the store (a SQLite file; throws
   * STORE_BUSY when another live runner has it), then starts firing.
   */
  async start(manifestJobs: JobDefinition[]): Promise<void> {
    this.manifestJobs = manifestJobs;
    await this.coordination.join(this.allJobs());
    this.started = true;
    this.scheduler.start();
  }

  /** After a reload: the group learns the new manifest's jobs. */
  async publish(manifestJobs: JobDefinition[]): Promise<void> {
    this.manifestJobs = manifestJobs;
    await this.coordination.publish(this.allJobs());
  }

  /** One caught-up fire; false once the job may no longer fire. */
  async fireMissed(name: string, fireDate: Date): Promise<boolean> {
    const job = this.active.get(name);
    if (!job || this.stopping || this.paused.has(name)) return false;
    this.rememberFire(name, fireDate);
    await this.dispatcher.fire(job, fireDate, "catch-up");
    return true;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Stops taking over other replicas' runs, and firing, at once; in a group that splits
   * the schedule, firing goes on for the handoff (2 × reap, awaited by {@link finishStop})
   * so that the others arm this replica's jobs before it stops firing them.
   */
  beginStop(): void {
    this.stopping = true;
    this.coordination.stopTakingOver();
    const handoff = this.coordination.handOff();
    if (handoff) this.handoff = handoff.finally(() => this.scheduler.stop());
    else this.scheduler.stop();
  }

  /** Lets runs in flight finish for up to `graceMs`, aborts the rest, leaves the group, closes executors and store. */
  async finishStop(graceMs: number): Promise<void> {
    await this.handoff;
    const drained = await this.dispatcher.drain(graceMs);
    if (!drained) {
      this.logger.warn({ inFlight: this.dispatcher.inFlight }, `shutdown grace period over: aborting ${this.options.runsName ?? "runs"} still in flight`);
      await this.dispatcher.abortAll(`${this.options.name ?? "the runner"} is shutting down`);
    }
    await this.coordination.leave();
    await Promise.all(Object.values(this.executors).map((e) => e.close()));
    await this.store.close();
  }

  private allJobs(): JobDefinition[] {
    return this.hosted.size === 0 ? this.manifestJobs : [...this.manifestJobs, ...this.hostedJobs];
  }

  /**
   * The group changed: arm the jobs this replica owns now, hold the others cold, and claim
   * the fires of jobs taken over from a replica that died or left since it stopped firing
   * them (late: the job's lateness and catchUp rules decide, see takeover-fires.ts). Every
   * armed job is asked, not only those armed now: a job this replica won when it joined
   * may have been a dead replica's that still looked alive then.
   */
  private rebalance(): void {
    const armed = this.scheduler.rearm();
    const partition = this.coordination.partition;
    if (!partition || this.stopping) return;
    const now = this.clock.now();
    const wasDown = (at: number) => partition.wasDown(at);
    let jobs = 0;
    let fires = 0;
    for (const name of this.scheduler.armedJobs()) {
      const since = partition.unclaimedSince(name);
      const job = since === null || this.paused.has(name) ? undefined : this.jobOf(name);
      if (!job) continue;
      const due = takeoverFires(job.def, since!, now, wasDown);
      if (due.length === 0) continue;
      jobs++;
      fires += due.length;
      for (const { fireDate, trigger } of due) {
        this.dispatcher.fire(job, fireDate, trigger).catch((err: unknown) => this.logger.error({ err, job: name }, "claiming a taken-over fire failed"));
      }
      this.rememberFire(name, due.at(-1)!.fireDate);
    }
    this.logger.info({ armed: this.scheduler.armed, scheduled: this.scheduler.size, gained: armed.length, tookOver: jobs, lateFires: fires }, `this replica fires ${this.scheduler.armed} of ${this.scheduler.size} scheduled jobs`);
  }

  private onFire(batch: FireBatch): void {
    const jobs: ActiveJob[] = [];
    for (const name of batch.jobs) {
      const job = this.jobOf(name);
      if (job && !this.paused.has(name)) jobs.push(job);
    }
    // Told before its runs start, and only when someone listens: nothing is added to a fire's path otherwise.
    if (this.listenerCount("fire") > 0) this.emit("fire", { fireDate: batch.fireDate, jobs: jobs.map((job) => job.def.name) });
    try {
      this.dispatcher.fireAll(jobs, batch.fireDate);
    } finally {
      // After every job of the batch has started: bookkeeping must not delay the last start.
      for (const job of jobs) this.rememberFire(job.def.name, batch.fireDate);
    }
  }

  private onRecord(record: RunRecord): void {
    // Ended first: its last lines are heard before its final record (a follower stops there).
    const logs = record.status === "running" ? null : this.runLogs.end(record.runId);
    // Through the coordination: a claimed run's records are written only while its claim holds.
    this.coordination.record(storedRun(record, this.owner)).catch((err: unknown) => {
      this.logger.error({ err, runId: record.runId }, "could not record a run");
    });
    emitRecord(this, record, this.logger);
    if (logs) this.keepLogs(logs);
  }

  /** A run ended: its kept lines go to the store, queued behind its final record. */
  private keepLogs(logs: RunLogs): void {
    this.store.recordLogs(logs).catch((err: unknown) => {
      this.logger.error({ err, runId: logs.runId }, "could not keep a run's log lines");
    });
    this.emit("logs", logs);
  }

  /** The last fire time per job, for catch-up after a restart. Batched by the store. */
  private rememberFire(job: string, fireDate: Date): void {
    this.store.setJobState(job, { lastFireAt: fireDate }).catch((err: unknown) => {
      this.logger.error({ err, job }, "could not record the last fire time");
    });
  }
}

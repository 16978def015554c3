import type { Job } from "node-schedule";
import { RunletError } from "../errors.js";
import type { OverlapPolicy, RunRecord } from "../contracts/index.js";
import type { ClassicRuntime } from "./classic-runtime.js";
import { defaultRuntime } from "./default-runtime.js";
import { FACTORY_PARTS, JOB_NAME, defaultJobName, type FactoryParts, type JobCallback } from "./factory-parts.js";
import type { JobSpec } from "./spec-source.js";

export interface JobFactoryOptions {
  /** The job's name in history, logs and metrics. @default the class name in kebab-case without "Factory" (`CleanupFactory` → "cleanup") */
  name?: string;
  /** Shown by `list` and the dashboard. @default "" */
  description?: string;
  /**
   * What a fire does while the previous run is still going, as the manifest's `overlap`:
   * `skip` (recorded as skipped), `queue` (run once after it), `allow`, `replace` (abort it).
   * Replaces a hand-written "is it running" guard.
   * @default "skip"
   */
  overlap?: OverlapPolicy;
  /** A run still going after this many ms is recorded as `timeout` (a thread run is also terminated). @default none */
  timeoutMs?: number;
  /** The runtime that schedules, runs and records the job. @default the default runtime (see configureRuntime) */
  runtime?: ClassicRuntime;
}

const OVERLAP: readonly OverlapPolicy[] = ["skip", "queue", "allow", "replace"];

/**
 * A job written as a class, as in the original job-system design: `getSpec()` says when,
 * `getJobCallback()` says what, `create()` schedules it. runlet runs it through the same
 * dispatcher as manifest jobs (overlap, timeout, run history, logs); a callback that throws
 * fails that run only, and the job stays scheduled.
 */
export abstract class JobFactory {
  readonly #options: JobFactoryOptions;
  #runtime: ClassicRuntime | null;
  #enabled = true;
  #job: Job | null = null;
  /** What `getJobCallback()` hands out to callers: the manual trigger (see the constructor). */
  readonly #handOut: () => JobCallback;

  constructor(options: JobFactoryOptions = {}) {
    const className = new.target.name || "JobFactory";
    if (options.name !== undefined && !JOB_NAME.test(options.name)) {
      throw new RunletError("BAD_INPUT", `${className}: the job name must match [a-z0-9][a-z0-9-_.]* (got ${JSON.stringify(options.name)})`);
    }
    if (options.overlap !== undefined && !OVERLAP.includes(options.overlap)) {
      throw new RunletError("BAD_INPUT", `${className}: overlap must be one of ${OVERLAP.join(", ")} (got ${JSON.stringify(options.overlap)})`);
    }
    if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new RunletError("BAD_INPUT", `${className}: timeoutMs must be a number of milliseconds above 0 (got ${String(options.timeoutMs)})`);
    }
    this.#options = { ...options };
    this.#runtime = options.runtime ?? null;
    // The documented manual trigger is `factory.getJobCallback()(new Date())`. Called from
    // outside, it runs the job through runlet (recorded as an invoke, errors caught) instead
    // of calling the bare function: an own property shadows the subclass's method for
    // callers, while the runtime still reaches the method itself (see ownCallback).
    const manual: JobCallback = async (fireDate) => void (await this.trigger(fireDate));
    this.#handOut = () => manual;
    Object.defineProperty(this, "getJobCallback", { value: this.#handOut, writable: true, configurable: true, enumerable: false });
  }

  /** When the job fires: anything node-schedule takes (a RecurrenceRule, a cron string, a Date, `{ hour, minute, ... }`). */
  protected abstract getSpec(): JobSpec;

  /** What runs on each fire: `(fireDate) => void | Promise<void>`. Taken once per `create()`. */
  protected abstract getJobCallback(): JobCallback;

  /** Whether `create()` schedules the job (it does not cancel a job already created: `job.cancel()` does). */
  setEnable(enabled: boolean): void {
    this.#enabled = enabled;
  }

  isEnabled(): boolean {
    return this.#enabled;
  }

  /** The job's name in history, logs and metrics. */
  get jobName(): string {
    return this.#options.name ?? defaultJobName(this.constructor.name || "JobFactory");
  }

  /**
   * Schedules the job and returns node-schedule's Job (`cancel()`, `nextInvocation()`), or
   * null when the factory is disabled. Calling it again replaces the previous Job (cancelled
   * first), so the job is never scheduled twice. Throws RunletError BAD_INPUT for a spec
   * node-schedule cannot schedule.
   */
  create(): Job | null {
    if (this.#job) this.#job.cancel();
    this.#job = null;
    if (!this.#enabled) return null;
    this.#job = this.#bound().schedule(this);
    return this.#job;
  }

  /**
   * Runs the job now, whether enabled or not, and resolves with its final run record
   * (`ok`, `failed`, `timeout`...). The same as the manual trigger, with the record.
   */
  async trigger(fireDate: Date = new Date()): Promise<RunRecord> {
    return this.#bound().invoke(this, fireDate);
  }

  /** For the runtime only (not exported from the package). */
  [FACTORY_PARTS](): FactoryParts {
    const options = this.#options;
    return {
      name: this.jobName,
      description: options.description ?? "",
      className: this.constructor.name || "JobFactory",
      overlap: options.overlap ?? "skip",
      timeoutMs: options.timeoutMs ?? null,
      spec: () => this.getSpec(),
      callback: () => this.#ownCallback(),
      workerFile: () => null,
    };
  }

  /** The subclass's own callback: its method, or its own property when it defined one as a class field. */
  #ownCallback(): JobCallback {
    const own = Object.getOwnPropertyDescriptor(this, "getJobCallback")?.value as unknown;
    const method = own !== undefined && own !== this.#handOut ? own : Reflect.get(Object.getPrototypeOf(this) as object, "getJobCallback", this);
    if (typeof method !== "function") throw new RunletError("BAD_INPUT", `${this.constructor.name}: getJobCallback() is not implemented`);
    const callback = (method as () => unknown).call(this);
    if (typeof callback !== "function") {
      throw new RunletError("BAD_INPUT", `${this.constructor.name}: getJobCallback() returned ${callback === null ? "null" : typeof callback}; expected a function (fireDate: Date) => void | Promise<void>`);
    }
    return callback as JobCallback;
  }

  #bound(): ClassicRuntime {
    return (this.#runtime ??= defaultRuntime());
  }
}

/**
 * The words runlet uses, and the types that carry them from stage to stage.
 *
 * - **manifest**: the `jobs.yaml` file a person writes. Loaded once per (re)load into a
 *   {@link Manifest}: validated, defaults applied, durations in ms. Nothing after the
 *   manifest stage reads YAML again.
 * - **job**: one entry of the manifest, normalized into a {@link JobDefinition}.
 * - **handler**: the module a job runs; its default export is called with a context.
 * - **schedule**: when a job fires ({@link Schedule}); a job without one is invoke-only.
 * - **fire**: one scheduled moment of a job (`fireDate`, the time it was due, not the
 *   time a timer happened to wake up).
 * - **run**: one execution of a handler for a fire or a manual invoke; it has a `runId`.
 * - **attempt**: a run is tried once, then again per `retries`; `attempt` counts from 1.
 * - **run record**: what the store keeps of a run ({@link RunRecord}).
 */

import type { LogPolicy } from "./run-logs.js";

/** A value of a recurrence-rule field: a number, a range, or a list of either. */
export type RuleRange = { start: number; end: number; step?: number };
export type RuleValue = number | RuleRange | Array<number | RuleRange>;

/** Recurrence-rule fields, as node-schedule's RecurrenceRule takes them. */
export interface RecurrenceFields {
  second?: RuleValue;
  minute?: RuleValue;
  hour?: RuleValue;
  date?: RuleValue;
  month?: RuleValue;
  year?: RuleValue;
  dayOfWeek?: RuleValue;
}

/**
 * A schedule in its one internal form. `timezone` is an IANA name (already checked);
 * `null` means the process's own zone.
 */
export type Schedule =
  | { kind: "cron"; cron: string; timezone: string | null; start: Date | null; end: Date | null }
  | { kind: "rule"; rule: RecurrenceFields; timezone: string | null }
  /** Fires at every multiple of `everyMs` since the Unix epoch, so every replica agrees. */
  | { kind: "every"; everyMs: number }
  /** Fires once. */
  | { kind: "at"; at: Date };

export type RunMode = "inline" | "thread";
export type OverlapPolicy = "skip" | "queue" | "allow" | "replace";
export type CatchUpPolicy = "none" | "latest" | "all";

export interface RetryPolicy {
  /** Retries after the first attempt; 0 = never retry. */
  max: number;
  backoff: "fixed" | "exponential";
  delayMs: number;
  maxDelayMs: number | null;
}

/** Where a thing was written: 1-based line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** One job of a manifest, normalized: what every later stage consumes. */
export interface JobDefinition {
  name: string;
  description: string;
  /** Absolute, symlink-resolved path of the handler file (inside the project root). */
  handlerPath: string;
  /** The handler as written in the manifest (relative to the manifest's folder). */
  handler: string;
  /** `null`: invoke-only. */
  schedule: Schedule | null;
  /** The schedule as written in the manifest, for `list --json`. */
  scheduleSource: unknown;
  mode: RunMode;
  /** Whether the job is enabled in the manifest's environment. */
  enabled: boolean;
  params: unknown;
  /** `null`: no timeout. */
  timeoutMs: number | null;
  overlap: OverlapPolicy;
  retries: RetryPolicy;
  /** The effective zone of a cron or rule schedule, `null` for the process's zone. */
  timezone: string | null;
  /** Heap limit of a thread-mode run, in MB. */
  memoryMb: number | null;
  latenessMs: number;
  catchUp: CatchUpPolicy;
  startingDeadlineMs: number | null;
  historyKeep: number;
  /** Jobs whose ended runs start this one (`after`); empty for none. */
  after: AfterEdge[];
  /**
   * Runs of this job in flight at once under `overlap: allow` or `queue` (and, under
   * `queue`, fires waiting); `null`: the overlap policy's own bound.
   */
  concurrency: number | null;
  /** Which `ctx.log` lines of a run are kept with it (`logs:`); absent: the defaults of LOG_POLICY_DEFAULTS. */
  logs?: LogPolicy;
  /**
   * A hash of what decides how the job runs, set only where the fields do not say it
   * (class-based jobs); manifest jobs leave it out and `specHashOf` (manifest/spec-hash.ts)
   * hashes their handler, schedule, mode, params and limits. Two replicas with equal
   * hashes would run a fire the same way.
   */
  specHash?: string;
}

/** Which ended runs of an upstream job start a job: `success` = ok; `failure` = failed, timeout, lost; `always` = either, and cancelled. */
export type AfterOn = "success" | "failure" | "always";

/** One `after` edge: runs of `job` that end as `on` says start the job that declares it. */
export interface AfterEdge {
  job: string;
  on: AfterOn;
}

/** A loaded, valid manifest. */
export interface Manifest {
  /** Absolute path of the manifest file. */
  file: string;
  /** The project root: the manifest's folder, symlinks resolved. */
  root: string;
  /** The environment `enabled` was resolved for. */
  env: string;
  /** Every environment name an `enabled` list or map names (not "*"): a `--env` outside them is likely a typo. */
  environments?: string[];
  jobs: JobDefinition[];
  /** Worker threads in the pool (`threads:`); `null`: one per core. */
  threads: number | null;
}

export type RunStatus = "running" | "ok" | "failed" | "timeout" | "skipped" | "cancelled" | "lost";

export interface RunError {
  message: string;
  code?: string;
  stack?: string;
}

/** What the store keeps of a run, and what `history --json` prints. */
export interface RunRecord {
  runId: string;
  job: string;
  status: RunStatus;
  /** The fire's scheduled time; for a manual invoke, the time it was asked for. */
  scheduledAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempt: number;
  error: RunError | null;
  result: unknown;
  /** Why a run was skipped or cancelled: `overlap`, `late`, `paused`, `shutdown`, ... */
  reason?: string | null;
  /** `schedule`, `invoke`, `catch-up` or `after`. */
  trigger?: RunTrigger;
  /** For `trigger: "after"`: the run id of the upstream run that started this one. */
  upstreamRunId?: string | null;
  /**
   * The params the run was given (`ctx.params`), as kept: values the manifest took from the
   * environment read `${env:NAME}`, values at the job's `logs.redact` paths `"[Redacted]"`.
   * Absent in a record of a run kept before runlet recorded params.
   */
  params?: unknown;
  /**
   * Each try of a run that may be retried (`retries`), oldest first: when it started and
   * ended, how it went. Absent for a run of a job without retries (its one try is the
   * record's own times). A try left `running` before the last was lost with its runner.
   */
  attempts?: RunAttempt[];
}

/** One try of a run, as its record keeps it. */
export interface RunAttempt {
  attempt: number;
  /** null: a try that another replica started, whose times were not kept. */
  startedAt: string | null;
  finishedAt: string | null;
  status: RunStatus;
  /** The try's error: message and code (the run's own `error` has the last one's stack). */
  error: { message: string; code?: string } | null;
}

export type RunTrigger = "schedule" | "invoke" | "catch-up" | "after";

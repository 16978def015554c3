import type { AfterEdge, JobDefinition, RetryPolicy, Schedule } from "../contracts/index.js";
import { createHash } from "node:crypto";
import { LOG_POLICY_DEFAULTS, SHARED_DEFAULTS, type LogLevelName, type LogPolicy } from "../contracts/index.js";
import { isEnabledIn } from "./environment.js";
import { parseDuration } from "./duration.js";

/**
 * Every default of a job in one place. A job field overrides its `defaults` entry, which
 * overrides these; maps (`params`, `retries`, `enabled`) are replaced whole, not merged.
 */
export const JOB_DEFAULTS = {
  /** @default "" */
  description: "",
  /** @default "inline" */
  mode: "inline",
  /** @default true */
  enabled: true,
  /** @default {} so handlers can destructure ctx.params */
  params: {},
  /** @default null (no timeout) */
  timeoutMs: null,
  /** @default "skip" */
  overlap: "skip",
  /** @default no retries; a bare number N means { max: N, backoff: fixed, delay: 1s } */
  retries: { max: 0, backoff: "fixed", delayMs: 1000, maxDelayMs: null },
  /** @default null (the process's zone) */
  timezone: null,
  /** @default null (Node's own heap limit) */
  memoryMb: null,
  /** @default 1000 */
  latenessMs: 1000,
  /** @default "none" */
  catchUp: "none",
  /** @default null (no deadline) */
  startingDeadlineMs: null,
  /** @default 100 */
  historyKeep: SHARED_DEFAULTS.historyKeep,
  /** @default null (allow: no bound; queue: one run, one waiting) */
  concurrency: null,
} satisfies Partial<JobDefinition>;

/** Every field a job may have in jobs.yaml; the schema's job properties must be exactly these. */
export const JOB_FIELDS = [
  "handler", "schedule", "description", "mode", "enabled", "params", "timeout", "overlap",
  "retries", "timezone", "memory", "lateness", "catchUp", "startingDeadline", "history", "after", "concurrency",
  "logs",
] as const;

/** The raw job fields after schema and semantic checks passed (defaults not yet applied). */
export type RawJob = Record<string, unknown>;

export interface NormalizeInput {
  name: string;
  raw: RawJob;
  defaults: RawJob;
  handlerPath: string;
  schedule: Schedule | null;
  timezone: string | null;
  environment: string;
  /** The job's `after` edges, already checked against the other jobs. */
  after: AfterEdge[];
  /**
   * The job and defaults as written, before `${env:...}` references were resolved: what
   * is shown (description, schedule) and hashed comes from here, so a value taken from
   * the environment is never printed, stored or hashed into anything shown.
   */
  written: { raw: RawJob; defaults: RawJob };
}

/** Builds the typed, defaults-applied definition later stages consume. Input is already valid. */
export function normalizeJob(input: NormalizeInput): JobDefinition {
  const { raw, defaults } = input;
  const pick = (key: string): unknown => (raw[key] !== undefined ? raw[key] : defaults[key]);
  const duration = (key: string, fallback: number | null) => {
    const value = pick(key);
    return value === undefined ? fallback : parseDuration(value);
  };
  const { written } = input;
  const job: JobDefinition = {
    name: input.name,
    description: ((written.raw.description ?? written.defaults.description) as string | undefined) ?? JOB_DEFAULTS.description,
    handler: raw.handler as string,
    handlerPath: input.handlerPath,
    schedule: input.schedule,
    scheduleSource: written.raw.schedule ?? null,
    mode: (pick("mode") as JobDefinition["mode"] | undefined) ?? JOB_DEFAULTS.mode,
    enabled: isEnabledIn(pick("enabled") ?? JOB_DEFAULTS.enabled, input.environment),
    params: pick("params") ?? {},
    timeoutMs: duration("timeout", JOB_DEFAULTS.timeoutMs),
    overlap: (pick("overlap") as JobDefinition["overlap"] | undefined) ?? JOB_DEFAULTS.overlap,
    retries: retryPolicy(pick("retries")),
    // The zone the schedule is read in: its own `timezone` wins over the job's.
    timezone: input.schedule && (input.schedule.kind === "cron" || input.schedule.kind === "rule") ? input.schedule.timezone : input.timezone,
    memoryMb: (pick("memory") as number | undefined) ?? JOB_DEFAULTS.memoryMb,
    latenessMs: duration("lateness", JOB_DEFAULTS.latenessMs)!,
    catchUp: (pick("catchUp") as JobDefinition["catchUp"] | undefined) ?? JOB_DEFAULTS.catchUp,
    startingDeadlineMs: duration("startingDeadline", JOB_DEFAULTS.startingDeadlineMs),
    historyKeep: ((pick("history") as { keep?: number } | undefined)?.keep) ?? JOB_DEFAULTS.historyKeep,
    after: input.after,
    concurrency: (pick("concurrency") as number | undefined) ?? JOB_DEFAULTS.concurrency,
    logs: logPolicy(pick("logs")),
  };
  // A job that reads the environment is hashed as written: its spec hash (kept in a shared
  // store) must not be a function of a secret. A changed value then does not change it.
  if (written.raw !== raw || written.defaults !== defaults) job.specHash = writtenHash(written, input.handlerPath);
  return job;
}

/** What decides a run (as spec-hash.ts picks it), as written: the description does not count. */
const DECISIVE = ["handler", "schedule", "timezone", "mode", "params", "timeout", "overlap", "retries", "memory", "enabled", "concurrency"] as const;

function writtenHash(written: { raw: RawJob; defaults: RawJob }, handlerPath: string): string {
  const decisive = DECISIVE.map((key) => written.raw[key] ?? written.defaults[key] ?? null);
  return createHash("sha256").update(JSON.stringify([handlerPath, decisive])).digest("hex").slice(0, 16);
}

/** A job's `logs:` (a map, replaced whole like `retries`) over the defaults. */
function logPolicy(raw: unknown): LogPolicy {
  if (raw === undefined) return DEFAULT_LOG_POLICY;
  const r = (raw ?? {}) as { keep?: number; level?: LogLevelName; redact?: string[] };
  return { keep: r.keep ?? LOG_POLICY_DEFAULTS.keep, maxBytes: LOG_POLICY_DEFAULTS.maxBytes, level: r.level ?? LOG_POLICY_DEFAULTS.level, redact: r.redact ?? LOG_POLICY_DEFAULTS.redact };
}

/**
 * The policies of a job that sets none, one object for all such jobs (a million jobs, a
 * million fewer objects), frozen: nothing changes a job's policy in place.
 */
const DEFAULT_LOG_POLICY: LogPolicy = Object.freeze({ ...LOG_POLICY_DEFAULTS });
const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ ...JOB_DEFAULTS.retries, backoff: "fixed" });

function retryPolicy(raw: unknown): RetryPolicy {
  const base = JOB_DEFAULTS.retries;
  if (raw === undefined) return DEFAULT_RETRY_POLICY;
  if (typeof raw === "number") return { ...base, backoff: "fixed", max: raw };
  const r = raw as { max: number; backoff?: RetryPolicy["backoff"]; delay?: unknown; maxDelay?: unknown };
  return {
    max: r.max,
    backoff: r.backoff ?? "fixed",
    delayMs: r.delay === undefined ? base.delayMs : parseDuration(r.delay)!,
    maxDelayMs: r.maxDelay === undefined ? null : parseDuration(r.maxDelay),
  };
}


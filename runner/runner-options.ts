import { SHARED_DEFAULTS, type Clock, type Executor, type LiveLogLine, type OptionRule, type RunLogs, type RunMode, type RunRecord } from "./contracts/index.js";
import type { Logger } from "./log/logger.js";
import type { ReloadResult } from "./reload/reload-pipeline.js";
import type { RunStore } from "./store/run-store.js";

export interface RunnerOptions {
  /** The manifest file. @default "./jobs.yaml" */
  manifest?: string;
  /** The environment `enabled` is read for. @default --env, RUNLET_ENV, NODE_ENV, "development" */
  env?: string;
  /** Where the runner and `ctx.log` write. @default JSON lines on stderr at LOG_LEVEL (info): `createLogger()` */
  logger?: Logger;
  /** Time source for timers; tests inject a fake one. @default the system clock */
  clock?: Clock;
  /** How long `stop()` waits for runs in flight before aborting them. @default 30000 */
  shutdownGraceMs?: number;
  /** How long an aborted run may go on before it is terminated (thread) or given up on (inline). @default 2000 */
  abortGraceMs?: number;
  /** Hot reload: watch the manifest and handlers (and their imports) and apply edits live. @default false */
  watch?: boolean;
  /**
   * Where runs are recorded; the runner closes it on stop. `openStore()` from `runlet/store`
   * opens one from a `--store` value (a SQLite path, "memory", a postgres:// URL).
   * @default SQLite at `.runlet/runs.db` next to the manifest, as the CLI uses
   */
  store?: RunStore;
  /** Executors by mode, for tests and embedding. @default inline + a worker-thread pool */
  executors?: Partial<Record<RunMode, Executor>>;
}

/** What `started` carries. */
export interface StartedEvent {
  manifest: string;
  env: string;
  /** Every job, manifest and class jobs. */
  jobs: number;
  /** Jobs with a schedule. */
  scheduled: number;
}

/**
 * What a runner tells as it goes, typed: tests and embedders wait on these, never on log
 * text. The runner's own log lines carry the same name as `event` (for a child process,
 * whose only channel is its log).
 */
export interface RunnerEvents {
  /** The runner has started firing (after recovery and joining its replica group). */
  started: [StartedEvent];
  /** A scheduled fire, just before its runs start (replicas: when it is claimed, up to `claimAhead` before its time): its time and its jobs (paused ones left out). */
  fire: [{ fireDate: Date; jobs: string[] }];
  /** Every run record: when a run starts and when it ends (and skipped fires). */
  record: [RunRecord];
  /** A run's first record (status `running`). */
  "run-started": [RunRecord];
  /** A run's final record: ok, failed, timeout, cancelled, lost, or skipped (a fire that did not run). */
  "run-ended": [RunRecord];
  /** A reload was applied (or refused: `error` set, the last good manifest kept). */
  reload: [ReloadResult];
  /** A reload was applied (the first load, too). */
  "reload-applied": [ReloadResult];
  /** A reload was refused; the last good manifest and build keep running. */
  "reload-refused": [ReloadResult];
  /** The runner has stopped: runs ended (or were aborted), pool and store closed. */
  stopped: [];
  /** A `ctx.log` line a run in flight kept (see `logs:` in the manifest). */
  log: [LiveLogLine];
  /** Lines of a run's log dropped to keep it within its bounds. */
  "log-dropped": [{ job: string; count: number }];
  /** Lines that reached runs' logs (at or above `logs.level`, kept or dropped), per job, as they are taken in. */
  "log-captured": [{ job: string; count: number }];
  /** A run's kept log, handed to the store as the run ended. */
  logs: [RunLogs];
}

/** The defaults of RunnerOptions, in one place. */
export const RUNNER_DEFAULTS = {
  manifest: "jobs.yaml",
  shutdownGraceMs: SHARED_DEFAULTS.shutdownGraceMs,
  abortGraceMs: SHARED_DEFAULTS.abortGraceMs,
  watch: false,
} as const satisfies Partial<RunnerOptions>;

/** What each option may be; checked when a runner is made. */
export const RUNNER_OPTION_RULES = {
  manifest: "string",
  env: "string",
  logger: "object",
  clock: "object",
  shutdownGraceMs: "ms",
  abortGraceMs: "ms",
  watch: "boolean",
  store: "object",
  executors: "object",
} as const satisfies Record<keyof RunnerOptions, OptionRule>;

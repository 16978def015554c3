/**
 * Run logs: the lines a handler writes through `ctx.log`, kept with its run. The shapes
 * the capture, the stores, the HTTP API and the CLI share.
 */
import type { JobLogger } from "../context.js";

export type LogLevelName = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/** pino's numeric levels. */
export const LEVEL_VALUES: Record<LogLevelName, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export function isLevelName(value: unknown): value is LogLevelName {
  return typeof value === "string" && Object.hasOwn(LEVEL_VALUES, value);
}

/** One line a run logged. */
export interface RunLogLine {
  level: LogLevelName;
  /** When it was logged (a thread run's line: when it reached the main thread), ISO 8601 UTC. */
  time: string;
  msg: string;
  /** pino's merging object, as JSON keeps it (redacted); absent when the line had none. */
  fields?: Record<string, unknown>;
  /** The attempt that logged it (1 for the first try). */
  attempt: number;
}

/** The kept lines of one run, oldest first, and how many older ones were dropped to keep within bounds. */
export interface RunLogs {
  runId: string;
  job: string;
  lines: RunLogLine[];
  dropped: number;
  /** `lines` as one JSON array, when the capture has it already: stores write it as it is. */
  linesJson?: string;
}

/** The JSON array of a run's lines, as stores write it. */
export function linesJsonOf(logs: RunLogs): string {
  return logs.linesJson ?? JSON.stringify(logs.lines);
}

/** How much of a run's log is kept, per job (`logs:` in the manifest). */
export interface LogPolicy {
  /** The last N lines of a run are kept; 0 keeps none. @default 1000 */
  keep: number;
  /** And at most this many bytes of them (JSON), the newest kept. @default 262144 (256 KiB) */
  maxBytes: number;
  /** Lines below this level are not kept (they may still reach stderr). @default "info" */
  level: LogLevelName;
  /** pino-style paths whose values are replaced by "[Redacted]" before a line is kept or printed. @default [] */
  redact: string[];
  /**
   * Values the manifest took from the environment (`${env:NAME}`), by name: wherever one
   * appears in a kept line (message or fields) it is kept as `${env:NAME}` instead.
   * @default none
   */
  secrets?: ReadonlyArray<{ name: string; value: string }>;
}

export const LOG_POLICY_DEFAULTS = {
  keep: 1000,
  maxBytes: 256 * 1024,
  level: "info",
  redact: [],
} satisfies LogPolicy;

/** A line as listeners hear it while its run goes on. */
export interface LiveLogLine extends RunLogLine {
  runId: string;
  job: string;
  /** The line's place in its run's log from 0, counting dropped lines: `lines[i]` of a kept log has seq `dropped + i`. */
  seq: number;
}

/** What an executor writes a run's `ctx.log` lines to: pino's call shapes and its numeric level. */
export interface RunLogger extends JobLogger {
  /** Lines below this are never written (a worker drops them before posting). */
  readonly levelVal: number;
}

import type { RunStore } from "../store/run-store.js";
import type { JobDefinition, LiveLogLine, RunLogs, RunRecord } from "../contracts/index.js";

/** What a reload event carries, as far as the HTTP stage reads it. */
export interface ReloadView {
  ok: boolean;
  durationMs: number;
  error?: { code: string; message: string };
}

/**
 * The part of a {@link import("../runner.js").Runner} the HTTP server uses. Declared here,
 * not imported, so the server depends on a small shape (tests and embedders can hand it
 * anything that has it) and `Runner` satisfies it structurally.
 */
export interface RunnerView {
  readonly env: string;
  readonly manifestPath: string;
  /** The current (last good) manifest's jobs. */
  readonly jobs: JobDefinition[];
  nextFireOf(job: string): Date | null;
  /** Runs in flight now. */
  readonly inFlight: number;
  /** Runs a job now; resolves with its final record. Throws RunletError JOB_UNKNOWN for an unknown job. */
  invoke(job: string, params?: unknown): Promise<RunRecord>;
  isPaused(job: string): boolean;
  /** Persisted in the store; a paused job does not fire. Throws RunletError JOB_UNKNOWN for an unknown job. */
  setPaused(job: string, paused: boolean): Promise<void>;
  readonly store: Pick<RunStore, "history" | "lastRuns" | "pending" | "findRun" | "runLogs">;
  /** The lines kept so far of a run in flight in this process; null when it is not. */
  liveLogs(runId: string): RunLogs | null;
  /** Manifest loaded and store reachable. */
  isReady(): Promise<{ ready: boolean; reasons: string[]; warnings?: string[] }>;
  /** Every run record: at start (status running), at end, and skipped fires. */
  on(event: "record", fn: (record: RunRecord) => void): this;
  on(event: "reload", fn: (result: ReloadView) => void): this;
  /** Every `ctx.log` line a run in flight keeps, as it is kept. */
  on(event: "log", fn: (line: LiveLogLine) => void): this;
  /** Lines dropped from a run's kept log (beyond its bounds). */
  on(event: "log-dropped", fn: (drop: { job: string; count: number }) => void): this;
  /** Lines that reached runs' logs (kept or dropped), per job, counted as they are taken in. */
  on(event: "log-captured", fn: (captured: { job: string; count: number }) => void): this;
  off(event: "record", fn: (record: RunRecord) => void): this;
  off(event: "reload", fn: (result: ReloadView) => void): this;
  off(event: "log", fn: (line: LiveLogLine) => void): this;
  off(event: "log-dropped", fn: (drop: { job: string; count: number }) => void): this;
  off(event: "log-captured", fn: (captured: { job: string; count: number }) => void): this;
}

/**
 * Defaults more than one component applies: each is stated here, once. A component's own
 * defaults object (`RUNNER_DEFAULTS`, the dispatcher's, the thread executor's, the class
 * runtime's) takes these from here and adds its own.
 */
export const SHARED_DEFAULTS = {
  /** How long an aborted run may go on before it is terminated (thread) or given up on (inline). */
  abortGraceMs: 2000,
  /** How long `stop()` waits for runs in flight before aborting them. */
  shutdownGraceMs: 30_000,
  /** Runs the store keeps per job (a job's `history.keep`). */
  historyKeep: 100,
} as const;

/** Runs the store keeps for a job: its `history.keep`, else the default (a job it no longer knows, too). */
export function historyKeepOf(def: { historyKeep: number } | undefined): number {
  return def?.historyKeep ?? SHARED_DEFAULTS.historyKeep;
}

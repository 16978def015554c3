import type { RunLogs } from "../contracts/index.js";
import type { RunCore } from "./run-core.js";

/** The lines kept so far of a run in flight on `core`; null when it is not (read the store). */
export function liveLogsOf(core: Pick<RunCore, "runLogs" | "dispatcher">, runId: string): RunLogs | null {
  const live = core.runLogs.live(runId);
  if (live) return live;
  // In flight with nothing kept yet: a run's buffer opens with its first line.
  const job = core.dispatcher.jobOfRun(runId);
  return job === null ? null : { runId, job, lines: [], dropped: 0, linesJson: "[]" };
}

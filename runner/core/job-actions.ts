import type { RunRecord } from "../contracts/index.js";
import { RunletError } from "../errors.js";
import type { RunCore } from "./run-core.js";

/**
 * Runs a manifest job now and resolves with its final record; JOB_UNKNOWN names the
 * jobs of `manifestPath`. Not async: an invoke goes straight to the dispatcher (an async
 * function and its await cost a busy caller ~1 KB of garbage per run).
 */
export function invokeJob(core: Pick<RunCore, "active" | "dispatcher">, manifestPath: string, name: string, params: unknown): Promise<RunRecord> {
  const job = core.active.get(name);
  if (!job) return Promise.reject(new RunletError("JOB_UNKNOWN", `no job named "${name}" in ${manifestPath} (jobs: ${[...core.active.keys()].join(", ") || "none"})`));
  try {
    return core.dispatcher.invoke(job, params === undefined ? job.def.params : params);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Pauses or resumes a manifest job; persisted, so it holds across restarts. */
export async function setJobPaused(core: Pick<RunCore, "active" | "paused" | "logger" | "store">, job: string, paused: boolean): Promise<void> {
  if (!core.active.has(job)) throw new RunletError("JOB_UNKNOWN", `no job named "${job}"`);
  if (paused) core.paused.add(job);
  else core.paused.delete(job);
  core.logger.info({ job, paused }, paused ? "job paused" : "job resumed");
  await core.store.setJobState(job, { paused });
}

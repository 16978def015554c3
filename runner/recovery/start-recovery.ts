import type { JobDefinition, RunRecord } from "../contracts/index.js";
import type { Logger } from "../log/logger.js";
import { ownerIsGone } from "../store/owner.js";
import type { RunStore } from "../store/run-store.js";
import { missedFires } from "./missed-fires.js";

/**
 * Start-up: runs a dead process left `running` become `lost`; returns them as now stored,
 * and the jobs the store says are paused.
 */
export async function recoverAtStart(store: RunStore, jobs: readonly JobDefinition[], logger: Logger): Promise<{ paused: string[]; lost: RunRecord[] }> {
  // Before this process starts any run, a record owned by its own pid is an earlier
  // process's (pid 1 in a restarted container).
  const lost = await store.reapLost((owner) => ownerIsGone(owner, { selfIsGone: true }));
  for (const run of lost) logger.warn({ event: "run-lost", job: run.job, runId: run.runId, scheduledAt: run.scheduledAt }, "run lost: the process running it is gone");
  const paused: string[] = [];
  for (const job of jobs) if ((await store.jobState(job.name)).paused) paused.push(job.name);
  return { paused, lost };
}

export interface CatchUpOptions {
  jobs: readonly JobDefinition[];
  store: RunStore;
  logger: Logger;
  now: Date;
  /** Runs one missed fire; resolves false when the job may no longer fire (removed, paused, stopping). */
  fire(job: string, fireDate: Date): Promise<boolean>;
}

/** Fires missed while no runner was up, per each job's catchUp policy, oldest first. */
export async function catchUpMissedFires({ jobs, store, logger, now, fire }: CatchUpOptions): Promise<void> {
  await Promise.all(
    jobs.map(async (def) => {
      if (def.catchUp === "none") return;
      const { fires, dropped } = missedFires(def, (await store.jobState(def.name)).lastFireAt, now);
      if (fires.length === 0) return;
      logger.info({ job: def.name, missed: fires.length, dropped, policy: def.catchUp }, "catching up missed fires");
      for (const fireDate of fires) if (!(await fire(def.name, fireDate))) return;
    }),
  );
}

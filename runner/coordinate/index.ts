import type { ActiveJob, GateClaim, RunRecord } from "../contracts/index.js";
import type { Logger } from "../log/logger.js";
import { fireClaimsOf, type AcquiredRun, type ExpiredRun } from "../store/fire-claims.js";
import type { RunStore } from "../store/run-store.js";
import { soleOwnerOf } from "../store/sole-owner.js";
import { Solo, type Coordination } from "./coordination.js";
import { ReplicaGroup } from "./replica-group.js";
import { SoleRunner } from "./sole-runner.js";

export type { Coordination, Partition } from "./coordination.js";

export interface CoordinationDeps {
  logger: Logger;
  /** Its modification time orders the replicas' specs; null: no manifest (generation 0). */
  manifestPath: string | null;
  /** Aborts a run in flight here whose lease was lost. */
  abortRun: (runId: string, reason: Error) => void;
  /** The job a taken-over run resumes as, or null when it is gone here (or the runner is stopping). */
  jobFor: (name: string) => ActiveJob | null;
  /** Starts the next attempt of a run taken over from another replica (same run id). */
  resume: (job: ActiveJob, run: AcquiredRun, claim: GateClaim) => void;
  /** A run of another replica that this one's reaper recorded as lost (its record as stored). */
  onLost: (record: RunRecord) => void;
}

/** The coordination a store calls for: claims (a shared database), sole ownership (a SQLite file), or none. */
export function coordinationFor(store: RunStore, deps: CoordinationDeps): Coordination {
  const claiming = fireClaimsOf(store);
  if (claiming) {
    const { jobFor, resume, onLost, ...rest } = deps;
    return new ReplicaGroup({
      store: claiming,
      ...rest,
      onLost: (run) => onLost(lostRecord(run)),
      resume: (run, claim) => {
        const job = jobFor(run.job);
        if (job) resume(job, run, claim);
        return job !== null;
      },
    });
  }
  const sole = soleOwnerOf(store);
  if (sole) return new SoleRunner(sole, store, deps.logger);
  return new Solo(store);
}

/** A run the reaper marked lost, as its record reads (for the jobs that run after its failure). */
function lostRecord(run: ExpiredRun): RunRecord {
  const error = { message: `the replica running it (${run.owner}) stopped renewing its lease; the run's outcome is unknown` };
  return { runId: run.runId, job: run.job, status: "lost", scheduledAt: run.scheduledAt, startedAt: null, finishedAt: null, attempt: run.attempt, error, result: null };
}

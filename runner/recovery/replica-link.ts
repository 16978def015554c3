import { statSync } from "node:fs";
import type { ActiveJob, GateClaim, JobDefinition, RunGate, RunRecord } from "../contracts/index.js";
import type { Logger } from "../log/logger.js";
import type { RunStore } from "../store/run-store.js";
import { ClaimedRuns } from "../store/postgres/claimed-runs.js";
import { fireClaimsOf, type AcquiredRun, type ExpiredRun } from "../store/postgres/fire-claims.js";

export interface ReplicaLinkOptions {
  store: RunStore;
  logger: Logger;
  /** Its modification time orders the replicas' specs; null: no manifest (generation 0). */
  manifestPath: string | null;
  /** Aborts a run in flight here whose claim was lost. */
  abortRun: (runId: string, reason: Error) => void;
  /** The job a taken-over run resumes as, or null when it is gone here (or the runner is stopping). */
  jobFor: (name: string) => ActiveJob | null;
  /** Starts the next attempt of a run taken over from another replica (same run id). */
  resume: (job: ActiveJob, run: AcquiredRun, claim: GateClaim) => void;
  /** A run of another replica that this one's reaper recorded as lost (its record as stored). */
  onLost: (record: RunRecord) => void;
}

/**
 * This runner's side of a replica group, when its store is shared (claims each fire first)
 * — or nothing at all for single-process stores: every method is then a no-op.
 */
export class ReplicaLink {
  /** The gate the dispatcher claims through; undefined when the store is not shared. */
  readonly gate: RunGate | undefined;
  private readonly claimed: ClaimedRuns | null;

  constructor(private readonly options: ReplicaLinkOptions) {
    const claiming = fireClaimsOf(options.store);
    this.claimed = claiming
      ? new ClaimedRuns({ store: claiming, logger: options.logger, abortRun: options.abortRun, resume: (run, claim) => this.takeOver(run, claim), onLost: (run) => options.onLost(lostRecord(run)) })
      : null;
    this.gate = this.claimed ?? undefined;
  }

  async join(jobs: JobDefinition[]): Promise<void> {
    await this.claimed?.join(this.manifestGeneration(), jobs);
  }

  async publish(jobs: JobDefinition[]): Promise<void> {
    await this.claimed?.publish(this.manifestGeneration(), jobs);
  }

  /** The fence a claimed run's records are written under (undefined: not claimed here). */
  fenceOf(runId: string): number | undefined {
    return this.claimed?.fenceOf(runId);
  }

  stopReaping(): void {
    this.claimed?.stopReaping();
  }

  async leave(): Promise<void> {
    await this.claimed?.leave();
  }

  /** A run another replica lost, taken over here for its next attempt (same run id). */
  private takeOver(run: AcquiredRun, claim: GateClaim): void {
    const job = this.options.jobFor(run.job);
    if (!job) {
      // Not run here after all: its lease runs out and the group's reaper decides again.
      claim.release();
      return;
    }
    this.options.resume(job, run, claim);
  }

  /**
   * Which manifest is newer when replicas disagree: the manifest file's modification time
   * (a deploy or an edit writes it; an old replica restarting does not).
   */
  private manifestGeneration(): number {
    if (this.options.manifestPath === null) return 0;
    try {
      return Math.floor(statSync(this.options.manifestPath).mtimeMs);
    } catch (err) {
      this.options.logger.warn({ err, manifest: this.options.manifestPath }, "cannot read the manifest's modification time; publishing it as the oldest");
      return 0;
    }
  }
}

/** A run the reaper marked lost, as its record reads (for the jobs that run after its failure). */
function lostRecord(run: ExpiredRun): RunRecord {
  const error = { message: `the replica running it (${run.owner}) stopped renewing its lease; the run's outcome is unknown` };
  return { runId: run.runId, job: run.job, status: "lost", scheduledAt: run.scheduledAt, startedAt: null, finishedAt: null, attempt: run.attempt, error, result: null };
}

import type { AfterOn, JobDefinition, RunRecord, RunStatus } from "../contracts/index.js";

/** Whether a run that ended with `status` starts a job that runs after it `on` that. */
export function endsAs(on: AfterOn, status: RunStatus): boolean {
  switch (status) {
    case "ok":
      return on !== "failure";
    case "failed":
    case "timeout":
    case "lost":
      return on !== "success";
    case "cancelled":
      return on === "always";
    // A skipped fire never ran, and a running one has not ended: neither starts anything.
    default:
      return false;
  }
}

/**
 * The manifest's `after` edges turned around: for each upstream job, the jobs its ended
 * runs start. Built anew from each (re)loaded manifest, so a reload adds and removes
 * edges as it does schedules.
 */
export class AfterIndex {
  private readonly downstream = new Map<string, Array<{ job: string; on: AfterOn }>>();

  constructor(jobs: Iterable<JobDefinition>) {
    for (const job of jobs) {
      for (const edge of job.after) {
        let list = this.downstream.get(edge.job);
        if (!list) this.downstream.set(edge.job, (list = []));
        // `after: [a, a]` or the same job in two places: one edge, started once per run.
        const last = list[list.length - 1];
        if (last?.job === job.name) last.on = last.on === edge.on ? last.on : "always";
        else list.push({ job: job.name, on: edge.on });
      }
    }
  }

  /** Whether any job runs after another: most manifests have none, and skip the lookup. */
  get isEmpty(): boolean {
    return this.downstream.size === 0;
  }

  /** The jobs a run that ended as `record` says starts, in manifest order. */
  startedBy(record: Pick<RunRecord, "job" | "status">): string[] {
    const edges = this.downstream.get(record.job);
    if (!edges) return [];
    const started: string[] = [];
    for (const edge of edges) if (endsAs(edge.on, record.status)) started.push(edge.job);
    return started;
  }
}

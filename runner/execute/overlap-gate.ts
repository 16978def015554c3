// The overlap and concurrency gate (and lateness): whether a fire starts now, is skipped, queued, or replaces.
import type { JobTrigger } from "../context.js";
import { RunletError } from "../errors.js";
import type { ActiveJob, JobDefinition, RunTrigger } from "../contracts/index.js";
import type { JobState } from "./live-run.js";

/** Records a fire that did not run (see Dispatcher.skip). */
export type SkipFire = (def: JobDefinition, fireDate: Date, reason: string, trigger: RunTrigger, why: string, status: "skipped" | "cancelled", cause: JobTrigger) => void;

/** Lateness, overlap and concurrency: whether a fire starts now (else it was skipped, queued, or it replaces). */
export function admitFire(state: JobState | undefined, job: ActiveJob, fireDate: Date, trigger: RunTrigger, cause: JobTrigger, now: number, skip: SkipFire): boolean {
  const { def } = job;
  if (trigger === "schedule" && now - fireDate.getTime() > def.latenessMs) {
    skip(def, fireDate, "late", trigger, `started ${now - fireDate.getTime()}ms after its scheduled time (lateness limit ${def.latenessMs}ms)`, "skipped", cause);
    return false;
  }
  if (state && state.running.size > 0) {
    switch (def.overlap) {
      case "skip":
        skip(def, fireDate, "overlap", trigger, "the previous run is still going (overlap: skip)", "skipped", cause);
        return false;
      case "queue": {
        const bound = def.concurrency ?? 1;
        if (state.running.size < bound) break;
        if (state.queued.length >= bound) {
          const reason = def.concurrency === null ? "overlap" : "concurrency";
          skip(def, fireDate, reason, trigger, `${state.running.size} runs are going and ${state.queued.length} fires already wait (overlap: queue, concurrency: ${bound})`, "skipped", cause);
        } else {
          state.queued.push({ job, fireDate, trigger, cause });
        }
        return false;
      }
      case "replace":
        for (const run of state.running.values()) run.abort(new RunletError("JOB_CANCELLED", "replaced by a newer fire (overlap: replace)"));
        break;
      case "allow":
        if (def.concurrency !== null && state.running.size >= def.concurrency) {
          skip(def, fireDate, "concurrency", trigger, `${state.running.size} runs are going (overlap: allow, concurrency: ${def.concurrency})`, "skipped", cause);
          return false;
        }
        break;
    }
  }
  return true;
}

import { createHash } from "node:crypto";
import type { JobDefinition } from "../contracts/index.js";

const computed = new WeakMap<JobDefinition, string>();

/**
 * Hash of what decides how a job's fire runs; equal hashes on two replicas = the same run.
 * Computed when first asked for, and kept: only replicas sharing PostgreSQL ask, and
 * hashing every job as a manifest loads cost ~0.4 s of starting 100,000 jobs. A job that
 * carries its own `specHash` (class-based jobs) keeps it.
 */
export function specHashOf(job: JobDefinition): string {
  if (job.specHash !== undefined) return job.specHash;
  let hash = computed.get(job);
  if (hash === undefined) {
    const decisive = [job.handler, job.scheduleSource, job.timezone, job.mode, job.params, job.timeoutMs, job.overlap, job.retries, job.memoryMb, job.enabled];
    hash = createHash("sha256").update(JSON.stringify(decisive)).digest("hex").slice(0, 16);
    computed.set(job, hash);
  }
  return hash;
}

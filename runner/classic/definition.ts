import { JOB_DEFAULTS } from "../manifest/index.js";
import type { JobDefinition } from "../contracts/index.js";
import type { FactoryParts } from "./factory-parts.js";
import { readSpec, type JobSpec } from "./spec-source.js";

/**
 * A class job as a job definition: what the dispatcher runs by, and what `list` and the
 * dashboard show beside manifest jobs. Fields the class API has no say in keep the
 * manifest's defaults; there are no retries, as the original API had none.
 */
export function definitionOf(parts: FactoryParts, spec: JobSpec | null): JobDefinition {
  const file = parts.workerFile();
  const reading = spec === null ? { schedule: null, source: null } : readSpec(spec);
  const schedule = reading.schedule;
  return {
    ...JOB_DEFAULTS,
    retries: { ...JOB_DEFAULTS.retries },
    catchUp: "none",
    after: [],
    name: parts.name,
    description: parts.description,
    // Where a manifest job names its handler file: the class (and a thread job's worker file).
    handler: file ? `${parts.className} (${file})` : parts.className,
    handlerPath: file ?? `class:${parts.className}`,
    schedule,
    scheduleSource: reading.source,
    mode: file ? "thread" : "inline",
    enabled: true,
    params: null,
    timeoutMs: parts.timeoutMs,
    overlap: parts.overlap,
    timezone: schedule && (schedule.kind === "cron" || schedule.kind === "rule") ? schedule.timezone : null,
    specHash: `class:${parts.className}:${parts.name}`,
  };
}

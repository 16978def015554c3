import { JOB_DEFAULTS } from "../../runner/manifest/index.js";
import type { JobDefinition } from "../../runner/contracts/index.js";

/** A job definition as the manifest stage would build it, with the defaults, for tests below that stage. */
export function jobDef(name: string, overrides: Partial<JobDefinition> = {}): JobDefinition {
  return {
    ...JOB_DEFAULTS,
    retries: { ...JOB_DEFAULTS.retries, backoff: "fixed" },
    mode: "inline",
    overlap: "skip",
    catchUp: "none",
    after: [],
    name,
    handler: "x",
    handlerPath: "x",
    schedule: null,
    scheduleSource: null,
    enabled: true,
    params: {},
    specHash: "0",
    ...overrides,
  };
}

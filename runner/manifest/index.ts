export { inspectManifest, loadManifest, parseManifest, readManifest, type LoadOptions } from "./load-manifest.js";
export { resolveEnvironment, isEnabledIn } from "./environment.js";
export { parseDuration, formatDuration } from "./duration.js";
export { JOB_DEFAULTS, JOB_FIELDS } from "./normalize-job.js";
export { manifestSchema } from "./schema-check.js";

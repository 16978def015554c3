/**
 * runlet's public API. The CLI is a thin layer over it.
 *
 * ```ts
 * import { createRunner } from "runlet";
 * await using runner = createRunner({ manifest: "jobs.yaml" });
 * await runner.start();
 * ```
 */
export { createLogger, type Logger, type LoggerOptions } from "./log/logger.js";
export { createRunner, Runner, type RunnerOptions, type RunnerEvents, type ReloadResult } from "./runner.js";
export { defineJob, type JobContext, type JobHandler, type JobLogger, type JobTrigger } from "./context.js";
export { loadManifest, parseManifest, resolveEnvironment, type LoadOptions } from "./manifest/index.js";
export { RunletError, ManifestError, formatProblem, type ErrorCode, type Problem } from "./errors.js";
export type { JobDefinition, Manifest, RunRecord, RunStatus, RunError, Schedule, RunMode, OverlapPolicy } from "./contracts/index.js";
export { JobFactory, ThreadJobFactory, AbstractBaseWorker, ClassicRuntime, configureRuntime, defaultRuntime } from "./classic/index.js";
export type { JobFactoryOptions, JobCallback, JobSpec, WorkerPort, ClassicRuntimeOptions, RunnerLink } from "./classic/index.js";

/** The class-based job API (the original job-system design), run on runlet's machinery. */
export { JobFactory, type JobFactoryOptions } from "./job-factory.js";
export { ThreadJobFactory } from "./thread-job-factory.js";
export { AbstractBaseWorker, type WorkerPort } from "./abstract-base-worker.js";
export { ClassicRuntime, type ClassicRuntimeOptions, type RunnerLink } from "./classic-runtime.js";
export { configureRuntime, defaultRuntime } from "./default-runtime.js";
export type { JobCallback } from "./factory-parts.js";
export type { JobSpec } from "./spec-source.js";

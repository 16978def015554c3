/**
 * What a factory tells the runtime about itself. The user-facing methods (`getSpec()`,
 * `getJobCallback()`, `getWorker()`) are protected, as the original API declares them; the
 * runtime reaches them through this one symbol-keyed method instead, which is not exported
 * from the package.
 */
import type { OverlapPolicy } from "../contracts/index.js";
import type { JobSpec } from "./spec-source.js";

/** What a JobFactory runs on each fire: `(fireDate) => void | Promise<void>`. */
export type JobCallback = (fireDate: Date) => void | Promise<void>;

export const FACTORY_PARTS: unique symbol = Symbol("runlet.classic.factoryParts");

export interface FactoryParts {
  /** The job's name in records, logs and metrics. */
  name: string;
  description: string;
  /** The factory's class name, shown where a manifest job shows its handler file. */
  className: string;
  overlap: OverlapPolicy;
  timeoutMs: number | null;
  /** Calls the factory's `getSpec()`. */
  spec(): JobSpec;
  /** Calls the factory's own `getJobCallback()` (not the manual-trigger wrapper). */
  callback(): JobCallback;
  /** A thread factory's worker module file (`getWorker().getFilename()`); null for an inline factory. */
  workerFile(): string | null;
}

/** Job names as the manifest allows them. */
export const JOB_NAME = /^[a-z0-9][a-z0-9-_.]*$/;

/**
 * The default job name: the class name in kebab-case without a trailing "JobFactory",
 * "ThreadJobFactory" or "Factory" (`CleanupFactory` → `cleanup`, `DailyReportJobFactory` →
 * `daily-report`).
 */
export function defaultJobName(className: string): string {
  const stem = className.replace(/(Thread)?(Job)?Factory$/, "") || className;
  const kebab = stem
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
    .replace(/[^A-Za-z0-9-_.]+/g, "-")
    .toLowerCase()
    .replace(/^[^a-z0-9]+/, "");
  return kebab || "job";
}

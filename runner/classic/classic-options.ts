import { SHARED_DEFAULTS, type Clock, type OptionRule } from "../contracts/index.js";
import type { RunCore } from "../core/run-core.js";
import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { RunStore } from "../store/run-store.js";

/** The part of a Runner a runtime beside it uses (a `Runner` has it). */
export interface RunnerLink {
  readonly manifestPath: string;
  /** The runtime the runner's jobs run on: class jobs are hosted there too. */
  readonly core: RunCore;
}

export interface ClassicRuntimeOptions {
  /**
   * Run beside this runner, on its runtime: its environment, store, clock, worker pool and
   * (with replicas) claim gate, and every record also emitted as the runner's `record`
   * event. The runner stops the class jobs when it stops.
   * @default none: a runtime of its own
   */
  runner?: RunnerLink;
  /** @default a pino logger writing JSON lines to stderr */
  logger?: Logger;
  /** Where runs are recorded; closed by `stop()`. Not with `runner` (its store is used). @default an in-memory store */
  store?: RunStore;
  /** The environment name in logs. Not with `runner`. @default RUNLET_ENV, NODE_ENV, "development" */
  env?: string;
  /** The project root thread workers are compiled in (`<root>/.runlet/`). @default the runner's manifest folder, else the nearest folder with a package.json above each worker file */
  root?: string;
  /** How long `stop()` waits for runs in flight before aborting them. @default 30000 */
  shutdownGraceMs?: number;
  /** How long an aborted run may go on before it is terminated (thread) or given up on (inline). Not with `runner`. @default 2000 */
  abortGraceMs?: number;
  /** Worker threads in the pool. Not with `runner` (its pool is used). @default os.availableParallelism() */
  maxThreads?: number;
  /** The clock of timers, timeouts, lateness and retries. Not with `runner`. @default the system clock */
  clock?: Clock;
}

export const CLASSIC_DEFAULTS = {
  shutdownGraceMs: SHARED_DEFAULTS.shutdownGraceMs,
  abortGraceMs: SHARED_DEFAULTS.abortGraceMs,
} as const satisfies ClassicRuntimeOptions;

/** What each option may be; checked when a runtime is made. */
export const CLASSIC_OPTION_RULES = {
  runner: "object",
  logger: "object",
  store: "object",
  env: "string",
  root: "string",
  shutdownGraceMs: "ms",
  abortGraceMs: "ms",
  maxThreads: "positive-int",
  clock: "object",
} as const satisfies Record<keyof ClassicRuntimeOptions, OptionRule>;

/** Options that belong to the runtime's own core cannot be set beside a runner, whose core is used. */
const RUNNER_OWNS = ["store", "env", "abortGraceMs", "maxThreads", "clock"] as const;

export function checkBesideRunner(options: ClassicRuntimeOptions): void {
  if (!options.runner) return;
  const given = RUNNER_OWNS.filter((key) => options[key] !== undefined);
  if (given.length > 0) {
    throw new RunletError("BAD_INPUT", `ClassicRuntime: ${given.join(", ")} cannot be set beside a runner (got ${given.map((k) => `${k}: ${String(options[k])}`).join(", ")}); class jobs beside a runner use the runner's ${given.join(", ")}`);
  }
}

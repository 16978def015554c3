/**
 * The runtime of factories created without a `runtime` option. A module-level default,
 * because the original API's `create()` takes no arguments; `configureRuntime()` replaces
 * it and returns it, so the program holds a handle it can stop.
 */
import { ClassicRuntime, type ClassicRuntimeOptions } from "./classic-runtime.js";

let current: ClassicRuntime | null = null;

/** The runtime factories without a `runtime` option use; made on first use (and again after it stopped). */
export function defaultRuntime(): ClassicRuntime {
  if (!current || current.stopped) current = new ClassicRuntime();
  return current;
}

/**
 * Sets the default runtime, e.g. `configureRuntime({ runner })` to run class jobs beside a
 * runner. Factories that already created their job keep the runtime they were created on.
 */
export function configureRuntime(options: ClassicRuntimeOptions = {}): ClassicRuntime {
  current = new ClassicRuntime(options);
  return current;
}

/**
 * The job's `memory` limit over everything its worker holds. V8 enforces the limit on the
 * JavaScript heap only (resourceLimits.maxOldGenerationSizeMb): a Buffer or an ArrayBuffer
 * lives outside it, so `Buffer.alloc(500 MB)` under `memory: 64` would go unnoticed. Here
 * the heap and the memory held outside it (external: Buffers, ArrayBuffers, ...) are added
 * up and compared with the limit while a run is in flight and when it answers.
 */
import { getHeapStatistics } from "node:v8";
import { RunletError } from "../runner/errors.js";

const MB = 1024 * 1024;
/** How often a run in flight is checked, in ms. The check runs only when the handler yields. */
export const MEMORY_CHECK_MS = 20;

/** JOB_OUT_OF_MEMORY when the worker holds more than `limitMb`, else null. */
export function overLimit(job: string, limitMb: number): RunletError | null {
  const stats = getHeapStatistics();
  const heap = stats.used_heap_size;
  const external = (stats as { external_memory?: number }).external_memory ?? 0;
  if (heap + external <= limitMb * MB) return null;
  return new RunletError(
    "JOB_OUT_OF_MEMORY",
    `job "${job}" ran out of memory: its worker thread held ${Math.round((heap + external) / MB)} MB (heap ${Math.round(heap / MB)} MB, Buffers and other memory outside the heap ${Math.round(external / MB)} MB), over its limit of ${limitMb} MB (memory: ${limitMb})`,
  );
}

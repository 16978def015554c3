import { existsSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import Database from "better-sqlite3";
import { defineJob } from "runlet/job";

interface Params {
  /** Warn when the event loop's p99 delay over the sample exceeds this. */
  maxEventLoopDelayMs: number;
  /** Warn when the heap in use exceeds this. */
  maxHeapUsedMb: number;
  /** The run store to check (the default SQLite store of this project). */
  store: string;
  /** How long to sample the event loop. */
  sampleMs: number;
}

/**
 * Health check of the runner's own process (it runs inline, in the main thread, on
 * purpose: that is the event loop it measures). Logs one health record; warns past the
 * thresholds.
 */
export default defineJob<Params>(async (ctx) => {
  const { maxEventLoopDelayMs, maxHeapUsedMb, store, sampleMs } = ctx.params;
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  await new Promise((r) => setTimeout(r, sampleMs));
  histogram.disable();
  const eventLoopP99Ms = Math.round(histogram.percentile(99) / 1e5) / 10;
  const memory = process.memoryUsage();
  const heapUsedMb = Math.round(memory.heapUsed / 2 ** 20);
  const rssMb = Math.round(memory.rss / 2 ** 20);
  const storeReachable = checkStore(store);

  const health = { eventLoopP99Ms, heapUsedMb, rssMb, storeReachable };
  const warnings = [
    eventLoopP99Ms > maxEventLoopDelayMs && `event loop p99 delay ${eventLoopP99Ms}ms > ${maxEventLoopDelayMs}ms`,
    heapUsedMb > maxHeapUsedMb && `heap ${heapUsedMb}MB > ${maxHeapUsedMb}MB`,
    storeReachable === false && `run store ${store} cannot be read`,
  ].filter(Boolean);
  if (warnings.length > 0) ctx.log.warn({ ...health, warnings }, "watchdog: unhealthy");
  else ctx.log.info(health, "watchdog: healthy");
  return { ...health, warnings };
});

/** `null` when there is no store file yet (nothing recorded so far), else whether it answers. */
function checkStore(file: string): boolean | null {
  if (!existsSync(file)) return null;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 1000 });
    try {
      db.prepare("SELECT 1").get();
      return true;
    } finally {
      db.close();
    }
  } catch {
    // Unreadable store: the health record says so; the handler itself succeeds.
    return false;
  }
}

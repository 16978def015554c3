import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The built pool worker, dist/workers/pool-worker.js. Worker threads run JavaScript only, so
 * even when this file is loaded from source (vitest runs runner/execute/*.ts) the worker is
 * the one `node scripts/build.mjs` wrote; from dist/runner/execute/ it sits two folders up.
 */
export function workerEntry(from: string | URL = import.meta.url): URL {
  const fromSource = fileURLToPath(from).endsWith(".ts");
  return new URL(fromSource ? "../../dist/workers/pool-worker.js" : "../../workers/pool-worker.js", from);
}

/** Whether the worker entry has been built (a missing one fails every thread run). */
export function workerEntryExists(entry: URL): boolean {
  return existsSync(fileURLToPath(entry));
}

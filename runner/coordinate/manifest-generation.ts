import { statSync } from "node:fs";
import type { Logger } from "../log/logger.js";

/**
 * Which manifest is newer when replicas disagree: the manifest file's modification time
 * (a deploy or an edit writes it; an old replica restarting does not).
 */
export function manifestGeneration(manifestPath: string | null, logger: Logger): number {
  if (manifestPath === null) return 0;
  try {
    return Math.floor(statSync(manifestPath).mtimeMs);
  } catch (err) {
    logger.warn({ err, manifest: manifestPath }, "cannot read the manifest's modification time; publishing it as the oldest");
    return 0;
  }
}

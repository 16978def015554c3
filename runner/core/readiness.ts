import type { RunStore } from "../store/run-store.js";

export interface Readiness {
  ready: boolean;
  /** Why not ready; empty when ready. */
  reasons: string[];
  /** What an operator should know that does not make it unready (a manifest on disk newer than the one running). */
  warnings: string[];
}

/** Ready to serve (/readyz): a manifest is loaded and the store takes writes. */
export async function readiness(store: Pick<RunStore, "history" | "pending">, manifestLoaded: boolean, warnings: () => string[]): Promise<Readiness> {
  const reasons: string[] = [];
  if (!manifestLoaded) reasons.push("manifest not loaded");
  try {
    await store.history({ limit: 1 });
    if (store.pending() > 0) reasons.push(`store has ${store.pending()} unwritten records`);
  } catch (err) {
    reasons.push(`store unreachable: ${(err as Error).message}`);
  }
  return { ready: reasons.length === 0, reasons, warnings: warnings() };
}

import type { RunOwner } from "./run-store.js";

/** The runner that schedules from a single-process store, and since when (ISO 8601). */
export interface StoreOwner extends RunOwner {
  since: string;
}

/**
 * What a store that only one runner may schedule from adds to the run store (SQLite: one
 * file, no claims between processes). Taking it is atomic: of two runners starting at
 * once on one file, one gets it.
 */
export interface SoleOwnerStore {
  /** Where the store is, for messages (the file). */
  readonly where: string;
  /**
   * Makes `owner` the store's owner unless another owner holds it that `isGone` says is
   * alive; returns that owner then (and changes nothing), else null.
   */
  takeOwnership(owner: StoreOwner, isGone: (held: RunOwner) => boolean): Promise<StoreOwner | null>;
  /** Gives the store up, if `owner` holds it. */
  releaseOwnership(owner: RunOwner): Promise<void>;
}

/** The store's sole-owner capability, or null (memory: one process by nature; PostgreSQL: claims). */
export function soleOwnerOf(store: object): SoleOwnerStore | null {
  return typeof (store as Partial<SoleOwnerStore>).takeOwnership === "function" ? (store as SoleOwnerStore) : null;
}

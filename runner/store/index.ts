/** Run history: the store interface, its implementations, and the door the CLI uses. */
export type { JobState, RunOwner, RunStore, StoreOptions, StoredRun } from "./run-store.js";
export { MemoryStore } from "./memory-store.js";
export { SqliteStore, openSqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
export { openStore, type OpenStoreOptions } from "./open-store.js";
export { currentOwner, ownerIsGone } from "./owner.js";

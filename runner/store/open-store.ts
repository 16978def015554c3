import { resolve } from "node:path";
import type { Logger } from "../log/logger.js";
import { MemoryStore } from "./memory-store.js";
import type { RunStore, StoreOptions } from "./run-store.js";
import { openSqliteStore } from "./sqlite-store.js";

export interface OpenStoreOptions extends Omit<StoreOptions, "logger"> {
  /** The manifest's folder: the default SQLite file is `<manifestDir>/.runlet/runs.db`. */
  manifestDir: string;
  logger: Logger;
}

/**
 * The store a `--store` value names: `memory`; a `postgres://` or `postgresql://` URL;
 * anything else a SQLite file path, relative to the working directory. Empty or absent:
 * `<manifestDir>/.runlet/runs.db`.
 */
export async function openStore(spec: string | undefined, options: OpenStoreOptions): Promise<RunStore> {
  const { manifestDir, ...storeOptions } = options;
  const value = spec?.trim() ?? "";
  if (value === "memory") return new MemoryStore(storeOptions);
  if (/^postgres(ql)?:\/\//i.test(value)) {
    // Loaded only when asked for: `pg` is not needed by single-process stores.
    const { openPostgresStore } = await import("./postgres/postgres-store.js");
    return openPostgresStore(value, storeOptions);
  }
  return openSqliteStore(sqliteFileOf(value, manifestDir)!, storeOptions);
}

/** The SQLite file a store spec names, or null when it names memory or PostgreSQL. */
export function sqliteFileOf(spec: string | undefined, manifestDir: string): string | null {
  const value = spec?.trim() ?? "";
  if (value === "memory" || /^postgres(ql)?:\/\//i.test(value)) return null;
  return value === "" ? resolve(manifestDir, ".runlet", "runs.db") : resolve(value);
}

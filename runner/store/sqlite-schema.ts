import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";

/** Marks a SQLite file as runlet's (`PRAGMA application_id`), "rlet" in ASCII. */
export const APPLICATION_ID = 0x726c6574;

/**
 * The schema, as steps. A file's `PRAGMA user_version` is the last step applied; opening
 * applies the rest in one transaction, so an empty file gets all of them. Add a step to
 * change the schema; never edit one that has shipped.
 */
export const migrations: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      -- Timestamps are ISO 8601 UTC text (they sort as text); result and error are JSON.
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        job TEXT NOT NULL,
        status TEXT NOT NULL,
        scheduled_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        attempt INTEGER NOT NULL,
        error TEXT,
        result TEXT NOT NULL,
        reason TEXT,
        trigger_kind TEXT,
        owner_pid INTEGER,
        owner_host TEXT
      );
      CREATE INDEX runs_job_time ON runs (job, scheduled_at, started_at);
      CREATE INDEX runs_time ON runs (scheduled_at, started_at);
      CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
      CREATE TABLE job_state (
        job TEXT PRIMARY KEY,
        last_fire_at INTEGER,
        paused INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      PRAGMA application_id = ${APPLICATION_ID};
    `,
  },
  {
    version: 2,
    sql: `
      -- A run started by the end of another job's run (trigger 'after'): that run's id.
      ALTER TABLE runs ADD COLUMN upstream_run_id TEXT;
    `,
  },
  {
    version: 3,
    sql: `
      -- The one runner that schedules from this file (see sole-owner.ts); no row: none.
      CREATE TABLE runner_owner (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        since TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    sql: `
      -- The params a run was given, as kept (JSON, values from the environment hidden); NULL
      -- in runs recorded before: an older file opens, its runs read without params.
      ALTER TABLE runs ADD COLUMN params TEXT;
    `,
  },
  {
    version: 5,
    sql: `
      -- The tries of a run that may be retried (JSON), oldest first; NULL for the others.
      ALTER TABLE runs ADD COLUMN attempts TEXT;
    `,
  },
];

export const SCHEMA_VERSION = migrations[migrations.length - 1]!.version;

/** Applies the steps a file lacks; returns the versions applied (none when up to date). */
export function migrate(db: Database.Database): number[] {
  // Up to date: no write lock taken, so opening never waits for another runlet's writes.
  if (userVersion(db) >= SCHEMA_VERSION) return [];
  const apply = db.transaction(() => {
    // Read again under the write lock: another process may have migrated meanwhile.
    const from = userVersion(db);
    const steps = migrations.filter((m) => m.version > from);
    for (const step of steps) {
      db.exec(step.sql);
      db.pragma(`user_version = ${step.version}`);
    }
    return steps.map((m) => m.version);
  });
  return apply.immediate();
}

export function userVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

export interface OpenOptions {
  logger: Logger;
  /** How long opening waits for another process's lock. */
  openTimeoutMs: number;
  /** How long a statement waits for a lock once open (writes run on the caller's thread). */
  busyTimeoutMs: number;
}

/**
 * Opens (creating it and its folder if needed) a runlet SQLite file in WAL mode, checks it
 * is runlet's and not newer than this code, and migrates it. Every failure is a
 * RunletError STORE_OPEN that names the file and what to do.
 */
export function openDatabase(file: string, options: OpenOptions): Database.Database {
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: options.openTimeoutMs });
    // WAL: `runlet history` reads while `runlet start` writes, neither waiting on the other.
    db.pragma("journal_mode = WAL");
    // In WAL, NORMAL loses no commit when the process dies, only on power loss or an OS crash.
    db.pragma("synchronous = NORMAL");
    checkOwnership(db, file);
    const applied = migrate(db);
    if (applied.length > 0) options.logger.info({ file, applied }, `run history ${file} migrated to schema version ${SCHEMA_VERSION}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    return db;
  } catch (err) {
    db?.close();
    throw err instanceof RunletError ? err : openError(file, err, options.openTimeoutMs);
  }
}

function checkOwnership(db: Database.Database, file: string): void {
  const appId = db.pragma("application_id", { simple: true }) as number;
  const version = userVersion(db);
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
  if ((appId !== 0 && appId !== APPLICATION_ID) || (appId === 0 && (version !== 0 || tables.n > 0))) {
    throw new RunletError("STORE_OPEN", `${file} is a SQLite database of another program, not a runlet run history: give runlet its own --store file`);
  }
  if (version > SCHEMA_VERSION) {
    throw new RunletError(
      "STORE_OPEN",
      `${file} has run-history schema version ${version}, newer than this runlet knows (${SCHEMA_VERSION}): upgrade runlet, or give this one its own --store file`,
    );
  }
}

function openError(file: string, err: unknown, openTimeoutMs: number): RunletError {
  const code = (err as { code?: string }).code;
  switch (code) {
    case "SQLITE_NOTADB":
    case "SQLITE_CORRUPT":
      return new RunletError("STORE_OPEN", `${file} is not a runlet database or is corrupt: move it aside or delete it to start a new history`, { cause: err });
    case "SQLITE_BUSY":
    case "SQLITE_LOCKED":
      return new RunletError(
        "STORE_OPEN",
        `${file} is locked by another process (waited ${openTimeoutMs}ms): stop the other runlet using it, or give this one its own --store file`,
        { cause: err },
      );
    default:
      return new RunletError("STORE_OPEN", `cannot open the run history ${file}: ${(err as Error).message} (check the path and that its folder is writable)`, { cause: err });
  }
}

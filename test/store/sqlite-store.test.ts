import { waitFor } from "../support/poll.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { silentLogger } from "../../runner/log/logger.js";
import { APPLICATION_ID, SCHEMA_VERSION, migrate } from "../../runner/store/sqlite-schema.js";
import { openSqliteStore, type SqliteStoreOptions } from "../../runner/store/sqlite-store.js";
import { storeContract } from "./contract.js";
import { aRun, captureLogger, tempDir } from "./helpers.js";

storeContract("sqlite", async (options) => {
  const tmp = tempDir();
  const store = await openSqliteStore(join(tmp.dir, "runs.db"), { logger: silentLogger(), ...options });
  return Object.assign(store, {
    async [Symbol.asyncDispose]() {
      await store.close();
      tmp[Symbol.dispose]();
    },
  });
});

/** Opens a store on `file`, closed (and its folder kept) on dispose. */
async function openAt(file: string, options: Partial<SqliteStoreOptions> = {}) {
  const store = await openSqliteStore(file, { logger: silentLogger(), ...options });
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
}

/** Runs `fn` against a second, raw connection to `file`. */
function raw<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

describe("sqlite: the file", () => {
  test("is created with its parent folders, in WAL mode, migrated to the latest schema", async () => {
    using tmp = tempDir();
    const file = join(tmp.dir, "nested", ".runlet", "runs.db");
    const { logger, lines } = captureLogger();
    await using store = await openAt(file, { logger });
    await store.record(aRun("a", 1));
    raw(file, (db) => {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.pragma("application_id", { simple: true })).toBe(APPLICATION_ID);
    });
    expect(lines.filter((l) => l.msg.includes("migrated")).map((l) => l.applied)).toEqual([[1, 2, 3, 4, 5]]);
  });

  test("an empty file gets every migration", async () => {
    using tmp = tempDir();
    const file = join(tmp.dir, "runs.db");
    writeFileSync(file, "");
    await using store = await openAt(file);
    await store.record(aRun("a", 1, { runId: "r1" }));
    expect((await store.history({ limit: 5 })).map((r) => r.runId)).toEqual(["r1"]);
    expect(raw(file, (db) => db.pragma("user_version", { simple: true }))).toBe(SCHEMA_VERSION);
  });

  test("a file already at the latest version re-opens without migrating, keeping runs and job state", async () => {
    using tmp = tempDir();
    const file = join(tmp.dir, "runs.db");
    const fire = new Date(Date.UTC(2030, 0, 1, 6));
    {
      await using store = await openAt(file);
      void store.record(aRun("a", 1, { runId: "r1", result: { n: 1 } }));
      void store.setJobState("a", { lastFireAt: fire, paused: true });
      // close() writes what is queued: nothing awaited above.
    }
    const { logger, lines } = captureLogger();
    await using store = await openAt(file, { logger });
    expect(lines.filter((l) => l.msg.includes("migrated"))).toEqual([]);
    expect(raw(file, (db) => migrate(db))).toEqual([]);
    expect(await store.history({ limit: 5 })).toMatchObject([{ runId: "r1", result: { n: 1 } }]);
    expect(await store.jobState("a")).toEqual({ lastFireAt: fire, paused: true });
  });

  test("a corrupt file is STORE_OPEN, naming the file and what to do", async () => {
    using tmp = tempDir();
    const file = join(tmp.dir, "runs.db");
    writeFileSync(file, Buffer.from("this is not a SQLite file\n".repeat(200)));
    const err = await openAt(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STORE_OPEN" });
    expect((err as Error).message.replace(tmp.dir, "<tmp>")).toMatchInlineSnapshot(
      `"<tmp>/runs.db is not a runlet database or is corrupt: move it aside or delete it to start a new history"`,
    );
  });

  test("a file locked by another process is STORE_OPEN, naming the file", async () => {
    using tmp = tempDir();
    const file = join(tmp.dir, "runs.db");
    const holder = new Database(file);
    try {
      holder.pragma("locking_mode = EXCLUSIVE");
      holder.exec("BEGIN EXCLUSIVE; CREATE TABLE held (x);");
      const err = await openAt(file, { openTimeoutMs: 50 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "STORE_OPEN" });
      expect((err as Error).message.replace(tmp.dir, "<tmp>")).toMatchInlineSnapshot(
        `"<tmp>/runs.db is locked by another process (waited 50ms): stop the other runlet using it, or give this one its own --store file"`,
      );
    } finally {
      holder.close();
    }
  });

  test("another program's SQLite file, or a newer runlet's, is STORE_OPEN and left untouched", async () => {
    using tmp = tempDir();
    const foreign = join(tmp.dir, "foreign.db");
    raw(foreign, (db) => db.exec("CREATE TABLE customers (id INTEGER)"));
    await expect(openAt(foreign)).rejects.toMatchObject({ code: "STORE_OPEN", message: expect.stringContaining("another program") });
    expect(raw(foreign, (db) => db.pragma("user_version", { simple: true }))).toBe(0);

    const newer = join(tmp.dir, "newer.db");
    raw(newer, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`) && db.pragma(`application_id = ${APPLICATION_ID}`));
    await expect(openAt(newer)).rejects.toMatchObject({ code: "STORE_OPEN", message: expect.stringContaining(`schema version ${SCHEMA_VERSION + 1}, newer`) });
  });
});

describe("sqlite: writes", () => {
  test("records of one turn are batched, and a run started and ended in it is written once", async () => {
    using tmp = tempDir();
    await using store = await openAt(join(tmp.dir, "runs.db"));
    const run = aRun("a", 1, { status: "running", finishedAt: null });
    const started = store.record(run);
    const ended = store.record({ ...run, status: "ok" });
    for (let i = 0; i < 50; i++) void store.record(aRun("b", i));
    expect(store.pending()).toBe(51);
    await Promise.all([started, ended]);
    expect(store.pending()).toBe(0);
    expect((await store.history({ job: "a", limit: 5 })).map((r) => r.status)).toEqual(["ok"]);
  });

  test("a write while another process holds the lock does not throw: it stays pending, is logged, and is written once the lock is gone", async () => {
    using tmp = tempDir();
    const file = join(tmp.dir, "runs.db");
    const { logger, lines } = captureLogger();
    await using store = await openAt(file, { logger, busyTimeoutMs: 10, retryMs: 20 });
    const holder = new Database(file);
    holder.exec("BEGIN IMMEDIATE");
    let durable = false;
    const written = store.record(aRun("a", 1, { runId: "held" })).then(() => (durable = true));
    await waitFor(() => lines.some((l) => l.level === 40));
    expect(store.pending()).toBe(1);
    expect(durable).toBe(false);
    const warning = lines.find((l) => l.level === 40)!;
    expect(warning.msg.replace(tmp.dir, "<tmp>")).toMatch(/^cannot write run history to <tmp>\/runs\.db; keeping 1 writes in memory and retrying in \d+ms$/);
    expect(warning.err).toMatchObject({ message: expect.stringContaining("database is locked") });
    // More records while failing only queue.
    expect(() => store.record(aRun("a", 2, { runId: "later" }))).not.toThrow();
    holder.exec("COMMIT");
    holder.close();
    await written;
    expect(store.pending()).toBe(0);
    expect((await store.history({ limit: 5 })).map((r) => r.runId)).toEqual(["later", "held"]);
    expect(lines.some((l) => l.msg.includes("resumed"))).toBe(true);
  });

  test("close while the lock is still held rejects with STORE_WRITE and rejects the waiting records", async () => {
    using tmp = tempDir();
    const file = join(tmp.dir, "runs.db");
    const store = await openAt(file, { logger: silentLogger(), busyTimeoutMs: 10, openTimeoutMs: 50, retryMs: 60_000 });
    const holder = new Database(file);
    try {
      holder.exec("BEGIN IMMEDIATE");
      const recorded = store.record(aRun("a", 1));
      await expect(store.close()).rejects.toMatchObject({ code: "STORE_WRITE", message: expect.stringContaining("1 run history writes") });
      await expect(recorded).rejects.toMatchObject({ code: "STORE_WRITE" });
    } finally {
      holder.close();
    }
  });

  test("job state set while the store is failing still reads back", async () => {
    using tmp = tempDir();
    const file = join(tmp.dir, "runs.db");
    const { logger, lines } = captureLogger();
    await using store = await openAt(file, { logger, busyTimeoutMs: 10, retryMs: 60_000 });
    const holder = new Database(file);
    try {
      holder.exec("BEGIN IMMEDIATE");
      void store.setJobState("a", { paused: true });
      await waitFor(() => lines.some((l) => l.level === 40));
      expect(store.pending()).toBe(1);
      expect(await store.jobState("a")).toEqual({ lastFireAt: null, paused: true });
    } finally {
      holder.exec("COMMIT");
      holder.close();
    }
  });
});

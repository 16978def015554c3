import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { expect, test } from "vitest";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/memory-store.js";
import { openStore } from "../../runner/store/open-store.js";
import { postgresSettings } from "../../runner/store/postgres/pg-config.js";
import { SqliteStore } from "../../runner/store/sqlite-store.js";
import { testSchema } from "../replicas/pg-support.js";
import { tempDir } from "./helpers.js";

test("--store memory opens a memory store", async () => {
  const store = await openStore("memory", { manifestDir: "/nowhere", logger: silentLogger() });
  expect(store).toBeInstanceOf(MemoryStore);
  await store.close();
});

test("no --store opens <manifest dir>/.runlet/runs.db, creating the folder", async () => {
  using tmp = tempDir();
  for (const spec of [undefined, "", "  "]) {
    const store = await openStore(spec, { manifestDir: tmp.dir, logger: silentLogger() });
    expect(store).toBeInstanceOf(SqliteStore);
    expect((store as SqliteStore).file).toBe(join(tmp.dir, ".runlet", "runs.db"));
    await store.close();
  }
  expect(existsSync(join(tmp.dir, ".runlet", "runs.db"))).toBe(true);
});

test("a relative --store path is relative to the working directory, not the manifest", async () => {
  using tmp = tempDir();
  const spec = relative(process.cwd(), join(tmp.dir, "elsewhere", "history.db"));
  const store = await openStore(spec, { manifestDir: "/nowhere", logger: silentLogger() });
  expect((store as SqliteStore).file).toBe(join(tmp.dir, "elsewhere", "history.db"));
  await store.close();
  expect(existsSync(join(tmp.dir, "elsewhere", "history.db"))).toBe(true);
});

test("a PostgreSQL URL opens the PostgreSQL store; an unreachable one is STORE_OPEN without the password", async () => {
  const database = await testSchema();
  const store = await openStore(database.url(), { manifestDir: "/nowhere", logger: silentLogger() });
  try {
    expect(store.constructor.name).toBe("PostgresStore");
    expect(await store.history({ limit: 1 })).toEqual([]);
  } finally {
    await store.close();
    await database.drop();
  }
  const refused = openStore("postgresql://postgres:secret-pw@127.0.0.1:1/test", { manifestDir: "/nowhere", logger: silentLogger() });
  await expect(refused).rejects.toMatchObject({ code: "STORE_OPEN" });
  await expect(refused).rejects.not.toThrow(/secret-pw/);
});

test("replicas split the schedule unless the URL says ?partition=off; another value is STORE_OPEN", () => {
  const url = "postgres://runlet@db.internal:5432/app";
  expect(postgresSettings(url).partitioned).toBe(true);
  expect(postgresSettings(`${url}?partition=on`).partitioned).toBe(true);
  expect(postgresSettings(`${url}?partition=off`).partitioned).toBe(false);
  expect(postgresSettings(`${url}?partition=off`, { partition: true }).partitioned).toBe(true);
  expect(() => postgresSettings(`${url}?partition=yes`)).toThrow(expect.objectContaining({ code: "STORE_OPEN" }));
});

import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { RunletError } from "../../runner/errors.js";
import { storeUnreachable } from "../../runner/store/store-errors.js";
import { testSchema, type TestSchema } from "./pg-support.js";

// What the replica group takes for an outage (fires held back, not taken over) and what
// for one failed statement: each error here is the real one, from pg and PostgreSQL.

let schema: TestSchema;
let url: string;
beforeAll(async () => {
  schema = await testSchema();
  url = schema.url().replace(/\?.*/, "");
});
afterAll(async () => {
  await schema?.drop();
});

async function errorOf(work: (client: pg.Client) => Promise<unknown>, connectionString = url): Promise<unknown> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await work(client);
  } catch (err) {
    return err;
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error("expected the work to fail");
}

test("a refused connection, a terminated session and a connection lost between queries are outages", async () => {
  const refused = await errorOf(async () => undefined, "postgres://postgres@127.0.0.1:1/x");
  expect(refused).toMatchObject({ code: "ECONNREFUSED" });
  const terminated = await errorOf((c) => c.query("SELECT pg_terminate_backend(pg_backend_pid())"));
  expect(terminated).toMatchObject({ code: "57P01" });
  const lost = await errorOf(async (c) => {
    const { rows } = await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    // Listening before the terminate: an idle client emits two errors (57P01, then
    // "Connection terminated unexpectedly"), and both may come before pg_terminate_backend returns.
    const errors: unknown[] = [];
    const firstError = new Promise((resolve) => c.on("error", (err) => resolve(errors.push(err))));
    await schema.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
    await firstError;
    await c.query("SELECT 1");
  });
  expect(lost).toMatchObject({ message: expect.stringMatching(/not queryable|Connection terminated/) });
  const noDatabase = await errorOf(async () => undefined, url.replace(schema.name, `${schema.name}_gone`));
  expect(noDatabase).toMatchObject({ code: "3D000" });
  for (const err of [refused, terminated, lost, noDatabase]) expect(storeUnreachable(err)).toBe(true);
  // As the write queue passes it on.
  expect(storeUnreachable(new RunletError("STORE_WRITE", "cannot write run history", { cause: refused }))).toBe(true);
});

test("a statement the database refused on a sound connection is no outage", async () => {
  const divide = await errorOf((c) => c.query("SELECT 1 / 0"));
  expect(divide).toMatchObject({ code: "22012" });
  const duplicate = await errorOf(async (c) => {
    await c.query("CREATE TEMP TABLE t (k int PRIMARY KEY)");
    await c.query("INSERT INTO t VALUES (1), (1)");
  });
  expect(duplicate).toMatchObject({ code: "23505" });
  const cancelled = await errorOf((c) => c.query("SET statement_timeout = 10; SELECT pg_sleep(1)"));
  expect(cancelled).toMatchObject({ code: "57014" });
  for (const err of [divide, duplicate, cancelled, Object.assign(new Error("deadlock detected"), { code: "40P01" })]) expect(storeUnreachable(err)).toBe(false);
  expect(storeUnreachable(new RunletError("STORE_WRITE", "cannot write run history", { cause: duplicate }))).toBe(false);
});

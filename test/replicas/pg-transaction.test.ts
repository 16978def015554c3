import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { inTransaction } from "../../runner/store/postgres/transaction.js";
import { captureLogger } from "../store/helpers.js";
import { testSchema, type TestSchema } from "./pg-support.js";

// A transaction's client goes back to the pool once, whatever failed: pg-pool throws on a
// second release, and a broken connection lent again fails the next write too.

let schema: TestSchema;
let pool: pg.Pool;
beforeAll(async () => {
  schema = await testSchema();
  pool = new pg.Pool({ connectionString: schema.url().replace(/\?.*/, ""), max: 1 });
  pool.on("error", () => undefined /* the terminated session's client, already discarded */);
});
afterAll(async () => {
  await pool?.end();
  await schema?.drop();
});

const { logger } = captureLogger();
// As the store's checkout: a checked-out client's connection error is listened to.
const checkout = async () => {
  const client = await pool.connect();
  if (client.listenerCount("error") === 0) client.on("error", () => undefined);
  return client;
};

test("a committed transaction hands its client back to the pool", async () => {
  await expect(inTransaction(checkout, logger, async (c) => (await c.query<{ n: number }>("SELECT 1 AS n")).rows[0]!.n)).resolves.toBe(1);
  expect({ total: pool.totalCount, idle: pool.idleCount }).toEqual({ total: 1, idle: 1 });
});

test("a statement error rolls back and keeps the connection: it is sound", async () => {
  await expect(inTransaction(checkout, logger, (c) => c.query("SELECT 1 / 0"))).rejects.toMatchObject({ code: "22012" });
  expect({ total: pool.totalCount, idle: pool.idleCount }).toEqual({ total: 1, idle: 1 });
  await expect(inTransaction(checkout, logger, (c) => c.query("SELECT 1"))).resolves.toBeDefined();
});

test("a connection that dies inside the transaction is released once, with its error, and dropped by the pool", async () => {
  await expect(inTransaction(checkout, logger, (c) => c.query("SELECT pg_terminate_backend(pg_backend_pid())"))).rejects.toMatchObject({ code: "57P01" });
  expect(pool.totalCount).toBe(0);
  // The next transaction gets a new connection.
  await expect(inTransaction(checkout, logger, (c) => c.query("SELECT 1"))).resolves.toBeDefined();
  expect(pool.totalCount).toBe(1);
});

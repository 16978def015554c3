import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openPostgresStore } from "../../runner/store/postgres/index.js";
import { aRun, captureLogger } from "../store/helpers.js";
import { until } from "./fault-support.js";
import { PG_SERVER, testSchema, type TestSchema } from "./pg-support.js";

// Replicas' record writes, reapers and lease renewals touch the same rows in different
// orders, and PostgreSQL breaks the deadlocks that follow by rolling one statement back.
// Here a real deadlock against the store's record write: it must be run again at once,
// not held back as if the database were unreachable.

let schema: TestSchema;
beforeAll(async () => {
  schema = await testSchema();
});
afterAll(async () => {
  await schema?.drop();
});

test("a record write rolled back by a deadlock is run again at once: both records land, nothing is held back or logged", async () => {
  const { logger, lines } = captureLogger();
  const store = await openPostgresStore(schema.url(), { logger });
  const other = new pg.Client({ connectionString: Object.assign(new URL(PG_SERVER), { pathname: `/${schema.name}` }).toString() });
  await other.connect();
  try {
    const a = aRun("a", 1, { runId: "lock-a", status: "running", finishedAt: null });
    const b = aRun("a", 2, { runId: "lock-b", status: "running", finishedAt: null });
    await Promise.all([store.record(a), store.record(b)]);
    const runs = `"${schema.name}".runs`;
    // The other session holds b's row and will then want a's. It waits 10 s before it looks
    // for a deadlock, the store's session 1 s (the server's default): PostgreSQL rolls the store's back.
    await other.query("SET deadlock_timeout = '10s'");
    await other.query("BEGIN");
    await other.query(`UPDATE ${runs} SET reason = 'held' WHERE run_id = 'lock-b'`);
    const writing = Promise.all([store.record({ ...a, status: "ok" }), store.record({ ...b, status: "ok" })]);
    // The store's write has a's row and waits for b's.
    await until(
      () => schema.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [schema.app]),
      (rows) => Number(rows[0]!.n) > 0,
    );
    // Only once the store's transaction is rolled back (the deadlock) can this get a's row.
    await other.query(`UPDATE ${runs} SET reason = 'held' WHERE run_id = 'lock-a'`);
    await other.query("COMMIT");
    await writing;
    const rows = await schema.query<{ run_id: string; status: string }>(`SELECT run_id, status FROM ${runs} ORDER BY run_id`);
    expect(rows).toEqual([{ run_id: "lock-a", status: "ok" }, { run_id: "lock-b", status: "ok" }]);
    // Run again at once: the write queue never had to keep them and retry later.
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  } finally {
    await other.end();
    await store.close();
  }
}, 30_000);

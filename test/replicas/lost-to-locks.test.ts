import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ReplicaGroup } from "../../runner/coordinate/replica-group.js";
import { openPostgresStore } from "../../runner/store/postgres/index.js";
import { aRun, captureLogger } from "../store/helpers.js";
import { jobDef } from "../support/job-def.js";
import { waitFor } from "../support/poll.js";
import { PG_SERVER, testSchema, type TestSchema } from "./pg-support.js";

// Replicas' record writes, reapers and lease renewals touch the same rows in different
// orders, and PostgreSQL breaks the deadlocks that follow by rolling one statement back.
// Here a real deadlock against the store's record write: it must be run again at once,
// not held back as if the database were unreachable. And one that loses every try is
// a failed statement, not an outage.

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
    await waitFor(
      () => schema.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [schema.app]),
      { until: (rows) => Number(rows[0]!.n) > 0, timeoutMs: 15_000, everyMs: 100, what: "the store's write to wait on a lock" },
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

test("a claim that loses its lock race on every try is a failed claim, not an outage: the next fire is claimed at once", async () => {
  const { logger, lines } = captureLogger();
  const store = await openPostgresStore(schema.url(), { logger });
  const group = new ReplicaGroup({ store, logger, manifestPath: null, abortRun: () => undefined, resume: () => false });
  const other = new pg.Client({ connectionString: Object.assign(new URL(PG_SERVER), { pathname: `/${schema.name}` }).toString() });
  await other.connect();
  const [a, b] = [jobDef("a"), jobDef("b")];
  const fireDate = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
  const fires = `"${schema.name}".fires`;
  const insert = (job: string) => other.query(`INSERT INTO ${fires} (job, scheduled_at, source, state, run_id, trigger_kind, spec_hash, exclusive, max_attempts) VALUES ($1, $2, 'schedule', 'done', $3, 'schedule', '0', false, 1) ON CONFLICT DO NOTHING`, [job, fireDate, `other-${job}`]);
  try {
    await group.join([a, b]);
    await other.query("SET deadlock_timeout = '10s'");
    await other.query("BEGIN");
    // b's fire is being inserted by the other session: the claim (which inserts in key order) gets a's and waits for b's.
    await insert("b");
    const claims = Promise.all([a, b].map((def) => group.claim({ def, fireDate, trigger: "schedule", runId: `claim-${def.name}` })));
    let settled = false;
    void claims.finally(() => (settled = true));
    // Each try of the claim: the other session then wants a's fire too, and the deadlock
    // rolls the claim back (the store's session looks for it first); the other lets go of
    // a's, keeps b's, and the claim's next try meets the same.
    for (let round = 0; round < 10 && !settled; round++) {
      await waitFor(
        () => schema.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [schema.app]),
        { until: (rows) => settled || Number(rows[0]!.n) > 0, timeoutMs: 15_000, everyMs: 100, what: `the claim's try ${round + 1} to wait on a lock, or the claims to settle` },
      );
      if (settled) break;
      await other.query("SAVEPOINT s");
      await insert("a");
      await other.query("ROLLBACK TO SAVEPOINT s");
    }
    expect(await claims).toEqual([null, null]);
    await other.query("ROLLBACK");
    const refused = lines.filter((l) => l.level >= 50);
    expect(refused.map((l) => [l.code, l.msg])).toEqual([[ "40P01", "the database refused a statement while claiming a fire (not an outage: fires go on being claimed)" ]]);
    expect(lines.filter((l) => /unreachable/.test(l.msg))).toEqual([]);
    // No outage: takeovers still look for fires due now, and the next claim goes to the database.
    expect(group.partition?.wasDown(Date.now())).toBe(false);
    const next = await group.claim({ def: a, fireDate: new Date(fireDate.getTime() + 1000), trigger: "schedule", runId: "claim-a-next" });
    expect(next).not.toBeNull();
    if (next && next !== "later") next.release();
  } finally {
    await other.end();
    await group.leave();
    await store.close();
  }
}, 30_000);

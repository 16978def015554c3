import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openPostgresStore, type PostgresStore } from "../../runner/store/postgres/index.js";
import { aRun, captureLogger } from "../store/helpers.js";
import { waitFor } from "../support/poll.js";
import { PG_SERVER, testSchema, type TestSchema } from "./pg-support.js";

// Statements that lock the same rows must lock them in one order. Two that wait on each
// other are a deadlock PostgreSQL breaks only after `deadlock_timeout` (1 s): a replica's
// lease renewal and its write of the same runs' ends did, and meanwhile the next second's
// claims saw runs that had ended as still live, and recorded those fires skipped
// (overlap: skip). Here another session holds the row both statements want first, so
// both are waiting before it lets go; they must then go one after the other, never
// each holding a row the other waits for.

let schema: TestSchema;
beforeAll(async () => {
  schema = await testSchema();
});
afterAll(async () => {
  await schema?.drop();
});

/** Sessions of this suite waiting on a lock, with the sessions they wait for. */
async function lockWaits(): Promise<Array<{ pid: number; by: number[] }>> {
  return schema.query<{ pid: number; by: number[] }>("SELECT pid, pg_blocking_pids(pid) AS by FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [schema.app]);
}

/**
 * Holds the row `lock` selects until both `work`s are waiting on locks, lets go, and
 * reports whether two of the suite's sessions were seen waiting on each other before
 * `work` settled.
 */
async function raceBehindLock(lock: string, work: () => Promise<unknown>): Promise<{ cycle: boolean }> {
  const other = new pg.Client({ connectionString: Object.assign(new URL(PG_SERVER), { pathname: `/${schema.name}` }).toString() });
  await other.connect();
  try {
    await other.query("BEGIN");
    expect((await other.query(lock)).rowCount).toBe(1);
    let settled = false;
    const done = work().finally(() => (settled = true));
    const waiting = await waitFor(lockWaits, { until: (rows) => rows.length >= 2, timeoutMs: 15_000, everyMs: 100, what: "two sessions waiting on locks" });
    expect(waiting).toHaveLength(2);
    await other.query("COMMIT");
    // A deadlock lasts `deadlock_timeout` (1 s) before PostgreSQL breaks it: looked for every 20 ms until the work settles.
    const cycle = await waitFor(
      async () => {
        const rows = await lockWaits();
        const by = new Map(rows.map((r) => [r.pid, r.by]));
        return rows.some((r) => r.by.some((p) => by.get(p)?.includes(r.pid)));
      },
      { until: (seen) => seen || settled, timeoutMs: 15_000, everyMs: 20, what: "the work behind the lock to settle" },
    );
    await done;
    return { cycle };
  } finally {
    await other.end();
  }
}

const fires = () => `"${schema.name}".fires`;

async function claimed(store: PostgresStore, job: string, scheduledAt: Date) {
  const runId = `${job}-${scheduledAt.getTime()}`;
  const claim = await store.claimFire({ job, scheduledAt, source: "schedule", trigger: "schedule", specHash: null, overlap: "skip", startingDeadlineMs: null, runId, maxAttempts: 1 });
  if (!claim.won) throw new Error(`claim of ${runId} lost: ${claim.reason}`);
  return { runId, fence: claim.fence };
}

test("a lease renewal and the write of the same runs' ends lock the fires in one order: the ends land at once", async () => {
  const { logger } = captureLogger();
  const store = await openPostgresStore(schema.url(), { logger });
  try {
    const scheduledAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const [a, b] = [await claimed(store, "a", scheduledAt), await claimed(store, "b", scheduledAt)];
    const end = (job: string, run: { runId: string; fence: number }) => ({ ...aRun(job, 0, { runId: run.runId, scheduledAt: scheduledAt.toISOString() }), fence: run.fence });
    const { cycle } = await raceBehindLock(`SELECT 1 FROM ${fires()} WHERE job = 'a' FOR UPDATE`, () =>
      // The renewal names a first, the record write b first.
      Promise.all([store.renewLeases([a, b]), store.record(end("b", b)), store.record(end("a", a))]),
    );
    expect(cycle).toBe(false);
    const rows = await schema.query<{ job: string; state: string }>(`SELECT job, state FROM ${fires()} ORDER BY job`);
    expect(rows).toEqual([{ job: "a", state: "done" }, { job: "b", state: "done" }]);
  } finally {
    await store.close();
  }
}, 30_000);

test("replicas writing the same jobs' fire times lock them in one order", async () => {
  const { logger } = captureLogger();
  const [one, two] = [await openPostgresStore(schema.url(), { logger }), await openPostgresStore(schema.url(), { logger })];
  try {
    const first = new Date(Date.UTC(2030, 0, 1));
    await Promise.all([one.setJobState("x", { lastFireAt: first }), one.setJobState("y", { lastFireAt: first })]);
    const next = new Date(first.getTime() + 1000);
    const { cycle } = await raceBehindLock(`SELECT 1 FROM "${schema.name}".job_state WHERE job = 'x' FOR UPDATE`, () =>
      // Each replica queued them in the order its fires came.
      Promise.all([one.setJobState("x", { lastFireAt: next }), one.setJobState("y", { lastFireAt: next }), two.setJobState("y", { lastFireAt: next }), two.setJobState("x", { lastFireAt: next })]),
    );
    expect(cycle).toBe(false);
    expect((await one.jobState("x")).lastFireAt).toEqual(next);
  } finally {
    await one.close();
    await two.close();
  }
}, 30_000);

test("a batch's fire times and pauses lock job_state in job order together: fire times of a, b and a pause of a after b's fire time do not deadlock", async () => {
  const { logger } = captureLogger();
  const [one, two] = [await openPostgresStore(schema.url(), { logger }), await openPostgresStore(schema.url(), { logger })];
  try {
    const first = new Date(Date.UTC(2031, 0, 1));
    await Promise.all([one.setJobState("a", { lastFireAt: first }), one.setJobState("b", { lastFireAt: first })]);
    const next = new Date(first.getTime() + 1000);
    const { cycle } = await raceBehindLock(`SELECT 1 FROM "${schema.name}".job_state WHERE job = 'a' FOR UPDATE`, async () => {
      // One's batch waits on a first; two's batch is b's fire time and a's pause, queued in that order.
      const ones = Promise.all([one.setJobState("a", { lastFireAt: next }), one.setJobState("b", { lastFireAt: next })]);
      await waitFor(lockWaits, { until: (rows) => rows.length >= 1, timeoutMs: 15_000, everyMs: 20, what: "one's batch waiting on a" });
      await Promise.all([ones, two.setJobState("b", { lastFireAt: next }), two.setJobState("a", { paused: true })]);
    });
    expect(cycle).toBe(false);
    expect(await one.jobState("a")).toEqual({ lastFireAt: next, paused: true });
    expect(await one.jobState("b")).toEqual({ lastFireAt: next, paused: false });
  } finally {
    await one.close();
    await two.close();
  }
}, 30_000);

test("the one statement of a batch's states changes only the fields each patch names", async () => {
  const store = await openPostgresStore(schema.url(), { logger: captureLogger().logger });
  try {
    const fire = new Date(Date.UTC(2032, 0, 1));
    // New rows: a pause alone, a fire time alone; then each patched with the other field only.
    await Promise.all([store.setJobState("p", { paused: true }), store.setJobState("f", { lastFireAt: fire })]);
    await Promise.all([store.setJobState("p", { lastFireAt: fire }), store.setJobState("f", { paused: true })]);
    await store.setJobState("f", { lastFireAt: new Date(fire.getTime() - 1000), paused: false });
    expect(await store.jobState("p")).toEqual({ lastFireAt: fire, paused: true });
    expect(await store.jobState("f")).toEqual({ lastFireAt: fire, paused: false });
    const rows = await schema.query(`SELECT job, last_fire_at, paused FROM "${schema.name}".job_state WHERE job IN ('p', 'f') ORDER BY job`);
    expect(rows).toEqual([{ job: "f", last_fire_at: fire, paused: false }, { job: "p", last_fire_at: fire, paused: true }]);
  } finally {
    await store.close();
  }
});

test("a batch of 20,000 fire times and a pause writes in linear time (well under 5 s; quadratic, it took ~13 s): the pause is looked up among the pauses, not the fire times", async () => {
  const store = await openPostgresStore(schema.url(), { logger: captureLogger().logger });
  try {
    const fire = new Date(Date.UTC(2033, 0, 1));
    const jobs = Array.from({ length: 20_000 }, (_, i) => `scale-${i}`);
    // Rows that exist already: the update path, where each row's pause is looked up.
    for (const job of jobs) void store.setJobState(job, { lastFireAt: fire });
    await store.flushRecords();
    const next = new Date(fire.getTime() + 1000);
    for (const job of jobs) void store.setJobState(job, { lastFireAt: next });
    void store.setJobState("scale-7", { paused: true });
    const started = performance.now();
    await store.flushRecords();
    // Looked up among all 20,000 for each row, this took ~14 s here; among the one pause, well under a second.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await store.jobState("scale-7")).toEqual({ lastFireAt: next, paused: true });
    expect(await store.jobState("scale-8")).toEqual({ lastFireAt: next, paused: false });
  } finally {
    await store.close();
  }
}, 60_000);


import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { newRunId } from "../../runner/execute/run-id.js";
import { silentLogger } from "../../runner/log/logger.js";
import type { FireClaim, FireClaimRequest } from "../../runner/store/fire-claims.js";
import { openPostgresStore, type PostgresStore } from "../../runner/store/postgres/postgres-store.js";
import { testSchema, type TestSchema } from "./pg-support.js";

// The claim protocol at the store, two replicas on one real PostgreSQL schema: what the
// claims of one turn (a fire's jobs, claimed together in one statement) decide.

let schema: TestSchema;
let a: PostgresStore;
let b: PostgresStore;
const SPEC = "spec-1";

beforeAll(async () => {
  schema = await testSchema();
  a = await openPostgresStore(schema.url(), { logger: silentLogger() });
  b = await openPostgresStore(schema.url(), { logger: silentLogger() });
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await schema?.drop();
});

function request(job: string, scheduledAt: Date, overrides: Partial<FireClaimRequest> = {}): FireClaimRequest {
  return { job, scheduledAt, source: "schedule", trigger: "schedule", specHash: SPEC, overlap: "allow", startingDeadlineMs: 60_000, runId: newRunId(), maxAttempts: 1, ...overrides };
}

/** Counts the statements a store sends while `work` runs. */
async function counting<T>(store: PostgresStore, work: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const query = store.pool.query.bind(store.pool);
  let statements = 0;
  store.pool.query = ((...args: Parameters<typeof query>) => {
    statements++;
    return query(...args);
  }) as typeof store.pool.query;
  try {
    return { result: await work(), statements };
  } finally {
    store.pool.query = query;
  }
}

describe("claims of one turn, decided together", () => {
  test("two replicas claim the same 300 fires at once: each is won exactly once, the loser hears `taken`, in a few statements", async () => {
    const jobs = Array.from({ length: 300 }, (_, i) => `fan-${i}`);
    const specs = new Map(jobs.map((job) => [job, SPEC]));
    await Promise.all([a.publishSpecs(1, specs), b.publishSpecs(1, specs)]);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const both = await counting(a, () =>
      Promise.all([Promise.all(jobs.map((job) => a.claimFire(request(job, at)))), Promise.all(jobs.map((job) => b.claimFire(request(job, at))))]),
    );
    const [ofA, ofB] = both.result;
    jobs.forEach((job, i) => {
      const outcomes = [ofA[i]!, ofB[i]!];
      expect(outcomes.filter((o) => o.won), job).toHaveLength(1);
      expect(outcomes.find((o) => !o.won), job).toEqual({ won: false, reason: "taken" });
    });
    // One claim statement for the 300, and one lookup for those it did not get back.
    expect(both.statements).toBeLessThanOrEqual(2);
    const fires = await schema.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema.name}".fires WHERE scheduled_at = $1 AND job LIKE 'fan-%'`, [at]);
    expect(Number(fires[0]!.n)).toBe(300);
    const history = await schema.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema.name}".runs WHERE scheduled_at = $1 AND job LIKE 'fan-%' AND status = 'running'`, [at]);
    expect(Number(history[0]!.n)).toBe(300);
  });

  test("in one batch: two fires of an exclusive job (one runs, one is skipped), a stale spec, a missed deadline, an invoke", async () => {
    const specs = new Map([["solo", SPEC], ["changed", "spec-2"], ["slow", SPEC]]);
    await a.publishSpecs(2, specs);
    const now = Math.floor(Date.now() / 1000) * 1000;
    const requests = [
      request("solo", new Date(now), { overlap: "skip" }),
      request("solo", new Date(now + 1000), { overlap: "skip" }),
      request("changed", new Date(now)),
      request("slow", new Date(now - 120_000), { startingDeadlineMs: 1000 }),
      request("adhoc", new Date(now), { source: `invoke:x`, trigger: "invoke", specHash: null, startingDeadlineMs: null }),
    ];
    const outcomes: FireClaim[] = await Promise.all(requests.map((r) => a.claimFire(r)));
    expect(outcomes[0]).toMatchObject({ won: true });
    expect(outcomes[1]).toEqual({ won: false, reason: "overlap" });
    expect(outcomes[2]).toEqual({ won: false, reason: "stale-spec" });
    expect(outcomes[3]).toEqual({ won: false, reason: "missed" });
    expect(outcomes[4]).toMatchObject({ won: true });
    const recorded = await schema.query<{ run_id: string; status: string; reason: string | null }>(
      `SELECT run_id, status, reason FROM "${schema.name}".runs WHERE run_id = ANY($1)`,
      [requests.map((r) => r.runId)],
    );
    const byRun = new Map(recorded.map((r) => [r.run_id, `${r.status}/${r.reason}`]));
    expect(requests.map((r) => byRun.get(r.runId))).toEqual(["running/null", "skipped/overlap", undefined, "skipped/late", "running/null"]);
  });

  test("two manifests of the same generation: the job's current spec is that of the manifest the members call newest (lowest digest)", async () => {
    // Partitioned scheduling gives the jobs to the replicas of the lowest digest on a tie
    // (coordinate/membership.ts); the claim must accept that manifest's spec, or nobody
    // claims the job. The spec hashes are ordered the other way round on purpose.
    await a.publishSpecs(7, new Map([["tied", "spec-z"]]), "digest-a");
    await b.publishSpecs(7, new Map([["tied", "spec-a"]]), "digest-b");
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    expect(await a.claimFire(request("tied", at, { specHash: "spec-z" }))).toMatchObject({ won: true });
    expect(await b.claimFire(request("tied", new Date(at.getTime() + 1000), { specHash: "spec-a" }))).toEqual({ won: false, reason: "stale-spec" });
  });

  test("a turn of 2,500 claims goes out in statements of at most 1,000, each claim answered", async () => {
    const jobs = Array.from({ length: 2_500 }, (_, i) => `wide-${i}`);
    await a.publishSpecs(5, new Map(jobs.map((job) => [job, SPEC])));
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const { result, statements } = await counting(a, () => Promise.all(jobs.map((job) => a.claimFire(request(job, at)))));
    expect(result.filter((o) => o.won)).toHaveLength(2_500);
    expect(statements).toBe(3);
  });

  test("the same request twice in one batch runs once: the second hears `taken`", async () => {
    await a.publishSpecs(3, new Map([["twice", SPEC]]));
    const once = request("twice", new Date(Math.floor(Date.now() / 1000) * 1000));
    const [first, second] = await Promise.all([a.claimFire(once), a.claimFire(once)]);
    expect(first).toMatchObject({ won: true });
    expect(second).toEqual({ won: false, reason: "taken" });
  });

  test("a query failing after the claim statement fails only the claims still open: won ones are kept", async () => {
    await Promise.all([a.publishSpecs(4, new Map([["mine", SPEC], ["theirs", SPEC]])), b.publishSpecs(4, new Map([["mine", SPEC], ["theirs", SPEC]]))]);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    await expect(b.claimFire(request("theirs", at))).resolves.toMatchObject({ won: true });
    // The lookup of the fire `a` got no row for (b has it) fails, as a dropped connection would.
    const query = a.pool.query.bind(a.pool);
    let sent = 0;
    a.pool.query = ((...args: Parameters<typeof query>) => (++sent === 2 ? Promise.reject(new Error("connection lost")) : query(...args))) as typeof a.pool.query;
    try {
      const [mine, theirs] = await Promise.allSettled([a.claimFire(request("mine", at)), a.claimFire(request("theirs", at))]);
      expect(mine).toMatchObject({ status: "fulfilled", value: { won: true } });
      expect(theirs).toMatchObject({ status: "rejected", reason: { message: "connection lost" } });
    } finally {
      a.pool.query = query;
    }
  });
});

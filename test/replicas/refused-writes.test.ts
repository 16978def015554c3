import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ReplicaGroup } from "../../runner/coordinate/replica-group.js";
import { openPostgresStore } from "../../runner/store/postgres/index.js";
import { storeUnreachable } from "../../runner/store/store-errors.js";
import { aRun, captureLogger } from "../store/helpers.js";
import { jobDef } from "../support/job-def.js";
import { waitFor } from "../support/poll.js";
import { testSchema, type TestSchema } from "./pg-support.js";

// A database that answers but refuses writes (disk full, a standby after a failover, a
// trigger): every replica's heartbeat, renewals and final records fail, and leases lapse in
// the database as in an outage. When writes come back, a replica must give the others a
// lease to write what finished meanwhile before it judges their runs lost, whatever error
// the database refused them with.

let schema: TestSchema;
beforeAll(async () => {
  schema = await testSchema();
});
afterAll(async () => {
  await schema?.drop();
});

const LEASE_MS = 4000;

test("writes refused past a lease, then back for one replica first: it judges nobody for a lease, and the other's finished run keeps its outcome", async () => {
  const url = (who: string) => schema.url({ lease: `${LEASE_MS}ms`, reap: "500ms", application_name: `${schema.app}-${who}`, partition: "off" });
  const a = captureLogger();
  const b = captureLogger();
  const storeA = await openPostgresStore(url("a"), { logger: a.logger });
  const storeB = await openPostgresStore(url("b"), { logger: b.logger });
  const groupOf = (store: typeof storeA, logger: typeof a.logger) => new ReplicaGroup({ store, logger, manifestPath: null, abortRun: () => undefined, resume: () => false });
  const groupA = groupOf(storeA, a.logger);
  const groupB = groupOf(storeB, b.logger);
  const s = `"${schema.name}"`;
  try {
    const def = jobDef("work", { retries: { max: 1, backoff: "fixed", delayMs: 0, maxDelayMs: null } });
    await Promise.all([groupA.join([def]), groupB.join([def])]);
    const fireDate = new Date(Math.ceil(Date.now() / 1000) * 1000);
    const claim = await groupA.claim({ def, fireDate, trigger: "schedule", runId: "run-a" });
    expect(claim).toMatchObject({ release: expect.any(Function) });
    const running = aRun("work", 0, { runId: "run-a", status: "running", scheduledAt: fireDate.toISOString(), startedAt: new Date().toISOString(), finishedAt: null });
    await groupA.record(running);

    // The database refuses every write of both replicas (a real error of the server's: SQLSTATE P0001 from a trigger).
    await schema.query(`CREATE TABLE ${s}.refusing (app text PRIMARY KEY)`);
    await schema.query(`INSERT INTO ${s}.refusing VALUES ($1), ($2)`, [`${schema.app}-a`, `${schema.app}-b`]);
    await schema.query(`CREATE FUNCTION ${s}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM ${s}.refusing WHERE app = current_setting('application_name')) THEN RAISE EXCEPTION 'writes refused'; END IF;
        RETURN NULL;
      END $$`);
    for (const table of ["replicas", "fires", "runs", "job_state"]) {
      await schema.query(`CREATE TRIGGER refuse BEFORE INSERT OR UPDATE OR DELETE ON ${s}.${table} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse()`);
    }
    // The run finishes as the refusals begin: its final record waits in replica A's queue,
    // and A keeps its lease for it (renewals that fail) until it is written.
    const done = groupA.record({ ...running, status: "ok", finishedAt: new Date().toISOString() });
    done.catch(() => undefined);
    // Past the lease in the database: the run would be reaped by anyone judging now.
    await waitFor(() => schema.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.fires WHERE run_id = 'run-a' AND lease_until < now()`), { until: (rows) => rows[0]!.n === "1", timeoutMs: LEASE_MS * 3, what: "run-a's lease to lapse" });

    // Writes come back for B first: it tends (heartbeat, own records, leases) but must not reap A's run yet.
    await schema.query(`DELETE FROM ${s}.refusing WHERE app = $1`, [`${schema.app}-b`]);
    const beats = async () => (await schema.query<{ at: Date }>(`SELECT seen_at AS at FROM ${s}.replicas WHERE owner = $1`, [storeB.owner]))[0]!.at.getTime();
    const first = await waitFor(beats, { until: (at) => at > Date.now() - 400, timeoutMs: 5000, what: "B's first heartbeat after writes came back" });
    await waitFor(beats, { until: (at) => at > first, timeoutMs: 5000, what: "B's next tend" });
    await waitFor(beats, { until: (at) => at > first + 600, timeoutMs: 5000, what: "B's tend after that" });
    const fire = () => schema.query<{ state: string; attempt: number }>(`SELECT state, attempt FROM ${s}.fires WHERE run_id = 'run-a'`);
    expect(await fire()).toEqual([{ state: "running", attempt: 1 }]);

    // Then for A: its final record lands under its fence, and nobody judges the run lost.
    await schema.query(`DELETE FROM ${s}.refusing`);
    await done;
    const runs = () => schema.query<{ status: string; attempt: number }>(`SELECT status, attempt FROM ${s}.runs WHERE run_id = 'run-a'`);
    expect(await runs()).toEqual([{ status: "ok", attempt: 1 }]);
    // Past B's grace: still ok, once.
    await waitFor(beats, { until: (at) => at > first + LEASE_MS + 1000, timeoutMs: LEASE_MS * 3, what: "B tending past its grace" });
    expect(await runs()).toEqual([{ status: "ok", attempt: 1 }]);
    expect(b.lines.filter((l) => l.event === "run-lost")).toEqual([]);
  } finally {
    await Promise.all([groupA.leave(), groupB.leave()]);
    // A failed test leaves A's final record unwritten: closing then reports it lost, which would hide the failure.
    await Promise.allSettled([storeA.close(), storeB.close()]);
  }
}, 60_000);

test("a record the database refuses on every try (a poison value) does not stop its replica judging the others: a dead replica's run is still found lost", async () => {
  const url = (who: string) => schema.url({ schema: `${schema.name}_poison`, lease: `${LEASE_MS}ms`, reap: "500ms", application_name: `${schema.app}-${who}`, partition: "off" });
  const a = captureLogger();
  const storeA = await openPostgresStore(url("a"), { logger: a.logger });
  const storeC = await openPostgresStore(url("c"), { logger: captureLogger().logger });
  const groupOf = (store: typeof storeA, logger: typeof a.logger) => new ReplicaGroup({ store, logger, manifestPath: null, abortRun: () => undefined, resume: () => false });
  const groupA = groupOf(storeA, a.logger);
  const groupC = groupOf(storeC, captureLogger().logger);
  const s = `"${schema.name}_poison"`;
  try {
    const def = jobDef("work", { overlap: "allow", retries: { max: 1, backoff: "fixed", delayMs: 0, maxDelayMs: null } });
    await Promise.all([groupA.join([def]), groupC.join([def])]);
    const fireDate = new Date(Math.ceil(Date.now() / 1000) * 1000);
    const run = (runId: string) => aRun("work", 0, { runId, status: "running", scheduledAt: new Date(fireDate.getTime() + (runId === "poison" ? 0 : 1000)).toISOString(), startedAt: new Date().toISOString(), finishedAt: null });
    expect(await groupA.claim({ def, fireDate, trigger: "schedule", runId: "poison" })).toMatchObject({ release: expect.any(Function) });
    await groupA.record(run("poison"));
    // The run's final record is refused whenever it is written (a real error of the server's, from a trigger).
    await schema.query(`CREATE FUNCTION ${s}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'value refused'; END $$`);
    await schema.query(`CREATE TRIGGER refuse BEFORE UPDATE ON ${s}.runs FOR EACH ROW WHEN (NEW.run_id = 'poison' AND NEW.status <> 'running') EXECUTE FUNCTION ${s}.refuse()`);
    const done = groupA.record({ ...run("poison"), status: "ok", finishedAt: new Date().toISOString() });
    done.catch(() => undefined);
    // Another replica runs a fire and dies: no more renewals, its run's lease lapses.
    expect(await groupC.claim({ def, fireDate: new Date(fireDate.getTime() + 1000), trigger: "schedule", runId: "dead" })).toMatchObject({ release: expect.any(Function) });
    await groupC.record(run("dead"));
    await storeC.flushRecords();
    await groupC.leave();
    // A, its own batch refused on every tend, still judges: the dead replica's run is found lost (to be retried).
    const dead = await waitFor(() => schema.query<{ state: string }>(`SELECT state FROM ${s}.fires WHERE run_id = 'dead'`), { until: (rows) => rows[0]?.state !== "running", timeoutMs: LEASE_MS * 4, what: "the dead replica's run to be found lost" });
    expect(["retry", "lost"]).toContain(dead[0]!.state);
    // Told once per failed write, by the write queue (with its retry), not again by the tend.
    expect(a.lines.some((l) => /^cannot write run history/.test(l.msg) && /value refused/.test(JSON.stringify(l.err)))).toBe(true);
    expect(a.lines.filter((l) => /refused a statement while writing/.test(l.msg))).toEqual([]);
    // Once the database takes it, the poison run's record lands, under the lease A kept renewing.
    await schema.query(`DROP TRIGGER refuse ON ${s}.runs`);
    await done;
    expect(await schema.query(`SELECT status, attempt FROM ${s}.runs WHERE run_id = 'poison'`)).toEqual([{ status: "ok", attempt: 1 }]);
  } finally {
    await groupA.leave();
    await Promise.allSettled([storeA.close(), storeC.close()]);
  }
}, 60_000);

test("a server that cannot take writes is an outage: disk full, out of memory, an I/O error, a read-only standby", async () => {
  // A standby after a failover answers, and refuses every write.
  await schema.query(`CREATE TABLE "${schema.name}".standby (k int)`);
  const client = new pg.Client({ connectionString: schema.url().replace(/\?.*/, "") });
  await client.connect();
  const readOnly = await client.query("START TRANSACTION READ ONLY").then(() => client.query(`INSERT INTO "${schema.name}".standby VALUES (1)`)).then(
    () => null,
    (err: unknown) => err,
  );
  await client.end();
  expect(readOnly).toMatchObject({ code: "25006" });
  for (const err of [readOnly, ...["53100", "53200", "58030"].map((code) => Object.assign(new Error("refused"), { code }))]) expect(storeUnreachable(err)).toBe(true);
});

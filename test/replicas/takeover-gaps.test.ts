import { statSync, utimesSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { loggedLines } from "../support/logged-lines.js";
import { waitFor } from "../support/poll.js";
import { startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { tempProject } from "../support/temp-project.js";
import { databaseOn, sleep, startReplica, stoppedAtEnd, stopReplica, tended, type TestSchema } from "./pg-support.js";

/**
 * Partitioned scheduling when the group changes in the awkward ways: a replica's own
 * connection drops while another dies, a replacement starts while the dead one still looks
 * alive, the last replica on the newest manifest stops, a replica from before the split is
 * still running. In each, every fire must get its row (run, or recorded skipped), none
 * runs twice. One test cuts the database: a PostgreSQL server of this file's own.
 */

let server: PrivatePostgres;
beforeAll(async () => {
  server = await startPrivatePostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const JOBS = 40;
// Each execution appends `job fireTime pid startTime`, then takes `params.ms`.
const LOG = `import { appendFileSync } from "node:fs";
export default async (ctx) => {
  appendFileSync(ctx.params.log, \`\${ctx.job} \${ctx.fireDate.getTime()} \${process.pid} \${Date.now()}\\n\`);
  await new Promise((resolve) => setTimeout(resolve, ctx.params.ms ?? 0));
};
`;

function manifest(log: string, extra = "", params = ""): string {
  const jobs = Array.from({ length: JOBS }, (_, i) => `  j${i}: { handler: h.mjs, schedule: { every: 1s }, overlap: allow${extra}, params: { log: ${JSON.stringify(log)}${params} } }`);
  return `version: 1\njobs:\n${jobs.join("\n")}\n`;
}

const second = (ms = Date.now()) => Math.floor(ms / 1000) * 1000;

/** The fires of every job due in [from, to) (whole seconds) that have no row: claimed by nobody. */
async function unclaimed(db: TestSchema, from: number, to: number): Promise<string[]> {
  const rows = await db.query<{ job: string; at: Date }>(`SELECT job, scheduled_at AS at FROM "${db.name}".fires WHERE source = 'schedule' AND scheduled_at >= $1 AND scheduled_at < $2`, [new Date(from), new Date(to)]);
  const have = new Set(rows.map((r) => `${r.job} ${r.at.getTime()}`));
  const missing: string[] = [];
  for (let at = from; at < to; at += 1000) for (let i = 0; i < JOBS; i++) if (!have.has(`j${i} ${at}`)) missing.push(`j${i}@${new Date(at).toISOString()}`);
  return missing;
}

/** Fires executed more than once. */
function twice(log: string): string[] {
  const count = new Map<string, number>();
  for (const [job, at] of loggedLines(log)) count.set(`${job} ${at}`, (count.get(`${job} ${at}`) ?? 0) + 1);
  return [...count].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`);
}

/** The survivor's outage: it starts this long after the death (fires due meanwhile are the victim's, to take over), and lasts this long, both within the lease (6 s). */
const CUT_AFTER_DEATH_MS = 3000;
const SURVIVOR_OUTAGE_MS = 1000;

test("a dead replica's fires are claimed from its death, even when the survivor's own connection dropped meanwhile (only the survivor's outage is skipped)", async () => {
  await using db = await databaseOn(server);
  await using project = tempProject({ "h.mjs": LOG });
  const log = project.path("runs.log");
  project.write("jobs.yaml", manifest(log, ", catchUp: all, startingDeadline: 1m"));
  const url = db.url({ lease: "6s", reap: "500ms", partition: "on" });
  await using replicas = stoppedAtEnd(await Promise.all([0, 1].map(() => startReplica(project.dir, url))));
  const [victim, survivor] = replicas;
  await tended(db, replicas);
  victim!.child.kill("SIGKILL");
  await victim!.exited;
  const killedAt = Date.now();
  // The survivor loses the database for a moment, before the victim's heartbeat lapses (6 s).
  await sleep(CUT_AFTER_DEATH_MS);
  const cutAt = Date.now();
  server.cut();
  await sleep(SURVIVOR_OUTAGE_MS);
  server.restore();
  const backAt = Date.now();
  expect(backAt - killedAt).toBeLessThan(6000);
  // The fires due between the death and the cut are claimed (late) once the death is seen.
  const from = second(killedAt) + 1000;
  const beforeCut = await waitFor(() => unclaimed(db, from, second(cutAt - 200)), { until: (missing) => missing.length === 0, timeoutMs: 15_000, everyMs: 100, what: "the fires between the death and the cut to be claimed" });
  expect(second(cutAt - 200) - from).toBeGreaterThanOrEqual(1000);
  expect(beforeCut).toEqual([]);
  // Its own outage (and the reconnection after it) costs the fires due then, as with racing replicas.
  const after = second(backAt) + 3000;
  await waitFor(() => unclaimed(db, after, second() - 1000), { until: (missing) => missing.length === 0 && second() - 1000 - after >= 3000, timeoutMs: 15_000, everyMs: 100, what: "3 s of fires claimed after the outage" });
  expect(await stopReplica(survivor!)).toBe(0);
  expect(await unclaimed(db, after, after + 3000)).toEqual([]);
  expect(twice(log)).toEqual([]);
}, 90_000);

/** The replacement starts this long after the death: fires are missed meanwhile, and the dead replica's row is still live (lease 6 s). */
const REPLACEMENT_AFTER_DEATH_MS = 1000;

test("a replacement started while the dead replica still looks alive: the jobs it wins at once get the fires missed since the death, when the death is seen", async () => {
  await using db = await databaseOn(server);
  await using project = tempProject({ "h.mjs": LOG });
  const log = project.path("runs.log");
  // catchUp none (the default): a replica starting catches nothing up, so only the takeover claims the missed fires (recorded skipped, late).
  project.write("jobs.yaml", manifest(log));
  const url = db.url({ lease: "6s", reap: "500ms", partition: "on" });
  await using replicas = stoppedAtEnd(await Promise.all([0, 1].map(() => startReplica(project.dir, url))));
  await tended(db, replicas);
  const victim = replicas[0]!;
  victim.child.kill("SIGKILL");
  await victim.exited;
  const killedAt = Date.now();
  await sleep(REPLACEMENT_AFTER_DEATH_MS);
  replicas.push(await startReplica(project.dir, url));
  // The replacement joined while the victim's row was still live (lease 6 s).
  expect(Date.now() - killedAt).toBeLessThan(5500);
  const from = second(killedAt) + 1000;
  // Every fire from the death on has its row once the death is seen (6 s + a reap).
  const missing = await waitFor(() => unclaimed(db, from, second() - 1000), { until: (m) => m.length === 0 && Date.now() - killedAt > 9000, timeoutMs: 20_000, everyMs: 100, what: "every fire since the death to be claimed, 9 s on" });
  expect(missing).toEqual([]);
  expect(await Promise.all(replicas.slice(1).map(stopReplica))).toEqual([0, 0]);
  expect(twice(log)).toEqual([]);
}, 90_000);

/** How long the old replica runs on alone after the new one stops: past a reap (2 s), in which the jobs would lie unarmed without the handoff. */
const AFTER_STOP_MS = 6000;

test("the last replica on the newest manifest stops while one on an older manifest runs: it hands its jobs over, no fire is late or unclaimed", async () => {
  await using db = await databaseOn(server);
  await using older = tempProject({ "h.mjs": LOG });
  await using newer = tempProject({ "h.mjs": LOG });
  const log = older.path("runs.log");
  // Other specs (params), so two manifests: the newer file's replica owns every job.
  // Runs of 3 s: a stopping replica drains them (--grace 5s) with its row still there.
  const oldYaml = older.write("jobs.yaml", manifest(log, "", ", ms: 3000"));
  newer.write("jobs.yaml", manifest(log, "", ", ms: 3000, release: 2"));
  const past = new Date(Date.now() - 60_000);
  utimesSync(oldYaml, past, past);
  const url = db.url({ lease: "6s", reap: "2s", partition: "on" });
  await using replicas = stoppedAtEnd([await startReplica(older.dir, url)]);
  replicas.push(await startReplica(newer.dir, url, ["--grace", "5s"]));
  const [oldReplica, newReplica] = replicas;
  // Steady: the old replica has read the new one and its overlap is over.
  await tended(db, replicas);
  const from = second() + 1000;
  expect(await stopReplica(newReplica!)).toBe(0);
  await sleep(AFTER_STOP_MS);
  const to = second() - 1000;
  expect(await stopReplica(oldReplica!)).toBe(0);
  expect(await unclaimed(db, from, to)).toEqual([]);
  const fires = await db.query<{ job: string; state: string; late: number }>(
    `SELECT job, state, extract(epoch FROM claimed_at - scheduled_at) * 1000 AS late FROM "${db.name}".fires WHERE scheduled_at >= $1 AND scheduled_at < $2`,
    [new Date(from), new Date(to)],
  );
  // Claimed on time (without the handoff, the old replica waits for the new one's row to go, then claims late: skipped).
  expect(fires.filter((f) => f.state !== "done" || f.late > 500).slice(0, 5)).toEqual([]);
  expect(twice(log)).toEqual([]);
}, 90_000);

/** How long the replica fires beside the old runlet's row before its fires are read. */
const BESIDE_OLD_MS = 4000;

test("a replica from before the split (its row has no digest) does not idle the partitioned replicas on the same manifest", async () => {
  await using db = await databaseOn(server);
  await using project = tempProject({ "h.mjs": LOG });
  const log = project.path("runs.log");
  const yaml = project.write("jobs.yaml", manifest(log));
  const url = db.url({ lease: "2s", reap: "500ms", partition: "on" });
  await using replicas = stoppedAtEnd([await startReplica(project.dir, url)]);
  // The old runlet's row: same manifest file (same time), its specs, no digest; alive while the test beats for it.
  const generation = Math.floor(statSync(yaml).mtimeMs);
  await db.query(`INSERT INTO "${db.name}".replicas (owner, generation, seen_at) VALUES ('before-the-split', $1, now())`, [generation]);
  await db.query(`INSERT INTO "${db.name}".replica_specs (owner, job, spec_hash) SELECT 'before-the-split', job, spec_hash FROM "${db.name}".replica_specs WHERE owner <> 'before-the-split'`);
  const beat = setInterval(() => void db.query(`UPDATE "${db.name}".replicas SET seen_at = now() WHERE owner = 'before-the-split'`).catch(() => undefined), 200);
  try {
    // Past a read of the group with the old row in it, and that read's overlap.
    await tended(db, replicas);
    const from = second() + 1000;
    await sleep(BESIDE_OLD_MS);
    const to = second() - 1000;
    expect(await stopReplica(replicas[0]!)).toBe(0);
    expect(await unclaimed(db, from, to)).toEqual([]);
    expect(twice(log)).toEqual([]);
  } finally {
    clearInterval(beat);
  }
}, 60_000);

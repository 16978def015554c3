// Class jobs beside runners that share a PostgreSQL store go through the same claim gate as
// manifest jobs: each fire runs once across the replicas, not once per replica.
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { repoRoot, tempProject } from "../support/temp-project.js";
import { loggedLines } from "../support/logged-lines.js";
import { waitFor } from "../support/poll.js";
import { testSchema, type TestSchema } from "./pg-support.js";

let schema: TestSchema;
beforeAll(async () => {
  schema = await testSchema();
});
afterAll(async () => {
  await schema?.drop();
});

/** A replica process; resolves once its runner has started (it says so over IPC). */
async function startClassReplica(store: string, log: string, dir: string): Promise<ChildProcess> {
  const child = fork(join(repoRoot, "test", "replicas", "class-replica.mjs"), [store, log, dir, join(repoRoot, "dist")], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const [message] = (await Promise.race([once(child, "message"), once(child, "exit").then(() => [{ exited: child.exitCode }])])) as [unknown];
  expect(message).toEqual({ ready: true });
  return child;
}

async function stopClassReplica(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, "exit");
  child.send("stop");
  const [code] = (await exited) as [number | null];
  return code;
}

describe("class jobs on several replicas sharing PostgreSQL", () => {
  test("three replicas, a class job each second: every fire runs once in the group, and is recorded once", async () => {
    await using project = tempProject({ "jobs/noop.mjs": "export default () => null;\n", "jobs.yaml": "version: 1\njobs:\n  noop: { handler: jobs/noop.mjs }\n" });
    const log = project.path("beat.log");
    const store = schema.url();
    const replicas = await Promise.all([0, 1, 2].map(() => startClassReplica(store, log, project.dir)));
    try {
      // A few fires: the fires, not the wait, are what is checked.
      await waitFor(() => new Set(loggedLines(log).map(([fireDate]) => fireDate)).size >= 4, 20_000, "4 fires of the class job");
    } finally {
      expect(await Promise.all(replicas.map(stopClassReplica))).toEqual([0, 0, 0]);
    }
    const executions = readFileSync(log, "utf8").trim().split("\n").map((line) => line.split(" "));
    const fires = executions.map(([fireDate]) => fireDate);
    expect(fires.length).toBeGreaterThanOrEqual(3);
    // Once each: three replicas each running every fire would write every second three times.
    expect(new Set(fires).size).toBe(fires.length);
    const rows = await schema.query<{ scheduled_at: Date; n: string }>(`SELECT scheduled_at, count(*) AS n FROM "${schema.name}".runs WHERE job = 'beat' AND status = 'ok' GROUP BY scheduled_at`);
    expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(rows.map((r) => r.scheduled_at.toISOString()).sort()).toEqual([...fires].sort());
  }, 60_000);
});

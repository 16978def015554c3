import { expect, test } from "vitest";
import { runCli } from "../support/cli.js";
import { tempProject } from "../support/temp-project.js";
import { silentLogger } from "../../runner/log/logger.js";

test("list shows after edges where a schedule would be, and each job's overlap, concurrency and the pool size", () => {
  using project = tempProject({
    "jobs/ok.ts": "export default () => 1;\n",
    "jobs.yaml": `version: 1
threads: 3
jobs:
  extract: { handler: jobs/ok.ts, schedule: "0 2 * * *" }
  load: { handler: jobs/ok.ts, after: extract, overlap: allow, concurrency: 2 }
  alert: { handler: jobs/ok.ts, after: { job: [extract, load], on: failure } }
  nightly: { handler: jobs/ok.ts, schedule: "0 3 * * *", after: { job: load, on: always } }
`,
  });
  const json = runCli(["list", "--json", "--store", "memory"], { cwd: project.dir });
  expect(json.status).toBe(0);
  const byName = Object.fromEntries((JSON.parse(json.stdout) as Array<Record<string, unknown>>).map((j) => [j.name, j]));
  expect(byName.load).toMatchObject({ schedule: null, human: "after: extract (success)", after: [{ job: "extract", on: "success" }], overlap: "allow", concurrency: 2, next: [] });
  expect(byName.alert).toMatchObject({ human: "after: extract, load (failure)", afterText: "after: extract, load (failure)" });
  expect(byName.nightly).toMatchObject({ human: "At 03:00; after: load (always)" });

  const table = runCli(["list", "--store", "memory"], { cwd: project.dir }).stdout.split("\n");
  expect(table.find((l) => l.startsWith("load "))).toMatch(/^load\s+after: extract \(success\)\s+after: extract \(success\)\s+inline\s+allow, 2\s/);
  expect(table).toContain("threads: 3");
});

test("threads: 1 runs thread-mode jobs one at a time", async () => {
  const { createRunner } = await import("../../runner/index.js");
  await using project = tempProject({
    "jobs/slow.ts": "export default async () => { const start = Date.now(); await new Promise((r) => setTimeout(r, 150)); return [start, Date.now()]; };\n",
    "jobs.yaml": "version: 1\nthreads: 1\njobs:\n  a: { handler: jobs/slow.ts, mode: thread }\n  b: { handler: jobs/slow.ts, mode: thread }\n",
  });
  await using runner = createRunner({ manifest: project.path("jobs.yaml"), env: "test", logger: silentLogger() });
  await runner.start();
  const [a, b] = await Promise.all([runner.invoke("a"), runner.invoke("b")]);
  const [[a0, a1], [b0, b1]] = [a.result as number[], b.result as number[]];
  // One thread: one ran wholly before the other started.
  expect(a1! <= b0! || b1! <= a0!).toBe(true);
});

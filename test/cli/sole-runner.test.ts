import Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { describe, expect, test } from "vitest";
import { runCli, startCli, type CliProcess } from "../support/cli.js";
import { tempProject } from "../support/temp-project.js";

const TICK = `import { appendFileSync } from "node:fs";
export default async (ctx) => { appendFileSync(ctx.params.log, \`\${process.pid}\\n\`); };
`;

async function startRunner(dir: string, store: string): Promise<CliProcess> {
  const cli = startCli(["start", "--store", store, "--grace", "1s"], { cwd: dir });
  await cli.waitForLog((e) => e.event === "started", 20_000);
  return cli;
}

async function stop(cli: CliProcess): Promise<number | null> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return cli.child.exitCode;
  cli.child.kill("SIGTERM");
  return cli.exited;
}

describe("one runner per SQLite file", () => {
  test("a second `start` on a file a live runner owns exits 2 naming it (pid, host, since); history and list work beside it", async () => {
    await using project = tempProject({ "jobs/tick.mjs": TICK });
    const log = project.path("tick.log");
    project.write("jobs.yaml", `version: 1\njobs:\n  tick: { handler: jobs/tick.mjs, schedule: { every: 1s }, params: { log: ${JSON.stringify(log)} } }\n`);
    const first = await startRunner(project.dir, "x.db");
    try {
      const startedAt = Date.now();
      const second = runCli(["start", "--store", "x.db"], { cwd: project.dir });
      expect(second.status).toBe(2);
      expect(second.stderr).toContain(`is in use by another runlet runner (pid ${first.child.pid} on ${hostname()}, since `);
      const since = /since ([^)]+)\)/.exec(second.stderr)![1]!;
      expect(Date.parse(since)).toBeLessThanOrEqual(startedAt);
      expect(Date.parse(since)).toBeGreaterThan(startedAt - 30_000);

      // Read-only commands open the same file beside the runner.
      await first.waitForLog((e) => e.event === "run-ended" && e.job === "tick", 10_000);
      const history = runCli(["history", "tick", "--json", "--store", "x.db"], { cwd: project.dir });
      expect(history.status).toBe(0);
      expect(JSON.parse(history.stdout).length).toBeGreaterThan(0);
      const list = runCli(["list", "--store", "x.db"], { cwd: project.dir });
      expect(list.status).toBe(0);
      expect(list.stdout).toContain("tick");

      // Only the first runner ran the job.
      expect(new Set(readFileSync(log, "utf8").trim().split("\n"))).toEqual(new Set([String(first.child.pid)]));
    } finally {
      expect(await stop(first)).toBe(0);
    }
    // Stopped cleanly, it gave the file up.
    const db = new Database(project.path("x.db"), { readonly: true });
    expect(db.prepare("SELECT * FROM runner_owner").all()).toEqual([]);
    db.close();
  }, 60_000);

  test("an owner that is gone (kill -9) does not block the next start", async () => {
    await using project = tempProject({ "jobs/tick.mjs": TICK });
    project.write("jobs.yaml", `version: 1\njobs:\n  tick: { handler: jobs/tick.mjs, schedule: { every: 1s }, params: { log: ${JSON.stringify(project.path("tick.log"))} } }\n`);
    const crashed = await startRunner(project.dir, "x.db");
    crashed.child.kill("SIGKILL");
    await crashed.exited;
    const next = await startRunner(project.dir, "x.db");
    expect(await stop(next)).toBe(0);
  }, 60_000);
});

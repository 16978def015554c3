import { writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { createRunner } from "../../runner/index.js";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/index.js";
import type { RunRecord } from "../../runner/contracts/index.js";
import { runCli, startCli } from "../support/cli.js";
import { FakeClock } from "../support/fake-clock.js";
import { waitFor } from "../support/poll.js";
import { tempProject } from "../support/temp-project.js";
import { memoryLogger } from "../execute/helpers.js";

describe("runs survive the runner", () => {
  test("a runner killed with a run in flight: the next start records that run as lost", async () => {
    using project = tempProject({
      "jobs/slow.ts": `export default async () => { await new Promise((r) => setTimeout(r, 60_000)); };\n`,
      "jobs.yaml": `version: 1\njobs:\n  slow: { handler: jobs/slow.ts, schedule: "* * * * * *" }\n`,
    });
    const first = startCli(["start"], { cwd: project.dir });
    const started = await first.waitForLog((e) => e.job === "slow" && e.event === "run-started");
    // Give the batched write of the `running` record a moment to land, then kill -9.
    await waitFor(() => JSON.parse(runCli(["history", "--json"], { cwd: project.dir }).stdout).some((r: RunRecord) => r.runId === started.runId), 10_000, "the running record");
    first.child.kill("SIGKILL");
    await first.exited;

    const second = startCli(["start"], { cwd: project.dir });
    try {
      const lost = await second.waitForLog((e) => e.event === "run-lost");
      expect(lost.runId).toBe(started.runId);
      second.child.kill("SIGTERM");
      await second.exited;
    } finally {
      second.child.kill("SIGKILL");
    }
    const history = JSON.parse(runCli(["history", "slow", "--json", "--limit", "100"], { cwd: project.dir }).stdout) as RunRecord[];
    expect(history.find((r) => r.runId === started.runId)).toMatchObject({ status: "lost", error: { message: expect.stringContaining("is gone") } });
  });

  test("runlet history prints records newest first, as a table or as JSON", () => {
    using project = tempProject({
      "jobs/ok.ts": `export default async (ctx) => ({ n: ctx.params.n });\n`,
      "jobs/fail.ts": `export default async () => { throw new Error("boom"); };\n`,
      "jobs.yaml": `version: 1\njobs:\n  ok: { handler: jobs/ok.ts, params: { n: 1 } }\n  fail: { handler: jobs/fail.ts }\n`,
    });
    expect(runCli(["invoke", "ok"], { cwd: project.dir }).status).toBe(0);
    expect(runCli(["invoke", "fail"], { cwd: project.dir }).status).toBe(1);
    const json = runCli(["history", "--json"], { cwd: project.dir });
    expect(json.status).toBe(0);
    const records = JSON.parse(json.stdout) as RunRecord[];
    expect(records.map((r) => [r.job, r.status])).toEqual([
      ["fail", "failed"],
      ["ok", "ok"],
    ]);
    expect(Object.keys(records[0]!).sort()).toEqual(["attempt", "error", "finishedAt", "job", "result", "runId", "scheduledAt", "startedAt", "status"]);
    expect(records[1]!.result).toEqual({ n: 1 });
    expect(records[0]!.error?.message).toBe("boom");
    const onlyOk = JSON.parse(runCli(["history", "ok", "--json"], { cwd: project.dir }).stdout) as RunRecord[];
    expect(onlyOk.map((r) => r.job)).toEqual(["ok"]);
    const text = runCli(["history", "--limit", "1"], { cwd: project.dir }).stdout;
    expect(text.split("\n")[0]).toMatch(/^SCHEDULED \(UTC\)\s+JOB\s+STATUS/);
    expect(text).toContain("boom");
    expect(text).not.toContain(" ok ");
    const list = JSON.parse(runCli(["list", "--json"], { cwd: project.dir }).stdout) as Array<{ name: string; lastStatus: string }>;
    expect(list.map((j) => [j.name, j.lastStatus])).toEqual([
      ["ok", "ok"],
      ["fail", "failed"],
    ]);
  });

  test("a corrupt history file is a clear error naming the file, exit 2", () => {
    using project = tempProject({ "jobs/ok.ts": `export default () => 1;\n`, "jobs.yaml": `version: 1\njobs:\n  ok: { handler: jobs/ok.ts }\n` });
    project.write(".runlet/runs.db", "");
    writeFileSync(project.path(".runlet/runs.db"), Buffer.alloc(8192, 7));
    const result = runCli(["history"], { cwd: project.dir });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(".runlet/runs.db");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe("catch-up of fires missed while no runner was up", () => {
  const MINUTE = 60_000;
  const now = Date.UTC(2026, 5, 1, 12, 0, 0);

  async function catchUp(policy: "none" | "latest" | "all", deadline = "5m"): Promise<string[]> {
    await using project = tempProject({
      "jobs/tick.ts": `export default async (ctx) => ctx.fireDate.toISOString();\n`,
      "jobs.yaml": `version: 1\njobs:\n  tick: { handler: jobs/tick.ts, schedule: "* * * * *", catchUp: ${policy}, startingDeadline: ${deadline}, overlap: skip }\n`,
    });
    const clock = new FakeClock(now);
    const store = new MemoryStore({ logger: silentLogger() });
    await store.setJobState("tick", { lastFireAt: new Date(now - 10 * MINUTE) });
    const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "test", clock, store, logger: silentLogger() });
    const records: RunRecord[] = [];
    runner.on("record", (r) => records.push(r));
    await runner.start();
    const expected = policy === "none" ? 0 : policy === "latest" ? 1 : 6;
    await waitFor(() => records.filter((r) => r.status === "ok").length >= expected, 10_000, `${expected} caught-up runs`);
    await new Promise((r) => setTimeout(r, 50));
    await runner.stop();
    const caughtUp = records.filter((r) => r.status === "ok");
    expect(caughtUp.every((r) => r.trigger === "catch-up" && r.result === r.scheduledAt)).toBe(true);
    return caughtUp.map((r) => r.scheduledAt.slice(11, 16));
  }

  test("none runs nothing", async () => {
    expect(await catchUp("none")).toEqual([]);
  });

  test("latest runs only the most recent missed fire, with its original time", async () => {
    expect(await catchUp("latest")).toEqual(["12:00"]);
  });

  test("all runs each missed fire within the starting deadline, oldest first, one at a time", async () => {
    expect(await catchUp("all")).toEqual(["11:55", "11:56", "11:57", "11:58", "11:59", "12:00"]);
  });
});

describe("record listeners", () => {
  test("a 'record' listener that throws is logged; the run, its records and the next run go on", async () => {
    using project = tempProject({
      "jobs/ok.ts": `export default async () => "done";\n`,
      "jobs.yaml": `version: 1\njobs:\n  ok: { handler: jobs/ok.ts }\n`,
    });
    const logs = memoryLogger();
    const store = new MemoryStore({ logger: silentLogger() });
    const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "test", store, logger: logs.root });
    try {
      const seen: string[] = [];
      runner.on("record", (r: RunRecord) => {
        seen.push(r.status);
        if (r.status === "running") throw new Error("listener bug");
      });
      await expect(runner.invoke("ok")).resolves.toMatchObject({ status: "ok", result: "done" });
      await expect(runner.invoke("ok")).resolves.toMatchObject({ status: "ok" });
      expect(seen).toEqual(["running", "ok", "running", "ok"]);
      const line = logs.lines.find((l) => l.msg === "a 'record' listener threw; the run goes on");
      expect(line).toMatchObject({ level: 50, err: { message: "listener bug" } });
      expect((await store.history({ job: "ok", limit: 10 })).map((r) => r.status)).toEqual(["ok", "ok"]);
    } finally {
      await runner.stop();
    }
  });
});

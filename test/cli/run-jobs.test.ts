import { describe, expect, test } from "vitest";
import { runCli, startCli } from "../support/cli.js";
import { repoRoot, tempProject } from "../support/temp-project.js";

/** The JSON log lines among `lines` (a problem report is not one). */
function logEntries(lines: string[]): Array<Record<string, unknown>> {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

const THREAD_ID = `import { threadId } from "node:worker_threads";
export default async (ctx) => ({ threadId, params: ctx.params, env: ctx.env, job: ctx.job, attempt: ctx.attempt });
`;

describe("runlet invoke", () => {
  test("runs a job inline (threadId 0) or in a worker thread (threadId > 0) and prints its result", () => {
    using project = tempProject({
      "jobs/where.ts": THREAD_ID,
      "jobs.yaml": `version: 1\njobs:\n  inline: { handler: jobs/where.ts, params: { a: 1 } }\n  thread: { handler: jobs/where.ts, mode: thread }\n`,
    });
    const inline = runCli(["invoke", "inline", "--store", "memory", "--env", "qa"], { cwd: project.dir });
    expect(inline.status).toBe(0);
    expect(JSON.parse(inline.stdout)).toEqual({ threadId: 0, params: { a: 1 }, env: "qa", job: "inline", attempt: 1 });
    const thread = runCli(["invoke", "thread", "--store", "memory", "--params", '{"b":2}'], { cwd: project.dir });
    expect(thread.status).toBe(0);
    const result = JSON.parse(thread.stdout);
    expect(result.threadId).toBeGreaterThan(0);
    expect(result.params).toEqual({ b: 2 });
  });

  test("exit 1 when the job fails, 2 for bad input, result null when the handler returns nothing", () => {
    using project = tempProject({
      "jobs/fail.ts": `export default async () => { throw new Error("database unreachable"); };\n`,
      "jobs/nothing.ts": `export default async () => {};\n`,
      "jobs.yaml": `version: 1\njobs:\n  fail: { handler: jobs/fail.ts }\n  nothing: { handler: jobs/nothing.ts }\n`,
    });
    const failed = runCli(["invoke", "fail", "--store", "memory"], { cwd: project.dir });
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toContain("database unreachable");
    const nothing = runCli(["invoke", "nothing", "--store", "memory"], { cwd: project.dir });
    expect([nothing.status, nothing.stdout.trim()]).toEqual([0, "null"]);
    expect(runCli(["invoke", "missing", "--store", "memory"], { cwd: project.dir }).status).toBe(2);
    expect(runCli(["invoke", "fail", "--store", "memory", "--params", "{not json"], { cwd: project.dir }).status).toBe(2);
    expect(runCli(["frobnicate"], { cwd: project.dir }).status).toBe(2);
  });

  test("a handler that calls process.exit in a thread fails that run, not the runner", () => {
    using project = tempProject({
      "jobs/exit.ts": `export default async () => { process.exit(7); };\n`,
      "jobs.yaml": `version: 1\njobs:\n  exit: { handler: jobs/exit.ts, mode: thread }\n`,
    });
    const result = runCli(["invoke", "exit", "--store", "memory"], { cwd: project.dir });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/exit/i);
  });
});

describe("runlet validate", () => {
  test("the shipped jobs.yaml is valid", () => {
    const result = runCli(["validate"], { cwd: repoRoot });
    expect(result.stderr).toContain("all valid");
    expect(result.status).toBe(0);
  });

  test("a handler that does not compile is reported at its own line and column, exit 2", () => {
    using project = tempProject({
      "jobs/broken.ts": `export default async () => {\n  const x: number = ;\n};\n`,
      "jobs.yaml": `version: 1\njobs:\n  broken: { handler: jobs/broken.ts }\n`,
    });
    const result = runCli(["validate"], { cwd: project.dir });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^jobs\/broken\.ts:2:21: /m);
  });
});

describe("runlet start", () => {
  test("a 6-field cron fires every second, each run with its scheduled second; SIGTERM waits for the run in flight, exit 0", async () => {
    using project = tempProject({
      "jobs/tick.ts": `export default async (ctx) => { await new Promise((r) => setTimeout(r, ctx.params.ms)); return ctx.fireDate.toISOString(); };\n`,
      "jobs.yaml": `version: 1\njobs:\n  tick: { handler: jobs/tick.ts, schedule: "* * * * * *", params: { ms: 10 } }\n  slow: { handler: jobs/tick.ts, schedule: "* * * * * *", params: { ms: 1500 }, mode: thread }\n`,
    });
    const runner = startCli(["start", "--store", "memory"], { cwd: project.dir });
    try {
      const started: Array<Record<string, unknown>> = [];
      await runner.waitForLog((e) => {
        if (e.job === "tick" && e.event === "run-started") started.push(e);
        return started.length >= 3;
      });
      const seconds = started.map((e) => Date.parse(e.scheduledAt as string));
      for (const s of seconds) expect(s % 1000).toBe(0);
      expect(seconds[1]! - seconds[0]!).toBe(1000);
      expect(seconds[2]! - seconds[1]!).toBe(1000);
      // A slow run that starts from here on (not one of those already logged, which may have
      // ended): it takes 1.5 s, so it is in flight when the signal goes out right after its line.
      const inFlight = await runner.waitForLog((e) => e.job === "slow" && e.event === "run-started", undefined, runner.lines.length);
      const isItsEnd = (e: Record<string, unknown>) => e.runId === inFlight.runId && e.event === "run-ended";
      expect(logEntries(runner.lines).some(isItsEnd)).toBe(false);
      runner.child.kill("SIGTERM");
      const stopping = await runner.waitForLog((e) => e.event === "stopping");
      expect(stopping.inFlight).toBeGreaterThanOrEqual(1);
      // Its end is logged, ok, before the runner says it stopped (a stop that dropped it logs none).
      expect(await runner.waitForLog(isItsEnd)).toMatchObject({ job: "slow", status: "ok" });
      await runner.waitForLog((e) => e.event === "stopped");
      const entries = logEntries(runner.lines);
      expect(entries.findIndex((e) => e.event === "stopped")).toBeGreaterThan(entries.findIndex(isItsEnd));
      expect(await runner.exited).toBe(0);
    } finally {
      runner.child.kill("SIGKILL");
    }
  });

  test("with nothing scheduled it still runs until a signal, then exits 0", async () => {
    using project = tempProject({ "jobs/a.ts": "export default () => 1;\n", "jobs.yaml": `version: 1\njobs:\n  a: { handler: jobs/a.ts }\n` });
    const runner = startCli(["start", "--store", "memory"], { cwd: project.dir });
    try {
      await runner.waitForLog((e) => e.event === "started");
      // Generous: a process that would exit on an empty event loop does so within milliseconds.
      await new Promise((r) => setTimeout(r, 1000));
      expect(runner.child.exitCode).toBeNull();
      runner.child.kill("SIGTERM");
      expect(await runner.exited).toBe(0);
    } finally {
      runner.child.kill("SIGKILL");
    }
  });

  test("an invalid manifest at start is reported with positions, exit 2", () => {
    using project = tempProject({ "jobs.yaml": `version: 1\njobs:\n  a: { handler: jobs/none.ts, schedule: "61 * * * *" }\n` });
    const result = runCli(["start", "--store", "memory"], { cwd: project.dir });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("jobs.yaml:3:");
  });
});

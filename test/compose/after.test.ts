import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { afterEach, describe, expect, test } from "vitest";
import { createRunner, type ReloadResult, type Runner, type RunnerOptions } from "../../runner/index.js";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/memory-store.js";
import type { RunRecord } from "../../runner/contracts/index.js";
import { waitFor } from "../support/poll.js";
import { tempProject, type TempProject } from "../support/temp-project.js";

let project: TempProject | undefined;
let runner: Runner | undefined;

afterEach(async () => {
  await runner?.stop();
  runner = undefined;
  await project?.[Symbol.asyncDispose]();
  project = undefined;
});

/** Starts a runner on a project; every ended run's record is collected in `ended`. */
async function start(files: Record<string, string>, options: RunnerOptions = {}): Promise<{ runner: Runner; ended: RunRecord[] }> {
  project = tempProject(files);
  runner = createRunner({ manifest: project.path("jobs.yaml"), env: "test", logger: silentLogger(), ...options });
  const ended: RunRecord[] = [];
  runner.on("record", (r) => {
    if (r.status !== "running") ended.push(r);
  });
  await runner.start();
  return { runner, ended };
}

const manifest = (jobs: string) => `version: 1\njobs:\n${jobs}`;
const endedOf = (ended: RunRecord[], job: string) => ended.filter((r) => r.job === job);

describe("after: runs started by the end of another job's run", () => {
  test("a chain a -> b -> c passes each run's result to the next, inline and in a thread", async () => {
    const { runner, ended } = await start({
      "jobs/a.ts": `export default () => ({ rows: 3 });\n`,
      "jobs/b.ts": `export default (ctx) => ({ rows: ctx.trigger.result.rows * 2, from: ctx.trigger.job });\n`,
      "jobs/c.ts": `export default (ctx) => ctx.trigger;\n`,
      "jobs.yaml": manifest(["  a: { handler: jobs/a.ts }", "  b: { handler: jobs/b.ts, after: a, mode: thread }", "  c: { handler: jobs/c.ts, after: [b] }", ""].join("\n")),
    });
    const a = await runner.invoke("a");
    await waitFor(() => endedOf(ended, "c").length === 1, 10_000, "c to end");
    const [b] = endedOf(ended, "b");
    const [c] = endedOf(ended, "c");
    expect(b).toMatchObject({ status: "ok", trigger: "after", upstreamRunId: a.runId, result: { rows: 6, from: "a" } });
    expect(c).toMatchObject({ status: "ok", trigger: "after", upstreamRunId: b!.runId });
    expect(c!.result).toEqual({ kind: "after", job: "b", runId: b!.runId, status: "ok", result: { rows: 6, from: "a" }, error: null });
    // The store keeps the link too.
    const [stored] = await runner.store.history({ job: "c", limit: 1 });
    expect(stored).toMatchObject({ trigger: "after", upstreamRunId: b!.runId });
  });

  test("scheduled and invoked runs say so in ctx.trigger", async () => {
    const { runner, ended } = await start({
      "jobs/t.ts": `export default (ctx) => ctx.trigger;\n`,
      "jobs.yaml": manifest("  t: { handler: jobs/t.ts, schedule: { every: 200ms } }\n"),
    });
    expect((await runner.invoke("t")).result).toEqual({ kind: "invoke" });
    // On a loaded machine a fire can be skipped as late; the first one that ran is the one to read.
    const scheduledOk = (r: RunRecord) => r.trigger === "schedule" && r.status === "ok";
    await waitFor(() => ended.some(scheduledOk), 5000, "a scheduled run");
    expect(ended.find(scheduledOk)!.result).toEqual({ kind: "schedule" });
  });

  test("on: failure starts once for a failed, a timed-out and a lost upstream run, and not for one that succeeded", async () => {
    // A run left `running` by a process that is gone: the next runner records it as lost.
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid!;
    const store = new MemoryStore({ logger: silentLogger() });
    await store.record({ runId: "lost-run-1", job: "nightly", status: "running", scheduledAt: "2030-01-01T00:00:00.000Z", startedAt: "2030-01-01T00:00:00.000Z", finishedAt: null, attempt: 1, error: null, result: null, owner: { pid: deadPid, host: hostname() } });
    const { runner, ended } = await start(
      {
        "jobs/fails.ts": `export default () => { throw new Error("disk full"); };\n`,
        "jobs/hangs.ts": `export default (ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));\n`,
        "jobs/ok.ts": `export default () => "fine";\n`,
        "jobs/alert.ts": `export default (ctx) => ({ job: ctx.trigger.job, status: ctx.trigger.status, error: ctx.trigger.error?.message ?? null });\n`,
        "jobs.yaml": manifest(
          [
            "  fails: { handler: jobs/fails.ts }",
            "  hangs: { handler: jobs/hangs.ts, timeout: 50ms }",
            "  nightly: { handler: jobs/ok.ts }",
            "  alert:",
            "    handler: jobs/alert.ts",
            "    overlap: allow",
            "    after: { job: [fails, hangs, nightly], on: failure }",
            "",
          ].join("\n"),
        ),
      },
      { store },
    );
    expect((await runner.invoke("fails")).status).toBe("failed");
    expect((await runner.invoke("hangs")).status).toBe("timeout");
    expect((await runner.invoke("nightly")).status).toBe("ok");
    await waitFor(() => endedOf(ended, "alert").length >= 3, 10_000, "three alerts");
    // Every run that could start an alert has ended; give a stray fourth its chance to show.
    await runner.stop();
    const alerts = endedOf(ended, "alert");
    expect(alerts.map((r) => r.result).sort((x, y) => String((x as { job: string }).job).localeCompare((y as { job: string }).job))).toEqual([
      { job: "fails", status: "failed", error: "disk full" },
      { job: "hangs", status: "timeout", error: "timed out after 50ms" },
      { job: "nightly", status: "lost", error: expect.stringContaining(`pid ${deadPid}`) },
    ]);
    expect(alerts.find((r) => (r.result as { job: string }).job === "nightly")!.upstreamRunId).toBe("lost-run-1");
  });

  test("a retrying upstream starts the next job once, after its final attempt", async () => {
    const { runner, ended } = await start({
      "jobs/flaky.ts": `let tries = 0;\nexport default (ctx) => { if (++tries < 3) throw new Error("try " + tries); return ctx.attempt; };\n`,
      "jobs/next.ts": `export default (ctx) => ctx.trigger.result;\n`,
      "jobs/alert.ts": `export default () => "alerted";\n`,
      "jobs.yaml": manifest(
        [
          "  flaky: { handler: jobs/flaky.ts, retries: { max: 3, delay: 10ms } }",
          "  next: { handler: jobs/next.ts, after: flaky }",
          "  alert: { handler: jobs/alert.ts, after: { job: flaky, on: failure } }",
          "",
        ].join("\n"),
      ),
    });
    const upstream = await runner.invoke("flaky");
    expect(upstream).toMatchObject({ status: "ok", attempt: 3 });
    await waitFor(() => endedOf(ended, "next").length === 1, 5000, "next to end");
    await runner.stop();
    expect(endedOf(ended, "next")).toEqual([expect.objectContaining({ status: "ok", result: 3, upstreamRunId: upstream.runId })]);
    expect(endedOf(ended, "alert")).toEqual([]);
  });

  test("on: always starts after ok and failed runs; a disabled or paused job is not started", async () => {
    const { runner, ended } = await start({
      "jobs/up.ts": `export default (ctx) => { if (ctx.params.fail) throw new Error("no"); return 1; };\n`,
      "jobs/log.ts": `export default (ctx) => ctx.trigger.status;\n`,
      "jobs.yaml": manifest(
        [
          "  up: { handler: jobs/up.ts }",
          "  always: { handler: jobs/log.ts, overlap: queue, after: { job: up, on: always } }",
          "  off: { handler: jobs/log.ts, enabled: false, after: up }",
          "  held: { handler: jobs/log.ts, after: up }",
          "",
        ].join("\n"),
      ),
    });
    await runner.setPaused("held", true);
    await runner.invoke("up");
    await runner.invoke("up", { fail: true });
    await waitFor(() => endedOf(ended, "always").length === 2, 5000, "two runs of always");
    await runner.stop();
    expect(endedOf(ended, "always").map((r) => r.result).sort()).toEqual(["failed", "ok"]);
    expect(endedOf(ended, "off")).toEqual([]);
    expect(endedOf(ended, "held")).toEqual([]);
  });

  test("a manifest edit, seen by the watcher, adds and removes edges; so does an edit of .env a reference reads", async () => {
    const { runner, ended } = await start(
      {
        "jobs/a.ts": `export default () => 1;\n`,
        "jobs/b.ts": `export default (ctx) => ctx.params.tag;\n`,
        ".env": "TAG=first\n",
        "jobs.yaml": manifest("  a: { handler: jobs/a.ts }\n  b: { handler: jobs/b.ts, params: { tag: \"${env:TAG}\" } }\n"),
      },
      { watch: true },
    );
    const edit = async (file: string, content: string) => {
      const reloaded = new Promise<ReloadResult>((resolve) => runner.once("reload", resolve));
      project!.write(file, content);
      return reloaded;
    };
    await runner.invoke("a");
    expect((await edit("jobs.yaml", manifest("  a: { handler: jobs/a.ts }\n  b: { handler: jobs/b.ts, after: a, params: { tag: \"${env:TAG}\" } }\n"))).diff).toMatchObject({ changed: ["b"] });
    const second = await runner.invoke("a");
    await waitFor(() => endedOf(ended, "b").length === 1, 5000, "b to end");
    expect(endedOf(ended, "b")[0]).toMatchObject({ upstreamRunId: second.runId, result: "first" });
    // (Every job's log redaction learns the new value too, so b is not the only change.)
    expect((await edit(".env", "TAG=second\n")).diff!.changed).toContain("b");
    await runner.invoke("a");
    await waitFor(() => endedOf(ended, "b").length === 2, 5000, "b to end again");
    expect(endedOf(ended, "b")[1]!.result).toBe("second");
    await edit("jobs.yaml", manifest("  a: { handler: jobs/a.ts }\n  b: { handler: jobs/b.ts, params: { tag: x } }\n"));
    await runner.invoke("a");
    await runner.stop();
    expect(endedOf(ended, "b")).toHaveLength(2);
  });
});

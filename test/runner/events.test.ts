// The runner tells what it does as typed events, in order: what tests and embedders wait
// on instead of log text. Time here is a fake clock: fires happen when the test moves it.
import { describe, expect, it } from "vitest";
import { createRunner, type ReloadResult } from "../../runner/index.js";
import type { RunRecord } from "../../runner/contracts/index.js";
import { memoryLogger } from "../execute/helpers.js";
import { FakeClock } from "../support/fake-clock.js";
import { tempProject } from "../support/temp-project.js";
import { silentLogger } from "../../runner/log/logger.js";

const manifest = (extra = "") => `version: 1\njobs:\n  tick: { handler: jobs/tick.mjs, schedule: { every: 1m } }\n  later: { handler: jobs/tick.mjs, schedule: { every: 1m } }\n${extra}`;

describe("runner events", () => {
  it("started, fire, run-started, run-ended, reload-applied, reload-refused, stopped: in the order they happen", async () => {
    await using project = tempProject({ "jobs/tick.mjs": "export default (ctx) => ctx.fireDate.toISOString();\n", "jobs.yaml": manifest() });
    const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 30));
    const runner = createRunner({ manifest: project.path("jobs.yaml"), clock, logger: silentLogger() });
    const told: string[] = [];
    for (const event of ["started", "fire", "run-started", "run-ended", "reload-applied", "reload-refused", "stopped"] as const) runner.on(event, () => told.push(event));
    const started = new Promise((resolve) => runner.once("started", resolve));
    await runner.start();
    expect(await started).toEqual({ manifest: project.path("jobs.yaml"), env: runner.env, jobs: 2, scheduled: 2 });

    const fired = new Promise<{ fireDate: Date; jobs: string[] }>((resolve) => runner.once("fire", resolve));
    const nextEnd = () => new Promise<RunRecord>((resolve) => runner.once("run-ended", resolve));
    await runner.setPaused("later", true);
    let ended = nextEnd();
    await clock.advance(30_000);
    // A paused job is not part of the fire.
    expect(await fired).toEqual({ fireDate: new Date("2030-01-01T00:01:00.000Z"), jobs: ["tick"] });
    expect(await ended).toMatchObject({ job: "tick", status: "ok", trigger: "schedule", result: "2030-01-01T00:01:00.000Z" });
    ended = nextEnd();
    await runner.invoke("later");
    expect(await ended).toMatchObject({ job: "later", status: "ok", trigger: "invoke" });

    project.write("jobs.yaml", manifest("  more: { handler: jobs/tick.mjs }\n"));
    const applied = new Promise<ReloadResult>((resolve) => runner.once("reload-applied", resolve));
    await runner.reload();
    expect((await applied).diff?.added).toEqual(["more"]);
    project.write("jobs.yaml", "version: 1\njobs: [\n");
    const refused = new Promise<ReloadResult>((resolve) => runner.once("reload-refused", resolve));
    await runner.reload();
    expect((await refused).error?.code).toBe("MANIFEST_INVALID");

    await runner.stop();
    // The first load is a reload too: applied before the runner starts.
    expect(told).toEqual(["reload-applied", "started", "fire", "run-started", "run-ended", "run-started", "run-ended", "reload-applied", "reload-refused", "stopped"]);
  });

  it("a listener that throws is logged; the runner goes on", async () => {
    await using project = tempProject({ "jobs/tick.mjs": "export default () => 1;\n", "jobs.yaml": manifest() });
    const logs = memoryLogger();
    const runner = createRunner({ manifest: project.path("jobs.yaml"), clock: new FakeClock(), logger: logs.root });
    runner.on("run-started", () => {
      throw new Error("listener bug");
    });
    await runner.start();
    await expect(runner.invoke("tick")).resolves.toMatchObject({ status: "ok" });
    await runner.stop();
    expect(logs.lines.find((l) => l.msg === "a 'run-started' listener threw; the runner goes on")).toMatchObject({ event: "run-started", err: { message: "listener bug" } });
  });
});

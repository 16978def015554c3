// Class jobs beside a manifest runner: one store, one stream of records, one listing.
import { describe, expect, it } from "vitest";
import { ClassicRuntime, createRunner } from "../../runner/index.js";
import { listJob } from "../../runner/listing/job-listing.js";
import type { RunRecord } from "../../runner/contracts/index.js";
import { CleanupFactory } from "../fixtures/classic/cleanup-factory.js";
import { memoryLogger } from "../execute/helpers.js";
import { tempProject } from "../support/temp-project.js";

const manifest = {
  "jobs/hello.ts": `export default async () => ({ hello: "world" });\n`,
  "jobs.yaml": `version: 1\njobs:\n  hello: { handler: jobs/hello.ts }\n`,
};

/** A loaded runner on `manifest` and a class runtime beside it, one logger; disposed runtime first (the runner closes the store). */
async function besideRunner() {
  const project = tempProject(manifest);
  const logs = memoryLogger();
  const runner = createRunner({ manifest: project.path("jobs.yaml"), logger: logs.root });
  await runner.load();
  const runtime = new ClassicRuntime({ runner, logger: logs.root });
  return {
    logs,
    runner,
    runtime,
    async [Symbol.asyncDispose]() {
      await runtime[Symbol.asyncDispose]();
      await runner[Symbol.asyncDispose]();
      await project[Symbol.asyncDispose]();
    },
  };
}

describe("class jobs beside a runner", () => {
  it("their runs go to the runner's store and out as its record events, next to manifest jobs", async () => {
    await using beside = await besideRunner();
    const { runner, runtime } = beside;
    const seen: RunRecord[] = [];
    runner.on("record", (r) => seen.push(r));

    const factory = new CleanupFactory({ runtime, description: "Remove expired sessions" });
    factory.create();
    await factory.trigger();
    await runner.invoke("hello");

    const history = await runner.store.history({ limit: 10 });
    expect(history.map((r) => [r.job, r.status]).sort()).toEqual([
      ["cleanup", "ok"],
      ["hello", "ok"],
    ]);
    expect(seen.filter((r) => r.status === "ok").map((r) => r.job).sort()).toEqual(["cleanup", "hello"]);
    expect(runtime.env).toBe(runner.env);

    const [cleanup] = runtime.jobs;
    expect(listJob(cleanup!, 2, new Date("2030-01-01T12:00:00.000Z"))).toEqual({
      name: "cleanup",
      description: "Remove expired sessions",
      schedule: { second: 0, minute: 0, hour: 0 },
      human: expect.stringMatching(/00:00/),
      mode: "inline",
      enabled: true,
      timezone: null,
      next: ["2030-01-02T00:00:00.000Z", "2030-01-03T00:00:00.000Z"],
      after: [],
      afterText: null,
      overlap: "skip",
      concurrency: null,
    });
    expect(runtime.nextFireOf("cleanup")?.getUTCHours()).toBe(0);
  });

  it("the runner lists them with its own jobs, knows their next fire, and stops them when it stops", async () => {
    await using project = tempProject(manifest);
    const runner = createRunner({ manifest: project.path("jobs.yaml"), logger: memoryLogger().root });
    await runner.start();
    const runtime = new ClassicRuntime({ runner, logger: memoryLogger().root });
    const job = new CleanupFactory({ runtime }).create();
    expect(runner.jobs.map((j) => j.name)).toEqual(["hello", "cleanup"]);
    expect(runner.nextFireOf("cleanup")?.getTime()).toBe(job!.nextInvocation()!.getTime());
    await runner.stop();
    // Stopped with the runner: its node-schedule job no longer has a next fire.
    expect(job!.nextInvocation()).toBeNull();
    expect(runtime.inFlight).toBe(0);
  });

  it("a runner's 'record' listener that throws on a class job's record is logged; the class run goes on", async () => {
    await using beside = await besideRunner();
    const { logs, runner, runtime } = beside;
    runner.on("record", (r: RunRecord) => {
      if (r.status === "running") throw new Error("listener bug");
    });
    const factory = new CleanupFactory({ runtime });
    factory.create();
    await factory.trigger();
    expect((await runner.store.history({ job: "cleanup", limit: 5 })).map((r) => r.status)).toEqual(["ok"]);
    expect(logs.lines.find((l) => l.msg === "a 'record' listener threw; the run goes on")).toMatchObject({ job: "cleanup", err: { message: "listener bug" } });
  });

  it("a class job may not take the name of a manifest job", async () => {
    await using beside = await besideRunner();
    const { runner, runtime } = beside;
    expect(() => new CleanupFactory({ runtime, name: "hello" }).create()).toThrow(
      expect.objectContaining({ code: "BAD_INPUT", message: expect.stringContaining(`"hello" is already a job of ${runner.manifestPath}`) }),
    );
  });
});

// Inline handlers share the runner's process: their stray errors and process.exit calls
// must end only their own run. Tried on the real CLI, in a child process.
import { describe, expect, test } from "vitest";
import { runCli, startCli } from "../support/cli.js";
import { tempProject } from "../support/temp-project.js";

interface Record_ {
  runId: string;
  job: string;
  status: string;
  error: { code?: string; message: string; stack?: string } | null;
  result: unknown;
}

const EVERY_SECOND = `"* * * * * *"`;

describe("inline handler faults on the real CLI", () => {
  test("stray throws and rejections after a run are charged to their run; process.exit fails the run; the runner goes on", async () => {
    using project = tempProject({
      "jobs/timer-throw.ts": `export default () => { setTimeout(() => { throw new Error("thrown from a timer after the run"); }, 200); return "returned"; };\n`,
      "jobs/timer-reject.ts": `export default async () => { setTimeout(() => { Promise.reject(new Error("rejected after the run")); }, 200); return "returned"; };\n`,
      "jobs/exits.ts": `export default async () => { await new Promise((r) => setTimeout(r, 10)); process.exit(3); };\n`,
      "jobs/exits-caught.ts": `export default () => { try { process.exit(4); } catch {} return "survived"; };\n`,
      "jobs/during.ts": `export default () => new Promise((resolve) => { setTimeout(() => { throw new Error("thrown while the run waits"); }, 20); setTimeout(resolve, 500); });\n`,
      "jobs/clean.ts": `export default () => "clean";\n`,
      // Attributed by the stack: a microtask's throw is its job's, as a timer's is.
      "jobs/microtask.ts": `export default () => { queueMicrotask(() => { throw new Error("thrown from a microtask"); }); return "returned"; };\n`,
      // No stack (a plain object rejected): not attributable, logged, the runner goes on.
      "jobs/lost-context.ts": `export default () => { setTimeout(() => { Promise.reject({ message: "raised where no run can be named" }); }, 50); return "returned"; };\n`,
      // One handler, two jobs: its stack cannot say whose run left the timer, so neither is charged.
      "jobs/shared.ts": `export default () => { setTimeout(() => { throw new Error("thrown by a handler two jobs share"); }, 50); return "returned"; };\n`,
      "jobs.yaml": [
        "version: 1",
        "jobs:",
        `  timer-throw: { handler: jobs/timer-throw.ts, schedule: ${EVERY_SECOND} }`,
        `  timer-reject: { handler: jobs/timer-reject.ts, schedule: ${EVERY_SECOND} }`,
        `  exits: { handler: jobs/exits.ts, schedule: ${EVERY_SECOND} }`,
        `  exits-caught: { handler: jobs/exits-caught.ts, schedule: ${EVERY_SECOND} }`,
        `  during: { handler: jobs/during.ts, schedule: ${EVERY_SECOND} }`,
        `  clean: { handler: jobs/clean.ts, schedule: ${EVERY_SECOND} }`,
        `  lost-context: { handler: jobs/lost-context.ts, schedule: ${EVERY_SECOND} }`,
        `  microtask: { handler: jobs/microtask.ts, schedule: ${EVERY_SECOND} }`,
        `  shared-a: { handler: jobs/shared.ts, schedule: ${EVERY_SECOND} }`,
        `  shared-b: { handler: jobs/shared.ts, schedule: ${EVERY_SECOND} }`,
        "",
      ].join("\n"),
    });
    const runner = startCli(["start"], { cwd: project.dir });
    try {
      // Two stray errors of each kind charged to their runs, then a clean run after them.
      const charged = new Map<string, number>();
      await runner.waitForLog((e) => {
        const err = e.err as { code?: string } | undefined;
        if (err?.code === "JOB_STRAY_ERROR") charged.set(e.job as string, (charged.get(e.job as string) ?? 0) + 1);
        return (charged.get("timer-throw") ?? 0) >= 2 && (charged.get("timer-reject") ?? 0) >= 2;
      }, 30_000);
      await runner.waitForLog((e) => e.event === "run-ended" && e.job === "clean" && e.status === "ok");
      // The error no run can be charged with was logged (with its stack), and did not end the runner.
      await runner.waitForLog((e) => (e.err as { message?: string } | undefined)?.message === "raised where no run can be named" && e.job === undefined);
      await runner.waitForLog((e) => (e.err as { message?: string } | undefined)?.message === "thrown by a handler two jobs share" && e.job === undefined);
      runner.child.kill("SIGTERM");
      expect(await runner.exited).toBe(0);
    } finally {
      runner.child.kill("SIGKILL");
    }

    const history = runCli(["history", "--json", "--limit", "1000"], { cwd: project.dir });
    expect(history.status).toBe(0);
    const records = JSON.parse(history.stdout) as Record_[];
    const of = (job: string) => records.filter((r) => r.job === job);
    // No run was left unrecorded: every one ended with a final status.
    expect(records.filter((r) => r.status === "running")).toEqual([]);

    const strays = of("timer-throw").filter((r) => r.status === "failed");
    expect(strays.length).toBeGreaterThanOrEqual(2);
    expect(strays[0]!.error).toMatchObject({
      code: "JOB_STRAY_ERROR",
      message: 'job "timer-throw" raised an error after its run ended (from a timer or promise its handler left behind): thrown from a timer after the run',
      stack: expect.stringContaining("timer-throw.ts"),
    });
    // The result it returned stays with the record.
    expect(strays[0]!.result).toBe("returned");
    expect(of("timer-reject").filter((r) => r.status === "failed")[0]!.error).toMatchObject({ code: "JOB_STRAY_ERROR", message: expect.stringContaining("rejected after the run") });

    const exits = of("exits");
    expect(exits.length).toBeGreaterThanOrEqual(2);
    for (const run of exits) {
      expect(run.status).toBe("failed");
      expect(run.error).toMatchObject({ code: "JOB_EXITED", message: expect.stringContaining("use `mode: thread`") });
    }
    for (const run of of("exits-caught")) expect([run.status, run.error?.code]).toEqual(["failed", "JOB_EXITED"]);
    const during = of("during").filter((r) => r.status !== "skipped");
    expect(during.length).toBeGreaterThanOrEqual(1);
    for (const run of during) expect(run.error).toMatchObject({ code: "JOB_FAILED", message: "thrown while the run waits" });

    const microtask = of("microtask").filter((r) => r.status === "failed");
    expect(microtask.length).toBeGreaterThanOrEqual(1);
    expect(microtask[0]!.error?.message).toContain("thrown from a microtask");

    // Nothing charged to a job that did not raise it, nor to one of two that may have.
    for (const run of [...of("shared-a"), ...of("shared-b"), ...of("lost-context")]) expect(run.status).toBe("ok");
    const clean = of("clean");
    expect(clean.length).toBeGreaterThanOrEqual(2);
    for (const run of clean) expect(run.status).toBe("ok");
  });
});

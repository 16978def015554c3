// A handler that kills, hangs or exhausts its worker ends only its own run; the pool goes on.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ThreadExecutor, type ThreadExecutorOptions } from "../../runner/execute/thread-executor.js";
import { RunletError } from "../../runner/errors.js";
import { handlerDir, memoryLogger, rejectionOf, request } from "./helpers.js";
import { waitFor } from "../support/poll.js";

const files = handlerDir({
  "ok.mjs": `export default async () => (await import("node:worker_threads")).threadId;\n`,
  "exits.mjs": `export default () => { process.exit(3); };\n`,
  "exits-later.mjs": `export default (ctx) => new Promise(() => { ctx.log.info("running"); setTimeout(() => process.exit(4), 100); });\n`,
  "waits-for-abort.mjs": `export default (ctx) => new Promise((resolve) => {
  if (ctx.signal.aborted) resolve("started although aborted");
  ctx.signal.addEventListener("abort", () => resolve("aborted while running"));
});\n`,
  "busy-loop.mjs": `export default (ctx) => { ctx.log.info("looping"); for (;;) {} };\n`,
  "slow.mjs": `export default (ctx) => { ctx.log.info("sleeping"); return new Promise((resolve) => setTimeout(() => resolve("slow done"), ctx.params.ms)); };\n`,
  "hog.mjs": `export default () => { const kept = []; for (;;) kept.push(new Array(100_000).fill({ x: Math.random() })); };\n`,
  "late-throw.mjs": `export default (ctx) => { setTimeout(() => { throw new Error("thrown from a timer after the run"); }, ctx.params?.ms ?? 5); return "returned"; };\n`,
  "last-words.mjs": `export default (ctx) => { ctx.log.info("last words"); return 1; };\n`,
  "late-reject.mjs": `export default () => { setTimeout(() => Promise.reject(new Error("rejected after the run")), 5); return "returned"; };\n`,
  "callback-throw.mjs": `export default () => new Promise(() => { setTimeout(() => { throw new Error("thrown in a callback"); }, 1); });\n`,
  "many-logs.mjs": `export default (ctx) => { for (let i = 0; i < 200; i++) ctx.log.info({ i }, "line"); return "done"; };\n`,
  "throws-when-told.mjs": `import { existsSync } from "node:fs";
export default (ctx) => {
  const timer = setInterval(() => { if (existsSync(ctx.params.file)) { clearInterval(timer); throw new Error("thrown once told to"); } }, 10);
  return "returned";
};\n`,
});
afterAll(() => files[Symbol.dispose]());

let executor: ThreadExecutor | undefined;
afterEach(async () => {
  await executor?.close();
  executor = undefined;
});
const make = (options: ThreadExecutorOptions = {}) => (executor = new ThreadExecutor({ maxThreads: 2, idleTimeoutMs: 60_000, ...options }));

describe("thread executor: failures stay in their run", () => {
  it("rejects JOB_EXITED when a handler calls process.exit, and the next run on the pool works", async () => {
    const exec = make({ maxThreads: 1 });
    const err = await rejectionOf(exec.run(request(files.path("exits.mjs"), { job: "quitter" })));
    expect(err).toBeInstanceOf(RunletError);
    expect(err.code).toBe("JOB_EXITED");
    expect(err.message).toBe('job "quitter" called process.exit(3) in its worker thread; the call failed, the run is failed and the worker replaced: a handler should return or throw instead');
    await expect(exec.run(request(files.path("ok.mjs")))).resolves.toBeGreaterThan(0);
  });

  it("a run queued behind a worker that exits still runs (piscina starts no replacement by itself with minThreads 0)", async () => {
    const exec = make({ maxThreads: 1 });
    const logs = memoryLogger();
    const exiting = rejectionOf(exec.run(request(files.path("exits-later.mjs"), { log: logs.forRun("j", "r") })));
    const queued = exec.run(request(files.path("ok.mjs")));
    await logs.waitFor((l) => l.msg === "running");
    expect(exec.stats()).toMatchObject({ queued: 1, running: 1 });
    await expect(exiting).resolves.toMatchObject({ code: "JOB_EXITED" });
    await expect(queued).resolves.toBeGreaterThan(0);
  });

  it("a run aborted while it waits for a thread is not started, even on a worker that did not exist when it aborted", async () => {
    const exec = make({ maxThreads: 1 });
    const logs = memoryLogger();
    const exiting = rejectionOf(exec.run(request(files.path("exits-later.mjs"), { log: logs.forRun("j", "r") })));
    const controller = new AbortController();
    const queued = rejectionOf(exec.run(request(files.path("waits-for-abort.mjs"), { job: "waiter", signal: controller.signal })));
    await logs.waitFor((l) => l.msg === "running");
    // The only worker hears this abort, then exits; the run reaches a new worker.
    controller.abort(new RunletError("JOB_TIMEOUT", "timed out after 10ms"));
    await expect(exiting).resolves.toMatchObject({ code: "JOB_EXITED" });
    await expect(queued).resolves.toMatchObject({
      code: "JOB_CANCELLED",
      message: 'job "waiter" was not started: its signal aborted (timed out after 10ms) while it waited for a thread',
    });
  });

  it("terminates a busy loop graceMs after its signal aborted (JOB_CANCELLED), without disturbing other runs", async () => {
    const exec = make({ graceMs: 200 });
    const logs = memoryLogger();
    const controller = new AbortController();
    const looping = exec.run(request(files.path("busy-loop.mjs"), { job: "spinner", signal: controller.signal, log: logs.forRun("spinner", "r1") }));
    const neighbour = exec.run(request(files.path("slow.mjs"), { params: { ms: 400 } }));
    await logs.waitFor((l) => l.msg === "looping");
    const abortedAt = Date.now();
    controller.abort(new RunletError("JOB_TIMEOUT", "timed out after 100ms"));
    const err = await rejectionOf(looping);
    const tookMs = Date.now() - abortedAt;
    expect(err.code).toBe("JOB_CANCELLED");
    expect(err.message).toBe('job "spinner" was terminated: its signal aborted (timed out after 100ms) and it was still running 200ms later');
    expect((err.cause as RunletError).code).toBe("JOB_TIMEOUT");
    // Not before the grace period; well within a generous bound after it.
    expect(tookMs).toBeGreaterThanOrEqual(190);
    expect(tookMs).toBeLessThan(200 + 5_000);
    await expect(neighbour).resolves.toBe("slow done");
    await expect(exec.run(request(files.path("ok.mjs")))).resolves.toBeGreaterThan(0);
  });

  it("a run queued behind a terminated busy loop still runs", async () => {
    const exec = make({ maxThreads: 1, graceMs: 50 });
    const logs = memoryLogger();
    const controller = new AbortController();
    const looping = rejectionOf(exec.run(request(files.path("busy-loop.mjs"), { signal: controller.signal, log: logs.forRun("spinner", "r") })));
    const queued = exec.run(request(files.path("ok.mjs")));
    await logs.waitFor((l) => l.msg === "looping");
    controller.abort(new Error("replaced"));
    await expect(looping).resolves.toMatchObject({ code: "JOB_CANCELLED" });
    await expect(queued).resolves.toBeGreaterThan(0);
  });

  it("rejects JOB_OUT_OF_MEMORY at the job's heap limit, and that limit's pool goes on", async () => {
    const exec = make();
    const err = await rejectionOf(exec.run(request(files.path("hog.mjs"), { job: "hog", memoryMb: 16 })));
    expect(err.code).toBe("JOB_OUT_OF_MEMORY");
    expect(err.message).toBe('job "hog" ran out of memory: its worker thread reached its heap limit of 16 MB (memory: 16)');
    await expect(exec.run(request(files.path("ok.mjs"), { memoryMb: 16 }))).resolves.toBeGreaterThan(0);
  });

  it("an error thrown from a timer after a run returned is charged to that run, and its worker is replaced", async () => {
    const exec = make({ maxThreads: 1 });
    const ranOn = await exec.run(request(files.path("ok.mjs")));
    const strays: Array<Error & { code?: string }> = [];
    await expect(exec.run(request(files.path("late-throw.mjs"), { job: "leaver", strayAfterEnd: (e) => strays.push(e) }))).resolves.toBe("returned");
    await waitFor(() => strays.length === 1, 10_000, "the stray error reached its run");
    expect(strays[0]).toMatchObject({
      code: "JOB_STRAY_ERROR",
      message: 'job "leaver" raised an error after its run ended (from a timer or promise its handler left behind): thrown from a timer after the run',
      stack: expect.stringContaining("late-throw.mjs"),
    });
    // The next run, of another job, gets a fresh worker.
    const next = await exec.run(request(files.path("ok.mjs"), { job: "other" }));
    expect(next).toBeGreaterThan(0);
    expect(next).not.toBe(ranOn);
  });

  it("a stray error raised while another job's run is on the same worker fails neither that run nor the next: it is the leaver's", async () => {
    const exec = make({ maxThreads: 1 });
    const strays: Error[] = [];
    const otherStrays: Error[] = [];
    await exec.run(request(files.path("late-throw.mjs"), { job: "leaver", params: { ms: 100 }, strayAfterEnd: (e) => strays.push(e) }));
    // On the only worker while the leaver's timer fires.
    await expect(exec.run(request(files.path("slow.mjs"), { job: "bystander", params: { ms: 400 }, strayAfterEnd: (e) => otherStrays.push(e) }))).resolves.toBe("slow done");
    await waitFor(() => strays.length === 1, 10_000, "the stray error reached its run");
    expect(strays[0]!.message).toContain('job "leaver" raised an error after its run ended');
    await expect(exec.run(request(files.path("ok.mjs"), { job: "bystander" }))).resolves.toBeGreaterThan(0);
    expect(otherStrays).toEqual([]);
  });

  it("a stray error is charged to its job's last run however many runs of other jobs ended since", async () => {
    const exec = make({ maxThreads: 1 });
    const strays: Error[] = [];
    const told = join(files.dir, "throw-now");
    await expect(exec.run(request(files.path("throws-when-told.mjs"), { job: "leaver", params: { file: told }, strayAfterEnd: (e) => strays.push(e) }))).resolves.toBe("returned");
    // More runs than any fixed count of ended runs kept would hold: the leaver's is still known.
    await Promise.all(Array.from({ length: 1500 }, () => exec.run(request(files.path("ok.mjs"), { job: "busy", strayAfterEnd: () => strays.push(new Error("charged to a busy run")) }))));
    writeFileSync(told, "");
    await waitFor(() => strays.length === 1, 10_000, "the stray error reached its run");
    expect(strays[0]!.message).toContain('job "leaver" raised an error after its run ended (from a timer or promise its handler left behind): thrown once told to');
  });

  it("an unhandled rejection after a run returned is charged the same way", async () => {
    const exec = make({ maxThreads: 1 });
    const strays: Error[] = [];
    await expect(exec.run(request(files.path("late-reject.mjs"), { job: "rejecter", strayAfterEnd: (e) => strays.push(e) }))).resolves.toBe("returned");
    await waitFor(() => strays.length === 1, 10_000, "the stray rejection reached its run");
    expect(strays[0]).toMatchObject({ code: "JOB_STRAY_ERROR", message: expect.stringContaining("rejected after the run") });
    await expect(exec.run(request(files.path("ok.mjs")))).resolves.toBeGreaterThan(0);
  });

  it("an error thrown from a callback while its run waits fails that run (JOB_FAILED), not the worker", async () => {
    const exec = make({ maxThreads: 1 });
    const ranOn = await exec.run(request(files.path("ok.mjs")));
    const err = await rejectionOf(exec.run(request(files.path("callback-throw.mjs"))));
    expect(err).toMatchObject({ code: "JOB_FAILED", message: "thrown in a callback" });
    expect(err.stack).toContain("callback-throw.mjs");
    await expect(exec.run(request(files.path("ok.mjs")))).resolves.toBe(ranOn);
  });

  it("delivers every log line posted before the handler returned by the time the run settles", async () => {
    // The result and the log lines travel on different ports: without draining the log port
    // at settle time, a line logged just before `return` arrived after the run had settled.
    const logs = memoryLogger();
    const exec = make();
    await exec.run(request(files.path("many-logs.mjs"), { log: logs.forRun("j", "r") }));
    expect(logs.lines.map((l) => l.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (let run = 0; run < 20; run++) {
      const before = logs.lines.length;
      await exec.run(request(files.path("last-words.mjs"), { log: logs.forRun("j", `r${run}`) }));
      expect(logs.lines.slice(before)).toMatchObject([{ msg: "last words", runId: `r${run}` }]);
    }
  });

  it("rejects JOB_CANCELLED for runs in flight when it is closed", async () => {
    const exec = make();
    const logs = memoryLogger();
    const running = rejectionOf(exec.run(request(files.path("slow.mjs"), { job: "slow", params: { ms: 10_000 }, log: logs.forRun("slow", "r") })));
    await logs.waitFor((l) => l.msg === "sleeping");
    await exec.close();
    const err = await running;
    expect(err.code).toBe("JOB_CANCELLED");
    expect(err.message).toBe('job "slow" was terminated: the thread executor was closed while it ran');
    await expect(rejectionOf(exec.run(request(files.path("ok.mjs"))))).resolves.toMatchObject({ code: "JOB_CANCELLED" });
  });

  it("says how to build the worker when its entry file is missing", async () => {
    const exec = make({ workerFile: pathToFileURL(`${files.dir}/no-such-worker.js`) });
    const err = await rejectionOf(exec.run(request(files.path("ok.mjs"))));
    expect(err.code).toBe("JOB_FAILED");
    expect(err.message).toContain("no-such-worker.js does not exist; thread-mode runs need the build: run `npm run build`");
  });
});

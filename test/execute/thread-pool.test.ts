// The pools behind the thread executor: scaling to zero, recycling, stats.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RunAbort } from "../../runner/execute/run-abort.js";
import { ThreadExecutor, type ThreadExecutorOptions } from "../../runner/execute/thread-executor.js";
import { handlerDir, memoryLogger, request } from "./helpers.js";
import { waitFor } from "../support/poll.js";

const files = handlerDir({
  // Module state lives as long as the worker that imported it: a fresh worker counts from 1.
  "counter.mjs": `let n = 0;\nexport default async () => ({ n: ++n, threadId: (await import("node:worker_threads")).threadId });\n`,
  "gated.mjs": `export default (ctx) => new Promise((resolve) => {
  ctx.log.info("started");
  const timer = setInterval(() => {}, 1000);
  ctx.signal.addEventListener("abort", async () => { clearInterval(timer); resolve({ finished: true, threadId: (await import("node:worker_threads")).threadId }); });
});\n`,
  // Its start time (wall clock, sub-millisecond), then a few ms of work.
  "stamp.mjs": `export default async () => {
  const startedAt = performance.timeOrigin + performance.now();
  await new Promise((resolve) => setTimeout(resolve, 5));
  return startedAt;
};\n`,
});
afterAll(() => files[Symbol.dispose]());

let executor: ThreadExecutor | undefined;
afterEach(async () => {
  await executor?.close();
  executor = undefined;
});
const make = (options: ThreadExecutorOptions = {}) => (executor = new ThreadExecutor({ maxThreads: 1, idleTimeoutMs: 60_000, ...options }));

describe("thread executor pools", () => {
  it("creates no thread before the first run and scales to zero threads when idle", async () => {
    const exec = make({ idleTimeoutMs: 50 });
    expect(exec.stats()).toEqual({ threads: 0, queued: 0, running: 0 });
    await exec.run(request(files.path("counter.mjs")));
    await waitFor(() => exec.stats().threads === 0, 10_000, "the pool to scale to zero");
    // And comes back for the next run, on a fresh worker.
    await expect(exec.run(request(files.path("counter.mjs")))).resolves.toMatchObject({ n: 1 });
  });

  it("counts runs that wait for a thread as queued; one aborted while it waits is not started", async () => {
    const exec = make();
    const logs = memoryLogger();
    const controllers = [new AbortController(), new AbortController()];
    const runs = controllers.map((c, i) => exec.run(request(files.path("gated.mjs"), { job: "gated", signal: c.signal, log: logs.forRun("gated", `r${i}`) })));
    await logs.waitFor((l) => l.msg === "started");
    expect(exec.stats()).toEqual({ threads: 1, queued: 1, running: 1 });
    for (const c of controllers) c.abort(new Error("test over"));
    const [first, second] = await Promise.allSettled(runs);
    expect(first).toMatchObject({ status: "fulfilled", value: { finished: true } });
    expect(second).toMatchObject({
      status: "rejected",
      reason: { code: "JOB_CANCELLED", message: 'job "gated" was not started: its signal aborted (test over) while it waited for a thread' },
    });
    expect(logs.lines.filter((l) => l.msg === "started")).toHaveLength(1);
    expect(exec.stats()).toMatchObject({ queued: 0, running: 0 });
  });

  it("runs waiting for a thread start in the order they came", async () => {
    const exec = make({ maxThreads: 2 });
    // Both threads started first: a run handed to a thread still starting would wait on that, not its turn.
    await Promise.all([exec.run(request(files.path("stamp.mjs"))), exec.run(request(files.path("stamp.mjs")))]);
    expect(exec.stats().threads).toBe(2);
    const starts = (await Promise.all(Array.from({ length: 24 }, () => exec.run(request(files.path("stamp.mjs")))))) as number[];
    const order = starts.map((at, i) => ({ at, i })).sort((a, b) => a.at - b.at).map((s) => s.i);
    // Two threads: two runs that start together may swap; none starts further out of turn.
    order.forEach((run, rank) => expect(Math.abs(run - rank), `run ${run} started ${rank}th: ${order.join(" ")}`).toBeLessThanOrEqual(1));
  });

  it("a run whose signal aborts just as it is handed a thread is not started, and the thread goes on to the next", async () => {
    const exec = make();
    const logs = memoryLogger();
    const controller = new AbortController();
    const first = exec.run(request(files.path("gated.mjs"), { signal: controller.signal, log: logs.forRun("gated", "r0") }));
    // The abort lands inside the hand-over itself: when the waiting run stops listening for it.
    class AbortsWhenHanded extends RunAbort {
      override unsubscribe(listener: () => void): void {
        super.unsubscribe(listener);
        this.abort(new Error("just in time"));
      }
    }
    const aborts = new AbortsWhenHanded();
    const second = exec.run(request(files.path("gated.mjs"), { job: "late", aborts, log: logs.forRun("gated", "r1") }));
    const outcomes = Promise.allSettled([first, second]);
    await logs.waitFor((l) => l.msg === "started");
    controller.abort(new Error("done"));
    const [, late] = await outcomes;
    expect(late).toMatchObject({ status: "rejected", reason: { code: "JOB_CANCELLED", message: 'job "late" was not started: its signal aborted (just in time) while it waited for a thread' } });
    expect(logs.lines.filter((l) => l.msg === "started")).toHaveLength(1);
    // Its thread was handed on: the pool (one thread) still runs the next.
    await expect(exec.run(request(files.path("counter.mjs")))).resolves.toMatchObject({ n: 1 });
  });

  it("close() rejects the runs still waiting for a thread, unstarted", async () => {
    const exec = make();
    const logs = memoryLogger();
    const running = exec.run(request(files.path("gated.mjs"), { log: logs.forRun("gated", "r0") }));
    const waiting = exec.run(request(files.path("gated.mjs"), { job: "later", log: logs.forRun("gated", "r1") }));
    const outcomes = Promise.allSettled([running, waiting]);
    await logs.waitFor((l) => l.msg === "started");
    await exec.close();
    const [ran, waited] = await outcomes;
    expect(waited).toMatchObject({ status: "rejected", reason: { code: "JOB_CANCELLED", message: 'job "later" was not started: the thread executor is closed' } });
    expect(ran).toMatchObject({ status: "rejected", reason: { code: "JOB_CANCELLED" } });
    expect(logs.lines.filter((l) => l.msg === "started")).toHaveLength(1);
  });

  it("recycle: a run in flight completes on the old pool, the next run gets a fresh worker, the old pool closes", async () => {
    const exec = make();
    const logs = memoryLogger();
    await expect(exec.run(request(files.path("counter.mjs")))).resolves.toMatchObject({ n: 1 });
    const controller = new AbortController();
    const inFlight = exec.run(request(files.path("gated.mjs"), { signal: controller.signal, log: logs.forRun("gated", "r") }));
    await logs.waitFor((l) => l.msg === "started");
    expect(exec.stats().threads).toBe(1);

    let recycled = false;
    const recycling = exec.recycle().then(() => (recycled = true));
    // maxThreads is 1 and the old worker is busy: this run can only finish on a new pool's worker.
    const next = (await exec.run(request(files.path("counter.mjs")))) as { n: number; threadId: number };
    expect(next.n).toBe(1);
    expect(exec.stats().threads).toBe(2);
    expect(recycled).toBe(false);

    controller.abort(new Error("let it finish"));
    const finished = (await inFlight) as { finished: boolean; threadId: number };
    expect(finished.finished).toBe(true);
    expect(finished.threadId).not.toBe(next.threadId);
    await recycling;
    expect(exec.stats().threads).toBe(1);
    // The new pool keeps its worker (and its module cache).
    await expect(exec.run(request(files.path("counter.mjs")))).resolves.toEqual({ n: 2, threadId: next.threadId });
  });

  it("recycle with nothing in flight closes the old pool at once", async () => {
    const exec = make();
    await expect(exec.run(request(files.path("counter.mjs")))).resolves.toMatchObject({ n: 1 });
    expect(exec.stats().threads).toBe(1);
    await exec.recycle();
    expect(exec.stats().threads).toBe(0);
    await expect(exec.run(request(files.path("counter.mjs")))).resolves.toMatchObject({ n: 1 });
  });

  it("keeps one pool per memory limit", async () => {
    const exec = make();
    const a = (await exec.run(request(files.path("counter.mjs")))) as { threadId: number };
    const b = (await exec.run(request(files.path("counter.mjs"), { memoryMb: 64 }))) as { threadId: number; n: number };
    expect(b.threadId).not.toBe(a.threadId);
    expect(b.n).toBe(1);
    expect(exec.stats().threads).toBe(2);
  });
});

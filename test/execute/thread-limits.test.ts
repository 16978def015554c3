// What one thread job can do to the others through the pool: change shared globals, hold
// memory outside the heap, flood the main thread with output, or keep the threads busy.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ThreadExecutor, type ThreadExecutorOptions } from "../../runner/execute/thread-executor.js";
import { RunletError } from "../../runner/errors.js";
import { Dispatcher } from "../../runner/execute/dispatcher.js";
import { systemClock, type RunRecord } from "../../runner/contracts/index.js";
import { silentLogger } from "../../runner/log/logger.js";
import { jobDef } from "../support/job-def.js";
import { handlerDir, memoryLogger, rejectionOf, request } from "./helpers.js";

const files = handlerDir({
  "freeze-clock.mjs": `export default () => { Date.now = () => 0; return Date.now(); };\n`,
  "pollute.mjs": `export default () => { Array.prototype.polluted = true; globalThis.fetch = () => "mocked"; return "polluted"; };\n`,
  "read-globals.mjs": `import { threadId } from "node:worker_threads";
export default () => ({ now: Date.now(), polluted: [].polluted === true, fetch: typeof fetch === "function" && fetch.name, threadId });\n`,
  "buffer-hog.mjs": `export default (ctx) => { const held = Buffer.alloc(ctx.params.mb * 1024 * 1024, 1); return held.length; };\n`,
  "buffer-holder.mjs": `export default (ctx) => new Promise((resolve) => { const held = new Uint8Array(ctx.params.mb * 1024 * 1024).fill(1); setTimeout(() => resolve(held.length), 5_000); });\n`,
  "big-string.mjs": `export default (ctx) => "x".repeat(ctx.params.mb * 1024 * 1024);\n`,
  "big-array.mjs": `export default () => Array.from({ length: 1_000_000 }, (_, i) => ({ i, name: "item " + i }));\n`,
  "small.mjs": `export default () => ({ small: true, list: [1, 2, 3] });\n`,
  "chatty.mjs": `export default (ctx) => { for (let i = 0; i < ctx.params.lines; i++) ctx.log.info({ i }, "line"); return "done"; };\n`,
  "huge-line.mjs": `export default (ctx) => { ctx.log.info({ blob: "y".repeat(1024 * 1024) }, "huge"); ctx.log.info("after"); return "done"; };\n`,
  "logs-later.mjs": `export default (ctx) => { setTimeout(() => ctx.log.info("after the run"), 20); ctx.log.info("during the run"); return "returned"; };\n`,
  "slow.mjs": `export default (ctx) => new Promise((resolve) => setTimeout(() => resolve("slow done"), ctx.params.ms));\n`,
  "started.mjs": `export default () => Date.now();\n`,
  "priority.mjs": `import { getPriority } from "node:os";\nexport default () => getPriority(0);\n`,
  "timers.mjs": `export default () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;\n`,
});
afterAll(() => files[Symbol.dispose]());

let executor: ThreadExecutor | undefined;
afterEach(async () => {
  await executor?.close();
  executor = undefined;
});
const make = (options: ThreadExecutorOptions = {}) => (executor = new ThreadExecutor({ maxThreads: 1, idleTimeoutMs: 60_000, ...options }));

describe("globals do not leak between jobs through pooled workers", () => {
  it("a job that sets Date.now = () => 0 never changes another job's clock, run after run on one thread", async () => {
    const exec = make();
    const seen: number[] = [];
    for (let i = 0; i < 27; i++) {
      await exec.run(request(files.path("freeze-clock.mjs"), { job: "freezer" }));
      const read = (await exec.run(request(files.path("read-globals.mjs"), { job: "reader" }))) as { now: number };
      seen.push(read.now);
    }
    expect(seen.filter((now) => now === 0)).toEqual([]);
  });

  it("a polluted prototype or a replaced global is not seen by another job", async () => {
    const exec = make();
    await exec.run(request(files.path("pollute.mjs"), { job: "polluter" }));
    await expect(exec.run(request(files.path("read-globals.mjs"), { job: "reader" }))).resolves.toMatchObject({ polluted: false, fetch: "fetch" });
  });

  it("a job's runs keep their worker while no global changes", async () => {
    const exec = make();
    const a = (await exec.run(request(files.path("read-globals.mjs"), { job: "one" }))) as { threadId: number };
    const b = (await exec.run(request(files.path("read-globals.mjs"), { job: "two" }))) as { threadId: number };
    expect(b.threadId).toBe(a.threadId);
  });
});

describe("memory caps Buffers and ArrayBuffers too", () => {
  it("memory: 64 and Buffer.alloc(500 MB): the run fails out of memory, and the next run gets a fresh worker", async () => {
    const exec = make();
    const before = (await exec.run(request(files.path("read-globals.mjs"), { memoryMb: 64 }))) as { threadId: number };
    const err = await rejectionOf(exec.run(request(files.path("buffer-hog.mjs"), { job: "hog", memoryMb: 64, params: { mb: 500 } })));
    expect(err).toBeInstanceOf(RunletError);
    expect(err.code).toBe("JOB_OUT_OF_MEMORY");
    expect(err.message).toMatch(/^job "hog" ran out of memory: its worker thread held \d+ MB \(heap \d+ MB, Buffers and other memory outside the heap 5\d\d MB\), over its limit of 64 MB \(memory: 64\)$/);
    const after = (await exec.run(request(files.path("read-globals.mjs"), { memoryMb: 64 }))) as { threadId: number };
    expect(after.threadId).not.toBe(before.threadId);
  });

  it("only a run with a memory limit is watched: a worker's own resourceLimits (V8's default heap limit) are not a limit", async () => {
    const exec = make();
    // The watch is a 20 ms interval while the handler runs: an unlimited run has no timer at all.
    await expect(exec.run(request(files.path("timers.mjs")))).resolves.toBe(0);
    await expect(exec.run(request(files.path("timers.mjs"), { memoryMb: 64 }))).resolves.toBe(1);
  });

  it("memory held while the handler waits is caught before the handler returns", async () => {
    const exec = make();
    const startedAt = Date.now();
    const err = await rejectionOf(exec.run(request(files.path("buffer-holder.mjs"), { job: "holder", memoryMb: 32, params: { mb: 100 } })));
    expect(err.code).toBe("JOB_OUT_OF_MEMORY");
    // The handler would have resolved after 5 s: the check ended it well before.
    expect(Date.now() - startedAt).toBeLessThan(4_000);
  });

  it("a job under its limit is not disturbed", async () => {
    const exec = make();
    await expect(exec.run(request(files.path("buffer-hog.mjs"), { memoryMb: 64, params: { mb: 16 } }))).resolves.toBe(16 * 1024 * 1024);
  });
});

describe("big output is cut in the worker", () => {
  it("a result whose JSON is over 64 KiB arrives cut, with a preview of its JSON", async () => {
    const exec = make();
    await expect(exec.run(request(files.path("big-string.mjs"), { params: { mb: 50 } }))).resolves.toEqual({ truncated: true, over: 65536, preview: `"${"x".repeat(1023)}` });
    const array = (await exec.run(request(files.path("big-array.mjs")))) as { truncated: boolean; preview: string };
    expect(array.truncated).toBe(true);
    expect(array.preview).toBe(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ i, name: `item ${i}` }))).slice(0, 1024));
    await expect(exec.run(request(files.path("small.mjs")))).resolves.toEqual({ small: true, list: [1, 2, 3] });
  });

  it("a run that logs a million lines sends its first and its last 1,000; those between are dropped and counted on the run's log", async () => {
    const logs = memoryLogger();
    const exec = make();
    await expect(exec.run(request(files.path("chatty.mjs"), { params: { lines: 1_000_000 }, log: logs.forRun("chatty", "r1") }))).resolves.toBe("done");
    const lines = logs.lines.filter((l) => l.msg === "line");
    const first = Array.from({ length: 1000 }, (_, i) => i);
    expect(lines.map((l) => l.i)).toEqual([...first, ...first.map((i) => 999_000 + i)]);
    expect(logs.lines.find((l) => l.droppedLines !== undefined)).toMatchObject({ level: 40, droppedLines: 998_000, runId: "r1" });
  });

  it("lines a run's leftover timer logs after it returned are dropped in the worker", async () => {
    const logs = memoryLogger();
    const exec = make();
    await exec.run(request(files.path("logs-later.mjs"), { log: logs.forRun("later", "r1") }));
    // Long after the timer fired, on the same worker.
    await exec.run(request(files.path("slow.mjs"), { params: { ms: 200 } }));
    expect(logs.lines.map((l) => l.msg)).toEqual(["during the run"]);
  });

  it("a log line bigger than the run's byte bound is dropped and counted; later lines still go", async () => {
    const logs = memoryLogger();
    const exec = make();
    await exec.run(request(files.path("huge-line.mjs"), { log: logs.forRun("huge", "r1") }));
    expect(logs.lines.map((l) => l.droppedLines ?? l.msg)).toEqual(["after", 1]);
  });
});

describe("the main thread before the workers", () => {
  it.runIf(process.platform === "linux")("worker threads run at a lower CPU priority than the main thread (nice +10)", async () => {
    const exec = make();
    const { getPriority } = await import("node:os");
    await expect(exec.run(request(files.path("priority.mjs")))).resolves.toBe(Math.min(19, getPriority(0) + 10));
  });

  it.runIf(process.platform === "linux")("workerNice sets the increment: 0 runs them at the main thread's priority, 3 three lower", async () => {
    const { getPriority } = await import("node:os");
    await expect(make({ workerNice: 0 }).run(request(files.path("priority.mjs")))).resolves.toBe(getPriority(0));
    await executor!.close();
    await expect(make({ workerNice: 3 }).run(request(files.path("priority.mjs")))).resolves.toBe(Math.min(19, getPriority(0) + 3));
  });

  it("workerNice outside 0–19 is refused, naming the option, the value and what is allowed", () => {
    for (const workerNice of [-1, 20, 2.5]) {
      expect(() => new ThreadExecutor({ workerNice })).toThrow(`ThreadExecutorOptions.workerNice must be a whole number from 0 to 19 (a Linux nice increment) (got ${workerNice})`);
    }
  });
});

describe("waiting for a thread", () => {
  it("a run that waits past its lateness limit is not started (JOB_LATE); one that does not is started, and says when", async () => {
    const exec = make();
    const busy = exec.run(request(files.path("slow.mjs"), { params: { ms: 600 } }));
    const fireDate = new Date();
    const late = rejectionOf(exec.run(request(files.path("started.mjs"), { job: "late", fireDate, lateAfter: fireDate.getTime() + 100 })));
    let startedAt = 0;
    const patient = exec.run(request(files.path("started.mjs"), { job: "patient", fireDate, lateAfter: fireDate.getTime() + 60_000, handlerStarted: (at) => (startedAt = at) }));
    await busy;
    const err = await late;
    expect(err.code).toBe("JOB_LATE");
    expect(err.message).toMatch(/^job "late" waited for a worker thread until \d+ms after its scheduled time \(lateness limit 100ms\); it was not started$/);
    const handlerNow = (await patient) as number;
    // Told the handler's own start, after the busy run freed the thread.
    expect(startedAt - fireDate.getTime()).toBeGreaterThanOrEqual(500);
    expect(Math.abs(startedAt - handlerNow)).toBeLessThan(50);
  });

  it("recorded: a fire that waited past its lateness is skipped (late); a started one's startedAt is its handler's start", async () => {
    const exec = make();
    const records: RunRecord[] = [];
    const dispatcher = new Dispatcher({ executors: { inline: exec, thread: exec }, logger: silentLogger(), clock: systemClock, env: "test", onRecord: (r) => records.push(r) });
    const thread = (name: string, file: string, overrides = {}) => ({ def: jobDef(name, { mode: "thread", ...overrides }), modulePath: files.path(file) });
    const busy = dispatcher.invoke(thread("busy", "slow.mjs", { params: { ms: 600 } }));
    const fireDate = new Date();
    const late = dispatcher.fire(thread("late", "started.mjs", { latenessMs: 100 }), fireDate);
    const patient = dispatcher.fire(thread("patient", "started.mjs", { latenessMs: 60_000 }), fireDate);
    await busy;
    expect(await late).toMatchObject({ status: "skipped", reason: "late", startedAt: null, error: { code: "JOB_LATE" } });
    const started = (await patient)!;
    expect(started.status).toBe("ok");
    expect(Date.parse(started.startedAt!) - fireDate.getTime()).toBeGreaterThanOrEqual(500);
    expect(Math.abs(Date.parse(started.startedAt!) - (started.result as number))).toBeLessThan(50);
  });
});

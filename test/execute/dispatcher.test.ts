import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Dispatcher } from "../../runner/execute/dispatcher.js";
import { InlineExecutor } from "../../runner/execute/inline-executor.js";
import { ThreadExecutor } from "../../runner/execute/thread-executor.js";
import { silentLogger } from "../../runner/log/logger.js";
import type { ActiveJob, JobDefinition, RunRecord } from "../../runner/contracts/index.js";
import { jobDef } from "../support/job-def.js";
import { FakeClock, flush } from "../support/fake-clock.js";
import { waitFor } from "../support/poll.js";
import { tempProject, type TempProject } from "../support/temp-project.js";
import { memoryLogger } from "./helpers.js";

/** Gates the inline handlers wait on, shared with the handler modules (same thread). */
type Gates = Record<string, { promise: Promise<void>; open: () => void }>;
const globals = globalThis as unknown as { __gates: Gates; __calls: Record<string, number>; __hook: (ctx: { runId: string }) => unknown };

function gate(name: string): () => void {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  globals.__gates[name] = { promise, open };
  return open;
}

const HANDLERS = {
  // Waits for the gate named in params, then returns the params.
  "gated.mjs": `export default async (ctx) => { await globalThis.__gates?.[ctx.params.gate]?.promise; return { gate: ctx.params.gate, fireDate: ctx.fireDate.toISOString(), aborted: ctx.signal.aborted }; };`,
  // Fails until its nth call.
  "flaky.mjs": `export default async (ctx) => { const n = (globalThis.__calls[ctx.job] = (globalThis.__calls[ctx.job] ?? 0) + 1); if (n < ctx.params.succeedOn) throw new Error("flaky failure " + n); return { calls: n, attempt: ctx.attempt }; };`,
  // Ignores its signal and never ends.
  "stuck.mjs": `export default () => new Promise(() => {});`,
  // Ends as soon as its signal aborts.
  "polite.mjs": `export default (ctx) => new Promise((resolve) => { if (ctx.signal.aborted) resolve("stopped"); ctx.signal.addEventListener("abort", () => resolve("stopped")); });`,
  "spin.mjs": `export default () => { for (;;) {} };`,
  // Returns an object whose \`then\` getter throws (a revoked Proxy behaves alike).
  "bad-then.mjs": `export default () => ({ get then() { throw new Error("then getter exploded"); } });`,
  // Calls the test's hook at once, with its own run id, before anything is awaited.
  "hook.mjs": `export default (ctx) => globalThis.__hook(ctx);`,
};

let project: TempProject;
let clock: FakeClock;
let records: RunRecord[];
let dispatcher: Dispatcher;
let thread: ThreadExecutor;

beforeEach(() => {
  globals.__gates = {};
  globals.__calls = {};
  project = tempProject(HANDLERS);
  clock = new FakeClock();
  records = [];
  thread = new ThreadExecutor({ logger: silentLogger(), graceMs: 200 });
  dispatcher = new Dispatcher({ executors: { inline: new InlineExecutor(), thread }, logger: silentLogger(), clock, env: "test", abortGraceMs: 200, onRecord: (r) => records.push(r) });
});

afterEach(async () => {
  await thread.close();
  await project[Symbol.asyncDispose]();
});

const active = (name: string, handler: keyof typeof HANDLERS, overrides: Partial<JobDefinition> = {}): ActiveJob => ({ def: jobDef(name, overrides), modulePath: project.path(handler) });
const statuses = (job?: string) => records.filter((r) => !job || r.job === job).map((r) => `${r.status}${r.reason ? `:${r.reason}` : ""}`);

test("a fire runs with its scheduled time and is recorded at start and end", async () => {
  const fireDate = new Date(clock.now() - 200);
  const record = await dispatcher.fire(active("a", "gated.mjs", { params: { gate: "none" } }), fireDate);
  expect(record).toMatchObject({ status: "ok", attempt: 1, scheduledAt: fireDate.toISOString(), result: { fireDate: fireDate.toISOString() }, trigger: "schedule" });
  expect(statuses()).toEqual(["running", "ok"]);
  expect(records[0]!.runId).toBe(records[1]!.runId);
});

test("a fire later than its lateness limit is skipped as late, not run", async () => {
  const record = await dispatcher.fire(active("a", "flaky.mjs", { latenessMs: 1000, params: { succeedOn: 1 } }), new Date(clock.now() - 1500));
  expect(record).toBeNull();
  expect(statuses()).toEqual(["skipped:late"]);
  expect(globals.__calls.a).toBeUndefined();
});

describe("overlap", () => {
  test("skip: a fire while the previous run goes on is recorded as skipped", async () => {
    const open = gate("g");
    const job = active("a", "gated.mjs", { overlap: "skip", params: { gate: "g" } });
    const first = dispatcher.fire(job, new Date(clock.now()));
    await flush();
    expect(await dispatcher.fire(job, new Date(clock.now()))).toBeNull();
    open();
    expect((await first)?.status).toBe("ok");
    expect(statuses()).toEqual(["running", "skipped:overlap", "ok"]);
  });

  test("queue: one fire waits and runs after, with its own fire date; a third is skipped", async () => {
    const open = gate("g");
    const job = active("a", "gated.mjs", { overlap: "queue", params: { gate: "g" } });
    const t0 = clock.now();
    void dispatcher.fire(job, new Date(t0));
    await flush();
    void dispatcher.fire(job, new Date(t0 + 1));
    void dispatcher.fire(job, new Date(t0 + 2));
    open();
    await waitFor(() => records.filter((r) => r.status === "ok").length === 2);
    const ended = records.filter((r) => r.status === "ok");
    expect(ended.map((r) => r.scheduledAt)).toEqual([new Date(t0).toISOString(), new Date(t0 + 1).toISOString()]);
    expect(statuses()).toEqual(["running", "skipped:overlap", "ok", "running", "ok"]);
  });

  test("allow: runs go on side by side", async () => {
    const open = gate("g");
    const job = active("a", "gated.mjs", { overlap: "allow", params: { gate: "g" } });
    const runs = [dispatcher.fire(job, new Date(clock.now())), dispatcher.fire(job, new Date(clock.now()))];
    await flush();
    expect(dispatcher.inFlight).toBe(2);
    open();
    expect((await Promise.all(runs)).map((r) => r?.status)).toEqual(["ok", "ok"]);
  });

  test("replace: the running one is aborted (cancelled) and the new one runs", async () => {
    const job = active("a", "polite.mjs", { overlap: "replace" });
    const first = dispatcher.fire(job, new Date(clock.now()));
    await flush();
    const second = dispatcher.fire(job, new Date(clock.now()));
    expect(await first).toMatchObject({ status: "cancelled", error: { code: "JOB_CANCELLED" } });
    expect(dispatcher.inFlight).toBe(1);
    void dispatcher.abortAll("test over");
    expect((await second)?.status).toBe("cancelled");
  });
});

describe("retries", () => {
  test("fixed backoff waits the same delay before each retry; one run id for all attempts", async () => {
    const run = dispatcher.fire(active("a", "flaky.mjs", { params: { succeedOn: 3 }, retries: { max: 3, backoff: "fixed", delayMs: 1000, maxDelayMs: null } }), new Date(clock.now()));
    await waitFor(() => clock.pendingDelays().length > 0);
    expect(clock.pendingDelays()).toEqual([1000]);
    await clock.advance(1000);
    await waitFor(() => clock.pendingDelays().length > 0);
    expect(clock.pendingDelays()).toEqual([1000]);
    await clock.advance(1000);
    expect(await run).toMatchObject({ status: "ok", attempt: 3, result: { calls: 3, attempt: 3 } });
    expect(new Set(records.map((r) => r.runId)).size).toBe(1);
    expect(statuses()).toEqual(["running", "running", "running", "ok"]);
  });

  test("exponential backoff doubles the delay up to maxDelay, then gives up as failed", async () => {
    const run = dispatcher.fire(active("a", "flaky.mjs", { params: { succeedOn: 99 }, retries: { max: 3, backoff: "exponential", delayMs: 1000, maxDelayMs: 3000 } }), new Date(clock.now()));
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await waitFor(() => clock.pendingDelays().length > 0);
      delays.push(...clock.pendingDelays());
      await clock.advance(clock.pendingDelays()[0]!);
    }
    expect(delays).toEqual([1000, 2000, 3000]);
    expect(await run).toMatchObject({ status: "failed", attempt: 4, error: { message: "flaky failure 4" } });
  });
});

describe("timeouts", () => {
  test("an inline handler that ignores its signal is recorded as timed out after the grace period", async () => {
    const run = dispatcher.fire(active("a", "stuck.mjs", { timeoutMs: 5000 }), new Date(clock.now()));
    await waitFor(() => clock.pendingDelays().length > 0);
    await clock.advance(5000);
    expect(dispatcher.inFlight).toBe(1);
    await clock.advance(200);
    expect(await run).toMatchObject({ status: "timeout", error: { code: "JOB_TIMEOUT" } });
  });

  test("a handler that honours its signal ends early and is recorded as timed out", async () => {
    const run = dispatcher.fire(active("a", "polite.mjs", { timeoutMs: 1000 }), new Date(clock.now()));
    await clock.advance(1000);
    await flush();
    expect(await run).toMatchObject({ status: "timeout" });
  });

  test("a busy loop in a thread is terminated; the next run of the pool works", async () => {
    // The thread executor's grace runs on the real clock: generous bound, no exact timing.
    const run = dispatcher.fire(active("a", "spin.mjs", { mode: "thread", timeoutMs: 100 }), new Date(clock.now()));
    await new Promise((r) => setTimeout(r, 50));
    await clock.advance(100);
    await waitFor(() => dispatcher.inFlight === 0, 10_000, "the spinning thread to be terminated");
    expect(await run).toMatchObject({ status: "timeout" });
    const next = await dispatcher.fire(active("b", "gated.mjs", { mode: "thread", params: { gate: "none" } }), new Date(clock.now()));
    expect(next?.status).toBe("ok");
  });
});

test("drain waits for runs in flight and cancels queued fires", async () => {
  const open = gate("g");
  const job = active("a", "gated.mjs", { overlap: "queue", params: { gate: "g" } });
  void dispatcher.fire(job, new Date(clock.now()));
  await flush();
  void dispatcher.fire(job, new Date(clock.now()));
  const drained = dispatcher.drain(10_000);
  open();
  expect(await drained).toBe(true);
  expect(statuses()).toEqual(["running", "cancelled:shutdown", "ok"]);
});

describe("inline handlers start in the fire's own tick", () => {
  test("a result whose then getter throws fails the run, loaded handler or not, with both records", async () => {
    const job = active("bad", "bad-then.mjs");
    for (let i = 0; i < 2; i++) {
      const record = await dispatcher.fire(job, new Date(clock.now()));
      expect(record?.status).toBe("failed");
      expect(record?.error?.message).toContain("then getter exploded");
    }
    expect(statuses("bad")).toEqual(["running", "failed", "running", "failed"]);
  });

  test("a handler sees its own run at once: abortRun of its run id finds it, and the runner counts it in flight", async () => {
    const job = active("self", "hook.mjs");
    await dispatcher.fire(job, new Date(clock.now()), "invoke"); // imported: the next run takes the synchronous path
    const seen: Array<{ found: boolean; inFlight: number }> = [];
    globals.__hook = (ctx) => {
      seen.push({ inFlight: dispatcher.inFlight, found: dispatcher.abortRun(ctx.runId, new Error("stop")) });
      return null;
    };
    const record = await dispatcher.fire(job, new Date(clock.now()));
    expect(seen).toEqual([{ inFlight: 1, found: true }]);
    expect(record?.status).toBe("cancelled");
  });
});

describe("fireAll: the jobs of one fire", () => {
  test("every handler starts before any run's bookkeeping (records, timeout timers)", async () => {
    const jobs = ["a", "b", "c"].map((name) => active(name, "hook.mjs", { timeoutMs: 60_000 }));
    await Promise.all(jobs.map((job) => dispatcher.fire(job, new Date(clock.now()), "invoke"))); // imported: synchronous starts
    records.length = 0;
    const seen: Array<{ records: number; timers: number }> = [];
    globals.__hook = () => {
      seen.push({ records: records.length, timers: clock.pendingDelays().length });
      return null;
    };
    dispatcher.fireAll(jobs, new Date(clock.now()));
    // fire() one job after another would show the earlier jobs' timeout timers here.
    expect(seen).toEqual([
      { records: 0, timers: 0 },
      { records: 0, timers: 0 },
      { records: 0, timers: 0 },
    ]);
    await flush();
    expect(statuses()).toEqual(["running", "running", "running", "ok", "ok", "ok"]);
    expect(clock.pendingDelays()).toEqual([]);
  });

  test("every handler starts before any run of the fire is logged as started; a single fire logs before its handler", async () => {
    const logs = memoryLogger();
    const logged = new Dispatcher({ executors: { inline: new InlineExecutor(), thread }, logger: logs.root, clock, env: "test", onRecord: () => {} });
    const jobs = ["a", "b", "c"].map((name) => active(name, "hook.mjs"));
    await Promise.all(jobs.map((job) => logged.fire(job, new Date(clock.now()), "invoke"))); // imported: synchronous starts
    const started = () => logs.lines.filter((l) => l.event === "run-started").length;
    let before = started();
    const seen: number[] = [];
    globals.__hook = () => {
      seen.push(started() - before);
      return null;
    };
    const at = new Date(clock.now());
    logged.fireAll(jobs, at);
    expect(seen).toEqual([0, 0, 0]);
    await flush();
    const lines = logs.lines.filter((l) => l.event === "run-started").slice(-3);
    expect(lines.map((l) => l.job)).toEqual(["a", "b", "c"]);
    expect(lines.every((l) => l.latenessMs === clock.now() - at.getTime() && l.attempt === 1)).toBe(true);
    // One job alone: its line comes first, as a handler reading the log would expect.
    before = started();
    seen.length = 0;
    await logged.fire(jobs[0]!, new Date(clock.now()));
    expect(seen).toEqual([1]);
  });

  test("a retry after a fire's deferred start line logs the first attempt's lateness", async () => {
    const logs = memoryLogger();
    const logged = new Dispatcher({ executors: { inline: new InlineExecutor(), thread }, logger: logs.root, clock, env: "test", onRecord: (r) => records.push(r) });
    const job = active("flaky", "flaky.mjs", { params: { succeedOn: 2 }, retries: { max: 1, backoff: "fixed", delayMs: 1000, maxDelayMs: null } });
    const at = new Date(clock.now());
    clock.stall(7); // the fire starts 7 ms late
    logged.fireAll([job], at);
    await waitFor(() => clock.pendingDelays().length > 0);
    await clock.advance(1000);
    await waitFor(() => records.some((r) => r.status === "ok"));
    const starts = logs.lines.filter((l) => l.event === "run-started");
    expect(starts.map((l) => [l.attempt, l.latenessMs])).toEqual([
      [1, 7],
      [2, 7],
    ]);
  });

  test("lateness and overlap are decided per job, as fire() decides them", async () => {
    const open = gate("long");
    const busy = active("busy", "gated.mjs", { params: { gate: "long" } });
    const first = dispatcher.fire(busy, new Date(clock.now()));
    const late = active("late", "gated.mjs", { latenessMs: 1000 });
    const fresh = active("fresh", "gated.mjs");
    clock.stall(5000);
    dispatcher.fireAll([busy, fresh], new Date(clock.now()));
    dispatcher.fireAll([late], new Date(clock.now() - 2000));
    await waitFor(() => statuses("fresh").includes("ok"));
    expect(statuses("busy").sort()).toEqual(["running", "skipped:overlap"]);
    expect(statuses("late")).toEqual(["skipped:late"]);
    open();
    expect((await first)?.status).toBe("ok");
  });

  test("a handler that aborts its own run as it starts is cancelled, with a timeout of its own too", async () => {
    const job = active("self", "hook.mjs", { timeoutMs: 60_000 });
    await dispatcher.fire(job, new Date(clock.now()), "invoke");
    records.length = 0;
    // With a timeout the attempt has its own abort, which hears the run's only once the
    // bookkeeping follows: the abort made during the start must still reach ctx.signal.
    globals.__hook = (ctx) => {
      dispatcher.abortRun(ctx.runId, new Error("stop at once"));
      const { signal } = ctx as unknown as { signal: AbortSignal };
      return new Promise((resolve) => (signal.aborted ? resolve("stopped") : signal.addEventListener("abort", () => resolve("stopped"))));
    };
    dispatcher.fireAll([job], new Date(clock.now()));
    await waitFor(() => records.some((r) => r.status !== "running"), 5000, "the run to end");
    expect(statuses()).toEqual(["running", "cancelled"]);
    expect(records[1]!.error?.message).toContain("stop at once");
  });
});

test("abortAll called by a handler while a fire starts waits for the runs of that fire", async () => {
  const waiting = active("waiting", "polite.mjs");
  const caller = active("caller", "hook.mjs");
  globals.__hook = () => null;
  const warm = [waiting, caller].map((job) => dispatcher.fire(job, new Date(clock.now()), "invoke")); // imported: synchronous starts
  await waitFor(() => records.filter((r) => r.status === "running").length === 2, 5000, "both started");
  await dispatcher.abortAll("warm-up"); // polite ends when aborted
  await Promise.all(warm);
  records.length = 0;
  const order: string[] = [];
  globals.__hook = () => {
    void dispatcher.abortAll("stop").then(() => order.push(`abortAll resolved, waiting ${statuses("waiting").join(",")}`));
    return null;
  };
  dispatcher.fireAll([waiting, caller], new Date(clock.now())); // waiting is listed, not yet followed, when caller runs
  await waitFor(() => order.length > 0, 5000, "abortAll");
  expect(order).toEqual(["abortAll resolved, waiting running,cancelled"]);
});

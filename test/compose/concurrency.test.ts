import { afterEach, beforeEach, expect, test } from "vitest";
import type { ActiveJob } from "../../runner/contracts/index.js";
import { Dispatcher } from "../../runner/execute/dispatcher.js";
import { InlineExecutor } from "../../runner/execute/inline-executor.js";
import { ThreadExecutor } from "../../runner/execute/thread-executor.js";
import { silentLogger } from "../../runner/log/logger.js";
import type { JobDefinition, RunRecord } from "../../runner/contracts/index.js";
import { FakeClock, flush } from "../support/fake-clock.js";
import { waitFor } from "../support/poll.js";
import { jobDef } from "../support/job-def.js";
import { tempProject, type TempProject } from "../support/temp-project.js";

/** Runs in flight now and at most, and the releases of the runs waiting, shared with the handler (same thread). */
const probe = globalThis as unknown as { __held: { now: number; max: number; release: Array<() => void> } };

const HANDLER = `export default async () => {
  const held = globalThis.__held;
  held.max = Math.max(held.max, ++held.now);
  await new Promise((resolve) => held.release.push(resolve));
  held.now--;
  return "done";
};`;

let project: TempProject;
let clock: FakeClock;
let records: RunRecord[];
let dispatcher: Dispatcher;
let thread: ThreadExecutor;

beforeEach(() => {
  probe.__held = { now: 0, max: 0, release: [] };
  project = tempProject({ "held.mjs": HANDLER });
  clock = new FakeClock();
  records = [];
  thread = new ThreadExecutor({ logger: silentLogger() });
  dispatcher = new Dispatcher({ executors: { inline: new InlineExecutor(), thread }, logger: silentLogger(), clock, env: "test", onRecord: (r) => records.push(r) });
});

afterEach(async () => {
  await thread.close();
  await project[Symbol.asyncDispose]();
});

const job = (overrides: Partial<JobDefinition>): ActiveJob => ({ def: jobDef("bounded", overrides), modulePath: project.path("held.mjs") });
const ended = () => records.filter((r) => r.status !== "running").map((r) => `${r.status}${r.reason ? `:${r.reason}` : ""}`);

/** Waits until `n` runs hold (their handlers started: the first import is asynchronous). */
const holding = (n: number) => waitFor(() => probe.__held.now === n && probe.__held.release.length === n, 5000, `${n} runs holding`);

/** Releases the runs holding now, then waits for `next` runs (queued fires) to hold. */
async function release(next = 0): Promise<void> {
  for (const resolve of probe.__held.release.splice(0)) resolve();
  await holding(next);
  await flush();
}

test("concurrency: 2 under overlap: allow holds under 10 fires at once; the rest are skipped with reason concurrency", async () => {
  const bounded = job({ overlap: "allow", concurrency: 2 });
  const fireDate = new Date(clock.now());
  const runs = Array.from({ length: 10 }, () => dispatcher.fire(bounded, fireDate));
  await holding(2);
  expect(ended()).toEqual(Array(8).fill("skipped:concurrency"));
  await release();
  await Promise.all(runs);
  expect(probe.__held.max).toBe(2);
  expect(ended().filter((s) => s === "ok")).toHaveLength(2);
});

test("concurrency: 2 under overlap: queue runs two, holds two waiting, skips the rest; the waiting ones run as runs end", async () => {
  const bounded = job({ overlap: "queue", concurrency: 2 });
  const fireDate = new Date(clock.now());
  for (let i = 0; i < 10; i++) void dispatcher.fire(bounded, fireDate);
  await holding(2);
  expect(ended()).toEqual(Array(6).fill("skipped:concurrency"));
  await release(2);
  expect(ended()).toEqual([...Array(6).fill("skipped:concurrency"), "ok", "ok"]);
  await release(0);
  await waitFor(() => ended().length === 10, 5000, "the queued runs to end");
  expect(probe.__held.max).toBe(2);
  expect(ended().filter((s) => s === "ok")).toHaveLength(4);
  expect(records.filter((r) => r.status === "running")).toHaveLength(4);
});

test("overlap: allow without concurrency is unbounded; queue without it keeps one running and one waiting", async () => {
  const fireDate = new Date(clock.now());
  const unbounded = job({ overlap: "allow" });
  for (let i = 0; i < 10; i++) void dispatcher.fire(unbounded, fireDate);
  await holding(10);
  await release();
  await waitFor(() => ended().length === 10, 5000, "ten runs to end");
  records = [];
  const queued = job({ overlap: "queue" });
  for (let i = 0; i < 3; i++) void dispatcher.fire(queued, fireDate);
  await holding(1);
  expect(ended()).toEqual(["skipped:overlap"]);
  await release(1);
  await release(0);
  await waitFor(() => ended().length === 3, 5000, "the queued run to end");
  expect(ended()).toEqual(["skipped:overlap", "ok", "ok"]);
});

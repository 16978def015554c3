import { afterEach, beforeEach, expect, test } from "vitest";
import { Dispatcher } from "../../runner/execute/dispatcher.js";
import { InlineExecutor } from "../../runner/execute/inline-executor.js";
import { silentLogger } from "../../runner/log/logger.js";
import type { ActiveJob, GateClaim, GateRequest, JobDefinition, RunGate, RunRecord } from "../../runner/contracts/index.js";
import { jobDef } from "../support/job-def.js";
import { FakeClock, flush } from "../support/fake-clock.js";
import { tempProject, type TempProject } from "../support/temp-project.js";

// A fire handed to the dispatcher before its time (the scheduler's lead when replicas
// share a store) is claimed at once and started at its time, on a fake clock: the gate
// here answers when the test says, as a database would after its round trip.

interface Asked {
  request: GateRequest;
  /** The clock's time when the claim was asked. */
  at: number;
  /** true: won; false: not this process's; "later": claimed ahead, a run of the (skip/queue) job is live. */
  answer(won: boolean | "later"): void;
}

let project: TempProject;
let clock: FakeClock;
let records: RunRecord[];
let asked: Asked[];
let released: string[];
let startable: boolean;
let dispatcher: Dispatcher;

beforeEach(() => {
  project = tempProject({ "ok.mjs": "export default (ctx) => ctx.fireDate.toISOString();" });
  clock = new FakeClock();
  records = [];
  asked = [];
  released = [];
  startable = true;
  const gate: RunGate = {
    aheadMs: 300,
    claim: (request) =>
      new Promise<GateClaim | null | "later">((resolve) => {
        const claim: GateClaim = { release: () => void released.push(request.runId), startable: () => startable, beforeRetry: async () => true };
        asked.push({ request, at: clock.now(), answer: (won) => resolve(won === "later" ? "later" : won ? claim : null) });
      }),
  };
  dispatcher = new Dispatcher({ executors: { inline: new InlineExecutor(), thread: new InlineExecutor() }, logger: silentLogger(), clock, env: "test", onRecord: (r) => records.push(r), gate });
});

afterEach(async () => {
  for (const a of asked) a.answer(false);
  await dispatcher.drain(5_000);
  await project[Symbol.asyncDispose]();
});

// `overlap: allow` unless told: the default, skip, is decided in the claim (see the test on it).
const active = (name: string, overrides: Partial<JobDefinition> = {}): ActiveJob => ({ def: jobDef(name, { overlap: "allow", ...overrides }), modulePath: project.path("ok.mjs") });
const statuses = () => records.map((r) => `${r.job}:${r.status}`);

test("a fire claimed ahead starts at its time exactly, not when its claim returns", async () => {
  const fireDate = new Date(clock.now() + 300);
  dispatcher.fireAll([active("a"), active("b")], fireDate);
  expect(asked.map((a) => [a.request.def.name, a.at])).toEqual([["a", clock.now()], ["b", clock.now()]]);
  for (const a of asked) a.answer(true);
  await clock.advance(299);
  expect(records).toEqual([]);
  await clock.advance(1);
  expect(records.map((r) => [r.job, r.status, r.startedAt])).toEqual([
    ["a", "running", fireDate.toISOString()],
    ["b", "running", fireDate.toISOString()],
  ]);
  expect(await dispatcher.drain(5_000)).toBe(true);
  expect(statuses()).toEqual(["a:running", "b:running", "a:ok", "b:ok"]);
  expect(released).toHaveLength(2);
});

test("a claim that returns after the fire's time starts its run at once", async () => {
  const fireDate = new Date(clock.now() + 300);
  dispatcher.fireAll([active("a")], fireDate);
  await clock.advance(400);
  expect(records).toEqual([]);
  asked[0]!.answer(true);
  expect(await dispatcher.drain(5_000)).toBe(true);
  expect(records.map((r) => [r.status, r.startedAt])).toEqual([
    ["running", new Date(fireDate.getTime() + 100).toISOString()],
    ["ok", new Date(fireDate.getTime() + 100).toISOString()],
  ]);
});

test("a job whose claim decides overlap (skip, queue) is claimed ahead too; answered later (a run of it was live), it is claimed again at its time", async () => {
  const fireDate = new Date(clock.now() + 300);
  dispatcher.fireAll([active("skip", { overlap: "skip" }), active("queue", { overlap: "queue" }), active("free", { overlap: "skip" })], fireDate);
  expect(asked.map((a) => [a.request.def.name, a.request.ahead])).toEqual([["skip", true], ["queue", true], ["free", true]]);
  asked[0]!.answer("later");
  asked[1]!.answer("later");
  asked[2]!.answer(true);
  await flush();
  // Nothing asked again before the fire's time: the live run may still end first.
  expect(asked).toHaveLength(3);
  await clock.advance(300);
  expect(asked.slice(3).map((a) => [a.request.def.name, a.request.ahead ?? false, a.at - fireDate.getTime(), a.request.runId])).toEqual([
    ["skip", false, 0, asked[0]!.request.runId],
    ["queue", false, 0, asked[1]!.request.runId],
  ]);
  // The one won ahead started at its time; the others start when their claims at the time come back.
  expect(records.map((r) => [r.job, r.status, r.startedAt])).toEqual([["free", "running", fireDate.toISOString()]]);
  asked[3]!.answer(true);
  asked[4]!.answer(false);
  expect(await dispatcher.drain(5_000)).toBe(true);
  expect(statuses().filter((s) => s.endsWith(":ok")).sort()).toEqual(["free:ok", "skip:ok"]);
});

test("a stop between the claim and the fire's time waits for it: the run starts at its time, once, and ends before drain resolves", async () => {
  const fireDate = new Date(clock.now() + 300);
  dispatcher.fireAll([active("a")], fireDate);
  asked[0]!.answer(true);
  await flush();
  let drained: boolean | undefined;
  const draining = dispatcher.drain(5_000).then((d) => (drained = d));
  await clock.advance(299);
  expect(drained).toBeUndefined();
  expect(records).toEqual([]);
  await clock.advance(1);
  expect(await draining).toBe(true);
  expect(records.map((r) => [r.status, r.startedAt])).toEqual([
    ["running", fireDate.toISOString()],
    ["ok", fireDate.toISOString()],
  ]);
});

test("a claim whose lease may have lapsed while it waited is not started, and is let go", async () => {
  const fireDate = new Date(clock.now() + 300);
  dispatcher.fireAll([active("a")], fireDate);
  asked[0]!.answer(true);
  await flush();
  startable = false; // as after this process was paused past the lease
  await clock.advance(300);
  expect(records).toEqual([]);
  expect(released).toEqual([asked[0]!.request.runId]);
  expect(await dispatcher.drain(1_000)).toBe(true);
});

test("a lost claim runs nothing; fires already due (catch-up, taken over) are claimed and started at once", async () => {
  dispatcher.fireAll([active("a")], new Date(clock.now() + 300));
  asked[0]!.answer(false);
  const past = new Date(clock.now() - 5_000);
  const run = dispatcher.fire(active("late"), past, "catch-up");
  expect(asked[1]!.at).toBe(clock.now());
  asked[1]!.answer(true);
  expect((await run)?.startedAt).toBe(new Date(clock.now()).toISOString());
  await clock.advance(300);
  expect(statuses()).toEqual(["late:running", "late:ok"]);
});

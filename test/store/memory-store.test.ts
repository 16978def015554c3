import { expect, test } from "vitest";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/memory-store.js";
import { storeContract } from "./contract.js";
import { aRun } from "./helpers.js";

storeContract("memory", async (options) => {
  const store = new MemoryStore({ logger: silentLogger(), ...options });
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
});

test("memory: a record read back is a copy, so changing it does not change the store", async () => {
  const store = new MemoryStore({ logger: silentLogger() });
  await store.record(aRun("a", 1, { runId: "r", result: { n: 1 } }));
  const [first] = await store.history({ limit: 1 });
  (first!.result as { n: number }).n = 2;
  expect((await store.history({ limit: 1 }))[0]!.result).toEqual({ n: 1 });
  expect(store.pending()).toBe(0);
});

test("memory: a job's finished runs stay near its keep however many are written, and history shows exactly keep", async () => {
  const store = new MemoryStore({ logger: silentLogger(), keepFor: () => 3 });
  for (let minute = 1; minute <= 5_000; minute++) void store.record(aRun("a", minute, { runId: `a${minute}` }));
  // Retention drops the oldest in batches (see trimLater): never more than keep + 16 held.
  const held = (store as unknown as { byJob: Map<string, Map<string, unknown>> }).byJob.get("a")!.size;
  expect(held).toBeGreaterThanOrEqual(3);
  expect(held).toBeLessThanOrEqual(3 + 16);
  expect((await store.history({ job: "a", limit: 100 })).map((r) => r.runId)).toEqual(["a5000", "a4999", "a4998"]);
  expect((await store.history({ limit: 100 })).map((r) => r.runId)).toEqual(["a5000", "a4999", "a4998"]);
});

test("memory: with keep 0, neither history nor lastRuns shows a finished run", async () => {
  const store = new MemoryStore({ logger: silentLogger(), keepFor: () => 0 });
  for (let minute = 1; minute <= 5; minute++) void store.record(aRun("a", minute, { runId: `a${minute}` }));
  void store.record(aRun("b", 1, { runId: "b1-running", status: "running", finishedAt: null }));
  expect([...(await store.lastRuns()).values()].map((r) => r.runId)).toEqual(["b1-running"]);
  expect((await store.history({ limit: 100 })).map((r) => r.runId)).toEqual(["b1-running"]);
});

test("memory: runs of several jobs are found by id and by prefix, with their logs; a trimmed run's late log is not kept", async () => {
  const store = new MemoryStore({ logger: silentLogger(), keepFor: () => 2 });
  for (let minute = 1; minute <= 40; minute++) {
    for (const job of ["a", "b"]) void store.record(aRun(job, minute, { runId: `${job}-${String(minute).padStart(3, "0")}` }));
  }
  const lines = [{ level: "info" as const, time: "2026-01-01T00:00:00.000Z", msg: "kept", fields: {}, attempt: 1 }];
  await store.recordLogs({ runId: "b-040", job: "b", dropped: 0, lines });
  await store.recordLogs({ runId: "a-001", job: "a", dropped: 0, lines });
  expect(await store.findRun("b-040")).toMatchObject({ job: "b", runId: "b-040" });
  expect(await store.findRun("a-03")).toMatchObject({ job: "a", runId: "a-039" });
  expect(await store.findRun("a-001")).toBeNull();
  expect((await store.runLogs("b-040"))?.lines.map((l) => l.msg)).toEqual(["kept"]);
  expect(await store.runLogs("a-001")).toBeNull();
  expect([...(await store.lastRuns())].map(([job, r]) => `${job}:${r.runId}`)).toEqual(["a:a-040", "b:b-040"]);
});

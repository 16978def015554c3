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

import { expect, test } from "vitest";
import { silentLogger } from "../../runner/log/logger.js";
import { WriteQueue, type WriteBatch } from "../../runner/store/write-queue.js";
import type { StoredRun } from "../../runner/store/run-store.js";

function run(runId: string, status: StoredRun["status"]): StoredRun {
  return { runId, job: "j", status, scheduledAt: "2026-01-01T00:00:00.000Z", startedAt: null, finishedAt: null, attempt: 1, error: null, result: null, reason: null };
}

/** A store that refuses writes while `down` is set, and keeps what it was given. */
function flakyTarget() {
  const target = { down: true, writes: [] as WriteBatch[], tries: 0 };
  const write = async (batch: WriteBatch) => {
    target.tries++;
    if (target.down) throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    target.writes.push(batch);
  };
  return { target, queue: new WriteQueue({ write, logger: silentLogger(), target: "test", retryMs: 60_000 }) };
}

test("retryNow: records waiting on a long backoff are written as soon as the store answers again", async () => {
  const { target, queue } = flakyTarget();
  const durable = queue.addRun(run("r1", "ok"));
  await expect(queue.flush()).rejects.toMatchObject({ code: "STORE_WRITE" });
  expect(queue.failing).toBe(true);
  target.down = false;
  // Without retryNow the next try is a minute away; with it, the same turn's batch goes now.
  queue.retryNow();
  await durable;
  expect(target.writes.map((b) => b.runs.map((r) => `${r.runId}:${r.status}`))).toEqual([["r1:ok"]]);
  expect(queue.failing).toBe(false);
  await queue.close();
});

test("retryNow while the store is still down: the batch stays queued, and the newest version of a run is written once it is back", async () => {
  const { target, queue } = flakyTarget();
  void queue.addRun(run("r1", "running"));
  await expect(queue.flush()).rejects.toThrow();
  void queue.addRun(run("r1", "ok"));
  queue.retryNow();
  await expect(queue.flush()).rejects.toThrow();
  expect(target.tries).toBe(2);
  expect(queue.size).toBe(1);
  target.down = false;
  await queue.flush();
  // The newest version of the run, once.
  expect(target.writes.flatMap((b) => b.runs.map((r) => r.status))).toEqual(["ok"]);
  await queue.close();
});

test("retryNow is a no-op while nothing failed", async () => {
  const { target, queue } = flakyTarget();
  target.down = false;
  queue.retryNow();
  expect(target.tries).toBe(0);
  await queue.close();
});

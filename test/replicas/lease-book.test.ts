import { expect, test } from "vitest";
import { LeaseBook } from "../../runner/coordinate/lease-book.js";
import { silentLogger } from "../../runner/log/logger.js";
import type { ClaimingStore } from "../../runner/store/fire-claims.js";

/**
 * The owner's side of a lease, on an injected monotonic clock. The store is a stand-in
 * (a mock: these are the moments between the database's answers that a real server cannot
 * be made to produce on cue); the real thing is in replica-faults.test.ts.
 */
function setup() {
  let now = 0;
  const calls: string[] = [];
  const aborted: Array<{ runId: string; code: unknown }> = [];
  const store = {
    leaseMs: 3000,
    renewLeases: async (runs: Array<{ runId: string }>) => (calls.push("renew"), new Set(runs.map((r) => r.runId))),
    beginAttempt: async (run: { attempt: number }) => (calls.push(`begin ${run.attempt}`), true),
  } as unknown as ClaimingStore;
  const book = new LeaseBook({ store, logger: silentLogger(), abortRun: (runId, reason) => aborted.push({ runId, code: (reason as { code?: unknown }).code }), now: () => now });
  return { book, calls, aborted, advance: (ms: number) => (now += ms) };
}

test("a claim won by a request sent longer ago than the lease (paused meanwhile) is not started", () => {
  const { book, advance } = setup();
  advance(10_000);
  expect(book.hold("r1", "job", 1, 0)).toBeNull();
  book.stop();
});

test("after a pause past the lease, the renewal tick stops the run before it asks the database anything", async () => {
  const { book, calls, aborted, advance } = setup();
  const claim = book.hold("r1", "job", 1, 0)!;
  expect(claim).not.toBeNull();
  advance(8_000);
  await book.renew();
  expect(aborted).toEqual([{ runId: "r1", code: "LEASE_LOST" }]);
  // Nothing left to renew: the lost run is not renewed, so it cannot be kept alive by mistake.
  expect(calls).toEqual([]);
  expect(book.isLost("r1")).toBe(true);
  claim.release();
  book.stop();
});

test("a retry after a pause past the lease does not start, and does not touch the database", async () => {
  const { book, calls, aborted, advance } = setup();
  const claim = book.hold("r1", "job", 1, 0)!;
  advance(5_000);
  expect(await claim.beforeRetry(2)).toBe(false);
  expect(calls).toEqual([]);
  expect(aborted.map((a) => a.code)).toEqual(["LEASE_LOST"]);
  claim.release();
  book.stop();
});

test("a retry within the lease records its attempt under the fence first, and extends the lease", async () => {
  const { book, calls, aborted, advance } = setup();
  const claim = book.hold("r1", "job", 1, 0)!;
  advance(2_000);
  expect(await claim.beforeRetry(2)).toBe(true);
  advance(2_000); // 4 s after the claim, 2 s after the retry began: still held
  await book.renew();
  expect(calls).toEqual(["begin 2", "renew"]);
  expect(aborted).toEqual([]);
  claim.release();
  book.stop();
});

test("a finished run is kept, and renewed, until its final record is durable", async () => {
  const { book, calls } = setup();
  const claim = book.hold("r1", "job", 1, 0)!;
  let durable!: () => void;
  book.finalRecord("r1", new Promise<void>((resolve) => (durable = resolve)));
  claim.release();
  expect(book.size).toBe(1);
  await book.renew();
  expect(calls).toEqual(["renew"]);
  durable();
  await new Promise((resolve) => setImmediate(resolve));
  expect(book.size).toBe(0);
  book.stop();
});

test("a run claimed ahead of its time starts only while its lease surely holds: paused past it while waiting, it does not", () => {
  const { book, calls, aborted, advance } = setup();
  const claim = book.hold("r1", "job", 1, 0)!;
  advance(2_000); // the lease (3 s) less its margin (0.5 s) still holds
  expect(claim.startable()).toBe(true);
  advance(600);
  expect(claim.startable()).toBe(false);
  expect(book.isLost("r1")).toBe(true);
  // Nothing to abort (it never started), and nothing asked of the database.
  expect(aborted).toEqual([]);
  expect(calls).toEqual([]);
  claim.release();
  expect(book.size).toBe(0);
  book.stop();
});

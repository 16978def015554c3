import { describe, expect, test } from "vitest";
import { ownerIsGone, currentOwner } from "../../runner/store/owner.js";
import type { RunStore, StoreOptions } from "../../runner/store/run-store.js";
import { aRun, at, deadPid } from "./helpers.js";

/** Opens a fresh, empty store; disposing closes it and removes what it left. */
export type OpenFresh = (options?: Omit<StoreOptions, "logger">) => Promise<RunStore & AsyncDisposable>;

/**
 * What every RunStore does, whatever keeps the runs. Each implementation's test file
 * calls this with a way to open an empty store.
 */
export function storeContract(name: string, open: OpenFresh): void {
  describe(`${name}: the RunStore contract`, () => {
    test("a run recorded as running, then as ok, is one record in its final state", async () => {
      await using store = await open();
      const running = aRun("report", 1, { status: "running", finishedAt: null, owner: currentOwner() });
      await store.record(running);
      expect(await store.history({ limit: 10 })).toMatchObject([{ runId: running.runId, status: "running", finishedAt: null }]);
      await store.record({ ...running, status: "ok", finishedAt: at(1, 2), result: { deleted: 3 }, owner: null });
      expect(await store.history({ limit: 10 })).toEqual([
        { runId: running.runId, job: "report", status: "ok", scheduledAt: at(1), startedAt: at(1, 1), finishedAt: at(1, 2), attempt: 1, error: null, result: { deleted: 3 }, reason: null, trigger: "schedule" },
      ]);
    });

    test("history is newest first by scheduledAt, then startedAt, then insertion; limit and job filter apply", async () => {
      await using store = await open();
      const runs = [
        aRun("a", 3, { runId: "a3" }),
        aRun("a", 1, { runId: "a1" }),
        aRun("b", 2, { runId: "b2" }),
        // Same scheduled time as a3: the one started later is newer.
        aRun("b", 3, { runId: "b3-late", startedAt: at(3, 30) }),
        // Same fire again, never started (skipped): a missing start counts as oldest.
        aRun("a", 3, { runId: "a3-skipped", status: "skipped", startedAt: null, finishedAt: null, reason: "overlap" }),
        // Equal times: insertion order decides.
        aRun("b", 1, { runId: "b1-first" }),
        aRun("b", 1, { runId: "b1-second" }),
      ];
      for (const run of runs) void store.record(run);
      const ids = async (query: { job?: string; limit: number }) => (await store.history(query)).map((r) => r.runId);
      expect(await ids({ limit: 100 })).toEqual(["b3-late", "a3", "a3-skipped", "b2", "b1-second", "b1-first", "a1"]);
      expect(await ids({ limit: 3 })).toEqual(["b3-late", "a3", "a3-skipped"]);
      expect(await ids({ job: "b", limit: 100 })).toEqual(["b3-late", "b2", "b1-second", "b1-first"]);
      expect(await ids({ job: "b", limit: 1 })).toEqual(["b3-late"]);
      expect(await ids({ job: "nobody", limit: 10 })).toEqual([]);
      expect(await ids({ limit: 0 })).toEqual([]);
    });

    test("lastRuns gives the newest run of each job that has one", async () => {
      await using store = await open();
      await Promise.all([
        store.record(aRun("a", 1, { runId: "a1" })),
        store.record(aRun("a", 5, { runId: "a5", status: "running", finishedAt: null })),
        store.record(aRun("b", 2, { runId: "b2", status: "failed", error: { message: "boom" } })),
        store.record(aRun("b", 1, { runId: "b1" })),
      ]);
      const last = await store.lastRuns();
      expect([...last.keys()].sort()).toEqual(["a", "b"]);
      expect(last.get("a")).toMatchObject({ runId: "a5", status: "running" });
      expect(last.get("b")).toMatchObject({ runId: "b2", status: "failed", error: { message: "boom" } });
    });

    test("job state starts empty, and a patch changes only the fields it names", async () => {
      await using store = await open();
      expect(await store.jobState("report")).toEqual({ lastFireAt: null, paused: false });
      const fire = new Date(Date.UTC(2030, 0, 1, 12, 0, 0, 123));
      await store.setJobState("report", { lastFireAt: fire });
      expect(await store.jobState("report")).toEqual({ lastFireAt: fire, paused: false });
      await store.setJobState("report", { paused: true });
      expect(await store.jobState("report")).toEqual({ lastFireAt: fire, paused: true });
      await store.setJobState("report", { paused: false });
      expect(await store.jobState("report")).toEqual({ lastFireAt: fire, paused: false });
      expect(await store.jobState("other")).toEqual({ lastFireAt: null, paused: false });
    });

    test("reapLost marks running runs of a dead owner as lost, and only those", async () => {
      await using store = await open();
      const me = currentOwner();
      const gone = { pid: deadPid(), host: me.host };
      await Promise.all([
        store.record(aRun("a", 1, { runId: "orphan", status: "running", finishedAt: null, owner: gone })),
        store.record(aRun("a", 2, { runId: "mine", status: "running", finishedAt: null, owner: me })),
        store.record(aRun("a", 3, { runId: "elsewhere", status: "running", finishedAt: null, owner: { pid: gone.pid, host: `not-${me.host}` } })),
        store.record(aRun("a", 4, { runId: "no-owner", status: "running", finishedAt: null, owner: null })),
        store.record(aRun("a", 5, { runId: "done", status: "ok", owner: gone })),
      ]);
      const reaped = await store.reapLost((owner) => ownerIsGone(owner));
      expect(reaped.map((r) => r.runId)).toEqual(["orphan"]);
      expect(reaped[0]).toMatchObject({ status: "lost", finishedAt: null, error: { message: `the runner that started this run (pid ${gone.pid} on ${me.host}) is gone; the run's outcome is unknown` } });
      const statuses = Object.fromEntries((await store.history({ limit: 10 })).map((r) => [r.runId, r.status]));
      expect(statuses).toEqual({ orphan: "lost", mine: "running", elsewhere: "running", "no-owner": "running", done: "ok" });
      // Reaped once: a second pass finds nothing more.
      expect(await store.reapLost((owner) => ownerIsGone(owner))).toEqual([]);
    });

    test("prune keeps the newest finished runs of one job, and every running one", async () => {
      await using store = await open();
      for (let minute = 1; minute <= 6; minute++) void store.record(aRun("a", minute, { runId: `a${minute}` }));
      void store.record(aRun("a", 0, { runId: "a0-running", status: "running", finishedAt: null }));
      void store.record(aRun("b", 1, { runId: "b1" }));
      await store.prune("a", 2);
      expect((await store.history({ job: "a", limit: 100 })).map((r) => r.runId)).toEqual(["a6", "a5", "a0-running"]);
      expect((await store.history({ job: "b", limit: 100 })).map((r) => r.runId)).toEqual(["b1"]);
      await store.prune("a", 0);
      expect((await store.history({ job: "a", limit: 100 })).map((r) => r.runId)).toEqual(["a0-running"]);
    });

    test("retention: each write keeps a job to its keepFor newest finished runs", async () => {
      await using store = await open({ keepFor: (job) => (job === "few" ? 3 : 100) });
      for (let minute = 1; minute <= 10; minute++) {
        void store.record(aRun("few", minute, { runId: `few${minute}` }));
        void store.record(aRun("many", minute, { runId: `many${minute}` }));
      }
      await store.record(aRun("few", 11, { runId: "few11-running", status: "running", finishedAt: null }));
      expect((await store.history({ job: "few", limit: 100 })).map((r) => r.runId)).toEqual(["few11-running", "few10", "few9", "few8"]);
      expect(await store.history({ job: "many", limit: 100 })).toHaveLength(10);
    });

    test("a result larger than maxResultBytes is stored as a truncation note with a preview", async () => {
      await using store = await open({ maxResultBytes: 1000 });
      const big = { rows: "x".repeat(5000) };
      await store.record(aRun("a", 1, { runId: "big", result: big }));
      await store.record(aRun("a", 2, { runId: "fits", result: { rows: "y".repeat(900) } }));
      await store.record(aRun("a", 3, { runId: "wide", result: { when: new Date(Date.UTC(2030, 0, 1)), count: 12n, gone: undefined } }));
      await store.record(aRun("a", 4, { runId: "none", result: undefined }));
      const byId = new Map((await store.history({ limit: 10 })).map((r) => [r.runId, r.result]));
      const json = JSON.stringify(big);
      expect(byId.get("big")).toEqual({ truncated: true, bytes: Buffer.byteLength(json), preview: json.slice(0, 1024) });
      expect(byId.get("fits")).toEqual({ rows: "y".repeat(900) });
      expect(byId.get("wide")).toEqual({ when: "2030-01-01T00:00:00.000Z", count: "12" });
      expect(byId.get("none")).toBeNull();
    });

    test("a result JSON cannot hold (a cycle) is stored as a note, and recording does not throw", async () => {
      await using store = await open();
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await store.record(aRun("a", 1, { runId: "cyclic", result: cyclic }));
      const [run] = await store.history({ limit: 1 });
      expect(run!.result).toMatchObject({ unserializable: true, message: expect.stringContaining("circular") });
    });

    test("a failed run keeps its error's message, code and stack", async () => {
      await using store = await open();
      const err = new Error("connection refused");
      await store.record(aRun("a", 1, { runId: "failed", status: "failed", error: { message: err.message, code: "JOB_FAILED", stack: err.stack! } }));
      const [run] = await store.history({ limit: 1 });
      expect(run!.error).toEqual({ message: "connection refused", code: "JOB_FAILED", stack: err.stack });
      expect(run!.error!.stack).toContain("contract.ts");
    });

    test("a record after close is refused with STORE_WRITE, not silently dropped", async () => {
      await using store = await open();
      await store.close();
      await expect(store.record(aRun("a", 1))).rejects.toMatchObject({ code: "STORE_WRITE" });
      await expect(store.setJobState("a", { paused: true })).rejects.toMatchObject({ code: "STORE_WRITE" });
    });
  });
}

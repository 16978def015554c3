// How the dispatcher records an error a run's code raises after the run ended: the executor
// hands it to the request's strayAfterEnd (inline-containment.ts, worker-links.ts); here a
// stand-in executor does, at a moment the test picks.
import { expect, test } from "vitest";
import { Dispatcher } from "../../runner/execute/dispatcher.js";
import { RunletError } from "../../runner/errors.js";
import { silentLogger } from "../../runner/log/logger.js";
import type { Executor, RunRecord, RunRequest } from "../../runner/contracts/index.js";
import { jobDef } from "../support/job-def.js";
import { FakeClock } from "../support/fake-clock.js";

/** Settles each run as `outcome` says, and keeps its request so the test can raise a stray error later. */
function standIn(outcome: (req: RunRequest) => Promise<unknown>) {
  const requests: RunRequest[] = [];
  const executor: Executor = {
    run(req) {
      requests.push(req);
      return outcome(req);
    },
    async close() {},
  };
  return { executor, requests };
}

const stray = (job: string) => new RunletError("JOB_STRAY_ERROR", `job "${job}" raised an error after its run ended (from a timer or promise its handler left behind): late`);

function dispatcherWith(executor: Executor, records: RunRecord[]) {
  return new Dispatcher({ executors: { inline: executor, thread: executor }, logger: silentLogger(), clock: new FakeClock(), env: "test", onRecord: (r) => records.push(r) });
}

test("a run that ended ok is recorded again, failed, with the stray error; its result stays", async () => {
  const records: RunRecord[] = [];
  const { executor, requests } = standIn(async () => "returned");
  const ended = await dispatcherWith(executor, records).invoke({ def: jobDef("leaver"), modulePath: "x" });
  expect(ended.status).toBe("ok");
  requests[0]!.strayAfterEnd!(stray("leaver"));
  expect(records.map((r) => r.status)).toEqual(["running", "ok", "failed"]);
  expect(records[2]).toMatchObject({ runId: ended.runId, result: "returned", error: { code: "JOB_STRAY_ERROR", message: expect.stringContaining('job "leaver" raised an error after its run ended') } });
});

test("a run that had already failed keeps its first error; the stray one is not recorded", async () => {
  const records: RunRecord[] = [];
  const { executor, requests } = standIn(async () => {
    throw new RunletError("JOB_FAILED", "first error");
  });
  await dispatcherWith(executor, records).invoke({ def: jobDef("failer"), modulePath: "x" });
  requests[0]!.strayAfterEnd!(stray("failer"));
  expect(records.map((r) => [r.status, r.error?.message ?? null])).toEqual([["running", null], ["failed", "first error"]]);
});

test("a stray error that comes after the executor answered but before the record was written is charged once the record is", async () => {
  const records: RunRecord[] = [];
  const { executor } = standIn((req) => {
    // Raised as the answer goes out: the dispatcher has not written the run's record yet.
    queueMicrotask(() => req.strayAfterEnd!(stray("racer")));
    return Promise.resolve("returned");
  });
  await dispatcherWith(executor, records).invoke({ def: jobDef("racer"), modulePath: "x" });
  await new Promise((r) => setImmediate(r));
  expect(records.map((r) => r.status)).toEqual(["running", "ok", "failed"]);
});

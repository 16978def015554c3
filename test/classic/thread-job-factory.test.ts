// ThreadJobFactory and AbstractBaseWorker: the worker module compiled by runlet (esbuild)
// and run on runlet's worker-thread pool. Real threads, real time with generous bounds.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import schedule from "node-schedule";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AbstractBaseWorker, ClassicRuntime, ThreadJobFactory, type JobCallback, type JobFactoryOptions } from "../../runner/index.js";
import failingWorker from "../fixtures/classic/failing-worker.js";
import { ReportFactory } from "../fixtures/classic/report-factory.js";
import reportWorker, { type Report } from "../fixtures/classic/report-worker.js";
import { memoryLogger } from "../execute/helpers.js";
import { ended, recordsOf } from "./helpers.js";

/** A thread job on any worker, every second. */
class EverySecond extends ThreadJobFactory {
  constructor(
    private readonly worker: AbstractBaseWorker<Date, unknown>,
    options: JobFactoryOptions,
  ) {
    super(options);
  }
  protected getSpec() {
    return "* * * * * *";
  }
  protected getWorker() {
    return this.worker;
  }
}

let root: string;
let logs: ReturnType<typeof memoryLogger>;
let runtime: ClassicRuntime;
let records: ReturnType<typeof recordsOf>;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "runlet-"));
  logs = memoryLogger();
  runtime = new ClassicRuntime({ logger: logs.root, root, maxThreads: 1 });
  records = recordsOf(runtime);
});
afterEach(async () => {
  await runtime.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Scheduled on the runtime's own timer heap: node-schedule keeps no timer (nor registry entry) of its own for it. */
const isScheduled = (job: schedule.Job | null) => !!job && job.nextInvocation() !== null && !(job.name in schedule.scheduledJobs);

describe("ThreadJobFactory", () => {
  it("the worker runs in a worker thread; what it posts on parentPort is the run's result", async () => {
    const factory = new ReportFactory({ runtime }) as unknown as { getJobCallback(): JobCallback };
    const date = new Date("2030-01-01T10:05:00.000Z");
    // The documented manual trigger, from JavaScript.
    await factory.getJobCallback()(date);
    const [record] = await runtime.store.history({ job: "report", limit: 1 });
    expect(record).toMatchObject({ status: "ok", trigger: "invoke" });
    const report = record!.result as Report;
    expect(report).toEqual({ fireDate: date.toISOString(), threadId: expect.any(Number), rows: 42 });
    expect(threadId).toBe(0);
    expect(report.threadId).not.toBe(0);
  });

  it("a scheduled fire runs the worker on the pool", async () => {
    const job = new EverySecond(reportWorker, { runtime, name: "report" }).create()!;
    expect(isScheduled(job)).toBe(true);
    const record = await records.next(ended("report"));
    expect(record).toMatchObject({ status: "ok", trigger: "schedule", result: { rows: 42, fireDate: record.scheduledAt } });
    expect((record.result as Report).threadId).not.toBe(0);
  });

  it("a worker that throws: each run is failed and recorded, and the job stays scheduled and fires again", async () => {
    const job = new EverySecond(failingWorker, { runtime, name: "failing" }).create()!;
    const first = await records.next(ended("failing"));
    const second = await records.next(ended("failing"));
    for (const record of [first, second]) {
      expect(record).toMatchObject({ status: "failed", trigger: "schedule", error: { message: "the report source is unreachable", code: "JOB_FAILED" } });
    }
    expect(Date.parse(second.scheduledAt)).toBeGreaterThan(Date.parse(first.scheduledAt));
    expect(isScheduled(job)).toBe(true);
    expect(job.nextInvocation()).not.toBeNull();
    expect(logs.lines.find((l) => l.event === "run-ended" && l.job === "failing")).toMatchObject({ level: 50, status: "failed" });
    const history = await runtime.store.history({ job: "failing", limit: 10 });
    expect(history.filter((r) => r.status === "failed").length).toBeGreaterThanOrEqual(2);
  });

  it("a worker file that does not compile: its runs fail with the compile problem, at the worker's line", async () => {
    const file = join(root, "broken-worker.ts");
    writeFileSync(file, `export default {\n  run( {\n};\n`);
    class BrokenHandle extends AbstractBaseWorker<Date, void> {
      getFilename() {
        return file;
      }
      protected run() {}
    }
    const record = await new EverySecond(new BrokenHandle(null), { runtime, name: "broken" }).trigger();
    expect(record).toMatchObject({ status: "failed", error: { code: "HANDLER_COMPILE" } });
    expect(record.error!.message).toContain("broken-worker.ts:3:");
    expect(logs.lines.find((l) => l.msg?.includes("did not compile"))).toMatchObject({ level: 50, job: "broken" });
  });
});

// The class-based API from the original job-system design's examples, on runlet's
// dispatcher and store. node-schedule fires under fake timers (it reads the global clock).
import schedule from "node-schedule";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ClassicRuntime, configureRuntime, defaultRuntime, JobFactory, type JobCallback, type JobFactoryOptions } from "../../runner/index.js";
import { CleanupFactory } from "../fixtures/classic/cleanup-factory.js";
import { ReportFactory } from "../fixtures/classic/report-factory.js";
import { memoryLogger } from "../execute/helpers.js";
import { ended, recordsOf } from "./helpers.js";

/** The fixtures with their protected methods opened up, as a test subclass may do. */
class OpenCleanup extends CleanupFactory {
  spec() {
    return this.getSpec();
  }
  override getJobCallback(): JobCallback {
    return super.getJobCallback();
  }
}
class OpenReport extends ReportFactory {
  spec() {
    return this.getSpec();
  }
}

/** An inline job on any spec whose callback the test supplies. */
class TestFactory extends JobFactory {
  constructor(
    private readonly spec: schedule.Spec,
    private readonly callback: JobCallback,
    options: JobFactoryOptions,
  ) {
    super(options);
  }
  protected getSpec() {
    return this.spec;
  }
  protected getJobCallback() {
    return this.callback;
  }
}

/** Enabled only in production, as the original design's example decides it. */
class ProductionOnlyFactory extends JobFactory {
  constructor(options: JobFactoryOptions) {
    super(options);
    this.setEnable(process.env.NODE_ENV === "production");
  }
  protected getSpec() {
    return "0 3 * * *";
  }
  protected getJobCallback(): JobCallback {
    return () => {};
  }
}

let logs: ReturnType<typeof memoryLogger>;
let runtime: ClassicRuntime;
let records: ReturnType<typeof recordsOf>;
beforeEach(() => {
  logs = memoryLogger();
  runtime = new ClassicRuntime({ logger: logs.root, env: "test" });
  records = recordsOf(runtime);
});
afterEach(async () => {
  try {
    // While the clock is still fake: node-schedule's one timer was armed on it.
    await runtime.stop();
  } finally {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  }
});

const fakeTime = (iso: string) => vi.useFakeTimers({ now: new Date(iso), toFake: ["setTimeout", "clearTimeout", "Date"] });
/** Scheduled on the runtime's own timer heap: node-schedule keeps no timer (nor registry entry) of its own for it. */
const isScheduled = (job: schedule.Job | null) => !!job && job.nextInvocation() !== null && !(job.name in schedule.scheduledJobs);

describe("JobFactory", () => {
  it("a midnight RecurrenceRule fires at midnight; the callback gets the fire date and the run is recorded", async () => {
    fakeTime("2030-01-01T23:59:59.000Z");
    const factory = new OpenCleanup({ runtime, name: "cleanup" });
    const spec = factory.spec();
    expect(spec.hour === 0 && spec.minute === 0).toBe(true);
    const job = factory.create()!;
    expect(job.nextInvocation()?.toISOString()).toBe("2030-01-02T00:00:00.000Z");

    await vi.advanceTimersByTimeAsync(1000);
    const record = await records.next(ended("cleanup"));
    expect(record).toMatchObject({ job: "cleanup", status: "ok", scheduledAt: "2030-01-02T00:00:00.000Z", trigger: "schedule", attempt: 1 });
    expect(factory.cleaned.map((d) => d.toISOString())).toEqual(["2030-01-02T00:00:00.000Z"]);
    expect(await runtime.store.history({ job: "cleanup", limit: 10 })).toMatchObject([{ runId: record.runId, status: "ok" }]);
    expect(job.nextInvocation()?.toISOString()).toBe("2030-01-03T00:00:00.000Z");
  });

  it("a 5-minute Range fires at every fifth minute", async () => {
    const rule = new OpenReport({ runtime }).spec();
    expect(rule.minute).toBeInstanceOf(schedule.Range);
    expect(rule.minute).toMatchObject({ start: 0, end: 59, step: 5 });

    fakeTime("2030-01-01T10:03:00.000Z");
    const fires: string[] = [];
    new TestFactory(rule, (d) => void fires.push(d.toISOString()), { runtime, name: "every-five" }).create();
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(fires).toEqual(["2030-01-01T10:05:00.000Z", "2030-01-01T10:10:00.000Z", "2030-01-01T10:15:00.000Z"]);
    expect(records.ended().map((r) => r.status)).toEqual(["ok", "ok", "ok"]);
    // The same rule, read for `list` and the dashboard.
    expect(runtime.jobs.find((j) => j.name === "every-five")?.scheduleSource).toEqual({ second: 0, minute: { start: 0, end: 59, step: 5 } });
  });

  it("a factory enabled by environment schedules only in production", () => {
    vi.stubEnv("NODE_ENV", "development");
    expect(new ProductionOnlyFactory({ runtime }).create()).toBeNull();
    vi.stubEnv("NODE_ENV", "production");
    const job = new ProductionOnlyFactory({ runtime }).create();
    expect(job).toBeInstanceOf(schedule.Job);
    expect(isScheduled(job)).toBe(true);
  });

  it("create() then cancel(): the job never fires", async () => {
    fakeTime("2030-01-01T23:59:59.000Z");
    const factory = new CleanupFactory({ runtime });
    const job = factory.create()!;
    expect(job.cancel()).toBe(true);
    expect(isScheduled(job)).toBe(false);
    await vi.advanceTimersByTimeAsync(2 * 86_400_000);
    expect(factory.cleaned).toEqual([]);
    expect(records.all).toEqual([]);
  });

  it("create() twice schedules the job once: the first Job is cancelled", async () => {
    fakeTime("2030-01-01T23:59:59.000Z");
    const factory = new CleanupFactory({ runtime });
    const first = factory.create()!;
    const second = factory.create()!;
    expect(second).not.toBe(first);
    expect(isScheduled(first)).toBe(false);
    expect(first.nextInvocation()).toBeNull();
    await vi.advanceTimersByTimeAsync(1000);
    await records.next(ended("cleanup"));
    expect(factory.cleaned).toHaveLength(1);
    expect(records.ended()).toHaveLength(1);
  });

  it("create() on a disabled factory returns null and schedules nothing; enabled again, it schedules", () => {
    const factory = new CleanupFactory({ runtime });
    factory.setEnable(false);
    expect(factory.isEnabled()).toBe(false);
    expect(factory.create()).toBeNull();
    expect(runtime.jobs.filter((j) => j.enabled)).toEqual([]);
    factory.setEnable(true);
    expect(isScheduled(factory.create())).toBe(true);
  });

  it("manual trigger as documented, getJobCallback()(date): runs the callback with that date, recorded as an invoke", async () => {
    const factory = new OpenCleanup({ runtime, name: "cleanup" });
    const date = new Date("2031-05-06T07:08:09.000Z");
    await expect(factory.getJobCallback()(date)).resolves.toBeUndefined();
    expect(factory.cleaned).toEqual([date]);
    expect(records.ended()).toMatchObject([{ job: "cleanup", status: "ok", trigger: "invoke" }]);
    // From JavaScript, where `protected` does not exist, the same call works on the fixture itself.
    const plain = new CleanupFactory({ runtime, name: "cleanup-js" }) as unknown as { getJobCallback(): JobCallback; cleaned: Date[] };
    await plain.getJobCallback()(date);
    expect(plain.cleaned).toEqual([date]);
    // trigger() is the same run, handing back its record.
    await expect(factory.trigger(date)).resolves.toMatchObject({ job: "cleanup", status: "ok", trigger: "invoke" });
  });

  it("a callback that throws: that run is failed, logged and recorded; the job stays scheduled and fires again", async () => {
    fakeTime("2030-01-01T23:59:59.000Z");
    const factory = new TestFactory({ hour: 0, minute: 0 }, () => Promise.reject(new Error("session store unreachable")), { runtime, name: "flaky" });
    const job = factory.create()!;
    await vi.advanceTimersByTimeAsync(1000);
    const failed = await records.next(ended("flaky"));
    expect(failed).toMatchObject({ status: "failed", error: { message: "session store unreachable", code: "JOB_FAILED" } });
    expect(logs.lines.find((l) => l.event === "run-ended" && l.job === "flaky")).toMatchObject({ level: 50, status: "failed" });
    expect(isScheduled(job)).toBe(true);
    expect(job.nextInvocation()?.toISOString()).toBe("2030-01-03T00:00:00.000Z");

    await vi.advanceTimersByTimeAsync(86_400_000);
    await records.next(ended("flaky"));
    expect((await runtime.store.history({ job: "flaky", limit: 10 })).map((r) => [r.scheduledAt, r.status])).toEqual([
      ["2030-01-03T00:00:00.000Z", "failed"],
      ["2030-01-02T00:00:00.000Z", "failed"],
    ]);
  });

  it("overlap skip (the default), without a hand-written guard: a fire while the previous run goes on is recorded as skipped", async () => {
    fakeTime("2030-01-01T00:00:00.500Z");
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    new TestFactory("* * * * * *", () => (calls++, gate), { runtime, name: "slow" }).create();
    await vi.advanceTimersByTimeAsync(500);
    await records.next((r) => r.job === "slow" && r.status === "running");
    await vi.advanceTimersByTimeAsync(1000);
    expect(await records.next(ended("slow"))).toMatchObject({ status: "skipped", reason: "overlap", scheduledAt: "2030-01-01T00:00:02.000Z" });
    release();
    expect(await records.next(ended("slow"))).toMatchObject({ status: "ok", scheduledAt: "2030-01-01T00:00:01.000Z" });
    expect(calls).toBe(1);
  });

  it("a spec node-schedule cannot schedule: create() throws and leaves nothing scheduled", () => {
    const factory = new TestFactory("every day at noon", () => {}, { runtime, name: "typo" });
    expect(() => factory.create()).toThrowErrorMatchingInlineSnapshot(
      `[RunletError: TestFactory (job "typo"): node-schedule cannot schedule what getSpec() returned (the string "every day at noon"); expected a cron string of 5 or 6 fields, a RecurrenceRule, an object such as { hour: 0, minute: 0 }, or a Date in the future]`,
    );
    expect(runtime.jobs).toMatchObject([{ name: "typo", enabled: false }]);
    expect(runtime.nextFireOf("typo")).toBeNull();
  });

  it("a Date in the past: create() throws, as node-schedule refuses it", () => {
    const factory = new TestFactory(new Date("2000-01-01T00:00:00.000Z"), () => {}, { runtime, name: "past" });
    expect(() => factory.create()).toThrow(expect.objectContaining({ code: "BAD_INPUT", message: expect.stringContaining("the Date 2000-01-01T00:00:00.000Z") }));
    expect(runtime.nextFireOf("past")).toBeNull();
  });

  it("names: from the class by default; two scheduled factories may not share one", () => {
    expect(new CleanupFactory({ runtime }).jobName).toBe("cleanup");
    new CleanupFactory({ runtime }).create();
    expect(() => new CleanupFactory({ runtime }).create()).toThrow(expect.objectContaining({ code: "BAD_INPUT", message: expect.stringContaining('two class jobs are named "cleanup"') }));
    expect(() => new CleanupFactory({ runtime, name: "Nightly Cleanup" })).toThrow(expect.objectContaining({ code: "BAD_INPUT" }));
  });

  it("without a runtime option, a factory runs on the default runtime, which configureRuntime() sets", async () => {
    const configured = configureRuntime({ logger: logs.root });
    try {
      expect(defaultRuntime()).toBe(configured);
      const factory = new CleanupFactory();
      expect(factory.create()).not.toBeNull();
      await expect(factory.trigger()).resolves.toMatchObject({ job: "cleanup", status: "ok" });
      expect(configured.jobs.map((j) => j.name)).toEqual(["cleanup"]);
      expect(await configured.store.history({ limit: 5 })).toHaveLength(1);
    } finally {
      await configured.stop();
    }
    // A stopped default is replaced on next use, so a factory created later still runs.
    expect(defaultRuntime()).not.toBe(configured);
    await defaultRuntime().stop();
  });
});

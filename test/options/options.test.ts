// Options are checked when a component is made: a wrong value or an unknown option fails
// at once, naming the option, the value and what is allowed (not later, as a NaN timer).
import { describe, expect, it } from "vitest";
import { ClassicRuntime, createRunner } from "../../runner/index.js";
import { systemClock } from "../../runner/contracts/index.js";
import { Dispatcher, type DispatcherOptions } from "../../runner/execute/dispatcher.js";
import { InlineExecutor } from "../../runner/execute/inline-executor.js";
import { ThreadExecutor } from "../../runner/execute/thread-executor.js";
import { silentLogger } from "../../runner/log/logger.js";

describe("options are checked when a component is made", () => {
  it("RunnerOptions: every wrong value and unknown option, in one error", () => {
    expect(() => createRunner({ shutdownGraceMs: -1, abortGraceMs: Number.NaN, watch: "yes" as unknown as boolean, gracems: 5 } as never)).toThrowErrorMatchingInlineSnapshot(`
      [RunletError: RunnerOptions.shutdownGraceMs must be a number of milliseconds, 0 or more (got -1)
      RunnerOptions.abortGraceMs must be a number of milliseconds, 0 or more (got NaN)
      RunnerOptions.watch must be true or false (got "yes")
      RunnerOptions has no option "gracems"; its options are manifest, env, logger, clock, shutdownGraceMs, abortGraceMs, watch, store, executors]
    `);
    expect(() => createRunner({ manifest: "" })).toThrow(expect.objectContaining({ code: "OPTION_INVALID" }));
  });

  it("undefined means the default", () => {
    expect(() => createRunner({ shutdownGraceMs: undefined, abortGraceMs: 0 })).not.toThrow();
  });

  it("DispatcherOptions: required options and wrong values", () => {
    expect(() => new Dispatcher({ executors: { inline: new InlineExecutor(), thread: new InlineExecutor() }, logger: silentLogger(), env: "test", abortGraceMs: "2s" } as unknown as DispatcherOptions)).toThrowErrorMatchingInlineSnapshot(`
      [RunletError: DispatcherOptions.abortGraceMs must be a number of milliseconds, 0 or more (got "2s")
      DispatcherOptions.clock is required: an object
      DispatcherOptions.onRecord is required: a function]
    `);
    expect(() => new Dispatcher({ executors: { inline: new InlineExecutor(), thread: new InlineExecutor() }, logger: silentLogger(), clock: systemClock, env: "test", onRecord: () => {} })).not.toThrow();
  });

  it("ThreadExecutorOptions: thread counts are whole numbers from 1", () => {
    expect(() => new ThreadExecutor({ maxThreads: 0, idleTimeoutMs: -5, workerFile: "pool-worker.js" as unknown as URL })).toThrowErrorMatchingInlineSnapshot(`
      [RunletError: ThreadExecutorOptions.maxThreads must be a whole number, 1 or more (got 0)
      ThreadExecutorOptions.idleTimeoutMs must be a number of milliseconds, 0 or more (got -5)
      ThreadExecutorOptions.workerFile must be a URL (got "pool-worker.js")]
    `);
  });

  it("ClassicRuntimeOptions: checked too, and what belongs to a runner cannot be set beside one", async () => {
    expect(() => new ClassicRuntime({ maxThreads: 1.5, logger: silentLogger() })).toThrowErrorMatchingInlineSnapshot(`[RunletError: ClassicRuntimeOptions.maxThreads must be a whole number, 1 or more (got 1.5)]`);
    await using runner = createRunner({ manifest: "jobs.yaml" });
    expect(() => new ClassicRuntime({ runner, logger: silentLogger(), env: "staging", maxThreads: 2 })).toThrowErrorMatchingInlineSnapshot(
      `[RunletError: ClassicRuntime: env, maxThreads cannot be set beside a runner (got env: staging, maxThreads: 2); class jobs beside a runner use the runner's env, maxThreads]`,
    );
  });
});

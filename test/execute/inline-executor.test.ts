// Inline runs share the main thread: what that means for aborts and for closing.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { InlineExecutor } from "../../runner/execute/inline-executor.js";
import { RunletError } from "../../runner/errors.js";
import { handlerDir, memoryLogger, rejectionOf, request } from "./helpers.js";

const gate = globalThis as typeof globalThis & { __runletTestGate?: Promise<string> };
const files = handlerDir({
  // Ignores ctx.signal and waits for the test to open the gate.
  "ignores-signal.mjs": `export default (ctx) => { ctx.log.info("started"); return globalThis.__runletTestGate; };\n`,
});
afterAll(() => files[Symbol.dispose]());

let executor: InlineExecutor | undefined;
afterEach(async () => {
  await executor?.close();
  executor = undefined;
  delete gate.__runletTestGate;
});

describe("inline executor", () => {
  it("cannot kill a handler: after an abort the run stays pending until the handler settles", async () => {
    executor = new InlineExecutor();
    let open!: (value: string) => void;
    gate.__runletTestGate = new Promise((resolve) => (open = resolve));
    const logs = memoryLogger();
    const controller = new AbortController();
    let settled = false;
    const run = executor.run(request(files.path("ignores-signal.mjs"), { signal: controller.signal, log: logs.forRun("j", "r") }));
    void run.finally(() => (settled = true));
    await logs.waitFor((l) => l.msg === "started");
    controller.abort(new RunletError("JOB_TIMEOUT", "timed out"));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    open("finished anyway");
    await expect(run).resolves.toBe("finished anyway");
  });

  it("params that cannot be copied fail the run (a rejection, never a throw at the caller), loaded handler or not", async () => {
    executor = new InlineExecutor();
    const path = files.path("ignores-signal.mjs");
    const params = { callback: () => undefined };
    // First run imports the handler; the second finds it loaded and takes the synchronous path.
    for (let i = 0; i < 2; i++) {
      let run: Promise<unknown> | undefined;
      expect(() => (run = executor!.run(request(path, { params })))).not.toThrow();
      const err = await rejectionOf(run!);
      expect(err).toBeInstanceOf(RunletError);
      expect((err as RunletError).code).toBe("JOB_FAILED");
      expect((err as Error).message).toMatch(/params cannot be copied/);
    }
  });

  it("refuses runs once closed", async () => {
    executor = new InlineExecutor();
    await executor.close();
    const err = await rejectionOf(executor.run(request(files.path("ignores-signal.mjs"), { job: "late" })));
    expect(err.code).toBe("JOB_CANCELLED");
    expect(err.message).toBe('job "late" was not started: the inline executor is closed');
  });
});

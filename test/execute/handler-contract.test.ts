// The handler contract holds the same inline and in a worker thread: every case runs in both modes.
import type { Executor } from "../../runner/contracts/index.js";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { build } from "esbuild";
import { InlineExecutor } from "../../runner/execute/inline-executor.js";
import { ThreadExecutor } from "../../runner/execute/thread-executor.js";
import { RunletError } from "../../runner/errors.js";
import { handlerDir, memoryLogger, rejectionOf, request } from "./helpers.js";

const files = handlerDir({
  "thread-id.mjs": `export default async () => (await import("node:worker_threads")).threadId;\n`,
  "context.mjs": `export default (ctx) => ({
  job: ctx.job, runId: ctx.runId, isDate: ctx.fireDate instanceof Date, fireDate: ctx.fireDate.toISOString(),
  attempt: ctx.attempt, params: ctx.params, env: ctx.env, signalIsLive: ctx.signal instanceof AbortSignal && !ctx.signal.aborted,
  keys: Object.keys(ctx).sort(), destructured: (({ signal }) => signal instanceof AbortSignal)(ctx),
});\n`,
  "logs.mjs": `export default (ctx) => {
  ctx.log.info({ step: 1, nested: { a: [1, 2] } }, "first");
  ctx.log.warn("plain message");
  ctx.log.debug({ hidden: true }, "below the level");
  ctx.log.error({ fn: () => 1, keep: "me" }, "object with a function");
  ctx.log.error({ err: Object.assign(new RangeError("inner failure"), { code: "E_INNER", detail: "row 3" }) }, "with an error");
  ctx.log.warn(Object.assign(new Error("bare error"), { code: "E_BARE" }));
  return "logged";
};\n`,
  "throws.mjs": `export default function () {
  const err = new Error("disk full on /var/data");
  err.code = "ENOSPC";
  throw err;
}\n`,
  "throws-on-import.mjs": `throw new Error("missing DATABASE_URL");\nexport default () => 1;\n`,
  "rejects.mjs": `export default () => Promise.reject(new TypeError("rejected on purpose"));\n`,
  "throws-string.mjs": `export default () => { throw "a bare string"; };\n`,
  "function-result.mjs": `export default () => ({ ok: true, callback: () => 1 });\n`,
  "default-number.mjs": `export default 42;\n`,
  "no-default.mjs": `export const handler = () => 1;\n`,
  "honours-signal.mjs": `export default (ctx) => new Promise((resolve) => {
  ctx.log.info("waiting for abort");
  ctx.signal.addEventListener("abort", () => resolve({ aborted: true, reason: ctx.signal.reason.message, code: ctx.signal.reason.code }));
});\n`,
  "counter.mjs": `let n = 0;\nexport default (ctx) => { ctx.params.list.push(1); return { n: ++n, listLength: ctx.params.list.length }; };\n`,
});

afterAll(() => files[Symbol.dispose]());

const modes = {
  inline: () => new InlineExecutor(),
  thread: () => new ThreadExecutor({ maxThreads: 1, idleTimeoutMs: 60_000 }),
} satisfies Record<string, () => Executor>;

describe.each(Object.keys(modes) as Array<keyof typeof modes>)("handler contract, %s", (mode) => {
  let executor: Executor;
  afterEach(async () => {
    await executor?.close();
  });
  const make = () => (executor = modes[mode]());

  it("runs in the main thread inline and in a worker thread otherwise", async () => {
    const threadId = await make().run(request(files.path("thread-id.mjs")));
    if (mode === "inline") expect(threadId).toBe(0);
    else expect(threadId).toBeGreaterThan(0);
  });

  it("hands job, runId, fireDate, attempt, params and env to ctx", async () => {
    const result = await make().run(
      request(files.path("context.mjs"), { job: "report", runId: "r-42", attempt: 3, params: { maxAgeMinutes: 30, tags: ["a"] }, env: "staging" }),
    );
    expect(result).toEqual({
      job: "report",
      runId: "r-42",
      isDate: true,
      fireDate: "2030-01-02T03:04:05.000Z",
      attempt: 3,
      params: { maxAgeMinutes: 30, tags: ["a"] },
      env: "staging",
      signalIsLive: true,
      // What a copy of ctx carries: its data and log, nothing of runlet's own (signal is a getter).
      keys: ["attempt", "env", "fireDate", "job", "log", "params", "runId", "trigger"],
      destructured: true,
    });
  });

  it("writes ctx.log lines to the run's logger with its job and runId bindings, honouring its level", async () => {
    const logs = memoryLogger("info");
    await expect(make().run(request(files.path("logs.mjs"), { log: logs.forRun("mailer", "r-7") }))).resolves.toBe("logged");
    const fromHandler = logs.lines.map(({ level, msg, job, runId, step, nested, keep, hidden }) => ({ level, msg, job, runId, step, nested, keep, hidden }));
    expect(fromHandler).toEqual([
      { level: 30, msg: "first", job: "mailer", runId: "r-7", step: 1, nested: { a: [1, 2] } },
      { level: 40, msg: "plain message", job: "mailer", runId: "r-7" },
      // A logged function cannot cross a thread; the line (and the run) survive without it.
      { level: 50, msg: "object with a function", job: "mailer", runId: "r-7", keep: "me" },
      { level: 50, msg: "with an error", job: "mailer", runId: "r-7" },
      { level: 40, msg: "bare error", job: "mailer", runId: "r-7" },
    ]);
    // pino's err serializer still sees Errors: type, message, the handler's stack and own fields survive.
    expect(logs.lines[3]?.err).toEqual({ type: "RangeError", message: "inner failure", stack: expect.stringContaining("logs.mjs:6"), code: "E_INNER", detail: "row 3" });
    expect(logs.lines[4]?.err).toEqual({ type: "Error", message: "bare error", stack: expect.stringContaining("logs.mjs:7"), code: "E_BARE" });
  });

  it("rejects JOB_FAILED with the handler's message, stack and error when it throws", async () => {
    const err = await rejectionOf(make().run(request(files.path("throws.mjs"))));
    expect(err).toBeInstanceOf(RunletError);
    expect(err.code).toBe("JOB_FAILED");
    expect(err.message).toBe("disk full on /var/data");
    expect(err.stack).toMatch(/^Error: disk full on \/var\/data\n\s+at .*throws\.mjs:2:/);
    expect(err.cause).toBeInstanceOf(Error);
    expect(err.cause).toMatchObject({ message: "disk full on /var/data", code: "ENOSPC", name: "Error" });
  });

  it("rejects JOB_FAILED when the handler's promise rejects", async () => {
    const err = await rejectionOf(make().run(request(files.path("rejects.mjs"))));
    expect(err).toMatchObject({ code: "JOB_FAILED", message: "rejected on purpose" });
    expect((err.cause as Error).name).toBe("TypeError");
    expect(err.stack).toContain("rejects.mjs");
  });

  it("rejects JOB_FAILED naming the module when the handler module throws while loading", async () => {
    const err = await rejectionOf(make().run(request(files.path("throws-on-import.mjs"))));
    expect(err.code).toBe("JOB_FAILED");
    expect(err.message).toBe(`could not import handler ${files.path("throws-on-import.mjs")}: missing DATABASE_URL`);
    expect(err.stack).toContain("throws-on-import.mjs:1");
  });

  it("rejects JOB_FAILED with the value's text when the handler throws a non-Error", async () => {
    const err = await rejectionOf(make().run(request(files.path("throws-string.mjs"))));
    expect(err).toMatchObject({ code: "JOB_FAILED", message: "a bare string" });
  });

  it("rejects RESULT_NOT_CLONEABLE when the result holds a function", async () => {
    const err = await rejectionOf(make().run(request(files.path("function-result.mjs"), { job: "exporter" })));
    expect(err.code).toBe("RESULT_NOT_CLONEABLE");
    expect(err.message).toMatch(/^job "exporter" returned an object \(Object\), which cannot be structured-cloned/);
  });

  it("rejects HANDLER_NO_DEFAULT when the default export is not a function, or missing", async () => {
    const exec = make();
    const notFn = await rejectionOf(exec.run(request(files.path("default-number.mjs"))));
    expect(notFn.code).toBe("HANDLER_NO_DEFAULT");
    expect(notFn.message).toContain("the default export is a number (42); expected a function");
    const missing = await rejectionOf(exec.run(request(files.path("no-default.mjs"))));
    expect(missing.code).toBe("HANDLER_NO_DEFAULT");
    expect(missing.message).toContain("the default export is missing");
  });

  it("aborts ctx.signal with the dispatcher's reason, and a handler honouring it ends early", async () => {
    const logs = memoryLogger();
    const controller = new AbortController();
    const run = make().run(request(files.path("honours-signal.mjs"), { signal: controller.signal, log: logs.forRun("j", "r") }));
    await logs.waitFor((l) => l.msg === "waiting for abort");
    controller.abort(new RunletError("JOB_TIMEOUT", "timed out after 30000ms"));
    await expect(run).resolves.toEqual({ aborted: true, reason: "timed out after 30000ms", code: "JOB_TIMEOUT" });
  });

  it("does not start a run whose signal already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new RunletError("JOB_CANCELLED", "the runner is stopping"));
    const err = await rejectionOf(make().run(request(files.path("thread-id.mjs"), { signal: controller.signal })));
    expect(err.code).toBe("JOB_CANCELLED");
    expect(err.message).toContain("was not started: its signal had already aborted (the runner is stopping)");
  });

  it("keeps a module loaded per path, and gives each run its own copy of params", async () => {
    const exec = make();
    const params = { list: [] as number[] };
    await expect(exec.run(request(files.path("counter.mjs"), { params }))).resolves.toEqual({ n: 1, listLength: 1 });
    await expect(exec.run(request(files.path("counter.mjs"), { params }))).resolves.toEqual({ n: 2, listLength: 1 });
    expect(params.list).toEqual([]);
    // The compile stage writes a new version to a new path: a new path is a new module.
    const v2 = files.write("counter-v2.mjs", `let n = 100;\nexport default () => ({ n: ++n });\n`);
    await expect(exec.run(request(v2))).resolves.toEqual({ n: 101 });
  });
});

describe.each(Object.keys(modes) as Array<keyof typeof modes>)("source-mapped stacks, %s", (mode) => {
  const compiled = handlerDir({});
  let executor: Executor;
  beforeAll(async () => {
    // A handler as the compile stage makes it: TypeScript through esbuild with a source map.
    compiled.write("failing.ts", `interface Order { id: number }\n\nexport default function (): Order {\n  throw new Error("no orders to export");\n}\n`);
    await build({ entryPoints: [compiled.path("failing.ts")], outfile: `${compiled.dir}/failing.mjs`, format: "esm", platform: "node", sourcemap: "inline", logLevel: "silent" });
  });
  afterEach(async () => {
    await executor?.close();
  });
  afterAll(() => compiled[Symbol.dispose]());

  it("reports the handler's TypeScript line in the stack", async () => {
    executor = modes[mode]();
    const err = await rejectionOf(executor.run(request(`${compiled.dir}/failing.mjs`)));
    expect(err.code).toBe("JOB_FAILED");
    expect(err.stack).toMatch(/failing\.ts:4:\d+/);
  });
});

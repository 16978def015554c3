import { afterAll, beforeAll, expect, test } from "vitest";
import { createRunner } from "../../runner/runner.js";
import { silentLogger } from "../../runner/log/logger.js";
import { openPostgresStore } from "../../runner/store/postgres/index.js";
import { withoutNul } from "../../runner/store/postgres/pg-rows.js";
import { tempProject } from "../support/temp-project.js";
import { testSchema, type TestSchema } from "./pg-support.js";

// PostgreSQL takes no NUL character: not in a text column, and not as `\u0000` in jsonb.
// A handler's error, result, log line or params holding one once failed its record's
// whole batch, on every retry, so the other runs of the batch never landed either and
// stayed "running". Such a character is stored as U+FFFD; everything else as it was.

let schema: TestSchema;
beforeAll(async () => {
  schema = await testSchema();
});
afterAll(async () => {
  await schema?.drop();
});

const files = {
  "jobs.yaml": `version: 1
jobs:
  throws: { handler: jobs/throws.mjs, retries: { max: 1, delay: 10ms } }
  returns: { handler: jobs/returns.mjs }
  fine: { handler: jobs/fine.mjs }
`,
  "jobs/throws.mjs": `export default (ctx) => { ctx.log.info("line with a \\u0000 in it"); throw new Error("bad\\u0000byte"); };\n`,
  "jobs/returns.mjs": `export default (ctx) => ({ text: "nul \\u0000 here", got: ctx.params });\n`,
  "jobs/fine.mjs": `export default () => "fine \\\\u0000 stays";\n`,
};

test("a NUL character in an error, a result, a log line or params is stored as U+FFFD; the records of the batch all land", async () => {
  using project = tempProject(files);
  const store = await openPostgresStore(schema.url(), { logger: silentLogger() });
  const runner = createRunner({ manifest: project.path("jobs.yaml"), store, logger: silentLogger(), shutdownGraceMs: 5_000 });
  try {
    await runner.start();
    const [thrown, returned, fine] = await Promise.all([runner.invoke("throws"), runner.invoke("returns", { p: "x\u0000y" }), runner.invoke("fine")]);
    expect(thrown.status).toBe("failed");
    await store.flushRecords();
    expect(store.pending()).toBe(0);
    const byId = async (runId: string) => (await store.findRun(runId))!;
    const failed = await byId(thrown.runId);
    expect(failed.status).toBe("failed");
    expect(failed.error?.message).toBe("bad\uFFFDbyte");
    expect(failed.attempts?.map((a) => a.error?.message)).toEqual(["bad\uFFFDbyte", "bad\uFFFDbyte"]);
    const ok = await byId(returned.runId);
    expect(ok.status).toBe("ok");
    expect(ok.result).toEqual({ text: "nul \uFFFD here", got: { p: "x\uFFFDy" } });
    expect(ok.params).toEqual({ p: "x\uFFFDy" });
    // Only a NUL is replaced: the six characters `\u0000` are text like any other.
    expect((await byId(fine.runId)).result).toBe("fine \\u0000 stays");
    const logs = await store.runLogs(thrown.runId);
    expect(logs?.lines.map((l) => l.msg)).toContain("line with a \uFFFD in it");
  } finally {
    await runner.stop();
  }
}, 30_000);

test("only the escape of a NUL is replaced, not a backslash followed by u0000", () => {
  const text = (s: string) => JSON.parse(withoutNul(JSON.stringify(s))) as string;
  expect(text("a\u0000b")).toBe("a\uFFFDb");
  expect(text("a\\u0000b")).toBe("a\\u0000b");
  expect(text("a\\\u0000b\u0000")).toBe("a\\\uFFFDb\uFFFD");
  expect(text("a\\\\u0000b")).toBe("a\\\\u0000b");
  // Nested: JSON text inside JSON text (a column in the batch) is cleaned before it is wrapped.
  expect(JSON.parse(JSON.parse(withoutNul(JSON.stringify(withoutNul(JSON.stringify({ m: "x\u0000" }))))))).toEqual({ m: "x\uFFFD" });
});

test("a lone surrogate (a text cut inside an emoji) is replaced as a NUL is; a whole pair is kept", () => {
  const text = (s: string) => JSON.parse(withoutNul(JSON.stringify(s))) as string;
  const cut = "ok 😀".slice(0, 4);
  expect(text(cut)).toBe("ok \uFFFD");
  expect(text("😀\udfff")).toBe("😀\uFFFD");
  expect(text("ok 😀")).toBe("ok 😀");
  expect(text("a\\ud800")).toBe("a\\ud800");
});


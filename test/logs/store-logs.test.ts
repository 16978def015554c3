import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import schedule from "node-schedule";
import { ClassicRuntime, createRunner, JobFactory, type JobCallback } from "../../runner/index.js";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/memory-store.js";
import { openSqliteStore } from "../../runner/store/sqlite-store.js";
import { openPostgresStore } from "../../runner/store/postgres/postgres-store.js";
import type { RunStore } from "../../runner/store/run-store.js";
import { testSchema, type TestSchema } from "../replicas/pg-support.js";
import { tempProject } from "../support/temp-project.js";

const HANDLERS = {
  // Inline and thread handlers log the same lines: a string, an object with a message, an Error.
  "jobs/chatty.ts": `export default async (ctx) => {
    ctx.log.info("first");
    ctx.log.warn({ n: 2, user: { name: "ada", token: "s3cret" }, password: "hunter2" }, "second");
    ctx.log.debug("below the kept level");
    ctx.log.error(new Error("third"));
    for (let i = 0; i < (ctx.params.more ?? 0); i++) ctx.log.info({ i }, "line " + i);
    for (let i = 0; i < (ctx.params.big ?? 0); i++) ctx.log.info({ i, pad: "x".repeat(1000) }, "big " + i);
    if (ctx.params.apiKey) ctx.log.info({ url: "https://billing.example/?key=" + ctx.params.apiKey }, "calling with " + ctx.params.apiKey);
    if (ctx.params.fail) throw new Error("failed on purpose");
    return "done";
  };\n`,
};

const MANIFEST = `version: 1
defaults:
  logs: { redact: [password, "*.token"] }
jobs:
  inline: { handler: jobs/chatty.ts }
  thread: { handler: jobs/chatty.ts, mode: thread }
  bounded: { handler: jobs/chatty.ts, params: { more: 20 }, logs: { keep: 5 } }
  heavy: { handler: jobs/chatty.ts, params: { big: 400 } }
  trimmed: { handler: jobs/chatty.ts, history: { keep: 2 } }
  retried: { handler: jobs/chatty.ts, params: { fail: true }, retries: { max: 1, delay: 1ms } }
  secretive: { handler: jobs/chatty.ts, params: { apiKey: "\${env:BILLING_KEY}" } }
`;

const schemas: TestSchema[] = [];
afterAll(async () => {
  for (const schema of schemas) await schema.drop();
});

const stores: Array<[string, (dir: string, keepFor: (job: string) => number) => Promise<RunStore>]> = [
  ["memory", async (_dir, keepFor) => new MemoryStore({ logger: silentLogger(), keepFor })],
  ["sqlite", (dir, keepFor) => openSqliteStore(join(dir, ".runlet", "runs.db"), { logger: silentLogger(), keepFor })],
  [
    "postgres",
    async (_dir, keepFor) => {
      // A schema per test: a stopped runner's published job specs would make the next one's stale.
      const schema = await testSchema();
      schemas.push(schema);
      return openPostgresStore(schema.url(), { logger: silentLogger(), keepFor });
    },
  ],
];

describe.each(stores)("%s store: a run's ctx.log lines are kept with it", (_name, open) => {
  async function setup() {
    const project = tempProject({ ...HANDLERS, "jobs.yaml": MANIFEST, ".env": "BILLING_KEY=sk-live-4242-secret\n" });
    const holder: { keep: (job: string) => number } = { keep: () => 100 };
    const store = await open(project.dir, (job) => holder.keep(job));
    const runner = createRunner({ manifest: project.path("jobs.yaml"), store, logger: silentLogger() });
    holder.keep = (job) => runner.historyKeep(job);
    await runner.load();
    return {
      runner,
      store,
      async [Symbol.asyncDispose]() {
        await runner.stop();
        project[Symbol.dispose]();
      },
    };
  }

  test("inline and thread runs: lines read back in order, with level, time, fields, redacted", async () => {
    await using t = await setup();
    for (const job of ["inline", "thread"]) {
      const run = await t.runner.invoke(job);
      expect(run.status).toBe("ok");
      const logs = await t.store.runLogs(run.runId);
      expect(logs).toMatchObject({ runId: run.runId, job, dropped: 0 });
      expect(logs!.lines.map((l) => [l.level, l.msg, l.attempt])).toEqual([
        ["info", "first", 1],
        ["warn", "second", 1],
        ["error", "third", 1],
      ]);
      expect(logs!.lines[1]!.fields).toEqual({ n: 2, user: { name: "ada", token: "[Redacted]" }, password: "[Redacted]" });
      expect(logs!.lines[2]!.fields).toMatchObject({ err: { type: "Error", message: "third", stack: expect.stringContaining("chatty.ts") } });
      for (const line of logs!.lines) expect(Date.parse(line.time)).toBeGreaterThanOrEqual(Date.parse(run.startedAt!));
      expect(JSON.stringify(logs)).not.toContain("hunter2");
      expect(JSON.stringify(logs)).not.toContain("s3cret");
    }
  });

  test("bounded: only the last `logs.keep` lines, the rest counted as dropped", async () => {
    await using t = await setup();
    const run = await t.runner.invoke("bounded");
    const logs = await t.store.runLogs(run.runId);
    expect(logs!.lines.map((l) => l.msg)).toEqual(["line 15", "line 16", "line 17", "line 18", "line 19"]);
    expect(logs!.dropped).toBe(18);
  });

  test("bounded by size too: the newest lines within 256 KiB of JSON, the rest counted as dropped", async () => {
    await using t = await setup();
    const run = await t.runner.invoke("heavy");
    const logs = await t.store.runLogs(run.runId);
    // Each line's JSON counts (the commas between them do not).
    expect(logs!.lines.reduce((n, l) => n + JSON.stringify(l).length, 0)).toBeLessThanOrEqual(256 * 1024);
    expect(logs!.lines.length).toBeGreaterThan(200);
    expect(logs!.lines.length).toBeLessThan(400);
    // 3 lines, then 400 of ~1 KiB: the oldest go first.
    expect(logs!.dropped + logs!.lines.length).toBe(403);
    expect(logs!.lines.at(-1)!.msg).toBe("big 399");
    expect(logs!.lines[0]!.msg).toBe(`big ${403 - logs!.lines.length - 3}`);
  });

  test("each attempt's lines are kept, marked with their attempt", async () => {
    await using t = await setup();
    const run = await t.runner.invoke("retried");
    expect(run).toMatchObject({ status: "failed", attempt: 2 });
    const logs = await t.store.runLogs(run.runId);
    expect(logs!.lines.map((l) => `${l.attempt}:${l.msg}`)).toEqual(["1:first", "1:second", "1:third", "2:first", "2:second", "2:third"]);
  });

  test("trimmed with history: the logs of a run history drops are gone", async () => {
    await using t = await setup();
    const runs = [];
    for (let i = 0; i < 4; i++) {
      runs.push(await t.runner.invoke("trimmed"));
      // Read back before the next invoke: under a shared store the next claim waits for this run's end to be written.
      expect(await t.store.runLogs(runs[i]!.runId)).not.toBeNull();
    }
    await t.store.prune("trimmed", 2);
    expect((await t.store.history({ job: "trimmed", limit: 10 })).map((r) => r.runId)).toEqual([runs[3]!.runId, runs[2]!.runId]);
    expect(await t.store.runLogs(runs[0]!.runId)).toBeNull();
    expect(await t.store.runLogs(runs[1]!.runId)).toBeNull();
    expect((await t.store.runLogs(runs[3]!.runId))!.lines).toHaveLength(3);
  });

  test("a value from the environment is kept as its ${env:NAME} reference, in message and fields", async () => {
    await using t = await setup();
    const run = await t.runner.invoke("secretive");
    const logs = await t.store.runLogs(run.runId);
    const line = logs!.lines.find((l) => l.msg.startsWith("calling"));
    expect(line).toMatchObject({ msg: "calling with ${env:BILLING_KEY}", fields: { url: "https://billing.example/?key=${env:BILLING_KEY}" } });
    expect(JSON.stringify(logs)).not.toContain("sk-live-4242-secret");
  });

  test("a class job's run keeps what is logged through its run's logger", async () => {
    await using t = await setup();
    await using runtime = new ClassicRuntime({ runner: t.runner });
    const factory = new UnrecordableFactory({ runtime });
    factory.create();
    const run = await factory.trigger();
    expect(run.status).toBe("ok");
    const logs = await t.store.runLogs(run.runId);
    expect(logs!.lines).toEqual([expect.objectContaining({ level: "warn", msg: "the job callback returned a value that cannot be recorded; recorded null instead", attempt: 1 })]);
  });

  test("a run is found by its id or the short id history shows", async () => {
    await using t = await setup();
    const run = await t.runner.invoke("inline");
    expect(await t.store.findRun(run.runId)).toMatchObject({ runId: run.runId, job: "inline", status: "ok" });
    expect(await t.store.findRun(run.runId.slice(0, 8))).toMatchObject({ runId: run.runId });
    expect(await t.store.findRun("%")).toBeNull();
    expect(await t.store.findRun("ffffffff-no-such-run")).toBeNull();
  });
});

/** A class job whose callback returns a function: runlet warns through the run's logger. */
class UnrecordableFactory extends JobFactory {
  protected getSpec(): schedule.RecurrenceRule {
    const rule = new schedule.RecurrenceRule();
    rule.hour = 0;
    rule.minute = 0;
    return rule;
  }

  protected getJobCallback(): JobCallback {
    return (async () => () => "not cloneable") as unknown as JobCallback;
  }
}

import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { createRunner } from "../../runner/index.js";
import { devLine } from "../../runner/log/dev-lines.js";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/memory-store.js";
import { pino } from "pino";
import { okHandler, tempProject } from "../support/temp-project.js";

/** The JSON line pino writes for `fields` and `msg`, as `runlet dev`'s formatter receives it. */
function lineOf(level: "info" | "warn" | "error", fields: Record<string, unknown>, msg: string): string {
  let written = "";
  const logger = pino({ level: "info" }, { write: (line: string) => void (written = line) });
  logger[level](fields, msg);
  return written.trimEnd();
}

describe("runlet dev's terminal lines", () => {
  test("a run that ends ok is one line; its start line is left out", () => {
    expect(devLine(lineOf("info", { event: "run-started", job: "heartbeat", runId: "r1", scheduledAt: "x", latenessMs: 1, attempt: 1, mode: "inline" }, "run started"))).toBe("");
    expect(devLine(lineOf("info", { event: "run-ended", job: "heartbeat", runId: "r1", status: "ok", durationMs: 1.2, attempt: 1 }, "run ended"))).toBe("✓ heartbeat 1 ms");
    expect(devLine(lineOf("info", { event: "run-ended", job: "heartbeat", runId: "r1", status: "ok", durationMs: 3, attempt: 2 }, "run ended"))).toBe("✓ heartbeat 3 ms (attempt 2)");
  });

  test("a failed run gives its error and the handler's own stack frames, not runlet's or Node's", () => {
    const err = { type: "Error", message: "database unreachable", stack: "Error: database unreachable\n    at cleanup (/app/jobs/cleanup.ts:4:9)\n    at callHandler (file:///app/node_modules/runlet/dist/runner/execute/handler-module.js:42:13)\n    at new Promise (<anonymous>)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)" };
    expect(devLine(lineOf("error", { event: "run-ended", job: "cleanup", runId: "r2", status: "failed", durationMs: 12, attempt: 1, err }, "run ended"))).toBe("✗ cleanup failed after 12 ms: database unreachable\n    at cleanup (/app/jobs/cleanup.ts:4:9)");
    expect(devLine(lineOf("warn", { event: "run-attempt-failed", job: "cleanup", runId: "r2", status: "timeout", durationMs: 30000, attempt: 1, err: { message: "timed out after 30s" } }, "run attempt failed; will retry"))).toBe("✗ cleanup timeout after 30000 ms, will retry: timed out after 30s");
  });

  test("runner started names the jobs and the first fire; a handler's own line keeps its fields", () => {
    expect(devLine(lineOf("info", { event: "started", manifest: "/app/jobs.yaml", env: "development", jobs: 2, scheduled: 1, names: ["hello", "report"], nextFire: { job: "hello", at: "2027-01-01T00:00:10.000Z" } }, "runner started"))).toBe(
      "runner started: 2 jobs (hello, report), env development; next: hello at 2027-01-01T00:00:10.000Z",
    );
    expect(devLine(lineOf("info", { job: "hello", runId: "r3", name: "world" }, "hello"))).toBe("hello: hello  name=world");
    expect(devLine(lineOf("warn", { file: "jobs.yaml" }, "reload refused"))).toBe("warn reload refused  file=jobs.yaml");
  });

  test("lines are told apart by their event, not their message: a handler's line saying \"run started\" is shown", () => {
    expect(devLine(lineOf("info", { job: "hello", runId: "r4" }, "run started"))).toBe("hello: run started");
    expect(devLine(lineOf("info", { event: "reload-applied", added: ["b"], removed: [], rescheduled: [], changed: [], rebuilt: 1, durationMs: 41.6 }, "reloaded: +b, 1 handler rebuilt"))).toBe("reloaded: +b, 1 handler rebuilt (42 ms)");
    expect(devLine(lineOf("info", { event: "stopping", signal: "SIGINT", inFlight: 0, graceMs: 30000 }, "stopping: no new fires; waiting for runs in flight"))).toBe("stopping: no new fires; waiting for runs in flight  signal=SIGINT inFlight=0 graceMs=30000");
  });

  test("an event field in a handler's own line is the handler's: shown as its line, not taken for the runner's", async () => {
    await using project = tempProject({
      "jobs/say.ts": `export default async (ctx) => { ctx.log.info({ event: "run-started", step: 1 }, "run started"); ctx.log.info({ event: "started" }, "started the import"); ctx.log.info(null, "a null object is no fields"); };\n`,
      "jobs.yaml": "version: 1\njobs:\n  say: { handler: jobs/say.ts }\n  quiet: { handler: jobs/say.ts, mode: thread }\n",
    });
    const written: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void written.push(line.trimEnd()) });
    await using runner = createRunner({ manifest: project.path("jobs.yaml"), store: new MemoryStore({ logger: silentLogger() }), logger });
    for (const job of ["say", "quiet"]) {
      written.length = 0;
      expect((await runner.invoke(job)).status).toBe("ok");
      expect(written.map(devLine).filter((line) => line !== "")).toEqual([`${job}: run started  event=run-started step=1`, `${job}: started the import  event=started`, `${job}: a null object is no fields`, expect.stringMatching(new RegExp(`^✓ ${job} \\d+ ms$`))]);
    }
  });
});

describe("createRunner's defaults", () => {
  test("without a store it records runs in SQLite at .runlet/runs.db next to the manifest", async () => {
    await using project = tempProject({ "jobs/a.ts": okHandler, "jobs.yaml": "version: 1\njobs:\n  a: { handler: jobs/a.ts }\n" });
    {
      await using runner = createRunner({ manifest: project.path("jobs.yaml"), logger: pino({ level: "silent" }) });
      expect((await runner.invoke("a")).status).toBe("ok");
    }
    expect(existsSync(project.path(".runlet/runs.db"))).toBe(true);
    await using again = createRunner({ manifest: project.path("jobs.yaml"), logger: pino({ level: "silent" }) });
    expect((await again.store.history({ job: "a", limit: 5 })).map((r) => r.status)).toEqual(["ok"]);
  });
});

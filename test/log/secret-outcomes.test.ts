import pino from "pino";
import { Dispatcher } from "../../runner/execute/dispatcher.js";
import { strayError } from "../../runner/execute/inline-containment.js";
import { LOG_POLICY_DEFAULTS, type RunRecord, type RunRequest } from "../../runner/contracts/index.js";
import { FakeClock } from "../support/fake-clock.js";
import { jobDef } from "../support/job-def.js";
import { keptParams } from "../../runner/log/kept-params.js";
import { hideSecrets, secretsOf } from "../../runner/log/redaction.js";
import { expect, test } from "vitest";
import { createRunner } from "../../runner/index.js";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/memory-store.js";
import { tempProject } from "../support/temp-project.js";

// A value the manifest took from the environment reaches a handler in clear; what its run's
// error leaves in the record and in the runner's own log lines shows `${env:NAME}` instead
// (a result is what the handler chose to return: kept as returned), inline and in a thread, and for an error its
// code raised after the run ended (at the dispatcher, with a stand-in executor: in-process
// under the test runner a handler's frames are not its own module's, so the stack cannot
// name the job; test/execute/inline-faults.test.ts tries that part on the real CLI).

const SECRET = "tok-9f3a-very-secret";
const files = {
  "jobs.yaml": `version: 1
jobs:
  fails: { handler: jobs/fails.ts, params: { token: "\${env:UPSTREAM_TOKEN}" } }
  fails-thread: { handler: jobs/fails.ts, mode: thread, params: { token: "\${env:UPSTREAM_TOKEN}" } }
  returns: { handler: jobs/returns.ts, params: { token: "\${env:UPSTREAM_TOKEN}" } }
`,
  ".env": `UPSTREAM_TOKEN=${SECRET}\n`,
  "jobs/fails.ts": "export default (ctx) => { throw new Error(`GET https://api.example/?key=${ctx.params.token} answered 401`); };\n",
  "jobs/returns.ts": "export default (ctx) => ({ used: ctx.params.token, note: 'sent ' + ctx.params.token });\n",
};

test("errors and the runner's log lines of a job show ${env:NAME}, never the value; a result is kept as returned", async () => {
  using project = tempProject(files);
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
  const store = new MemoryStore({ logger: silentLogger() });
  const runner = createRunner({ manifest: project.path("jobs.yaml"), store, logger });
  try {
    await runner.start();
    const inline = await runner.invoke("fails");
    const thread = await runner.invoke("fails-thread");
    expect(inline.status).toBe("failed");
    expect(inline.error?.message).toBe("GET https://api.example/?key=${env:UPSTREAM_TOKEN} answered 401");
    expect(inline.error?.stack).toContain("${env:UPSTREAM_TOKEN}");
    expect(thread.status).toBe("failed");
    expect(thread.error?.message).toBe("GET https://api.example/?key=${env:UPSTREAM_TOKEN} answered 401");

    const returned = await runner.invoke("returns");
    expect(returned.result).toEqual({ used: SECRET, note: `sent ${SECRET}` });

    for (const job of ["fails", "fails-thread"]) {
      for (const record of await store.history({ job, limit: 10 })) expect(JSON.stringify(record), job).not.toContain(SECRET);
    }
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) expect(line).not.toContain(SECRET);
    expect((await store.history({ job: "returns", limit: 1 }))[0]?.params).toEqual({ token: "${env:UPSTREAM_TOKEN}" });
  } finally {
    await runner.stop();
  }
});

test("an error a run's code raises after it ended is recorded and logged with ${env:NAME}", async () => {
  const records: RunRecord[] = [];
  const lines: string[] = [];
  const requests: RunRequest[] = [];
  const executor = { run: (req: RunRequest) => (requests.push(req), Promise.resolve("returned")), close: async () => {} };
  const dispatcher = new Dispatcher({
    executors: { inline: executor, thread: executor },
    logger: pino({ level: "info" }, { write: (line: string) => void lines.push(line) }),
    clock: new FakeClock(),
    env: "test",
    onRecord: (r) => records.push(r),
  });
  const logs = { ...LOG_POLICY_DEFAULTS, secrets: [{ name: "UPSTREAM_TOKEN", value: SECRET }] };
  const ended = await dispatcher.invoke({ def: jobDef("leaver", { logs }), modulePath: "x" });
  expect(ended.status).toBe("ok");
  requests[0]!.strayAfterEnd!(strayError("leaver", new Error(`late ${SECRET}`)));
  expect(records.at(-1)).toMatchObject({ status: "failed", error: { code: "JOB_STRAY_ERROR", message: expect.stringContaining("late ${env:UPSTREAM_TOKEN}") } });
  expect(JSON.stringify(records)).not.toContain(SECRET);
  expect(lines.some((line) => line.includes("late ${env:UPSTREAM_TOKEN}"))).toBe(true);
  for (const line of lines) expect(line).not.toContain(SECRET);
});

test("a value from the environment is hidden inside strings only: numbers and the JSON around them stay as they were", () => {
  const logs = { ...LOG_POLICY_DEFAULTS, secrets: [{ name: "LIMIT", value: "1000" }] };
  expect(keptParams({ count: 10000, note: "limit 1000", list: [1000, "x1000y"] }, logs)).toEqual({
    count: 10000,
    note: "limit ${env:LIMIT}",
    list: [1000, "x${env:LIMIT}y"],
  });
  const line = JSON.stringify({ msg: "a \"quoted\" 1000", fields: { n: 21000, "1000": true } });
  expect(JSON.parse(hideSecrets(line, secretsOf(logs.secrets)))).toEqual({ msg: 'a "quoted" ${env:LIMIT}', fields: { n: 21000, "${env:LIMIT}": true } });
});

test("a value inside another (a user name inside a URL) leaves none of the longer one in clear", () => {
  const logs = { ...LOG_POLICY_DEFAULTS, secrets: [{ name: "DB_USER", value: "admin" }, { name: "DB_URL", value: "postgres://admin:s3cr3t@db" }] };
  expect(keptParams({ user: "admin", url: "postgres://admin:s3cr3t@db" }, logs)).toEqual({ user: "${env:DB_USER}", url: "${env:DB_URL}" });
});

import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { createRunner, type Runner } from "../../runner/index.js";
import type { RunRecord } from "../../runner/contracts/index.js";
import { repoRoot, tempProject, type TempProject } from "../support/temp-project.js";
import { silentLogger } from "../../runner/log/logger.js";

/** The example project's alert job, as shipped: the test runs that very file. */
const shipped = readFileSync(`${repoRoot}/jobs/alert-webhook.ts`, "utf8");

let project: TempProject | undefined;
let runner: Runner | undefined;
let server: Server | undefined;

afterEach(async () => {
  await runner?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await project?.[Symbol.asyncDispose]();
  [runner, server, project] = [undefined, undefined, undefined];
});

/** A real webhook on a free loopback port; `answer` decides what it does with each post. */
async function webhook(answer: (body: unknown, req: IncomingMessage, respond: (status: number) => void) => void): Promise<string> {
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => answer(JSON.parse(text), req, (status) => res.writeHead(status).end("ok")));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/B000`;
}

/** Starts the example alert job after a failing job, with ALERT_WEBHOOK_URL in `.env`; resolves with its ended run. */
async function alertAfterFailure(url: string, timeoutMs = 5000): Promise<{ upstream: RunRecord; alert: RunRecord }> {
  project = tempProject({
    "jobs/alert-webhook.ts": shipped,
    "jobs/export.ts": `export default () => { throw new Error("bucket not found"); };\n`,
    ".env": `ALERT_WEBHOOK_URL=${url}\n`,
    "jobs.yaml": `version: 1
jobs:
  export: { handler: jobs/export.ts }
  alert-webhook:
    handler: jobs/alert-webhook.ts
    after: { job: export, on: failure }
    params: { url: "\${env:ALERT_WEBHOOK_URL}", dashboard: "http://127.0.0.1:8080/", timeoutMs: ${timeoutMs} }
`,
  });
  runner = createRunner({ manifest: project.path("jobs.yaml"), env: "test", logger: silentLogger() });
  const alert = new Promise<RunRecord>((resolve) => runner!.on("record", (r) => r.job === "alert-webhook" && r.status !== "running" && resolve(r)));
  await runner.start();
  const upstream = await runner.invoke("export");
  return { upstream, alert: await alert };
}

test("alert-webhook posts the failed run as JSON with a Slack text field and a link to the run", async () => {
  const posts: Array<{ body: any; type: string | undefined; path: string | undefined }> = [];
  const url = await webhook((body, req, respond) => {
    posts.push({ body, type: req.headers["content-type"], path: req.url });
    respond(200);
  });
  const { upstream, alert } = await alertAfterFailure(url);
  expect(alert).toMatchObject({ status: "ok", result: { sent: true, status: 200 }, trigger: "after", upstreamRunId: upstream.runId });
  expect(posts).toHaveLength(1);
  const link = `http://127.0.0.1:8080/#job=export&run=${upstream.runId}`;
  expect(posts[0]).toMatchObject({ type: "application/json", path: "/hooks/T000/B000" });
  expect(posts[0]!.body).toMatchObject({ job: "export", runId: upstream.runId, status: "failed", error: { message: "bucket not found" }, link });
  expect(posts[0]!.body.text).toContain(`export failed: bucket not found`);
  expect(posts[0]!.body.text).toContain(upstream.runId);
  expect(posts[0]!.body.text).toContain(link);
});

test("a webhook that does not answer fails the alert run at its timeout; an error status fails it too", async () => {
  const silent = await webhook(() => undefined);
  const { alert } = await alertAfterFailure(silent, 300);
  expect(alert.status).toBe("failed");
  expect(alert.error?.message).toMatch(/timeout/i);
  await runner!.stop();
  server!.closeAllConnections();
  await new Promise((resolve) => server!.close(resolve));
  await project![Symbol.asyncDispose]();

  const refusing = await webhook((_body, _req, respond) => respond(500));
  const second = await alertAfterFailure(refusing);
  expect(second.alert).toMatchObject({ status: "failed", error: { message: expect.stringContaining("the webhook answered 500") } });
});

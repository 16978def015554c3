import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ManifestError } from "../../runner/errors.js";
import { startHttpServer } from "../../runner/http/index.js";
import { createRunner } from "../../runner/index.js";
import { loadManifest } from "../../runner/manifest/index.js";
import { manifestEnv } from "../../runner/manifest/env-values.js";
import { specHashOf } from "../../runner/manifest/spec-hash.js";
import { openSqliteStore } from "../../runner/store/index.js";
import { capturingLogger } from "../http/helpers.js";
import { runCli } from "../support/cli.js";
import { waitFor } from "../support/poll.js";
import { okHandler, tempProject } from "../support/temp-project.js";

const SECRET = "hunter2-s3cr3t-token";

describe("${env:NAME} in the manifest", () => {
  test("resolves in any string, from the environment over .env, with defaults; shown fields keep the reference", () => {
    using project = tempProject({
      "jobs/ok.ts": okHandler,
      ".env": `API_TOKEN=${SECRET}\nREGION=from-dotenv\nQUOTED="two words"\n`,
      "jobs.yaml": `version: 1
defaults:
  timeout: \${env:DEFAULT_TIMEOUT:-30s}
jobs:
  sync:
    description: Syncs with \${env:API_TOKEN}
    handler: jobs/ok.ts
    schedule: { every: "\${env:EVERY:-5m}" }
    params: { token: "Bearer \${env:API_TOKEN}", region: "\${env:REGION}", words: "\${env:QUOTED}", list: ["\${env:REGION}-a"] }
`,
    });
    const manifest = loadManifest(project.path("jobs.yaml"), { env: "test", envSource: manifestEnv(project.dir, { REGION: "from-process" }) });
    const [sync] = manifest.jobs;
    expect(sync!.params).toEqual({ token: `Bearer ${SECRET}`, region: "from-process", words: "two words", list: ["from-process-a"] });
    expect(sync!.timeoutMs).toBe(30_000);
    expect(sync!.schedule).toEqual({ kind: "every", everyMs: 300_000 });
    // What list and the dashboard show, and the hash a shared store keeps, are of the text as written.
    expect(sync!.description).toBe("Syncs with ${env:API_TOKEN}");
    expect(sync!.scheduleSource).toEqual({ every: "${env:EVERY:-5m}" });
    expect(specHashOf(sync!)).toBe(specHashOf(loadManifest(project.path("jobs.yaml"), { env: "test", envSource: manifestEnv(project.dir, { API_TOKEN: "another" }) }).jobs[0]!));
  });

  test("an unset variable without a default is a problem at the reference; a value in a problem prints as its reference", () => {
    using project = tempProject({
      "jobs/ok.ts": okHandler,
      "jobs.yaml": `version: 1
jobs:
  a:
    handler: jobs/ok.ts
    params: { url: "https://x.test/?key=\${env:MISSING_KEY}" }
  b:
    handler: jobs/ok.ts
    timeout: \${env:BAD_TIMEOUT}
`,
    });
    let problems: string[] = [];
    try {
      loadManifest(project.path("jobs.yaml"), { env: "test", displayPath: () => "jobs.yaml", envSource: manifestEnv(project.dir, { BAD_TIMEOUT: "soon-secret-value" }) });
    } catch (err) {
      problems = (err as ManifestError).problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
    }
    expect(problems).toEqual([
      "jobs.yaml:5:41: jobs.a.params.url: ${env:MISSING_KEY} is not set: set MISSING_KEY in the environment or in .env next to the manifest, or give a default: ${env:MISSING_KEY:-value}",
      'jobs.yaml:8:14: jobs.b.timeout must be a duration like 500ms, 30s, 5m, 1h, 1d or a number of milliseconds (got "${env:BAD_TIMEOUT}")',
    ]);
  });

  test("a resolved value is absent from list --json, the logs, the store and the dashboard", async () => {
    await using project = tempProject({
      "jobs/use.ts": `export default (ctx) => ({ length: ctx.params.token.length });\n`,
      "jobs/fails.ts": `export default () => { throw new Error("refused"); };\n`,
      ".env": `API_TOKEN=${SECRET}\n`,
      "jobs.yaml": `version: 1
jobs:
  use:
    description: Calls the API with \${env:API_TOKEN}
    handler: jobs/use.ts
    schedule: { every: 1h }
    params: { token: "\${env:API_TOKEN}" }
  fails:
    handler: jobs/fails.ts
    params: { token: "\${env:API_TOKEN}" }
    after: use
`,
    });
    const list = runCli(["list", "--json", "--store", "memory"], { cwd: project.dir });
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout)[0]).toMatchObject({ description: "Calls the API with ${env:API_TOKEN}" });
    expect(list.stdout + list.stderr).not.toContain(SECRET);

    const storeFile = project.path(".runlet/runs.db");
    const { logger, text } = capturingLogger();
    const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "test", logger, store: await openSqliteStore(storeFile, { logger }) });
    const fails = new Promise<void>((resolve) => runner.on("record", (r) => r.job === "fails" && r.status === "failed" && resolve()));
    await runner.start();
    const server = await startHttpServer({ runner, port: 0, logger });
    try {
      expect((await runner.invoke("use")).result).toEqual({ length: SECRET.length });
      await fails;
      const pages = await Promise.all(["/", "/api/jobs", "/api/jobs/use/runs", "/api/runs"].map(async (path) => (await fetch(server.url + path)).text()));
      expect(pages[1]).toContain("Calls the API with ${env:API_TOKEN}");
      // The dashboard's job list reads the after edge where a schedule would be.
      expect((JSON.parse(pages[1]!) as Array<{ name: string; human: string }>).find((j) => j.name === "fails")!.human).toBe("after: use (success)");
      for (const page of pages) expect(page).not.toContain(SECRET);
    } finally {
      await server.close();
      await runner.stop();
    }
    expect(text()).toContain('"job":"fails"');
    expect(text()).not.toContain(SECRET);
    // Every file the store wrote (the database and its write-ahead log), as bytes.
    const stored = readdirSync(project.path(".runlet"), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => readFileSync(join(entry.parentPath, entry.name)).toString("latin1"));
    expect(stored.join("")).toContain("refused");
    expect(stored.join("")).not.toContain(SECRET);
  });
});

test("an edit of .env takes effect on SIGHUP", async () => {
  const { startCli } = await import("../support/cli.js");
  await using project = tempProject({
    "jobs/greet.ts": `export default (ctx) => ctx.params.greeting;\n`,
    ".env": "GREETING=hello\n",
    "jobs.yaml": `version: 1\njobs:\n  greet:\n    handler: jobs/greet.ts\n    schedule: { every: 250ms }\n    params: { greeting: "\${env:GREETING}" }\n`,
  });
  const store = project.path("runs.db");
  const cli = startCli(["start", "--store", store], { cwd: project.dir });
  /** The newest result in the store, polled (the runner is another process). */
  const newest = () => {
    const out = runCli(["history", "greet", "--json", "--limit", "1", "--store", store], { cwd: project.dir });
    return out.status === 0 ? (JSON.parse(out.stdout) as Array<{ result: unknown }>)[0]?.result : undefined;
  };
  const until = (value: string) => waitFor(newest, { until: (result) => result === value, timeoutMs: 20_000, everyMs: 100, what: `a run returning ${value}` });
  try {
    await until("hello");
    project.write(".env", "GREETING=goodbye\n");
    cli.child.kill("SIGHUP");
    await until("goodbye");
  } finally {
    cli.child.kill("SIGTERM");
    await cli.exited;
  }
});

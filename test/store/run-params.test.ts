import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { createRunner } from "../../runner/index.js";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/memory-store.js";
import { migrations as sqliteMigrations } from "../../runner/store/sqlite-schema.js";
import { openSqliteStore } from "../../runner/store/sqlite-store.js";
import { migrations as pgMigrations } from "../../runner/store/postgres/pg-schema.js";
import { openPostgresStore } from "../../runner/store/postgres/postgres-store.js";
import type { RunStore } from "../../runner/store/run-store.js";
import { testSchema, type TestSchema } from "../replicas/pg-support.js";
import { tempProject } from "../support/temp-project.js";
import { aRun, tempDir } from "./helpers.js";

const MANIFEST = `version: 1
defaults:
  logs: { redact: [password, "*.token"] }
jobs:
  echo: { handler: jobs/echo.ts, params: { region: eu, apiKey: "\${env:BILLING_KEY}" } }
  plain: { handler: jobs/echo.ts }
  flaky: { handler: jobs/flaky.ts, retries: { max: 2, delay: 1ms } }
`;
const SECRET = "sk-live-4242-secret";
const files = {
  // Says whether it got the secret in clear, without returning it (results are kept as returned).
  "jobs/echo.ts": 'export default async (ctx) => ({ clear: JSON.stringify(ctx.params).includes("sk-live-4242"), password: ctx.params.password ?? null });\n',
  "jobs.yaml": MANIFEST,
  ".env": `BILLING_KEY=${SECRET}\n`,
  "jobs/flaky.ts": 'export default async (ctx) => { if (ctx.attempt < 3) throw new Error("try " + ctx.attempt + " failed"); return "third time"; };\n',
};

const schemas: TestSchema[] = [];
afterAll(async () => {
  for (const schema of schemas) await schema.drop();
});

const stores: Array<[string, (dir: string) => Promise<RunStore>]> = [
  ["memory", async () => new MemoryStore({ logger: silentLogger() })],
  ["sqlite", (dir) => openSqliteStore(join(dir, ".runlet", "runs.db"), { logger: silentLogger() })],
  [
    "postgres",
    async () => {
      const schema = await testSchema();
      schemas.push(schema);
      return openPostgresStore(schema.url(), { logger: silentLogger() });
    },
  ],
];

describe.each(stores)("%s store: a run's params are kept with its record", (_name, open) => {
  test("an invoke's own params and a job's manifest params, hidden as log lines are; read back by id and in history", async () => {
    using project = tempProject(files);
    const store = await open(project.dir);
    const runner = createRunner({ manifest: project.path("jobs.yaml"), store, logger: silentLogger() });
    try {
      const own = await runner.invoke("plain", { n: 1, password: "hunter2", db: { token: "t0k3n", host: "db1" }, echo: SECRET });
      // The handler got them in clear; the record keeps them hidden.
      expect(own.result).toEqual({ clear: true, password: "hunter2" });
      const manifest = await runner.invoke("echo");
      expect(manifest.result).toEqual({ clear: true, password: null });

      expect((await store.findRun(own.runId))!.params).toEqual({ n: 1, password: "[Redacted]", db: { token: "[Redacted]", host: "db1" }, echo: "${env:BILLING_KEY}" });
      expect((await store.findRun(manifest.runId))!.params).toEqual({ region: "eu", apiKey: "${env:BILLING_KEY}" });
      const history = await store.history({ limit: 10 });
      expect(history.map((r) => r.params)).toEqual([{ region: "eu", apiKey: "${env:BILLING_KEY}" }, expect.objectContaining({ n: 1 })]);
      expect(JSON.stringify(history.map((r) => r.params))).not.toMatch(/hunter2|t0k3n|sk-live/);
      // The records listeners hear carry the same kept params (the event stream, the API).
      expect(own.params).toEqual((await store.findRun(own.runId))!.params);
    } finally {
      await runner.stop();
    }
  });
});

describe.each(stores)("%s store: the tries of a run that may be retried are kept with it", (_name, open) => {
  test("each try's times, status and error, oldest first; a run of a job without retries keeps none", async () => {
    using project = tempProject(files);
    const store = await open(project.dir);
    const runner = createRunner({ manifest: project.path("jobs.yaml"), store, logger: silentLogger() });
    try {
      const run = await runner.invoke("flaky");
      expect(run).toMatchObject({ status: "ok", attempt: 3 });
      const kept = (await store.findRun(run.runId))!;
      expect(kept.attempts).toEqual([
        { attempt: 1, startedAt: expect.any(String), finishedAt: expect.any(String), status: "failed", error: { message: "try 1 failed", code: "JOB_FAILED" } },
        { attempt: 2, startedAt: expect.any(String), finishedAt: expect.any(String), status: "failed", error: { message: "try 2 failed", code: "JOB_FAILED" } },
        { attempt: 3, startedAt: expect.any(String), finishedAt: kept.finishedAt, status: "ok", error: null },
      ]);
      const times = kept.attempts!.flatMap((a) => [Date.parse(a.startedAt!), Date.parse(a.finishedAt!)]);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(kept.attempts![0]!.startedAt).toBe(kept.startedAt);
      const single = await runner.invoke("plain");
      expect(await store.findRun(single.runId)).not.toHaveProperty("attempts");
    } finally {
      await runner.stop();
    }
  });
});

describe("an older database opens and keeps its runs (they read without params)", () => {
  test("SQLite: a file at schema version 3 is migrated; its run reads back, new runs keep params", async () => {
    using dir = tempDir();
    const file = join(dir.dir, "runs.db");
    const db = new Database(file);
    for (const step of sqliteMigrations.filter((m) => m.version <= 3)) {
      db.exec(step.sql);
      db.pragma(`user_version = ${step.version}`);
    }
    db.prepare("INSERT INTO runs (run_id, job, status, scheduled_at, attempt, result) VALUES ('old-run', 'echo', 'ok', '2030-01-01T00:00:00.000Z', 1, 'null')").run();
    db.close();

    const store = await openSqliteStore(file, { logger: silentLogger() });
    try {
      await expectMigrated(store);
    } finally {
      await store.close();
    }
  });

  test("PostgreSQL: a schema at version 2 is migrated; its run reads back, new runs keep params", async () => {
    const schema = await testSchema();
    schemas.push(schema);
    const client = new pg.Client({ connectionString: schema.url() });
    await client.connect();
    try {
      const s = `"${schema.name}"`;
      await client.query(`CREATE SCHEMA ${s}; CREATE TABLE ${s}.schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const step of pgMigrations.filter((m) => m.version <= 2)) {
        await client.query(step.sql.replaceAll("{s}", s));
        await client.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [step.version]);
      }
      await client.query(`INSERT INTO ${s}.runs (run_id, job, status, scheduled_at, attempt) VALUES ('old-run', 'echo', 'ok', '2030-01-01T00:00:00Z', 1)`);
    } finally {
      await client.end();
    }
    const store = await openPostgresStore(schema.url(), { logger: silentLogger() });
    try {
      await expectMigrated(store);
      expect((await schema.query<{ v: number }>(`SELECT max(version) AS v FROM "${schema.name}".schema_migrations`))[0]!.v).toBe(pgMigrations.at(-1)!.version);
    } finally {
      await store.close();
    }
  });
});

/** A migrated store: the run written before the migration reads back without params; a new run keeps its own. */
async function expectMigrated(store: RunStore): Promise<void> {
  const old = await store.findRun("old-run");
  expect(old).toMatchObject({ runId: "old-run", status: "ok" });
  expect(old).not.toHaveProperty("params");
  const run = aRun("echo", 5, { params: { region: "eu" } });
  await store.record(run);
  expect((await store.findRun(run.runId))!.params).toEqual({ region: "eu" });
}

import { randomBytes } from "node:crypto";
import pg from "pg";
import { startCli, type CliProcess } from "../support/cli.js";

/**
 * The PostgreSQL server the replica tests use: $RUNLET_TEST_PG_URL, by default the local
 * one (`postgres://postgres@127.0.0.1:5432/postgres`, trust auth; see .ci/run). Each suite
 * creates a database of its own there and drops it after; nothing else on the server is
 * touched. Tests that cut the database use a private server (test/support/private-postgres.ts).
 */
export const PG_SERVER = process.env.RUNLET_TEST_PG_URL || "postgres://postgres@127.0.0.1:5432/postgres";

/** A database of its own per suite (schema of the same name), dropped after; `url` names it with a short lease for quick takeovers. */
export interface TestSchema {
  name: string;
  /** The app name the suite's runners connect with, so a test can find exactly their sessions. */
  app: string;
  url(params?: Record<string, string>): string;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** Creates the database `runlet_test_<random>` on `server` (default {@link PG_SERVER}). */
export async function testSchema(server = PG_SERVER): Promise<TestSchema> {
  const name = `runlet_test_${randomBytes(4).toString("hex")}`;
  const app = `runlet-${name}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const base = new URL(server);
  base.pathname = `/${name}`;
  base.search = "";
  const pool = new pg.Pool({ connectionString: base.toString(), max: 2 });
  pool.on("error", () => undefined /* an outage test cuts the server; the next query reconnects */);
  return {
    name,
    app,
    url: (params = {}) => `${base}?${new URLSearchParams({ schema: name, application_name: app, lease: "2s", reap: "500ms", ...params })}`,
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async drop() {
      await pool.end();
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** `runlet start` on `store` in `dir`, resolved once its runner tells it started (its `started` event, logged as `event`). */
export async function startReplica(dir: string, store: string, extra: string[] = []): Promise<CliProcess> {
  const cli = startCli(["start", "--store", store, "--grace", "1s", ...extra], { cwd: dir });
  await cli.waitForLog((e) => e.event === "started", 20_000);
  return cli;
}

/** SIGTERM, then the exit code (SIGKILL after 10 s). */
export async function stopReplica(cli: CliProcess): Promise<number | null> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return cli.child.exitCode;
  cli.child.kill("SIGTERM");
  const timer = setTimeout(() => cli.child.kill("SIGKILL"), 10_000);
  const code = await cli.exited;
  clearTimeout(timer);
  return code;
}

export function logEntries(cli: CliProcess): Array<Record<string, unknown>> {
  return cli.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

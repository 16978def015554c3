import { randomBytes } from "node:crypto";
import pg from "pg";
import { startCli, type CliProcess } from "../support/cli.js";

/** The local PostgreSQL the replica tests use (trust auth; see .ci/run). */
export const PG_BASE = "postgres://postgres@127.0.0.1:5432/test";

/** A schema of its own per suite, dropped after; `url` names it and a short lease for quick takeovers. */
export interface TestSchema {
  name: string;
  /** The app name the suite's runners connect with, so a test can kill exactly their sessions. */
  app: string;
  url(params?: Record<string, string>): string;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function testSchema(): Promise<TestSchema> {
  const name = `runlet_test_${randomBytes(4).toString("hex")}`;
  const app = `runlet-${name}`;
  const pool = new pg.Pool({ connectionString: PG_BASE, max: 2 });
  pool.on("error", () => undefined /* the restart test kills every session; the next query reconnects */);
  return {
    name,
    app,
    url: (params = {}) => `${PG_BASE}?${new URLSearchParams({ schema: name, application_name: app, lease: "2s", reap: "500ms", ...params })}`,
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await pool.end();
    },
  };
}

/** `runlet start` on `store` in `dir`, resolved once it logged "runner started". */
export async function startReplica(dir: string, store: string, extra: string[] = []): Promise<CliProcess> {
  const cli = startCli(["start", "--store", store, "--grace", "1s", ...extra], { cwd: dir });
  await cli.waitForLog((e) => e.msg === "runner started", 20_000);
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

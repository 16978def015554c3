import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "../../runner/log/logger.js";
import { silentLogger } from "../../runner/log/logger.js";
import { startHttpServer, type HttpServer, type HttpServerOptions, type RunnerView } from "../../runner/http/index.js";
import { createRunner, type Runner } from "../../runner/runner.js";
import { tempProject, type TempProject } from "../support/temp-project.js";

export const TOKEN = "test-token-3f9c";

/** Handlers the HTTP tests run: one that echoes its params, one that throws. */
export const handlers = {
  "jobs/echo.ts": "export default async (ctx: { params: unknown }) => ({ echoed: ctx.params });\n",
  "jobs/fails.ts": 'export default async () => { throw new Error("boom from the handler"); };\n',
};

export const manifest = `version: 1
jobs:
  echo:
    description: Echoes its params
    handler: jobs/echo.ts
    params: { greeting: hi }
  fails:
    handler: jobs/fails.ts
  nightly:
    description: Runs at three
    handler: jobs/echo.ts
    schedule: "0 3 * * *"
    timezone: UTC
`;

export interface Stack {
  project: TempProject;
  runner: Runner;
  server: HttpServer;
  url: string;
  /** Log lines written by the server's logger, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** The same, as written. */
  logText(): string;
  close(): Promise<void>;
}

/** A logger that keeps its JSON lines, to assert on what was (and was not) logged. */
export function capturingLogger(): { logger: Logger; logs: () => Array<Record<string, unknown>>; text: () => string } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      raw.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: "debug" }, stream);
  const text = () => raw.join("");
  const logs = () =>
    text()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, logs, text };
}

/**
 * A real project on disk, a real runner started on it and the HTTP server in front of it,
 * on an ephemeral loopback port.
 */
export async function startStack(options: { files?: Record<string, string>; yaml?: string; server?: Partial<HttpServerOptions> } = {}): Promise<Stack> {
  const project = tempProject({ ...handlers, ...options.files, "jobs.yaml": options.yaml ?? manifest });
  // A short grace: a test that fails with a run in flight should not then wait 30 s to stop.
  const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "test", logger: silentLogger(), shutdownGraceMs: 2000 });
  const { logger, logs, text } = capturingLogger();
  try {
    await runner.start();
    const view: RunnerView = runner;
    const server = await startHttpServer({ runner: view, port: 0, logger, ...options.server });
    return {
      project,
      runner,
      server,
      url: server.url,
      logs,
      logText: text,
      async close() {
        await server.close();
        await runner.stop();
        await project[Symbol.asyncDispose]();
      },
    };
  } catch (err) {
    await runner.stop();
    await project[Symbol.asyncDispose]();
    throw err;
  }
}

/** A JSON request; returns the status, headers and parsed body. */
export async function request(url: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set("content-type", "application/json");
  const res = await fetch(url, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get("content-type") ?? "").startsWith("application/json")) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body };
}

export const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

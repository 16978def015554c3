import { request as httpRequest } from "node:http";
import { hostname } from "node:os";
import { afterEach, describe, expect, test } from "vitest";
import { RunletError } from "../../runner/errors.js";
import { runCli, startCli } from "../support/cli.js";
import { okHandler, tempProject } from "../support/temp-project.js";
import { bearer, startStack, TOKEN, type Stack } from "./helpers.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** A GET through node:http, which (unlike fetch) lets a test choose the Host header. */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers, setHost: !("host" in headers) }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => {
        // An event stream that was let in: the headers are what the test needs.
        resolve({ status: res.statusCode ?? 0, body: (res.headers["content-type"] ?? "").startsWith("application/json") ? JSON.parse(text) : text });
      });
    });
    req.on("error", reject);
    req.on("response", (res) => {
      if (res.headers["content-type"]?.startsWith("text/event-stream")) {
        resolve({ status: res.statusCode ?? 0, body: null });
        req.destroy();
      }
    });
    req.end();
  });
}

const readRoutes = ["/api/jobs", "/api/jobs/echo/runs", "/api/events"];

describe("served off loopback (--host 0.0.0.0)", () => {
  test("every /api route needs the token, reads included; probes and metrics do not", async () => {
    stack = await startStack({ server: { host: "0.0.0.0", token: TOKEN } });
    const port = stack.server.port;
    for (const path of readRoutes) {
      const refused = await get(port, path);
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe("UNAUTHORIZED");
      expect((await get(port, path, bearer("wrong-token"))).status).toBe(401);
      expect((await get(port, path, bearer())).status).toBe(200);
    }
    for (const path of ["/healthz", "/metrics"]) expect((await get(port, path)).status).toBe(200);
  });

  test("a Host not on the allowed list is refused (DNS rebinding), whatever the token", async () => {
    stack = await startStack({ server: { host: "0.0.0.0", token: TOKEN } });
    const port = stack.server.port;
    for (const host of [`attacker.example:${port}`, "attacker.example", `evil.${hostname()}`]) {
      const refused = await get(port, "/api/jobs", { ...bearer(), host });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("HOST_NOT_ALLOWED");
      expect(refused.body.error.message).toContain("RUNLET_ALLOWED_HOSTS");
    }
    // The bound address's names are allowed by default.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, hostname(), `${hostname().toUpperCase()}.`]) {
      expect((await get(port, "/api/jobs", { ...bearer(), host })).status).toBe(200);
    }
  });

  test("RUNLET_ALLOWED_HOSTS replaces the default list; * allows any name", async () => {
    stack = await startStack({ server: { host: "0.0.0.0", token: TOKEN, allowedHosts: "runlet.internal, jobs.example.com" } });
    let port = stack.server.port;
    expect((await get(port, "/api/jobs", { ...bearer(), host: `runlet.internal:${port}` })).status).toBe(200);
    expect((await get(port, "/api/jobs", { ...bearer(), host: "JOBS.example.com" })).status).toBe(200);
    expect((await get(port, "/api/jobs", { ...bearer(), host: `127.0.0.1:${port}` })).status).toBe(403);
    await stack.close();

    stack = await startStack({ server: { host: "0.0.0.0", token: TOKEN, allowedHosts: "*" } });
    port = stack.server.port;
    expect((await get(port, "/api/jobs", { ...bearer(), host: "anything.example" })).status).toBe(200);
    expect((await get(port, "/api/jobs", { host: "anything.example" })).status).toBe(401);
  });

  test("without a token the server refuses to start, unless insecure (then reads are open, changes refused)", async () => {
    await expect(startStack({ server: { host: "0.0.0.0" } })).rejects.toSatisfy((err) => err instanceof RunletError && err.code === "BAD_INPUT" && /--insecure/.test(err.message));
    stack = await startStack({ server: { host: "0.0.0.0", insecure: true } });
    const port = stack.server.port;
    expect((await get(port, "/api/jobs")).status).toBe(200);
    expect((await get(port, "/api/jobs", { host: "attacker.example" })).status).toBe(403);
    const invoke = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, path: "/api/jobs/echo/invoke", method: "POST" }, (res) => resolve(res.statusCode ?? 0));
      req.on("error", reject);
      req.end();
    });
    expect(invoke).toBe(403);
  });
});

describe("served on loopback (the default)", () => {
  test("reads need no token and the Host check is the loopback one", async () => {
    stack = await startStack({ server: { token: TOKEN } });
    const port = stack.server.port;
    for (const path of readRoutes) expect((await get(port, path)).status).toBe(200);
    expect((await get(port, "/api/jobs", { host: `localhost:${port}` })).status).toBe(200);
    const rebound = await get(port, "/api/jobs", { host: "attacker.example" });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error.code).toBe("HOST_NOT_ALLOWED");
  });
});

describe("`runlet start` off loopback", () => {
  const files = { "jobs/ok.ts": okHandler, "jobs.yaml": "version: 1\njobs:\n  ok:\n    handler: jobs/ok.ts\n" };
  const env = { RUNLET_TOKEN: "", RUNLET_PORT: "" };

  test("without RUNLET_TOKEN exits 2 before starting anything, naming --insecure", () => {
    using project = tempProject(files);
    const { status, stderr } = runCli(["start", "--port", "0", "--host", "0.0.0.0", "--store", "memory"], { cwd: project.dir, env });
    expect(stderr).toContain("not loopback, without a token");
    expect(stderr).toContain("--insecure");
    expect(status).toBe(2);
  });

  test("with --insecure it serves, and stops cleanly", async () => {
    using project = tempProject(files);
    const cli = startCli(["start", "--port", "0", "--host", "0.0.0.0", "--insecure", "--store", "memory"], { cwd: project.dir, env });
    try {
      const listening = await cli.waitForLog((entry) => entry.event === "http-listening");
      expect(listening.auth).toMatch(/^none/);
      const port = Number(new URL(listening.url as string).port);
      expect((await get(port, "/api/jobs")).status).toBe(200);
    } finally {
      cli.child.kill("SIGTERM");
    }
    expect(await cli.exited).toBe(0);
  });
});

import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, test, vi } from "vitest";
import { RunletError } from "../../runner/errors.js";
import { startHttpServer } from "../../runner/http/index.js";
import { silentLogger } from "../../runner/log/logger.js";
import { bearer, capturingLogger, request, startStack, TOKEN, type Stack } from "./helpers.js";
import { parseExposition, sample } from "./exposition.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** A request with a Host header of our choosing (fetch does not let a caller set it). */
function withHost(url: string, host: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("probes", () => {
  test("GET /healthz is 200 {status: ok}; HEAD too, with no body", async () => {
    stack = await startStack();
    expect(await request(`${stack.url}/healthz`)).toMatchObject({ status: 200, body: { status: "ok" } });
    const head = await fetch(`${stack.url}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test("GET /readyz is 200 with a manifest loaded and the store reachable, 503 with the reasons when not", async () => {
    stack = await startStack();
    expect(await request(`${stack.url}/readyz`)).toMatchObject({ status: 200, body: { status: "ready", reasons: [] } });
    await stack.runner.store.close();
    const down = await request(`${stack.url}/readyz`);
    expect(down.status).toBe(503);
    expect(down.body.reasons).toEqual([expect.stringContaining("store unreachable")]);
    expect(down.body.error.code).toBe("NOT_READY");
  });
});

describe("routing", () => {
  test("an unknown route is 404 NOT_FOUND in JSON", async () => {
    stack = await startStack();
    for (const path of ["/nope", "/api/jobs/", "/api/jobs/echo", "/api/jobs/echo/runs/extra", "/healthz/"]) {
      const res = await request(`${stack.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe("NOT_FOUND");
    }
  });

  test("a known route with the wrong method is 405 with Allow", async () => {
    stack = await startStack({ server: { token: TOKEN } });
    const post = await request(`${stack.url}/healthz`, { method: "POST", headers: bearer() });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(post.body.error.code).toBe("METHOD_NOT_ALLOWED");
    const get = await request(`${stack.url}/api/jobs/echo/invoke`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await request(`${stack.url}/api/jobs`, { method: "DELETE" })).status).toBe(405);
    const head = await fetch(`${stack.url}/api/events`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  });
});

describe("binding", () => {
  test("binds to 127.0.0.1 by default", async () => {
    stack = await startStack();
    expect(stack.server.host).toBe("127.0.0.1");
    expect(stack.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.server.port).toBeGreaterThan(0);
  });

  test("on loopback, a request for another host name (DNS rebinding) is 403 HOST_NOT_ALLOWED", async () => {
    stack = await startStack();
    const port = stack.server.port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "app.localhost"]) {
      expect((await withHost(`${stack.url}/healthz`, host)).status, host).toBe(200);
    }
    const evil = await withHost(`${stack.url}/api/jobs`, `attacker.example:${port}`);
    expect(evil).toMatchObject({ status: 403, body: { error: { code: "HOST_NOT_ALLOWED" } } });
  });

  test("warns when bound beyond loopback with no token (--insecure), not when a token is set", async () => {
    stack = await startStack();
    for (const token of [undefined, TOKEN]) {
      const { logger, logs } = capturingLogger();
      const server = await startHttpServer({ runner: stack.runner, port: 0, host: "0.0.0.0", logger, ...(token ? { token } : { insecure: true }), allowedHosts: "runner.internal" });
      try {
        const warnings = logs().filter((l) => l.level === 40);
        if (token) expect(warnings).toEqual([]);
        else expect(warnings).toEqual([expect.objectContaining({ host: "0.0.0.0", msg: expect.stringContaining("not loopback, with no token (--insecure)") })]);
        // Beyond loopback, the Host names allowed are served.
        expect((await withHost(`http://127.0.0.1:${server.port}/healthz`, "runner.internal")).status).toBe(200);
        expect((await withHost(`http://127.0.0.1:${server.port}/healthz`, "other.internal")).status).toBe(403);
      } finally {
        await server.close();
      }
    }
  });

  test("a port in use is a RunletError that says which", async () => {
    stack = await startStack();
    const second = startHttpServer({ runner: stack.runner, port: stack.server.port, logger: silentLogger() });
    await expect(second).rejects.toBeInstanceOf(RunletError);
    await expect(second).rejects.toThrow(`127.0.0.1:${stack.server.port}`);
    expect(stack.runner.listenerCount("record")).toBe(1);
  });

  test("close() ends open event streams and can be called twice", async () => {
    // A grace longer than the test: only ending the streams themselves lets close() finish in time.
    stack = await startStack({ server: { closeGraceMs: 120_000 } });
    const res = await fetch(`${stack.url}/api/events`);
    const reader = res.body!.getReader();
    await reader.read();
    await Promise.all([stack.server.close(), stack.server.close()]);
    for (;;) if ((await reader.read()).done) break;
    await expect(fetch(`${stack.url}/healthz`)).rejects.toThrow();
  });
});

describe("GET /metrics", () => {
  test("Prometheus text: runs by job and status, durations, last success, in flight, reloads, process metrics", async () => {
    stack = await startStack({ server: { token: TOKEN } });
    const before = parseExposition(await (await fetch(`${stack.url}/metrics`)).text());
    expect(sample(before, "runlet_runs_total", { job: "echo", status: "ok" })).toBeUndefined();
    expect(sample(before, "runlet_reloads_total", { result: "ok" })).toBe(0);
    expect(sample(before, "runlet_reloads_total", { result: "error" })).toBe(0);

    const began = Date.now() / 1000;
    await request(`${stack.url}/api/jobs/echo/invoke`, { method: "POST", headers: bearer() });
    await request(`${stack.url}/api/jobs/echo/invoke`, { method: "POST", headers: bearer() });
    await request(`${stack.url}/api/jobs/fails/invoke`, { method: "POST", headers: bearer() });
    await stack.runner.reload();
    stack.project.write("jobs.yaml", "version: 1\njobs:\n  broken:\n    handler: jobs/missing.ts\n");
    await stack.runner.reload();

    const res = await fetch(`${stack.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parseExposition(await res.text());
    expect(sample(m, "runlet_runs_total", { job: "echo", status: "ok" })).toBe(2);
    expect(sample(m, "runlet_runs_total", { job: "fails", status: "failed" })).toBe(1);
    expect(sample(m, "runlet_run_duration_seconds_count", { job: "echo" })).toBe(2);
    expect(sample(m, "runlet_run_duration_seconds_bucket", { job: "echo", le: "+Inf" })).toBe(2);
    expect(sample(m, "runlet_run_duration_seconds_count", { job: "fails" })).toBe(1);
    const lastOk = sample(m, "runlet_last_success_timestamp_seconds", { job: "echo" })!;
    expect(lastOk).toBeGreaterThanOrEqual(Math.floor(began));
    expect(lastOk).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(sample(m, "runlet_last_success_timestamp_seconds", { job: "fails" })).toBeUndefined();
    expect(sample(m, "runlet_runs_in_flight", {})).toBe(0);
    expect(sample(m, "runlet_reloads_total", { result: "ok" })).toBe(1);
    expect(sample(m, "runlet_reloads_total", { result: "error" })).toBe(1);
    expect(sample(m, "runlet_fire_lateness_seconds_count", {})).toBe(0);
    expect(m.types.get("runlet_run_duration_seconds")).toBe("histogram");
    expect(m.types.get("runlet_runs_in_flight")).toBe("gauge");
    expect(sample(m, "process_cpu_user_seconds_total", {})).toBeGreaterThan(0);
    expect(m.types.get("nodejs_eventloop_lag_seconds")).toBe("gauge");
  });

  test("fire lateness is observed for scheduled runs, and runs in flight counts a run going on", async () => {
    stack = await startStack({
      // Inline handlers share this process's globals: the test ends the run when it has looked.
      files: { "jobs/slow.ts": "export default () => new Promise((r) => { (globalThis as any).releaseSlowRun = r; });\n" },
      yaml: "version: 1\njobs:\n  tick:\n    handler: jobs/echo.ts\n    schedule: { every: 1s }\n  slow:\n    handler: jobs/slow.ts\n",
    });
    const firstFire = new Promise<void>((resolve) =>
      stack!.runner.on("record", (r) => {
        if (r.job === "tick" && r.status === "ok") resolve();
      }),
    );
    await firstFire;
    const handle = globalThis as { releaseSlowRun?: () => void };
    delete handle.releaseSlowRun;
    const slow = stack.runner.invoke("slow");
    await vi.waitFor(() => expect(handle.releaseSlowRun).toBeTypeOf("function"));
    const m = parseExposition(await (await fetch(`${stack.url}/metrics`)).text());
    expect(sample(m, "runlet_fire_lateness_seconds_count", {})).toBeGreaterThanOrEqual(1);
    expect(sample(m, "runlet_fire_lateness_seconds_bucket", { le: "1" })).toBe(sample(m, "runlet_fire_lateness_seconds_count", {}));
    expect(sample(m, "runlet_runs_in_flight", {})).toBe(1);
    handle.releaseSlowRun!();
    expect((await slow).status).toBe("ok");
  });

  test("two servers in one process keep separate registries", async () => {
    stack = await startStack({ server: { token: TOKEN } });
    const listeners = stack.runner.listenerCount("record");
    const other = await startHttpServer({ runner: stack.runner, port: 0, logger: silentLogger() });
    try {
      await request(`${stack.url}/api/jobs/echo/invoke`, { method: "POST", headers: bearer() });
      const a = parseExposition(await (await fetch(`${stack.url}/metrics`)).text());
      const b = parseExposition(await (await fetch(`${other.url}/metrics`)).text());
      expect(sample(a, "runlet_runs_total", { job: "echo", status: "ok" })).toBe(1);
      expect(sample(b, "runlet_runs_total", { job: "echo", status: "ok" })).toBe(1);
      await other.close();
      expect(stack.runner.listenerCount("record")).toBe(listeners);
      await stack.runner.invoke("echo");
      const after = parseExposition(await (await fetch(`${stack.url}/metrics`)).text());
      expect(sample(after, "runlet_runs_total", { job: "echo", status: "ok" })).toBe(2);
    } finally {
      await other.close();
    }
  });
});

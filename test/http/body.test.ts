import { request as httpRequest } from "node:http";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { bearer, request, startStack, TOKEN, type Stack } from "./helpers.js";

let stack: Stack;
beforeEach(async () => {
  stack = await startStack({ server: { token: TOKEN, maxBodyBytes: 64 * 1024 } });
});
afterEach(async () => {
  await stack.close();
});

function post(path: string, body: string | ReadableStream<Uint8Array>, contentType: string | null = "application/json") {
  const headers: Record<string, string> = { ...bearer() };
  if (contentType) headers["content-type"] = contentType;
  return request(`${stack.url}${path}`, { method: "POST", headers, body, ...(typeof body === "string" ? {} : { duplex: "half" }) } as RequestInit);
}

describe("request bodies", () => {
  test("bad JSON is 400 INVALID_JSON and runs nothing", async () => {
    const { status, body } = await post("/api/jobs/echo/invoke", '{"params": ');
    expect(status).toBe(400);
    expect(body.error.code).toBe("INVALID_JSON");
    expect(await stack.runner.store.history({ limit: 5 })).toEqual([]);
  });

  test.each([
    ["an unknown key", "/api/jobs/echo/invoke", { param: 1 }, 'unknown key "param"'],
    ["an array", "/api/jobs/echo/invoke", [1], "must be a JSON object"],
    ["a string", "/api/jobs/echo/invoke", "hello", "must be a JSON object"],
    ["null", "/api/jobs/echo/invoke", null, "must be a JSON object"],
    ["a key on pause", "/api/jobs/echo/pause", { until: "tomorrow" }, 'unknown key "until"'],
    ["a key on resume", "/api/jobs/echo/resume", { now: true }, 'unknown key "now"'],
  ])("a body of the wrong shape (%s) is 400 INVALID_BODY", async (_what, path, value, says) => {
    const { status, body } = await post(path, JSON.stringify(value));
    expect(status).toBe(400);
    expect(body.error.code).toBe("INVALID_BODY");
    expect(body.error.message).toContain(says);
    expect(await stack.runner.store.history({ limit: 5 })).toEqual([]);
    expect(stack.runner.isPaused("echo")).toBe(false);
  });

  test("a body over the limit is 413 PAYLOAD_TOO_LARGE, with a Content-Length or chunked", async () => {
    const big = JSON.stringify({ params: "x".repeat(70 * 1024) });
    const declared = await post("/api/jobs/echo/invoke", big);
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe("PAYLOAD_TOO_LARGE");

    const chunks = [new TextEncoder().encode('{"params":"'), new Uint8Array(70 * 1024).fill(120), new TextEncoder().encode('"}')];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const chunked = await post("/api/jobs/echo/invoke", stream);
    expect(chunked.status).toBe(413);
    expect(chunked.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(await stack.runner.store.history({ limit: 5 })).toEqual([]);
  });

  test("a body just under the limit is taken", async () => {
    const params = "y".repeat(64 * 1024 - 20);
    const { status, body } = await post("/api/jobs/echo/invoke", JSON.stringify({ params }));
    expect(status).toBe(200);
    expect(body.status).toBe("ok");
  });

  test("a non-empty body must be application/json (415); charset is fine; an empty body needs no type", async () => {
    const plain = await post("/api/jobs/echo/invoke", '{"params":1}', "text/plain");
    expect(plain.status).toBe(415);
    expect(plain.body.error).toEqual({ code: "UNSUPPORTED_MEDIA_TYPE", message: 'expected a body of Content-Type application/json (got "text/plain")' });
    expect((await post("/api/jobs/echo/invoke", '{"params":1}', "application/json; charset=utf-8")).body.result).toEqual({ echoed: 1 });
    expect((await post("/api/jobs/echo/invoke", "", null)).status).toBe(200);
  });

  test("a client still sending a large body gets the 413, not a reset connection, and the server goes on", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${stack.url}/api/jobs/echo/invoke`, { method: "POST", headers: { ...bearer(), "content-type": "application/json", "content-length": String(200 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(Buffer.alloc(200 * 1024, 32));
    });
    expect(status).toBe(413);
    expect((await request(`${stack.url}/healthz`)).status).toBe(200);
  });
});

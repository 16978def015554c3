import { afterEach, describe, expect, test } from "vitest";
import { bearer, request, startStack, TOKEN, type Stack } from "./helpers.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const stateChanging = ["/api/jobs/echo/invoke", "/api/jobs/echo/pause", "/api/jobs/echo/resume"];

describe("routes that change state need the bearer token", () => {
  test.each(stateChanging)("%s: refused with no token, a wrong one or another scheme; accepted with it", async (path) => {
    stack = await startStack({ server: { token: TOKEN } });
    const url = `${stack.url}${path}`;
    const refusals = [
      { headers: {} as Record<string, string>, says: "no Authorization header" },
      { headers: bearer("wrong-token"), says: "does not match" },
      { headers: bearer(`${TOKEN}x`), says: "does not match" },
      { headers: bearer(TOKEN.slice(0, -1)), says: "does not match" },
      { headers: { authorization: `Basic ${Buffer.from(`runlet:${TOKEN}`).toString("base64")}` }, says: "another form" },
      { headers: { authorization: "Bearer" }, says: "another form" },
    ];
    for (const { headers, says } of refusals) {
      const res = await request(url, { method: "POST", headers });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("UNAUTHORIZED");
      expect(res.body.error.message).toContain(says);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="runlet"');
    }
    expect(await stack.runner.store.history({ limit: 10 })).toEqual([]);
    expect(stack.runner.isPaused("echo")).toBe(false);

    const accepted = await request(url, { method: "POST", headers: { authorization: `bearer  ${TOKEN}` } });
    expect(accepted.status).toBe(200);
  });

  test("with no token configured they are refused with 403 TOKEN_NOT_CONFIGURED, whatever is sent", async () => {
    stack = await startStack();
    for (const path of stateChanging) {
      for (const headers of [{}, bearer(), bearer("")]) {
        const res = await request(`${stack.url}${path}`, { method: "POST", headers });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("TOKEN_NOT_CONFIGURED");
        expect(res.body.error.message).toContain("RUNLET_TOKEN");
      }
    }
    expect(await stack.runner.store.history({ limit: 10 })).toEqual([]);
  });

  test("reading needs no token", async () => {
    stack = await startStack({ server: { token: TOKEN } });
    for (const path of ["/", "/healthz", "/readyz", "/metrics", "/api/jobs", "/api/jobs/echo/runs"]) {
      expect((await fetch(`${stack.url}${path}`)).status).toBe(200);
    }
  });

  test("the token never reaches the log", async () => {
    stack = await startStack({ server: { token: TOKEN } });
    await request(`${stack.url}/api/jobs/echo/invoke`, { method: "POST", headers: bearer() });
    await request(`${stack.url}/api/jobs/echo/invoke`, { method: "POST", headers: bearer("wrong-token") });
    await request(`${stack.url}/api/jobs/echo/pause`, { method: "POST", headers: bearer() });
    const text = stack.logText();
    expect(stack.logs().some((l) => l.msg === "job invoked over HTTP")).toBe(true);
    expect(stack.logs().some((l) => l.msg === "HTTP request" && l.status === 401)).toBe(true);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("wrong-token");
    expect(text.toLowerCase()).not.toContain("authorization");
  });
});

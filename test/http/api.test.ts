import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { listJob } from "../../runner/listing/job-listing.js";
import { bearer, request, startStack, TOKEN, type Stack } from "./helpers.js";

let stack: Stack;
beforeEach(async () => {
  stack = await startStack({ server: { token: TOKEN } });
});
afterEach(async () => {
  await stack.close();
});

const post = (path: string, init: RequestInit & { json?: unknown } = {}) => request(`${stack.url}${path}`, { method: "POST", ...init, headers: { ...bearer(), ...(init.headers as Record<string, string>) } });

describe("GET /api/jobs", () => {
  test("gives each job as list --json does, with paused and the last run", async () => {
    const { status, body } = await request(`${stack.url}/api/jobs`);
    expect(status).toBe(200);
    expect(body.map((j: { name: string }) => j.name)).toEqual(["echo", "fails", "nightly"]);
    const echo = stack.runner.jobs.find((j) => j.name === "echo")!;
    expect(body[0]).toEqual({ ...listJob(echo, 5, new Date()), lastStatus: null, lastRunAt: null, paused: false, lastRun: null });
    expect(body[2]).toMatchObject({ name: "nightly", schedule: "0 3 * * *", description: "Runs at three", enabled: true, mode: "inline", paused: false });
    expect(body[2].next).toHaveLength(5);
    for (const iso of body[2].next) expect(iso).toMatch(/T03:00:00\.000Z$/);
  });

  test("shows the newest run and its status once a job has run", async () => {
    const invoked = await post("/api/jobs/echo/invoke");
    const { body } = await request(`${stack.url}/api/jobs`);
    expect(body[0].lastStatus).toBe("ok");
    expect(body[0].lastRunAt).toBe(invoked.body.startedAt);
    expect(body[0].lastRun).toMatchObject({ runId: invoked.body.runId, status: "ok", trigger: "invoke" });
    expect(body[1].lastRun).toBeNull();
  });
});

describe("POST /api/jobs/:name/invoke", () => {
  test("runs the job with the params given and answers its final record", async () => {
    const { status, body } = await post("/api/jobs/echo/invoke", { json: { params: { n: 42 } } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ job: "echo", status: "ok", attempt: 1, error: null, result: { echoed: { n: 42 } }, trigger: "invoke" });
    expect(Date.parse(body.finishedAt)).toBeGreaterThanOrEqual(Date.parse(body.startedAt));
  });

  test("without a body, or without params, the job's own params are used", async () => {
    expect((await post("/api/jobs/echo/invoke")).body.result).toEqual({ echoed: { greeting: "hi" } });
    expect((await post("/api/jobs/echo/invoke", { json: {} })).body.result).toEqual({ echoed: { greeting: "hi" } });
    expect((await post("/api/jobs/echo/invoke", { json: { params: null } })).body.result).toEqual({ echoed: null });
  });

  test("a failed run is 200 with status failed and the error in the record", async () => {
    const { status, body } = await post("/api/jobs/fails/invoke");
    expect(status).toBe(200);
    expect(body).toMatchObject({ job: "fails", status: "failed", result: null, error: { message: "boom from the handler" } });
  });

  test("an unknown job is 404 JOB_UNKNOWN", async () => {
    const { status, body } = await post("/api/jobs/nope/invoke");
    expect(status).toBe(404);
    expect(body.error.code).toBe("JOB_UNKNOWN");
    expect(body.error.message).toContain('"nope"');
  });
});

describe("GET /api/jobs/:name/runs", () => {
  test("newest first, 20 by default, as many as limit asks", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 22; i++) ids.push((await post("/api/jobs/echo/invoke", { json: { params: i } })).body.runId);
    const all = await request(`${stack.url}/api/jobs/echo/runs`);
    expect(all.status).toBe(200);
    expect(all.body.map((r: { runId: string }) => r.runId)).toEqual(ids.reverse().slice(0, 20));
    const three = await request(`${stack.url}/api/jobs/echo/runs?limit=3`);
    expect(three.body).toHaveLength(3);
    expect(three.body[0]).toMatchObject({ job: "echo", status: "ok", result: { echoed: 21 } });
    expect((await request(`${stack.url}/api/jobs/fails/runs?limit=1000`)).body).toEqual([]);
  });

  test.each(["0", "1001", "ten", "2.5", "-1", ""])("limit=%s is 400 INVALID_QUERY", async (limit) => {
    const { status, body } = await request(`${stack.url}/api/jobs/echo/runs?limit=${limit}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe("INVALID_QUERY");
    expect(body.error.message).toContain("from 1 to 1000");
  });

  test("an unknown job is 404 JOB_UNKNOWN", async () => {
    const { status, body } = await request(`${stack.url}/api/jobs/nope/runs`);
    expect(status).toBe(404);
    expect(body).toEqual({ error: { code: "JOB_UNKNOWN", message: expect.stringContaining("echo, fails, nightly") } });
  });
});

describe("POST /api/jobs/:name/pause and /resume", () => {
  test("pause is persisted in the store and shown by /api/jobs; resume undoes it", async () => {
    const paused = await post("/api/jobs/nightly/pause");
    expect(paused).toMatchObject({ status: 200, body: { job: "nightly", paused: true } });
    expect(stack.runner.isPaused("nightly")).toBe(true);
    expect((await stack.runner.store.jobState("nightly")).paused).toBe(true);
    expect((await request(`${stack.url}/api/jobs`)).body[2].paused).toBe(true);

    const resumed = await post("/api/jobs/nightly/resume", { json: {} });
    expect(resumed).toMatchObject({ status: 200, body: { job: "nightly", paused: false } });
    expect(stack.runner.isPaused("nightly")).toBe(false);
    expect((await stack.runner.store.jobState("nightly")).paused).toBe(false);
  });

  test("an unknown job is 404 JOB_UNKNOWN", async () => {
    for (const action of ["pause", "resume"]) {
      const { status, body } = await post(`/api/jobs/nope/${action}`);
      expect(status).toBe(404);
      expect(body.error.code).toBe("JOB_UNKNOWN");
    }
  });

  test("a job name is percent-decoded from the path", async () => {
    const { status, body } = await post(`/api/jobs/${encodeURIComponent("nightly")}/pause`);
    expect(status).toBe(200);
    expect(body.job).toBe("nightly");
    expect((await post("/api/jobs/%E0%A4%A/pause")).status).toBe(404);
  });
});

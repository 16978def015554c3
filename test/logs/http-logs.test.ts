import { afterEach, describe, expect, test } from "vitest";
import type { LiveLogLine, RunRecord } from "../../runner/contracts/index.js";
import type { RunDetail } from "../../runner/http/run-routes.js";
import { request, startStack, type Stack } from "../http/helpers.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const files = {
  "jobs/chatty.ts": `export default async (ctx) => {
    ctx.log.info({ attempt: ctx.attempt }, "trying");
    if (ctx.params.fail) throw new Error("upstream returned 503");
    return { n: ctx.params.n ?? 0 };
  };\n`,
  "jobs/flood.ts": `export default async (ctx) => { for (let i = 0; i < 50; i++) ctx.log.info("line " + i); };\n`,
};
const yaml = `version: 1
jobs:
  chatty: { handler: jobs/chatty.ts }
  flaky: { handler: jobs/chatty.ts, params: { fail: true }, retries: { max: 1, delay: 1ms } }
  flood: { handler: jobs/flood.ts, logs: { keep: 10 } }
`;

describe("the run API", () => {
  test("a run's own params: GET /api/runs/:runId and its page show what it was given, values from the environment hidden", async () => {
    stack = await startStack({
      files: { ...files, ".env": "LOGS_TEST_KEY=sk-test-9876-key\n" },
      yaml: `version: 1
jobs:
  chatty: { handler: jobs/chatty.ts, params: { n: 1 } }
  keyed: { handler: jobs/chatty.ts, params: { key: "\${env:LOGS_TEST_KEY}" } }
  next: { handler: jobs/chatty.ts, after: keyed, params: { n: 3 } }
`,
    });
    const shown = async (runId: string) => {
      const html = await (await fetch(`${stack!.url}/runs/${runId}`)).text();
      expect(html).not.toContain("sk-test-9876");
      return { html, params: unescape(/id="params">([^<]*)</.exec(html)![1]!) };
    };
    const own = await stack.runner.invoke("chatty", { n: 7, note: "mine" });
    expect(((await request(`${stack.url}/api/runs/${own.runId}`)).body as RunDetail).run.params).toEqual({ n: 7, note: "mine" });
    expect((await shown(own.runId)).params).toBe('{"n":7,"note":"mine"}');

    const ended = new Promise<RunRecord>((resolve) => {
      const listen = (record: RunRecord) => {
        if (record.job === "next" && record.status !== "running") resolve(record);
        else stack!.runner.once("record", listen);
      };
      stack!.runner.once("record", listen);
    });
    const keyed = await stack.runner.invoke("keyed");
    const keyedDetail = (await request(`${stack.url}/api/runs/${keyed.runId}`)).body as RunDetail;
    expect(keyedDetail.run.params).toEqual({ key: "${env:LOGS_TEST_KEY}" });
    expect(JSON.stringify(keyedDetail)).not.toContain("sk-test-9876");
    expect((await shown(keyed.runId)).params).toBe('{"key":"${env:LOGS_TEST_KEY}"}');

    // A run started by another's end: its trigger names that run, its params are its job's.
    const next = await ended;
    expect(((await request(`${stack.url}/api/runs/${next.runId}`)).body as RunDetail).run).toMatchObject({ trigger: "after", upstreamRunId: keyed.runId, params: { n: 3 } });
    const page = await shown(next.runId);
    expect(page.params).toBe('{"n":3}');
    expect(page.html).toContain(`<a href="/runs/${keyed.runId}">`);
    // Not scheduled, so not late: an after-run's scheduled time is its upstream's.
    expect(page.html).toContain("<dt>Lateness</dt><dd>—</dd>");
  });


  test("GET /api/runs/:runId: the record, its log lines and its attempts (by id or short id); an unknown id is 404", async () => {
    stack = await startStack({ files, yaml });
    const run = await stack.runner.invoke("flaky");
    const { status, body } = await request(`${stack.url}/api/runs/${run.runId}`);
    expect(status).toBe(200);
    const detail = body as RunDetail;
    expect(detail.run).toMatchObject({ runId: run.runId, status: "failed", attempt: 2, error: { message: "upstream returned 503", stack: expect.stringContaining("chatty.ts") } });
    expect(detail.logs).toMatchObject({ dropped: 0, live: false });
    expect(detail.logs.lines.map((l) => [l.attempt, l.msg])).toEqual([[1, "trying"], [2, "trying"]]);
    expect(detail.attempts).toEqual([
      { attempt: 1, status: "retried", startedAt: detail.run.startedAt, finishedAt: expect.any(String), error: { message: "upstream returned 503", code: "JOB_FAILED" }, firstLineAt: detail.logs.lines[0]!.time, lines: 1 },
      { attempt: 2, status: "failed", startedAt: expect.any(String), finishedAt: detail.run.finishedAt, error: { message: "upstream returned 503", code: "JOB_FAILED" }, firstLineAt: detail.logs.lines[1]!.time, lines: 1 },
    ]);
    // The run's page: a timeline of its tries, each with its times and its error.
    const page = await (await fetch(`${stack.url}/runs/${run.runId}`)).text();
    const tries = [...page.matchAll(/<li data-attempt="(\d)">([\s\S]*?)<\/li>/g)].map((m) => m[2]!);
    expect(tries).toHaveLength(2);
    expect(tries[0]).toContain("attempt 1: failed, retried");
    expect(tries[0]).toContain(`${detail.attempts[0]!.startedAt} → ${detail.attempts[0]!.finishedAt}`);
    expect(tries[0]).toContain("JOB_FAILED: upstream returned 503");
    expect(tries[1]).toContain("attempt 2: failed");
    expect((await request(`${stack.url}/api/runs/${run.runId.slice(0, 8)}`)).body.run.runId).toBe(run.runId);
    const missing = await request(`${stack.url}/api/runs/ffffffff-0000`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("RUN_UNKNOWN");
  });

  test("GET /api/runs filters by job and status and pages with a cursor past the first page", async () => {
    stack = await startStack({ files, yaml });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await stack.runner.invoke("chatty", { n: i, fail: i % 5 === 0 })).runId);
    const newestFirst = [...ids].reverse();
    const first = (await request(`${stack.url}/api/runs?job=chatty`)).body as { runs: RunRecord[]; next: string };
    expect(first.runs.map((r) => r.runId)).toEqual(newestFirst.slice(0, 20));
    const second = (await request(`${stack.url}/api/runs?job=chatty&before=${first.next}`)).body as { runs: RunRecord[]; next: string | null };
    expect(second.runs.map((r) => r.runId)).toEqual(newestFirst.slice(20));
    expect(second.next).toBeNull();
    const failed = (await request(`${stack.url}/api/runs?job=chatty&status=failed&limit=2`)).body as { runs: RunRecord[]; next: string };
    expect(failed.runs.map((r) => r.runId)).toEqual([ids[20], ids[15]]);
    const rest = (await request(`${stack.url}/api/runs?job=chatty&status=failed&limit=2&before=${failed.next}`)).body as { runs: RunRecord[] };
    expect(rest.runs.map((r) => r.runId)).toEqual([ids[10], ids[5]]);
    expect((await request(`${stack.url}/api/runs?status=sideways`)).status).toBe(400);
    expect((await request(`${stack.url}/api/runs?job=nosuch`)).status).toBe(404);
    expect((await request(`${stack.url}/api/runs?limit=0`)).status).toBe(400);
  });

  test("the event stream carries a run's log lines, filtered by job or run; a bare stream carries none", async () => {
    stack = await startStack({ files, yaml });
    // A bare stream (the dashboard's) carries records and no lines.
    const bareRes = await fetch(`${stack.url}/api/events`);
    const bareReader = bareRes.body!.pipeThrough(new TextDecoderStream()).getReader();
    let bare = "";
    while (!bare.includes(": connected")) bare += (await bareReader.read()).value ?? "";
    const res = await fetch(`${stack.url}/api/events?job=chatty`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes(": connected")) text += (await reader.read()).value ?? "";
    await stack.runner.invoke("flood");
    const run = await stack.runner.invoke("chatty");
    while (!text.includes('"status":"ok"')) text += (await reader.read()).value ?? "";
    while (!bare.includes(`"runId":"${run.runId}","job":"chatty","status":"ok"`)) bare += (await bareReader.read()).value ?? "";
    await bareReader.cancel();
    await reader.cancel();
    expect(bare).not.toContain("event: log");
    const logs = [...text.matchAll(/event: log\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!) as LiveLogLine);
    expect(logs).toEqual([{ runId: run.runId, job: "chatty", seq: 0, level: "info", time: expect.any(String), msg: "trying", fields: { attempt: 1 }, attempt: 1 }]);
  });

  test("metrics count kept and dropped lines per job", async () => {
    stack = await startStack({ files, yaml });
    await stack.runner.invoke("flood");
    await stack.runner.invoke("chatty");
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toContain('runlet_run_log_lines_total{job="flood"} 50');
    expect(metrics).toContain('runlet_run_log_lines_total{job="chatty"} 1');
    expect(metrics).toContain('runlet_run_log_dropped_total{job="flood"} 40');
  });
});

function unescape(html: string): string {
  return html.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));
}

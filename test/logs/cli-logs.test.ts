import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import type { RunRecord } from "../../runner/contracts/index.js";
import { cliPath, runCli, startCli, type CliProcess } from "../support/cli.js";
import { waitFor } from "../support/poll.js";
import { tempProject } from "../support/temp-project.js";
import { startReplica, stopReplica, testSchema } from "../replicas/pg-support.js";

const TOKEN = "cli-logs-token";

const files = {
  "jobs/chatty.ts": `export default async (ctx) => {
    ctx.log.info({ step: 1 }, "starting");
    ctx.log.warn({ password: "hunter2" }, "careful");
    if (ctx.params.fail) throw new Error("upstream returned 503");
    return { ok: true };
  };\n`,
  // Logs a line every 40 ms (ctx.params.n of them): the run a follower joins half-way.
  "jobs/ticker.ts": `export default async (ctx) => {
    for (let i = 0; i < ctx.params.n; i++) {
      ctx.log.info({ i }, "tick " + i);
      await new Promise((r) => setTimeout(r, 40));
    }
    ctx.log.info("done");
  };\n`,
  "jobs.yaml": `version: 1
defaults:
  logs: { redact: [password] }
jobs:
  chatty: { handler: jobs/chatty.ts }
  ticker: { handler: jobs/ticker.ts, mode: thread, params: { n: 30 } }
`,
};

async function startRunner(dir: string): Promise<{ cli: CliProcess; url: string }> {
  const cli = startCli(["start", "--port", "0"], { cwd: dir, env: { RUNLET_TOKEN: TOKEN } });
  const listening = await cli.waitForLog((e) => e.event === "http-listening");
  return { cli, url: listening.url as string };
}

async function stop(cli: CliProcess): Promise<void> {
  cli.child.kill("SIGTERM");
  await cli.exited;
}

describe("runlet logs", () => {
  test("prints a run's lines from the store: by run id, short id, or job; --json; --level", () => {
    using project = tempProject(files);
    expect(runCli(["invoke", "chatty"], { cwd: project.dir }).status).toBe(0);
    expect(runCli(["invoke", "chatty", "--params", '{"fail":true}'], { cwd: project.dir }).status).toBe(1);
    const [failed, ok] = JSON.parse(runCli(["history", "--json"], { cwd: project.dir }).stdout) as RunRecord[];

    const byJob = runCli(["logs", "chatty"], { cwd: project.dir });
    expect(byJob.status).toBe(0);
    const text = byJob.stdout.trim().split("\n");
    expect(text).toHaveLength(2);
    expect(text[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  starting \{"step":1\}$/);
    expect(text[1]).toMatch(/WARN  careful \{"password":"\[Redacted\]"\}$/);
    expect(byJob.stdout).not.toContain("hunter2");

    const json = runCli(["logs", ok!.runId.slice(0, 8), "--json", "--level", "warn"], { cwd: project.dir });
    expect(json.status).toBe(0);
    expect(json.stdout.trim().split("\n").map((l) => JSON.parse(l))).toEqual([
      { runId: ok!.runId, job: "chatty", seq: 1, level: "warn", time: expect.any(String), msg: "careful", fields: { password: "[Redacted]" }, attempt: 1 },
    ]);
    expect(runCli(["logs", failed!.runId], { cwd: project.dir }).stdout).toContain("starting");

    const unknown = runCli(["logs", "nosuch"], { cwd: project.dir });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no run with id "nosuch"');
    expect(runCli(["logs", "chatty", "--level", "loud"], { cwd: project.dir }).status).toBe(2);
  });

  test("--follow streams the lines of a running run from the runner's event stream within 200 ms, and ends with the run", async () => {
    using project = tempProject(files);
    const { cli, url } = await startRunner(project.dir);
    try {
      // Long enough (~5 s) for a CLI started on a loaded machine to join it half-way.
      const invoked = fetch(`${url}/api/jobs/ticker/invoke`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: '{"params":{"n":120}}' });
      const running = await poll(
        async () => {
          const page = (await (await fetch(`${url}/api/runs?job=ticker&status=running`)).json()) as { runs: RunRecord[] };
          return page.runs[0];
        },
        10_000,
        "a running ticker run",
      );
      const follower = spawn(process.execPath, [cliPath, "logs", running.runId, "--follow", "--json"], { cwd: project.dir, env: { ...process.env, RUNLET_URL: url } });
      const arrivals: Array<{ at: number; line: { seq: number; time: string; msg: string } }> = [];
      let partial = "";
      follower.stdout.on("data", (chunk: Buffer) => {
        const at = Date.now();
        partial += chunk.toString();
        const parts = partial.split("\n");
        partial = parts.pop()!;
        for (const part of parts) arrivals.push({ at, line: JSON.parse(part) });
      });
      const code = await new Promise<number | null>((resolve) => follower.on("exit", resolve));
      expect(code).toBe(0);
      expect((await (await invoked).json()) as RunRecord).toMatchObject({ runId: running.runId, status: "ok" });
      // Every line once, in order, the ones before the follower joined included.
      expect(arrivals.map((a) => a.line.seq)).toEqual([...Array(121).keys()]);
      expect(arrivals.at(-1)!.line.msg).toBe("done");
      // Lines written after the follower was printing arrive within 200 ms of being written.
      const streamed = arrivals.filter((a) => a.at - arrivals[0]!.at > 100);
      expect(streamed.length).toBeGreaterThan(5);
      const delays = streamed.map((a) => a.at - Date.parse(a.line.time));
      expect(Math.max(...delays)).toBeLessThan(200);
    } finally {
      await stop(cli);
    }
  });

  test("--follow RUNID from the store (another process runs it): the lines so far, then the rest, until the run ends", async () => {
    using project = tempProject(files);
    const { cli, url } = await startRunner(project.dir);
    try {
      const invoked = fetch(`${url}/api/jobs/ticker/invoke`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: '{"params":{"n":120}}' });
      const running = await poll(async () => ((await (await fetch(`${url}/api/runs?job=ticker&status=running`)).json()) as { runs: RunRecord[] }).runs[0], 10_000, "a running ticker run");
      const follow = runCliAsync(["logs", running.runId, "--follow", "--json"], project.dir);
      const { status, stdout } = await follow;
      expect(status).toBe(0);
      expect(stdout.trim().split("\n").map((l) => JSON.parse(l).seq)).toEqual([...Array(121).keys()]);
      await invoked;
    } finally {
      await stop(cli);
    }
  });
});

describe("runlet logs JOB --follow: the job's newest run, then every run after it, until Ctrl-C", () => {
  const beating = {
    // Two lines a run, a few ms apart; a run a second.
    "jobs/beat.ts": `export default async (ctx) => {
      ctx.log.info({ at: ctx.fireDate.toISOString() }, "beat");
      await new Promise((r) => setTimeout(r, 20));
      ctx.log.warn("beat again");
    };\n`,
    "jobs.yaml": "version: 1\njobs:\n  beat: { handler: jobs/beat.ts, schedule: { every: 1s } }\n",
  };

  /** Follows `beat` with the real CLI until its output holds lines of `runs` runs after the one newest at the start; then Ctrl-C. */
  async function followBeat(dir: string, env: Record<string, string>, latest: string, extra: string[] = []) {
    const follower = followCli(["logs", "beat", "--follow", "--json", ...extra], dir, env);
    const lines = await follower.until((out) => new Set(out.map((l) => JSON.parse(l).runId)).size >= 3, 20_000);
    const code = await follower.interrupt();
    expect(code).toBe(0);
    const parsed = lines.map((l) => JSON.parse(l) as { runId: string; job: string; seq: number; msg: string });
    const runs = [...new Set(parsed.map((l) => l.runId))];
    // The newest run when it began first (or one that started while it began), then later ones.
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(parsed[0]!.runId === latest || parsed[0]!.seq === 0).toBe(true);
    // Every run after the first whole and in order, each line marked with its run.
    for (const runId of runs.slice(1, -1)) {
      expect(parsed.filter((l) => l.runId === runId).map((l) => [l.seq, l.msg, l.job])).toEqual([[0, "beat", "beat"], [1, "beat again", "beat"]]);
    }
    return runs;
  }

  async function newestEnded(read: () => Promise<RunRecord[]>): Promise<string> {
    return (await poll(async () => (await read()).find((r) => r.status === "ok"), 10_000, "an ended beat run")).runId;
  }

  test("from a running runner's event stream (--json, and the text format marks each line's run)", async () => {
    using project = tempProject(beating);
    const { cli, url } = await startRunner(project.dir);
    try {
      const runs = async () => ((await (await fetch(`${url}/api/runs?job=beat&limit=1`)).json()) as { runs: RunRecord[] }).runs;
      await followBeat(project.dir, { RUNLET_URL: url }, await newestEnded(runs));
      const text = followCli(["logs", "beat", "--follow"], project.dir, { RUNLET_URL: url });
      const marked = (out: string[]) => new Set(out.map((l) => /^\S+ (?:INFO |WARN ) \[([0-9a-f]{8})\] beat/.exec(l)?.[1]).filter(Boolean));
      const out = await text.until((lines) => marked(lines).size >= 2, 20_000);
      expect(await text.interrupt()).toBe(0);
      expect(out.every((l) => /^\d{4}-\S+Z (INFO |WARN ) \[[0-9a-f]{8}\] beat( again)?( \{"at":"[^"]+"\})?$/.test(l)), out.join("\n")).toBe(true);
    } finally {
      await stop(cli);
    }
  });

  test("from the store another process writes (SQLite)", async () => {
    using project = tempProject(beating);
    const { cli, url } = await startRunner(project.dir);
    try {
      const runs = async () => ((await (await fetch(`${url}/api/runs?job=beat&limit=1`)).json()) as { runs: RunRecord[] }).runs;
      await followBeat(project.dir, { RUNLET_URL: "" }, await newestEnded(runs));
    } finally {
      await stop(cli);
    }
  });

  test("from a PostgreSQL store shared by replicas", async () => {
    using project = tempProject(beating);
    const schema = await testSchema();
    const store = schema.url();
    const replicas = await Promise.all([0, 1].map(() => startReplica(project.dir, store)));
    try {
      const runs = async () => JSON.parse(runCli(["history", "beat", "--json", "--limit", "1", "--store", store], { cwd: project.dir }).stdout) as RunRecord[];
      await followBeat(project.dir, { RUNLET_URL: "" }, await newestEnded(runs), ["--store", store]);
    } finally {
      await Promise.all(replicas.map((r) => stopReplica(r)));
      await schema.drop();
    }
  });
});

/** The real CLI as a child process whose stdout lines can be waited on, stopped as Ctrl-C stops it. */
function followCli(args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, ...env } });
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  const wakers = new Set<() => void>();
  child.stdout.on("data", (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    for (const wake of wakers) wake();
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    /** Resolves with the lines so far once `done` holds of them. */
    until(done: (lines: string[]) => boolean, timeoutMs: number): Promise<string[]> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(lines)) return;
          clearTimeout(timer);
          wakers.delete(check);
          resolve([...lines]);
        };
        const timer = setTimeout(() => {
          wakers.delete(check);
          child.kill("SIGKILL");
          reject(new Error(`timed out after ${timeoutMs}ms; stdout:\n${lines.join("\n")}\nstderr:\n${stderr}`));
        }, timeoutMs);
        wakers.add(check);
        check();
      });
    },
    async interrupt(): Promise<number | null> {
      child.kill("SIGINT");
      return exited;
    },
  };
}

describe("pause, resume, trigger act on a running runner", () => {
  test("pause and resume a job, trigger one with params; unknown job, no address, refused connection exit 2", async () => {
    using project = tempProject(files);
    const { cli, url } = await startRunner(project.dir);
    const env = { RUNLET_URL: url, RUNLET_TOKEN: TOKEN };
    try {
      const paused = runCli(["pause", "chatty"], { cwd: project.dir, env });
      expect(paused).toMatchObject({ status: 0, stdout: "chatty paused\n" });
      const jobs = (await (await fetch(`${url}/api/jobs`)).json()) as Array<{ name: string; paused: boolean }>;
      expect(jobs.find((j) => j.name === "chatty")!.paused).toBe(true);
      expect(runCli(["resume", "chatty"], { cwd: project.dir, env })).toMatchObject({ status: 0, stdout: "chatty resumed\n" });

      const ok = runCli(["trigger", "chatty", "--params", '{"fail":false}'], { cwd: project.dir, env });
      expect(ok.status).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ job: "chatty", status: "ok", result: { ok: true }, trigger: "invoke", params: { fail: false } });
      const failed = runCli(["trigger", "chatty", "--params", '{"fail":true}'], { cwd: project.dir, env });
      expect(failed.status).toBe(1);
      expect(failed.stderr).toContain("upstream returned 503");

      const unknown = runCli(["trigger", "nosuch"], { cwd: project.dir, env });
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain("JOB_UNKNOWN");
      const noToken = runCli(["pause", "chatty"], { cwd: project.dir, env: { RUNLET_URL: url, RUNLET_TOKEN: "" } });
      expect(noToken.status).toBe(2);
      expect(noToken.stderr).toContain("401");
      const noAddress = runCli(["pause", "chatty"], { cwd: project.dir, env: { RUNLET_URL: "" } });
      expect(noAddress.status).toBe(2);
      expect(noAddress.stderr).toContain("RUNLET_URL");
    } finally {
      await stop(cli);
    }
    const refused = runCli(["resume", "chatty"], { cwd: project.dir, env });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`cannot reach the runner at ${url}: ECONNREFUSED`);
  });
});

describe("history filters", () => {
  test("--status and --since filter; an unknown job is an error (exit 2), a known job without runs is not", () => {
    using project = tempProject(files);
    runCli(["invoke", "chatty"], { cwd: project.dir });
    runCli(["invoke", "chatty", "--params", '{"fail":true}'], { cwd: project.dir });
    const failed = JSON.parse(runCli(["history", "--status", "failed", "--json"], { cwd: project.dir }).stdout) as RunRecord[];
    expect(failed.map((r) => r.status)).toEqual(["failed"]);
    expect(JSON.parse(runCli(["history", "chatty", "--since", "1h", "--json"], { cwd: project.dir }).stdout)).toHaveLength(2);
    expect(JSON.parse(runCli(["history", "--since", "2999-01-01T00:00:00Z", "--json"], { cwd: project.dir }).stdout)).toEqual([]);
    expect(runCli(["history", "--status", "exploded"], { cwd: project.dir }).status).toBe(2);
    expect(runCli(["history", "--since", "yesterday"], { cwd: project.dir }).status).toBe(2);
    const unknown = runCli(["history", "chaty"], { cwd: project.dir });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no job named "chaty"');
    expect(runCli(["history", "ticker"], { cwd: project.dir })).toMatchObject({ status: 0, stdout: "no runs recorded yet\n" });
  });
});

function runCliAsync(args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, RUNLET_URL: "" } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on("exit", (status) => resolve({ status, stdout, stderr })));
}

/** Bounded polling of real state (another process's runner): the value once `read` gives one. */
async function poll<T>(read: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  return (await waitFor(read, { until: (value) => value !== undefined, timeoutMs, what, everyMs: 10 }))!;
}

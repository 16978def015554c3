import { rmSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { createRunner, type ReloadResult, type Runner } from "../../runner/index.js";
import { ManifestError } from "../../runner/errors.js";
import { silentLogger } from "../../runner/log/logger.js";
import type { RunRecord } from "../../runner/contracts/index.js";
import { startCli } from "../support/cli.js";
import { waitFor } from "../support/poll.js";
import { tempProject, type TempProject } from "../support/temp-project.js";

let project: TempProject;
let runner: Runner;

afterEach(async () => {
  await runner?.stop();
  await project?.[Symbol.asyncDispose]();
});

async function start(files: Record<string, string>): Promise<void> {
  project = tempProject(files);
  runner = createRunner({ manifest: project.path("jobs.yaml"), env: "test", watch: true, logger: silentLogger() });
  await runner.start();
}

/** Writes a file and resolves with the reload it causes. */
function editAndReload(file: string, content: string): Promise<ReloadResult> {
  const reloaded = new Promise<ReloadResult>((resolve) => runner.once("reload", resolve));
  project.write(file, content);
  return reloaded;
}

const result = async (job: string) => {
  const record = await runner.invoke(job);
  expect(record.status, JSON.stringify(record.error)).toBe("ok");
  return record.result;
};

const manifest = (jobs: string) => `version: 1\njobs:\n${jobs}`;

describe("handler edits", () => {
  test("a handler edit is live on the next run", async () => {
    await start({ "jobs/a.ts": `export default () => "v1";\n`, "jobs.yaml": manifest("  a: { handler: jobs/a.ts }\n") });
    expect(await result("a")).toBe("v1");
    const reload = await editAndReload("jobs/a.ts", `export default () => "v2";\n`);
    expect(reload).toMatchObject({ ok: true, rebuilt: [project.path("jobs/a.ts")] });
    expect(await result("a")).toBe("v2");
  });

  test("an edit of an imported helper, and of an import added later, rebuilds the handler", async () => {
    await start({
      "jobs/a.ts": `import { word } from "./lib/word.js";\nexport default () => word;\n`,
      "jobs/lib/word.ts": `export const word = "one";\n`,
      "jobs/lib/extra.ts": `export const extra = "x";\n`,
      "jobs.yaml": manifest("  a: { handler: jobs/a.ts, mode: thread }\n"),
    });
    expect(await result("a")).toBe("one");
    await editAndReload("jobs/lib/word.ts", `export const word = "two";\n`);
    expect(await result("a")).toBe("two");
    await editAndReload("jobs/a.ts", `import { word } from "./lib/word.js";\nimport { extra } from "./lib/extra.js";\nexport default () => word + extra;\n`);
    expect(await result("a")).toBe("twox");
    await editAndReload("jobs/lib/extra.ts", `export const extra = "y";\n`);
    expect(await result("a")).toBe("twoy");
  });

  test("a broken handler is reported at its line and column; the last good build keeps running until it is fixed", async () => {
    await start({ "jobs/a.ts": `export default () => "good";\n`, "jobs.yaml": manifest("  a: { handler: jobs/a.ts }\n") });
    const broken = await editAndReload("jobs/a.ts", `export default () => {\n  return "bad" +;\n};\n`);
    expect(broken.ok).toBe(false);
    expect((broken.error as ManifestError).problems.map((p) => `${p.file.split("/").slice(-2).join("/")}:${p.line}:${p.col}`)).toEqual(["jobs/a.ts:2:17"]);
    expect(await result("a")).toBe("good");
    await editAndReload("jobs/a.ts", `export default () => "fixed";\n`);
    expect(await result("a")).toBe("fixed");
  });

  test("a handler edited while the manifest is broken is rebuilt once the manifest is fixed", async () => {
    const good = manifest("  a: { handler: jobs/a.ts }\n");
    await start({ "jobs/a.ts": `export default () => "old";\n`, "jobs.yaml": good });
    expect((await editAndReload("jobs.yaml", `${good}  b: [\n`)).ok).toBe(false);
    expect((await editAndReload("jobs/a.ts", `export default () => "new";\n`)).ok).toBe(false);
    const fixed = await editAndReload("jobs.yaml", good);
    expect(fixed.ok).toBe(true);
    expect(fixed.rebuilt).toEqual([project.path("jobs/a.ts")]);
    expect(await result("a")).toBe("new");
  });

  test("a handler deleted while its job is in the manifest is an error; the last good build is kept", async () => {
    await start({ "jobs/a.ts": `export default () => "kept";\n`, "jobs.yaml": manifest("  a: { handler: jobs/a.ts }\n") });
    const reloaded = new Promise<ReloadResult>((resolve) => runner.once("reload", resolve));
    rmSync(project.path("jobs/a.ts"));
    const reload = await reloaded;
    expect(reload.ok).toBe(false);
    expect(reload.error?.message).toMatch(/jobs\.yaml:3:\d+: .*does not exist/);
    expect(await result("a")).toBe("kept");
  });
  test("a handler file written before its job, then deleted, is reported when it is deleted", async () => {
    await start({ "jobs/a.ts": `export default () => "a";\n`, "jobs.yaml": manifest("  a: { handler: jobs/a.ts }\n") });
    // The file exists before any job names it, so the watcher first sees it as unwanted.
    project.write("jobs/c.mjs", `export default () => "c";\n`);
    const added = await editAndReload("jobs.yaml", manifest("  a: { handler: jobs/a.ts }\n  c: { handler: jobs/c.mjs }\n"));
    expect(added).toMatchObject({ ok: true, diff: { added: ["c"] } });
    expect(await result("c")).toBe("c");
    const reloaded = new Promise<ReloadResult>((resolve) => runner.once("reload", resolve));
    rmSync(project.path("jobs/c.mjs"));
    const reload = await reloaded;
    expect(reload.ok).toBe(false);
    expect(reload.error?.message).toMatch(/jobs\.yaml:4:\d+: .*jobs\/c\.mjs.*does not exist/);
    expect(await result("c")).toBe("c");
  });

  test("thread mode: the edit is live at once on the current workers; they are replaced once reloads pause", async () => {
    const threadHandler = (version: number) => `import { threadId } from "node:worker_threads";\nexport default () => ({ version: ${version}, threadId });\n`;
    await start({ "jobs/t.ts": threadHandler(1), "jobs.yaml": manifest(`  t: { handler: jobs/t.ts, mode: thread }\n`) });
    const before = (await result("t")) as { version: number; threadId: number };
    expect((await editAndReload("jobs/t.ts", threadHandler(2))).ok).toBe(true);
    // Served by the same worker, which imported the new module: no new thread to boot.
    expect(await result("t")).toEqual({ version: 2, threadId: before.threadId });
    // About a second later the pool is replaced: its stale modules go with its workers.
    const after = await waitFor(async () => (await result("t")) as typeof before, { until: (now) => now.threadId !== before.threadId, timeoutMs: 10_000, everyMs: 200, what: "a run served by a new thread" });
    expect(after.threadId).not.toBe(before.threadId);
    expect(after.version).toBe(2);
  });
});

describe("manifest edits", () => {
  test("a broken manifest is reported at its line and column; the old schedule keeps firing", async () => {
    await start({ "jobs/a.ts": `export default () => 1;\n`, "jobs.yaml": manifest(`  a: { handler: jobs/a.ts, schedule: { every: 1s } }\n`) });
    const refused = new Promise<ReloadResult>((resolve) => runner.once("reload-refused", resolve));
    const reload = await editAndReload("jobs.yaml", manifest(`  a: { handler: jobs/a.ts, schedule: { every: 1s }, overlap: sometimes }\n`));
    expect(reload.ok).toBe(false);
    expect(await refused).toBe(reload);
    expect(reload.error?.message).toContain("jobs.yaml:3:62: jobs.a.overlap must be one of skip, queue, allow, replace");
    // The old schedule keeps firing: a fire after the refusal runs and ends ok.
    const ended = await new Promise<RunRecord>((resolve) => runner.on("run-ended", (r) => r.status === "ok" && resolve(r)));
    expect(ended).toMatchObject({ job: "a", trigger: "schedule" });
    expect(runner.jobs.map((j) => j.overlap)).toEqual(["skip"]);
  });

  test("added, removed (its run in flight finishes), rescheduled and disabled jobs", async () => {
    await start({
      "jobs/slow.ts": `export default async (ctx) => { await new Promise((r) => setTimeout(r, 300)); return "finished"; };\n`,
      "jobs.yaml": manifest(`  slow: { handler: jobs/slow.ts }\n  daily: { handler: jobs/slow.ts, schedule: "0 0 * * *" }\n  other: { handler: jobs/slow.ts, schedule: "0 0 * * *" }\n`),
    });
    const started = new Promise<RunRecord>((resolve) => runner.once("run-started", resolve));
    const inFlight = runner.invoke("slow");
    expect(await started).toMatchObject({ job: "slow", status: "running" });
    expect(runner.inFlight).toBe(1);
    const reload = await editAndReload(
      "jobs.yaml",
      manifest(`  daily: { handler: jobs/slow.ts, schedule: "0 12 * * *" }\n  other: { handler: jobs/slow.ts, schedule: "0 0 * * *", enabled: false }\n  added: { handler: jobs/slow.ts, schedule: { every: 1h } }\n`),
    );
    expect(reload.diff).toEqual({ added: ["added"], removed: ["slow"], rescheduled: ["daily", "other"], changed: [] });
    expect((await inFlight).status).toBe("ok");
    expect(runner.nextFireOf("daily")?.getUTCHours()).toBe(12);
    expect(runner.nextFireOf("other")).toBeNull();
    expect(runner.nextFireOf("added")).not.toBeNull();
    await expect(runner.invoke("slow")).rejects.toMatchObject({ code: "JOB_UNKNOWN" });
  });

  test("a job whose handler file does not exist yet starts as soon as the file appears", async () => {
    await start({ "jobs/a.ts": `export default () => "a";\n`, "jobs.yaml": manifest(`  a: { handler: jobs/a.ts }\n`) });
    const refused = await editAndReload("jobs.yaml", manifest(`  a: { handler: jobs/a.ts }\n  b: { handler: jobs/b.ts, schedule: { every: 1h } }\n`));
    expect(refused.ok).toBe(false);
    const accepted = await editAndReload("jobs/b.ts", `export default () => "b";\n`);
    expect(accepted).toMatchObject({ ok: true, diff: { added: ["b"] } });
    expect(await result("b")).toBe("b");
  });

  test("an editor's save burst (write, rename over, chmod) is one reload", async () => {
    await start({ "jobs/a.ts": `export default () => 1;\n`, "jobs.yaml": manifest(`  a: { handler: jobs/a.ts }\n`) });
    const reloads: ReloadResult[] = [];
    runner.on("reload", (r) => reloads.push(r));
    const { renameSync, chmodSync } = await import("node:fs");
    project.write("jobs/a.ts.swp", `export default () => 2;\n`);
    renameSync(project.path("jobs/a.ts.swp"), project.path("jobs/a.ts"));
    chmodSync(project.path("jobs/a.ts"), 0o644);
    await new Promise((resolve) => runner.once("reload", resolve));
    await new Promise((r) => setTimeout(r, 200));
    expect(reloads).toHaveLength(1);
    expect(await result("a")).toBe(2);
  });
});

test("SIGHUP reloads the manifest without --watch", async () => {
  project = tempProject({ "jobs/a.ts": `export default () => 1;\n`, "jobs.yaml": manifest(`  a: { handler: jobs/a.ts }\n`) });
  const cli = startCli(["start", "--store", "memory"], { cwd: project.dir });
  try {
    await cli.waitForLog((e) => e.event === "started");
    project.write("jobs.yaml", manifest(`  a: { handler: jobs/a.ts }\n  b: { handler: jobs/a.ts, schedule: "0 0 * * *" }\n`));
    cli.child.kill("SIGHUP");
    const line = await cli.waitForLog((e) => e.event === "reload-applied");
    expect(line.msg).toContain("+b");
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  } finally {
    cli.child.kill("SIGKILL");
  }
});

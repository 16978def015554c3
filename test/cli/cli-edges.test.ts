import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli, startCli } from "../support/cli.js";
import { okHandler, repoRoot, tempProject } from "../support/temp-project.js";

function emptyDir(): { dir: string } & Disposable {
  const dir = mkdtempSync(join(tmpdir(), "runlet-cli-"));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("the CLI's edges", () => {
  test("a missing manifest says so and how to make one, for every command that reads it, and creates no file", () => {
    using empty = emptyDir();
    for (const args of [["validate"], ["list"], ["start"], ["invoke", "hello"]]) {
      const result = runCli(args, { cwd: empty.dir });
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stderr).toBe(`runlet: no jobs.yaml in ${empty.dir}: run \`runlet init\` to start a project here, or pass --manifest FILE\n`);
    }
    expect(runCli(["list", "--manifest", "nope.yaml"], { cwd: empty.dir }).stderr).toBe("runlet: no manifest at nope.yaml (--manifest): check the path, or run `runlet init` to start a project\n");
    expect(readdirSync(empty.dir)).toEqual([]);
  });

  test("read-only commands create no store, no folder", () => {
    using project = tempProject({ "jobs/a.ts": okHandler, "jobs.yaml": "version: 1\njobs:\n  a: { handler: jobs/a.ts }\n" });
    using elsewhere = emptyDir();
    const store = join(elsewhere.dir, "not", "there.db");
    expect(runCli(["list", "--store", store], { cwd: project.dir }).status).toBe(0);
    const history = runCli(["history", "--store", store], { cwd: project.dir });
    expect([history.status, history.stdout]).toEqual([0, `no runs recorded yet (no store at ${store})\n`]);
    expect(runCli(["history"], { cwd: project.dir }).status).toBe(0);
    expect(runCli(["validate"], { cwd: project.dir }).status).toBe(0);
    expect(readdirSync(elsewhere.dir)).toEqual([]);
    expect(existsSync(project.path(".runlet/runs.db"))).toBe(false);
  });

  test("unknown flags and missing values point at the command's help; negative numbers are checked as numbers", () => {
    using project = tempProject({ "jobs/a.ts": okHandler, "jobs.yaml": "version: 1\njobs:\n  a: { handler: jobs/a.ts }\n" });
    const cases: [string[], string][] = [
      [["list", "--nope"], "runlet: unknown flag --nope; see `runlet help list`\n"],
      [["list", "--manifest"], "runlet: --manifest needs a value; see `runlet help list`\n"],
      [["list", "--json=yes"], "runlet: --json takes no value; see `runlet help list`\n"],
      [["list", "--next", "-1"], 'runlet: --next must be a whole number (got "-1")\n'],
      [["--frob"], "runlet: unknown flag --frob before a command; see `runlet --help`\n"],
      [["frobnicate"], 'runlet: unknown command "frobnicate"; expected one of init, start, dev, validate, list, invoke, history, logs, pause, resume, trigger (see `runlet --help`)\n'],
    ];
    for (const [args, stderr] of cases) {
      const result = runCli(args, { cwd: project.dir });
      expect([result.status, result.stderr], args.join(" ")).toEqual([2, stderr]);
    }
  });

  test("`runlet help COMMAND` is that command's help; --version prints the package's version", () => {
    using empty = emptyDir();
    const help = runCli(["help", "start"], { cwd: empty.dir });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: runlet start \[flags\]\n/);
    expect(help.stdout).toContain("--watch");
    expect(help.stdout).toBe(runCli(["start", "--help"], { cwd: empty.dir }).stdout);
    const version = runCli(["--version"], { cwd: empty.dir });
    expect([version.status, version.stdout]).toEqual([0, `${JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version}\n`]);
  });

  test("an --env no job's `enabled` names is warned about; a named one is not", () => {
    using project = tempProject({ "jobs/a.ts": okHandler, "jobs.yaml": "version: 1\njobs:\n  a: { handler: jobs/a.ts, enabled: [production, staging] }\n  b: { handler: jobs/a.ts, enabled: { qa: true, '*': false } }\n" });
    const warning = 'runlet: warning: environment "prodution" (--env) is not named by any job\'s `enabled` (they name production, qa, staging); jobs enabled only there are off\n';
    for (const command of ["validate", "list"]) {
      expect(runCli([command, "--env", "prodution"], { cwd: project.dir }).stderr, command).toContain(warning);
      expect(runCli([command, "--env", "production"], { cwd: project.dir }).stderr, command).not.toContain("warning");
    }
    expect(runCli(["list"], { cwd: project.dir, env: { RUNLET_ENV: "qa" } }).stderr).toBe("");
    expect(runCli(["list"], { cwd: project.dir, env: { RUNLET_ENV: "q" } }).stderr).toContain('environment "q" (RUNLET_ENV)');
  });

  test("start --port logs \"HTTP server listening\" once", async () => {
    using project = tempProject({ "jobs/a.ts": okHandler, "jobs.yaml": "version: 1\njobs:\n  a: { handler: jobs/a.ts }\n" });
    const cli = startCli(["start", "--port", "0", "--store", "memory"], { cwd: project.dir });
    await cli.waitForLog((e) => e.event === "http-listening");
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(cli.lines.filter((l) => l.includes("HTTP server listening"))).toHaveLength(1);
  });

  test("start reports a handler's syntax error together with the manifest's problems, exit 2", () => {
    using project = tempProject({
      "jobs/a.ts": okHandler,
      "jobs/b.ts": "export default async () => {\n  return 1 +;\n};\n",
      "jobs.yaml": 'version: 1\njobs:\n  a: { handler: jobs/a.ts, schedule: "61 * * * *" }\n  b: { handler: jobs/b.ts }\n',
    });
    const started = runCli(["start", "--store", "memory"], { cwd: project.dir });
    expect(started.status).toBe(2);
    expect(started.stderr).toContain('jobs.yaml:3:39: jobs.a.schedule: cron minute field "61": 61 is out of range (expected 0-59)\n');
    expect(started.stderr).toContain('jobs/b.ts:2:13: Unexpected ";"\n');
    expect(started.stderr).toContain("2 problems found.");
  });
});

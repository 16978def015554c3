import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { runCli } from "../support/cli.js";
import { repoRoot } from "../support/temp-project.js";

const base = mkdtempSync(join(tmpdir(), "runlet-init-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 300_000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

/**
 * better-sqlite3's install script asks prebuild-install for a binary before compiling
 * (~2 minutes of CPU here). Its documented local-prebuilds folder is handed the binary this
 * checkout already built — same pinned version, same Node ABI, same machine — which is what
 * prebuild-install would download; the install script itself still runs.
 */
function localPrebuilds(): string {
  const require = createRequire(join(repoRoot, "package.json"));
  const pkgDir = join(require.resolve("better-sqlite3/package.json"), "..");
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string };
  const dir = join(base, "prebuilds");
  mkdirSync(dir, { recursive: true });
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync("tar", ["czf", join(dir, name), "-C", pkgDir, "build/Release/better_sqlite3.node"]);
  return dir;
}

describe("runlet init", () => {
  test("an empty folder becomes a project that installs from the packed tarball, validates, invokes hello and type-checks", () => {
    // --ignore-scripts: the suite runs against the dist/ already built; rebuilding it here would pull it from under the other test files.
    const packed = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", base], repoRoot);
    expect(packed.status, packed.out).toBe(0);
    const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const shipped = files.map((f) => f.path);
    expect(shipped.filter((p) => /^(test|\.ci|jobs)\//.test(p) || (p.endsWith(".ts") && !p.endsWith(".d.ts")))).toEqual([]);
    for (const entry of ["dist/runner/index.d.ts", "dist/runner/job.d.ts", "dist/runner/store/index.d.ts", "dist/runner/http/index.d.ts", "dist/workers/pool-worker.js", "schemas/jobs.schema.json"]) expect(shipped).toContain(entry);

    const dir = join(base, "my-jobs");
    const init = runCli(["init", dir], { cwd: base });
    expect(init.status, init.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([".gitignore", "jobs", "jobs.yaml", "package.json", "tsconfig.json"]);
    expect(readFileSync(join(dir, "jobs.yaml"), "utf8")).toMatch(/^# yaml-language-server: \$schema=\.\/node_modules\/runlet\/schemas\/jobs\.schema\.json\n/);
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toContain(".runlet/");
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(pkg).toMatchObject({ type: "module", scripts: { start: "runlet start", dev: "runlet dev", validate: "runlet validate" } });

    // Never overwrites: a second init keeps every file as the user left it.
    writeFileSync(join(dir, "jobs", "hello.ts"), readFileSync(join(dir, "jobs", "hello.ts"), "utf8").replace("hello", "hello!"));
    const edited = readFileSync(join(dir, "jobs", "hello.ts"), "utf8");
    const again = runCli(["init", dir], { cwd: base });
    expect(again.status).toBe(0);
    expect(again.stdout).not.toContain("created");
    expect(readFileSync(join(dir, "jobs", "hello.ts"), "utf8")).toBe(edited);

    const install = run("npm", ["install", join(base, filename), "--prefer-offline", "--no-audit", "--no-fund"], dir, { npm_config_better_sqlite3_local_prebuilds: localPrebuilds() });
    expect(install.status, install.out).toBe(0);
    expect(existsSync(join(dir, "node_modules", "runlet", "runner", "index.ts"))).toBe(false);

    const validate = run("npm", ["run", "--silent", "validate"], dir);
    expect(validate.status, validate.out).toBe(0);
    expect(validate.out).toContain("1 job, all valid");

    const invoke = run(join(dir, "node_modules", ".bin", "runlet"), ["invoke", "hello"], dir);
    expect(invoke.status, invoke.out).toBe(0);
    expect(JSON.parse(invoke.stdout)).toMatchObject({ greeted: "world" });
    expect(existsSync(join(dir, ".runlet", "runs.db"))).toBe(true);

    // The project's own tsconfig: strict, nodenext, against the installed package's .d.ts.
    const tsc = run(join(dir, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", "."], dir);
    expect(tsc.status, tsc.out).toBe(0);
    // The library API type-checks from the consumer's side too.
    writeFileSync(join(dir, "jobs", "api-use.ts"), `import { createRunner, type RunRecord } from "runlet";\nimport { openStore } from "runlet/store";\nimport { startHttpServer } from "runlet/http";\nimport type { JobContext } from "runlet/job";\nexport const used: unknown[] = [createRunner, openStore, startHttpServer];\nexport type T = [RunRecord, JobContext<{ a: number }>];\n`);
    const tscApi = run(join(dir, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", ".", "--skipLibCheck", "false"], dir);
    expect(tscApi.status, tscApi.out).toBe(0);
  }, 600_000);

  test("an existing package.json gains only the missing scripts; an existing .gitignore only the missing lines", () => {
    const dir = join(base, "existing");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), `{\n    "name": "mine",\n    "scripts": { "start": "node server.js" }\n}\n`);
    writeFileSync(join(dir, ".gitignore"), "dist");
    const init = runCli(["init"], { cwd: dir });
    expect(init.status, init.stderr).toBe(0);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(pkg.scripts).toEqual({ start: "node server.js", dev: "runlet dev", validate: "runlet validate" });
    expect(init.stdout).toContain('add "type": "module"');
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toBe("dist\nnode_modules/\n.runlet/\n");
  });
});

import { relative } from "node:path";
import { describe, expect, test } from "vitest";
import { HandlerCompiler } from "../../runner/compile/index.js";
import { ManifestError, formatProblem, type ErrorCode } from "../../runner/errors.js";
import { tempProject, type TempProject } from "../support/temp-project.js";

function compilerFor(project: TempProject): HandlerCompiler {
  return new HandlerCompiler({ root: project.dir, displayPath: (file) => relative(project.dir, file) });
}

/** The problems `compile` throws, formatted as users see them; the error carries `code` (a syntax error: HANDLER_COMPILE). */
async function problemsOf(project: TempProject, handler: string, code: ErrorCode = "HANDLER_COMPILE"): Promise<string[]> {
  const compiler = compilerFor(project);
  try {
    await compiler.compile(project.path(handler));
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).code).toBe(code);
    return (err as ManifestError).problems.map(formatProblem);
  } finally {
    await compiler.dispose();
  }
  throw new Error(`expected ${handler} not to compile`);
}

describe("compile problems", () => {
  test("a syntax error is at the handler's line and character column, after non-ASCII text", async () => {
    await using project = tempProject({
      // "é" and "ö" are two bytes each in UTF-8: esbuild's byte column is 2 past the character column.
      "jobs/broken.ts": 'export default async function () {\n  const greeting = "héllo wörld" : 3;\n}\n',
    });
    expect(await problemsOf(project, "jobs/broken.ts")).toMatchInlineSnapshot(`
      [
        "jobs/broken.ts:2:34: Expected ";" but found ":"",
      ]
    `);
  });

  test("an error in an imported local file is at that file", async () => {
    await using project = tempProject({
      "jobs/main.ts": 'import { n } from "./lib/bad.js";\nexport default async () => n;\n',
      "jobs/lib/bad.ts": "export const n = ;\n",
    });
    expect(await problemsOf(project, "jobs/main.ts")).toMatchInlineSnapshot(`
      [
        "jobs/lib/bad.ts:1:18: Unexpected ";"",
      ]
    `);
  });

  test("an import of a local file that does not exist is at the import", async () => {
    await using project = tempProject({
      "jobs/lost.ts": '// the import is on line 2\nimport { n } from "./nowhere.js";\nexport default async () => n;\n',
    });
    expect(await problemsOf(project, "jobs/lost.ts")).toMatchInlineSnapshot(`
      [
        "jobs/lost.ts:2:19: Could not resolve "./nowhere.js"",
      ]
    `);
  });

  test("every esbuild error of one handler is its own problem", async () => {
    await using project = tempProject({
      "jobs/two.ts": 'import { a } from "./a.js";\nimport { b } from "./b.js";\nexport default async () => a + b;\n',
    });
    expect(await problemsOf(project, "jobs/two.ts")).toHaveLength(2);
  });

  test("a module without a default export is a problem at its first line", async () => {
    await using project = tempProject({ "jobs/named.ts": "export async function run() {\n  return 1;\n}\n" });
    expect(await problemsOf(project, "jobs/named.ts", "HANDLER_NO_DEFAULT")).toMatchInlineSnapshot(`
      [
        "jobs/named.ts:1:1: jobs/named.ts has no default export (expected \`export default async function (ctx) { ... }\`)",
      ]
    `);
  });

  test("an npm package that is not installed is a problem at its import in the .ts source, not a run-time failure", async () => {
    await using project = tempProject({
      "jobs/deps.ts": [
        'import { readFileSync } from "node:fs";',
        'import path from "path";',
        'import { pino } from "pino";',
        'import { defineJob } from "runlet/job";',
        'import missing from "no-such-package-xyz";',
        "export default defineJob(async () => [readFileSync, path, pino, missing]);",
        'export const later = () => import("@nope/thing/sub");',
        "",
      ].join("\n"),
    });
    expect(await problemsOf(project, "jobs/deps.ts")).toMatchInlineSnapshot(`
      [
        "jobs/deps.ts:5:21: cannot find package "no-such-package-xyz": it is not installed in this project (npm install no-such-package-xyz)",
        "jobs/deps.ts:7:35: cannot find package "@nope/thing" (imported as "@nope/thing/sub"): it is not installed in this project (npm install @nope/thing)",
      ]
    `);
  });

  test("a handler file deleted before it was compiled is a problem, not a crash", async () => {
    await using project = tempProject({});
    expect(await problemsOf(project, "jobs/gone.ts", "MANIFEST_INVALID")).toMatchInlineSnapshot(`
      [
        "jobs/gone.ts:1:1: handler file jobs/gone.ts does not exist",
      ]
    `);
  });
});

describe("compileAll", () => {
  test("reports the problems of every broken handler at once and compiles the rest", async () => {
    await using project = tempProject({
      "jobs/good.ts": "export default async () => 1;\n",
      "jobs/syntax.ts": "export default async () => {\n  return 1 +;\n};\n",
      "jobs/no-default.ts": "export const value = 1;\n",
    });
    const compiler = compilerFor(project);
    const paths = ["jobs/syntax.ts", "jobs/good.ts", "jobs/no-default.ts", "jobs/good.ts"].map((f) => project.path(f));
    const { compiled, problems } = await compiler.compileAll(paths);
    await compiler.dispose();

    expect([...compiled.keys()]).toEqual([project.path("jobs/good.ts")]);
    expect(problems.map(formatProblem)).toMatchInlineSnapshot(`
      [
        "jobs/syntax.ts:2:13: Unexpected ";"",
        "jobs/no-default.ts:1:1: jobs/no-default.ts has no default export (expected \`export default async function (ctx) { ... }\`)",
      ]
    `);
  });
});

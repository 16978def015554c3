import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { HandlerCompiler } from "../../runner/compile/index.js";
import { tempProject } from "../support/temp-project.js";
import { runInNode } from "./run-in-node.js";

const compilers: HandlerCompiler[] = [];
function compilerFor(root: string): HandlerCompiler {
  const compiler = new HandlerCompiler({ root });
  compilers.push(compiler);
  return compiler;
}
afterEach(async () => {
  await Promise.all(compilers.splice(0).map((c) => c.dispose()));
});

describe("a compiled handler", () => {
  test("is an ESM module under <root>/.runlet/build that Node imports and runs", async () => {
    await using project = tempProject({
      "jobs/report.ts": "export default async function (ctx: { params: unknown }): Promise<string> {\n  return `ran with ${JSON.stringify(ctx.params)}`;\n}\n",
    });
    const handler = await compilerFor(project.dir).compile(project.path("jobs/report.ts"));

    expect(handler.source).toBe(project.path("jobs/report.ts"));
    expect(dirname(handler.modulePath)).toBe(project.path(".runlet/build"));
    expect(basename(handler.modulePath)).toBe(`report-${handler.hash}.mjs`);
    expect(handler.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(handler.hasDefaultExport).toBe(true);
    expect(existsSync(`${handler.modulePath}.map`)).toBe(true);
    expect(await runInNode(handler.modulePath)).toEqual({ value: "ran with {}" });
  });

  test("bundles local imports and lists them, the handler itself included, in inputs", async () => {
    await using project = tempProject({
      "jobs/sum.ts": 'import { add } from "./lib/math.js";\nexport default async () => add(40, 2);\n',
      "jobs/lib/math.ts": "export const add = (a: number, b: number): number => a + b;\n",
    });
    const handler = await compilerFor(project.dir).compile(project.path("jobs/sum.ts"));

    expect(handler.inputs).toEqual([project.path("jobs/lib/math.ts"), project.path("jobs/sum.ts")]);
    expect(readFileSync(handler.modulePath, "utf8")).not.toContain("./lib/math");
    expect(await runInNode(handler.modulePath)).toEqual({ value: 42 });
  });

  test("keeps npm packages external, resolved by Node from the project", async () => {
    await using project = tempProject({
      "jobs/parse.ts": 'import { parse } from "yaml";\nexport default async () => parse("answer: 42");\n',
    });
    const handler = await compilerFor(project.dir).compile(project.path("jobs/parse.ts"));

    expect(readFileSync(handler.modulePath, "utf8")).toMatch(/from "yaml"/);
    expect(handler.inputs).toEqual([project.path("jobs/parse.ts")]);
    expect(await runInNode(handler.modulePath)).toEqual({ value: { answer: 42 } });
  });

  test("leaves files under node_modules out of inputs even when a relative import bundles them", async () => {
    await using project = tempProject({
      "jobs/vendored.ts": 'import { greet } from "../node_modules/greeter/index.js";\nexport default async () => greet("x");\n',
      "node_modules/greeter/index.js": "export const greet = (name) => `hello ${name}`;\n",
    });
    const handler = await compilerFor(project.dir).compile(project.path("jobs/vendored.ts"));

    expect(handler.inputs).toEqual([project.path("jobs/vendored.ts")]);
    expect(await runInNode(handler.modulePath)).toEqual({ value: "hello x" });
  });

  test("a CommonJS handler (.cjs) works, requiring builtins and npm packages", async () => {
    await using project = tempProject({
      "jobs/legacy.cjs": 'const os = require("node:os");\nconst { parse } = require("yaml");\nmodule.exports = async () => [42, typeof os.cpus, parse("a: 1")];\n',
    });
    const handler = await compilerFor(project.dir).compile(project.path("jobs/legacy.cjs"));

    expect(handler.hasDefaultExport).toBe(true);
    expect(await runInNode(handler.modulePath)).toEqual({ value: [42, "function", { a: 1 }] });
  });

  test("an ESM handler that declares its own `require` does not clash with the createRequire banner", async () => {
    await using project = tempProject({
      "jobs/own-require.mjs":
        'import { createRequire } from "node:module";\nconst require = createRequire(import.meta.url);\nexport default async () => require("yaml").parse("b: 2");\n',
    });
    const handler = await compilerFor(project.dir).compile(project.path("jobs/own-require.mjs"));

    expect(await runInNode(handler.modulePath)).toEqual({ value: { b: 2 } });
  });

  test("a thrown error's stack points at the .ts source line", async () => {
    await using project = tempProject({
      "jobs/fail.ts": [
        "interface Row { id: number }",
        "const rows: Row[] = [];",
        "export default async function (): Promise<number> {",
        "  if (rows.length === 0) {",
        '    throw new Error("no rows");',
        "  }",
        "  return rows.length;",
        "}",
        "",
      ].join("\n"),
    });
    const handler = await compilerFor(project.dir).compile(project.path("jobs/fail.ts"));

    const outcome = await runInNode(handler.modulePath);
    expect(outcome).toHaveProperty("stack");
    const stack = (outcome as { stack: string }).stack;
    expect(stack.split("\n")[0]).toBe("Error: no rows");
    expect(stack.split("\n")[1]).toContain(`${project.path("jobs/fail.ts")}:5:11`);
  });
});

describe("content-addressed outputs", () => {
  test("unchanged source maps to the same module, which is not rewritten", async () => {
    await using project = tempProject({ "jobs/same.ts": "export default async () => 1;\n" });
    const compiler = compilerFor(project.dir);
    const first = await compiler.compile(project.path("jobs/same.ts"));
    const written = statSync(first.modulePath).mtimeMs;
    const second = await compiler.compile(project.path("jobs/same.ts"));

    expect(second.modulePath).toBe(first.modulePath);
    expect(statSync(second.modulePath).mtimeMs).toBe(written);
  });

  test("changed source is a new module, and the old one stays on disk for runs still using it", async () => {
    await using project = tempProject({ "jobs/version.ts": "export default async () => 1;\n" });
    const compiler = compilerFor(project.dir);
    const v1 = await compiler.compile(project.path("jobs/version.ts"));
    project.write("jobs/version.ts", "export default async () => 2;\n");
    const v2 = await compiler.compile(project.path("jobs/version.ts"));

    expect(v2.modulePath).not.toBe(v1.modulePath);
    expect(existsSync(v1.modulePath)).toBe(true);
    expect(await runInNode(v1.modulePath)).toEqual({ value: 1 });
    expect(await runInNode(v2.modulePath)).toEqual({ value: 2 });
  });

  test("an edit of an imported local file alone is a new module", async () => {
    await using project = tempProject({
      "jobs/uses.ts": 'import { n } from "./n.js";\nexport default async () => n;\n',
      "jobs/n.ts": "export const n = 1;\n",
    });
    const compiler = compilerFor(project.dir);
    const v1 = await compiler.compile(project.path("jobs/uses.ts"));
    project.write("jobs/n.ts", "export const n = 2;\n");
    const v2 = await compiler.compile(project.path("jobs/uses.ts"));

    expect(v2.modulePath).not.toBe(v1.modulePath);
    expect(await runInNode(v2.modulePath)).toEqual({ value: 2 });
  });

  test("a line shift that leaves the code alone is a new module, so stack traces keep the right line", async () => {
    await using project = tempProject({ "jobs/shift.ts": 'export default async () => {\n  throw new Error("x");\n};\n' });
    const compiler = compilerFor(project.dir);
    const v1 = await compiler.compile(project.path("jobs/shift.ts"));
    project.write("jobs/shift.ts", '// a comment moves everything down\n\nexport default async () => {\n  throw new Error("x");\n};\n');
    const v2 = await compiler.compile(project.path("jobs/shift.ts"));

    expect(v2.modulePath).not.toBe(v1.modulePath);
    expect((await runInNode(v2.modulePath)) as { stack: string }).toMatchObject({
      stack: expect.stringContaining(`${project.path("jobs/shift.ts")}:4:9`),
    });
  });

  test("outDir puts modules elsewhere inside the project", async () => {
    await using project = tempProject({ "jobs/out.ts": "export default async () => 1;\n" });
    const compiler = new HandlerCompiler({ root: project.dir, outDir: project.path("build/handlers") });
    const handler = await compiler.compile(project.path("jobs/out.ts"));
    await compiler.dispose();

    expect(dirname(handler.modulePath)).toBe(join(project.dir, "build", "handlers"));
  });
});

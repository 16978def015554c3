// A program that embeds runlet keeps Node's own handling of errors no run can be charged
// with: runlet's listeners take only what its runs raise. Run as real child processes.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, test } from "vitest";
import { repoRoot } from "../support/temp-project.js";

const inlineExecutor = join(repoRoot, "dist", "runner", "execute", "inline-executor.js");

function program(body: string) {
  const source = `import { InlineExecutor } from ${JSON.stringify(inlineExecutor)};\nconst executor = new InlineExecutor();\n${body}\n`;
  return spawnSync(process.execPath, ["--input-type=module", "-e", source], { encoding: "utf8", timeout: 30_000 });
}

test("an uncaught error outside any run ends an embedding program with exit 1, printed, as without runlet", () => {
  const result = program(`setTimeout(() => { throw new Error("the program's own bug"); }, 10);\nsetTimeout(() => console.log("still running"), 500);`);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("the program's own bug");
  expect(result.stdout).not.toContain("still running");
});

test("a failed top-level await of an embedding program is not swallowed", () => {
  const result = program(`await Promise.reject(new Error("top-level await failed"));`);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("top-level await failed");
});

test("with a listener of its own, the program decides: runlet leaves the error to it", () => {
  const result = program(`process.on("uncaughtException", (err) => console.log("handled by the program:", err.message));
setTimeout(() => { throw new Error("its own bug"); }, 10);
setTimeout(() => { console.log("still running"); executor.close(); }, 200);`);
  expect(result.status).toBe(0);
  expect(result.stdout).toBe("handled by the program: its own bug\nstill running\n");
});

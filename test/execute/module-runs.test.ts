// Whose run an error is, from its stack (runner/execute/module-runs.ts): the frames name a
// handler's module, the module's runs name the run, and nothing is charged to a job that
// may not have raised it.
import { expect, test } from "vitest";
import { ModuleRuns, type ModuleRun } from "../../runner/execute/module-runs.js";

const run = (job: string, modulePath: string): ModuleRun & { id: string } => ({ job, modulePath, endedAt: 0, id: `${job}@${modulePath}` });
const stack = (...files: string[]) => ["Error: boom", ...files.map((f, i) => `    at fn${i} (${f}:1:${i + 1})`), "    at listOnTimeout (node:internal/timers:581:17)"].join("\n");
const error = (...files: string[]) => Object.assign(new Error("boom"), { stack: stack(...files) });

test("a frame in a module: its job's oldest run in flight, else the job's last ended run", () => {
  const runs = new ModuleRuns<ReturnType<typeof run>>();
  const first = run("a", "/build/a-1.mjs");
  const second = run("a", "/build/a-1.mjs");
  runs.started(first);
  runs.started(second);
  expect(runs.ownerOf(error("/build/a-1.mjs"))).toBe(first);
  runs.settled(first);
  expect(runs.ownerOf(error("/build/a-1.mjs"))).toBe(second);
  runs.settled(second);
  expect(runs.ownerOf(error("/build/a-1.mjs"))).toBe(second);
  // file:// URLs in frames name the same file.
  expect(runs.ownerOf(error("file:///build/a-1.mjs"))).toBe(second);
});

test("no frame of a known module, no stack, or a module two jobs use: nobody's", () => {
  const runs = new ModuleRuns<ReturnType<typeof run>>();
  const a = run("a", "/build/shared.mjs");
  const b = run("b", "/build/shared.mjs");
  runs.started(a);
  runs.settled(a);
  expect(runs.ownerOf(error("/elsewhere/lib.js"))).toBeNull();
  expect(runs.ownerOf({ message: "a plain object has no stack" })).toBeNull();
  expect(runs.ownerOf(error("/build/shared.mjs"))).toBe(a);
  runs.started(b);
  expect(runs.ownerOf(error("/build/shared.mjs"))).toBeNull();
});

test("a file two jobs share is passed over for a deeper frame that names one job's module", () => {
  const runs = new ModuleRuns<ReturnType<typeof run>>();
  const a = run("a", "/build/a.mjs");
  const b = run("b", "/build/b.mjs");
  runs.started(a);
  runs.started(b);
  // Both modules list the shared file as theirs only through a source map; here each module
  // is its own file, so the shared frame names none and the next frame decides.
  expect(runs.ownerOf(error("/src/shared.ts", "/build/b.mjs", "/build/a.mjs"))).toBe(b);
});

test("callingRun reads the caller's own stack", () => {
  const runs = new ModuleRuns<ReturnType<typeof run>>();
  const self = run("self", new URL(import.meta.url).pathname);
  runs.started(self);
  expect(runs.callingRun()).toBe(self);
});

test("a run settled at once (filed on the next turn) is found before then, and a later ending of its job is the last", async () => {
  const runs = new ModuleRuns<ReturnType<typeof run>>();
  const atOnce = run("a", "/build/a-2.mjs");
  const later = run("a", "/build/a-2.mjs");
  runs.settledAtOnce(atOnce);
  expect(runs.ownerOf(error("/build/a-2.mjs"))).toBe(atOnce);
  const again = run("a", "/build/a-2.mjs");
  runs.settledAtOnce(again);
  runs.started(later);
  runs.settled(later);
  expect(runs.ownerOf(error("/build/a-2.mjs"))).toBe(later);
  // Filed on its own on the next turn: the order holds there too.
  const last = run("a", "/build/a-2.mjs");
  runs.settledAtOnce(last);
  await new Promise((resolve) => setImmediate(resolve));
  expect(runs.ownerOf(error("/build/a-2.mjs"))).toBe(last);
});

import { execFile } from "node:child_process";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

export type RunOutcome = { value: unknown } | { stack: string };

// In the child, with source maps on as the runner turns them on: import the module, call
// its default export, report the value or the thrown error's stack.
const SCRIPT = `
process.setSourceMapsEnabled(true);
const mod = await import(process.argv[1]);
try {
  console.log(JSON.stringify({ value: await mod.default({ params: {} }) }));
} catch (err) {
  console.log(JSON.stringify({ stack: String(err.stack) }));
}
`;

/**
 * Imports a compiled module in a fresh `node` process and calls its default export. Not
 * in the test process: vitest's module runner would resolve imports and map stack traces
 * itself, hiding what plain Node (the runner, a worker thread) does with the file.
 */
export async function runInNode(modulePath: string): Promise<RunOutcome> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", SCRIPT, pathToFileURL(modulePath).href],
    { timeout: 10_000 },
  );
  return JSON.parse(stdout) as RunOutcome;
}

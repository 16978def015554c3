// Every error code is documented with the exit status the CLI gives it, and a bug in
// runlet is reported as one (exit 1, "this is a bug", the stack), never as bad input.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EXIT_OF, reportError } from "../../runner/cli/output.js";
import { RunletError } from "../../runner/errors.js";
import { repoRoot } from "../support/temp-project.js";

afterEach(() => vi.restoreAllMocks());

/** What reportError writes to stderr, and the exit status it returns. */
function reported(err: unknown): { status: number; stderr: string } {
  let stderr = "";
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const status = reportError(err);
  vi.restoreAllMocks();
  return { status, stderr };
}

describe("error codes", () => {
  it("docs/errors.md lists every code with the exit status the CLI gives it", () => {
    const doc = readFileSync(join(repoRoot, "docs", "errors.md"), "utf8");
    const rows = new Map([...doc.matchAll(/^\| `([A-Z_]+)` \|.*\| (\d) \|$/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect(Object.fromEntries(rows)).toEqual(EXIT_OF);
  });

  it("a user's mistake: its message, exit 2", () => {
    expect(reported(new RunletError("BAD_INPUT", "--port must be a port number 0-65535 (got \"x\")"))).toEqual({ status: 2, stderr: 'runlet: --port must be a port number 0-65535 (got "x")\n' });
  });

  it("a bug (INTERNAL, or any error that is not a RunletError): exit 1, says so, prints the stack and its cause", () => {
    const bug = reported(new TypeError("cannot read properties of undefined (reading 'def')"));
    expect(bug.status).toBe(1);
    expect(bug.stderr).toMatch(/^runlet: internal error: this is a bug in runlet, please report it with the lines below\.\nTypeError: cannot read properties of undefined \(reading 'def'\)\n {4}at /);
    const internal = reported(new RunletError("INTERNAL", "cron \"0 0 15W * *\" cannot be parsed", { cause: new Error("Invalid characters") }));
    expect(internal.status).toBe(1);
    expect(internal.stderr).toContain("this is a bug in runlet");
    expect(internal.stderr).toContain("caused by: Error: Invalid characters");
  });
});

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./temp-project.js";

export const cliPath = join(repoRoot, "dist", "runner", "cli", "main.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `runlet` CLI to completion, as a user would. */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd,
    env: { ...process.env, LOG_LEVEL: "info", ...options.env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A long-running `runlet` process whose stderr log lines can be awaited. */
export interface CliProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first JSON log line matching `predicate`, from line `from` on (an index into `lines`; by default the first). */
  waitForLog(predicate: (entry: Record<string, unknown>) => boolean, timeoutMs?: number, from?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  stdout(): string;
}

export function startCli(args: string[], options: { cwd: string; env?: Record<string, string> }): CliProcess {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: options.cwd, env: { ...process.env, LOG_LEVEL: "info", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = "";
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    stdout: () => out,
    waitForLog(predicate, timeoutMs = 20_000, from = 0) {
      return new Promise((resolve, reject) => {
        let seen = from;
        const check = () => {
          for (; seen < lines.length; seen++) {
            let entry: Record<string, unknown>;
            try {
              entry = JSON.parse(lines[seen]!);
            } catch {
              continue; // not a JSON log line (e.g. a problem report)
            }
            if (predicate(entry)) {
              cleanup();
              resolve(entry);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching log line within ${timeoutMs}ms; got:\n${lines.slice(-20).join("\n")}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

// Shared helpers of the benchmarks: temp projects inside the repo (so compiled handlers
// resolve npm packages), percentiles, and a printed table.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpus } from "node:os";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const dist = (path) => join(repoRoot, "dist", path);

export function tempProject(files = {}) {
  const base = join(repoRoot, "test", ".tmp");
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, "bench-"));
  const write = (file, content) => {
    const target = join(dir, file);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    return target;
  };
  for (const [file, content] of Object.entries(files)) write(file, content);
  return { dir, write, path: (f) => join(dir, f), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p10: percentile(sorted, 10), p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

export const fmt = (n, digits = 2) => (Number.isFinite(n) ? Number(n.toFixed(digits)).toString() : String(n));

export function printTable(title, headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ");
  console.log(`\n${title}\n${line(headers)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${rows.map(line).join("\n")}`);
}

export const machine = () => `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}`;

/**
 * The measuring window of a bench child whose handlers call `globalThis.__late(fire,
 * started)`: the lateness of fires inside the window is kept in `late`. `open(seconds)`
 * starts it at the second boundary after a 2 s warm-up (handlers imported, timers
 * settled) and resolves 1.2 s after it closes, so its last runs have ended.
 */
export function lateWindow() {
  const window = {
    late: [],
    start: Infinity,
    end: Infinity,
    holds: (t) => t >= window.start && t < window.end,
    open(seconds) {
      window.start = Math.ceil((Date.now() + 2000) / 1000) * 1000;
      window.end = window.start + seconds * 1000;
      return new Promise((resolve) => setTimeout(resolve, window.end + 1200 - Date.now()));
    },
  };
  globalThis.__late = (fire, started) => {
    if (window.holds(fire)) window.late.push(started - fire);
  };
  return window;
}

/**
 * Runs the bench file `script` (its import.meta.url) as a child on a temp project of
 * `files`, with `--child DIR ...args`; resolves with the JSON the child prints on stdout.
 */
export function runBenchChild(script, files, args, what) {
  const project = tempProject(files);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(script), "--child", project.dir, ...args.map(String)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.stdout.on("data", (chunk) => (out += chunk));
    proc.on("exit", (code) => {
      project.remove();
      if (code !== 0) reject(new Error(`bench child (${what}) exited ${code}`));
      else resolve(JSON.parse(out));
    });
  });
}

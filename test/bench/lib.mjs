// Shared helpers of the benchmarks: temp projects inside the repo (so compiled handlers
// resolve npm packages), percentiles, and a printed table.
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

import type { Problem } from "../errors.js";
import type { ValuePath, YamlSource } from "./yaml-source.js";

/** Collects problems against a YAML source, positioned at the offending key or value. */
export class Report {
  readonly problems: Problem[] = [];
  /**
   * The key of every path a problem was reported at, and of each of its parents: asking
   * whether a job has problems is one lookup, not a scan of every problem so far (which
   * made reporting 16,000 invalid jobs take 22 s).
   */
  private readonly problemPaths = new Set<string>();
  constructor(readonly source: YamlSource) {}

  /** Whether a problem was reported at `path` (then `key`, when given) or anywhere inside it. */
  hasProblemsUnder(path: ValuePath, key?: string): boolean {
    // A valid manifest asks this a few times per job: without a problem, no key is built
    // (nor, with `key`, a longer path).
    if (this.problemPaths.size === 0) return false;
    return this.problemPaths.has(key === undefined ? pathKey(path) : `${pathKey(path)}\u0000${key}`);
  }

  /** A problem with the value at `path` (or its key). `message` is prefixed with the dotted path. */
  at(path: ValuePath, message: string, part: "key" | "value" = "value"): void {
    this.remember(path);
    this.problems.push({ file: this.source.file, ...this.source.at(path, part), message: `${dotted(path)} ${message}` });
  }

  /** A problem at a character inside the scalar at `path` (a cron field). */
  inScalar(path: ValuePath, offset: number, message: string): void {
    this.remember(path);
    this.problems.push({ file: this.source.file, ...this.source.inScalar(path, offset), message: `${dotted(path)}: ${message}` });
  }

  private remember(path: ValuePath): void {
    for (let depth = path.length; depth >= 0; depth--) {
      const key = pathKey(path.slice(0, depth));
      if (this.problemPaths.has(key)) return; // its parents are in already
      this.problemPaths.add(key);
    }
  }
}

/** A path as one string, keys and indexes alike (ajv names list items "0", the checks 0). */
export function pathKey(path: ValuePath): string {
  return path.join("\u0000");
}

/** `["jobs", "report", "retries", "max"]` → `jobs.report.retries.max`. */
export function dotted(path: ValuePath): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("") || "manifest";
}

/** A value as a message shows it: strings quoted, objects short. */
export function shown(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

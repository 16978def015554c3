import type { Problem } from "../errors.js";
import type { ValuePath, YamlSource } from "./yaml-source.js";

/** Collects problems against a YAML source, positioned at the offending key or value. */
export class Report {
  readonly problems: Problem[] = [];
  private readonly paths: ValuePath[] = [];
  constructor(readonly source: YamlSource) {}

  /** Whether a problem was reported at `path` or anywhere inside it. */
  hasProblemsUnder(path: ValuePath): boolean {
    return this.paths.some((p) => path.every((segment, i) => String(p[i]) === String(segment)));
  }

  /** A problem with the value at `path` (or its key). `message` is prefixed with the dotted path. */
  at(path: ValuePath, message: string, part: "key" | "value" = "value"): void {
    this.paths.push(path);
    this.problems.push({ file: this.source.file, ...this.source.at(path, part), message: `${dotted(path)} ${message}` });
  }

  /** A problem at a character inside the scalar at `path` (a cron field). */
  inScalar(path: ValuePath, offset: number, message: string): void {
    this.paths.push(path);
    this.problems.push({ file: this.source.file, ...this.source.inScalar(path, offset), message: `${dotted(path)}: ${message}` });
  }
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

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseDotEnv } from "dotenv";
import type { Problem } from "../errors.js";
import type { Report } from "./report.js";
import type { ValuePath } from "./yaml-source.js";

/** `${env:NAME}` or `${env:NAME:-default}`; the default runs to the first `}`. */
const REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Where the values of `${env:NAME}` come from: the process's environment first, then `.env`. */
export interface EnvSource {
  get(name: string): string | undefined;
}

/**
 * The environment a manifest in `dir` reads: the process's own, over the `.env` file next
 * to the manifest when there is one (read anew at each load, so an edit of `.env` takes
 * effect on the next reload). Parsed by dotenv, as most tools read that file.
 */
export function manifestEnv(dir: string, env: NodeJS.ProcessEnv = process.env): EnvSource {
  const file = join(dir, ".env");
  const fromFile = existsSync(file) ? parseDotEnv(readFileSync(file)) : {};
  return { get: (name) => env[name] ?? (Object.hasOwn(fromFile, name) ? fromFile[name] : undefined) };
}

/** A manifest with its `${env:...}` references resolved, and what was put in their place. */
export interface ResolvedEnv {
  /** The same tree, each string with its references replaced. */
  value: unknown;
  /** Each variable used, by name, with the value put in: what must never be shown. */
  used: Map<string, string>;
}

/**
 * Replaces `${env:NAME}` / `${env:NAME:-default}` in every string of the parsed manifest
 * (map keys are left as written). A variable that is unset, with no default, is a problem
 * at the reference itself. The input is not changed: it stays the manifest as written,
 * which is what `list`, logs and the dashboard show.
 */
export function resolveEnvValues(value: unknown, env: EnvSource, report: Report): ResolvedEnv {
  const used = new Map<string, string>();
  const walk = (node: unknown, path: Array<string | number>): unknown => {
    if (typeof node === "string") return node.includes("${env:") ? substitute(node, path) : node;
    if (Array.isArray(node)) {
      let copy: unknown[] | null = null;
      node.forEach((item, i) => {
        const next = walk(item, [...path, i]);
        if (next !== item) (copy ??= [...node])[i] = next;
      });
      return copy ?? node;
    }
    if (node !== null && typeof node === "object") {
      let copy: Record<string, unknown> | null = null;
      for (const [key, item] of Object.entries(node)) {
        const next = walk(item, [...path, key]);
        if (next !== item) (copy ??= { ...(node as Record<string, unknown>) })[key] = next;
      }
      return copy ?? node;
    }
    return node;
  };
  const substitute = (text: string, path: ValuePath): string =>
    text.replace(REFERENCE, (whole: string, name: string, fallback: string | undefined, offset: number) => {
      const found = env.get(name);
      const resolved = found ?? fallback;
      if (resolved === undefined) {
        report.inScalar(path, offset, `${whole} is not set: set ${name} in the environment or in .env next to the manifest, or give a default: \${env:${name}:-value}`);
        return whole;
      }
      if (found !== undefined) used.set(name, found);
      return resolved;
    });
  // Most manifests have no reference: one test of the text is cheaper than walking it.
  return { value: walk(value, []), used };
}

/**
 * Problems whose message would print a value taken from the environment (a wrong
 * duration read from `${env:TIMEOUT}`, say) print the reference instead. The value is
 * replaced as a message quotes it (`"..."`, also cut short as `shown()` cuts it), and
 * bare where it is long enough not to match ordinary words of a message.
 */
export function redactProblems(problems: Problem[], used: Map<string, string>): Problem[] {
  if (used.size === 0) return problems;
  const replacements: Array<[string, string]> = [];
  for (const [name, value] of used) {
    if (value === "") continue;
    const quoted = JSON.stringify(value);
    replacements.push([quoted, JSON.stringify(`\${env:${name}}`)]);
    if (quoted.length > 60) replacements.push([quoted.slice(0, 57), `"\${env:${name}}`]);
    if (value.length >= 4) replacements.push([value, `\${env:${name}}`]);
  }
  // Longest first, so a value inside another is not replaced before the one holding it.
  replacements.sort((a, b) => b[0].length - a[0].length);
  return problems.map((p) => ({ ...p, message: replacements.reduce((message, [from, to]) => message.split(from).join(to), p.message) }));
}

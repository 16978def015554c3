import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { Metafile } from "esbuild";
import type { Problem } from "../errors.js";
import { hasNamespace, type DisplayPath } from "./build-problems.js";

const BUILTINS = new Set(builtinModules);

/**
 * npm packages stay external (imported at run time), so esbuild never looks for them: a
 * package that is not installed would fail only when the job first runs, naming the
 * compiled file. This finds them at compile time, at the import in the source file.
 * A package counts as found when a `node_modules/<name>` folder is on Node's lookup path
 * from the importing file, or the importing file is inside the package itself (a
 * package importing its own name).
 */
export function missingPackages(metafile: Metafile, root: string, display: DisplayPath): Problem[] {
  const problems: Problem[] = [];
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    if (hasNamespace(input)) continue;
    const file = resolve(root, input);
    for (const imported of imports) {
      if (!imported.external) continue;
      const name = packageName(imported.path);
      if (name === null || BUILTINS.has(name) || isFound(name, dirname(file))) continue;
      const { line, col } = positionOf(file, imported.path);
      problems.push({
        file: display(file),
        line,
        col,
        message: `cannot find package "${name}"${imported.path === name ? "" : ` (imported as "${imported.path}")`}: it is not installed in this project (npm install ${name})`,
        code: "HANDLER_COMPILE",
      });
    }
  }
  return problems;
}

/** `pkg/sub` → `pkg`, `@scope/pkg/sub` → `@scope/pkg`; null for builtins and paths. */
function packageName(specifier: string): string | null {
  if (specifier.startsWith("node:") || specifier.startsWith(".") || specifier.startsWith("/") || /^[a-z]+:/i.test(specifier)) return null;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function isFound(name: string, from: string): boolean {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules", name))) return true;
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && ownName(manifest) === name) return true;
    if (dirname(dir) === dir) return false;
  }
}

function ownName(packageJson: string): string | null {
  try {
    return (JSON.parse(readFileSync(packageJson, "utf8")) as { name?: string }).name ?? null;
  } catch {
    return null;
  }
}

/** Where the specifier is written in the file (its first quoted occurrence), else 1:1. */
function positionOf(file: string, specifier: string): { line: number; col: number } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { line: 1, col: 1 };
  }
  const at = [`"${specifier}"`, `'${specifier}'`, `\`${specifier}\``].map((q) => text.indexOf(q)).filter((i) => i >= 0).sort((a, b) => a - b)[0];
  if (at === undefined) return { line: 1, col: 1 };
  const before = text.slice(0, at).split("\n");
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

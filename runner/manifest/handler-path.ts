import { realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";

/**
 * Resolves a handler as written in the manifest to its real path, or says why it cannot
 * be run: missing, not a file, or (after following symlinks) outside the project root.
 * Handlers stay inside the project: a manifest must not be a way to run arbitrary files.
 */
export function resolveHandlerPath(handler: string, root: string): { path: string } | { problem: string } {
  if (isAbsolute(handler)) return { problem: `must be a path relative to the manifest's folder (got the absolute path "${handler}")` };
  const written = resolve(root, handler);
  if (!isInside(written, root)) return { problem: `"${handler}" is outside the project folder ${root}` };
  let real: string;
  try {
    real = realpathSync(written);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { problem: `file "${handler}" does not exist (relative to the manifest's folder)` };
    return { problem: `"${handler}" cannot be read: ${(err as Error).message}` };
  }
  if (!isInside(real, root)) return { problem: `"${handler}" resolves to ${real}, outside the project folder ${root}` };
  if (!statSync(real).isFile()) return { problem: `"${handler}" is not a file (expected a handler module)` };
  return { path: real };
}

export function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}

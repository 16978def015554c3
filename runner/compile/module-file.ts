import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, extname, join } from "node:path";

export interface ModuleFile {
  /** Absolute path of the `.mjs` file. */
  path: string;
  hash: string;
}

/** Hex characters of the content hash in a file name: 64 bits, no collision in practice. */
const HASH_LENGTH = 16;

/**
 * Writes a compiled handler as `<outDir>/<handler basename>-<hash>.mjs` plus its `.map`,
 * where the hash covers the code and the map. The same build therefore lands on the same
 * file (the write is skipped) and a different one on a new file, which is what lets a
 * runner import a changed handler as a new module while runs in flight keep the old one.
 * Files are never deleted here: a worker may still import an old version.
 */
export function writeModuleFile(outDir: string, handlerPath: string, code: string, map: string): ModuleFile {
  // The map counts: a source edit that leaves the code alone (a comment, a blank line)
  // moves the lines stack traces must point at.
  const hash = createHash("sha256").update(code).update("\0").update(map).digest("hex").slice(0, HASH_LENGTH);
  const name = `${basename(handlerPath, extname(handlerPath))}-${hash}.mjs`;
  const path = join(outDir, name);
  if (existsSync(path)) return { path, hash };

  mkdirSync(outDir, { recursive: true });
  // The map first, so a module file that exists always has its map beside it.
  writeAtomically(`${path}.map`, map);
  const newline = code.endsWith("\n") ? "" : "\n";
  writeAtomically(path, `${code}${newline}//# sourceMappingURL=${name}.map\n`);
  return { path, hash };
}

/** Write-then-rename: a reader (a worker importing the module) never sees half a file. */
function writeAtomically(path: string, content: string): void {
  const temp = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}

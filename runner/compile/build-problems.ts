import { isAbsolute, relative, resolve } from "node:path";
import type { Message } from "esbuild";
import type { Problem } from "../errors.js";

/** How a file name appears in a problem. @default relative to the current directory when inside it */
export type DisplayPath = (file: string) => string;

export function defaultDisplayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/**
 * One problem per esbuild error, at the file the error is in (the handler itself, or a
 * local file it imports). An error esbuild gives no position for (the entry file vanished
 * between the manifest check and the build) is put at the handler's first character.
 */
export function problemsFromMessages(messages: Message[], root: string, handlerPath: string, display: DisplayPath): Problem[] {
  return messages.map((m) => {
    const loc = m.location;
    if (!loc) return { file: display(handlerPath), line: 1, col: 1, message: m.text, code: "HANDLER_COMPILE" };
    const file = resolve(root, loc.file);
    return { file: display(file), line: loc.line, col: byteColumnToCol(loc.lineText, loc.column), message: m.text, code: "HANDLER_COMPILE" };
  });
}

/**
 * esbuild's columns are 0-based UTF-8 byte offsets into the line; editors and terminals
 * count characters from 1. "Characters" here are UTF-16 code units, as JavaScript strings,
 * VS Code and the manifest stage's YAML positions count them, so all problems agree.
 */
export function byteColumnToCol(lineText: string, byteColumn: number): number {
  return Buffer.from(lineText, "utf8").subarray(0, byteColumn).toString("utf8").length + 1;
}

/** Metafile paths of inputs outside esbuild's "file" namespace carry a `ns:` prefix (none do without plugins). */
export function hasNamespace(path: string): boolean {
  return /^[a-z][\w-]*:/i.test(path) && !isAbsolute(path);
}

import { readFileSync } from "node:fs";

/**
 * The lines a test's handlers appended to `file`, each split at spaces; none while the file
 * does not exist yet (no handler has run). The replica tests count executions this way:
 * the handlers run in other processes, so a file is what they share.
 */
export function loggedLines(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text.trim().split("\n").filter(Boolean).map((line) => line.split(" "));
}

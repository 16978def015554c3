import { load, YAMLException } from "js-yaml";
import type { ValuePath } from "./yaml-source.js";

/**
 * How deeply values may nest in a manifest: the root map, `jobs`, a job and its `params`
 * take four levels, leaving `params` some 96. Both YAML parsers recurse once per level,
 * and `yaml` runs out of stack between 1,000 and 3,000 levels (a RangeError, not a
 * problem); a bound far below that, and far above any real manifest, turns such a file
 * into one positioned problem. Levels count as js-yaml's `maxDepth` counts them: every
 * node from the root down, the innermost value included.
 */
export const MAX_NESTING = 100;

export const NESTING_MESSAGE = `nesting deeper than ${MAX_NESTING} levels (maps and lists inside each other); flatten the value`;

/** Where a text first nests deeper than MAX_NESTING, as js-yaml found it while reading. */
export class NestingTooDeep {
  constructor(
    readonly line: number,
    readonly col: number,
  ) {}

  /** From an error js-yaml threw, when it is the nesting limit. */
  static from(err: unknown): NestingTooDeep | null {
    if (!(err instanceof YAMLException) || !err.reason.startsWith("nesting exceeded maxDepth") || !err.mark) return null;
    return new NestingTooDeep(err.mark.line + 1, err.mark.column + 1);
  }

  /**
   * Finds where a text nests too deeply when the `yaml` package could not tell (it ran out
   * of stack): js-yaml reads it up to its depth limit. Null when js-yaml stops first at
   * something else; the problem is then put at the start of the file.
   */
  static locate(text: string): NestingTooDeep | null {
    try {
      load(text, { maxDepth: MAX_NESTING });
    } catch (err) {
      return NestingTooDeep.from(err);
    }
    return null;
  }
}

/** Whether an error is the engine running out of stack (what deep nesting does to a recursive parser). */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

/**
 * The path of the first value nested deeper than MAX_NESTING, or null. A loop with its
 * own stack, not recursion: the value may be deep enough to overflow a recursive walk.
 */
export function tooDeepPath(value: unknown): ValuePath | null {
  const stack: Array<{ value: unknown; path: Array<string | number> }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: node, path } = stack.pop()!;
    // The root is level 1; a value at path length L is at level L + 1.
    if (path.length + 1 > MAX_NESTING) return path;
    if (node === null || typeof node !== "object") continue;
    const entries = Array.isArray(node) ? node.map((item, i) => [i, item] as const) : Object.entries(node);
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], path: [...path, entries[i]![0]] });
  }
  return null;
}

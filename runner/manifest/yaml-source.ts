import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type Scalar, type YAMLMap } from "yaml";
import type { Problem } from "../errors.js";
import { indexBlockYaml, type BlockPositions } from "./block-positions.js";
import { isStackOverflow, NESTING_MESSAGE, NestingTooDeep, tooDeepPath } from "./nesting.js";
import type { DuplicateKey } from "./job-entries.js";
import { DECLINED, readPlainYaml } from "./plain-yaml.js";

/** A path into the parsed manifest, as ajv and the checks name it: keys and indexes. */
export type ValuePath = ReadonlyArray<string | number>;

/**
 * A parsed YAML file that remembers where everything was written, so any problem found
 * later (by ajv, by a semantic check) can be reported at its `FILE:LINE:COL`.
 */
export interface YamlSource {
  file: string;
  text: string;
  /** The plain JS value (`undefined` when the YAML could not be parsed at all). */
  value: unknown;
  /** Problems found while parsing: syntax, duplicate keys, tabs, alias bombs. */
  problems: Problem[];
  /** Position of the value at `path` (or of its key, with `"key"`). Falls back to the nearest parent. */
  at(path: ValuePath, part?: "key" | "value"): { line: number; col: number };
  /** Position of a character offset inside the scalar at `path` (cron fields). */
  inScalar(path: ValuePath, offset: number): { line: number; col: number };
}

/** Aliases a manifest may expand: far above any real manifest, far below a "billion laughs". */
const MAX_ALIAS_COUNT = 100;

/**
 * The manifest's value read by js-yaml when it can (see plain-yaml.ts), positions from
 * `yaml`, parsed only when the first problem asks where it is. A text js-yaml declines
 * is parsed by `yaml` at once, which reports its syntax problems.
 */
export function parseYamlSource(file: string, text: string): YamlSource {
  const duplicates: DuplicateKey[] = [];
  const value = readPlainYaml(text, duplicates);
  if (value === DECLINED) return parsePositioned(file, text);
  if (value instanceof NestingTooDeep) return tooDeepSource(file, text, value);
  let positioned: YamlSource | undefined;
  const positions = () => (positioned ??= parsePositioned(file, text));
  // Most positions come from one scan of the lines; `yaml` parses only for what it does not
  // hold. With a key written twice, the later value is the one checked but `yaml` points at
  // the first: other problems then take their positions from `yaml`, as they did before.
  let block: BlockPositions | null | undefined;
  const blockIndex = () => (block === undefined ? (block = duplicates.length > 0 ? null : indexBlockYaml(text)) : block);
  return {
    file,
    text,
    value,
    // Whatever js-yaml or the line reader reads, `yaml` reads the same, with no problem but
    // the duplicate keys the line reader lists (the other checks still run, as after `yaml`).
    problems: duplicates.length === 0 ? [] : duplicateProblems(file, text, duplicates),
    at: (path, part = "value") => blockIndex()?.at(path, part) ?? positions().at(path, part),
    inScalar: (path, offset) => blockIndex()?.inScalar(path, offset) ?? positions().inScalar(path, offset),
  };
}

/** Parses with `yaml`, keeping every node's position: what parseYamlSource falls back to. */
export function parsePositioned(file: string, text: string): YamlSource {
  try {
    return parseWithPositions(file, text);
  } catch (err) {
    // `yaml` recurses once per level of nesting: thousands of levels exhaust the stack.
    if (isStackOverflow(err)) return tooDeepSource(file, text, NestingTooDeep.locate(text));
    throw err;
  }
}

/** A text nested too deeply to read: one problem, where js-yaml found it (else at 1:1), and no value. */
function tooDeepSource(file: string, text: string, where: NestingTooDeep | null): YamlSource {
  const position = where ? { line: where.line, col: where.col } : { line: 1, col: 1 };
  return { file, text, value: undefined, problems: [{ file, ...position, message: NESTING_MESSAGE }], at: () => position, inScalar: () => position };
}

function parseWithPositions(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  // yaml's own duplicate-key check compares each key with every earlier one (quadratic:
  // ~0.5 s of a 10,000-job manifest); duplicateKeys() below does it in one walk.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, strict: true });
  // Some of yaml's parse steps catch a stack overflow and keep it as an error of the document.
  if (doc.errors.some((e) => /call stack/i.test(e.message))) throw new RangeError("Maximum call stack size exceeded");
  const pos = (offset: number) => lineCounter.linePos(offset);
  const problems: Problem[] = [...doc.errors, ...doc.warnings].map((e) => ({ file, ...pos(e.pos[0]), message: firstLine(e.message) }));
  for (const key of duplicateKeys(doc)) {
    problems.push({ file, ...pos(key.range![0]), message: duplicateKeyMessage(String(key.value)) });
  }

  let value: unknown;
  // A duplicate key leaves a well-formed tree, so the other checks still run and every
  // problem is reported in one pass; after a syntax error they would only add noise.
  if (doc.errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      if (isStackOverflow(err)) throw err;
      // The yaml package throws (without a position) when aliases expand too far.
      problems.push({ file, ...pos(firstAliasOffset(doc)), message: `${(err as Error).message} (at most ${MAX_ALIAS_COUNT} alias expansions)` });
    }
  }

  const nodeAt = (path: ValuePath, part: "key" | "value"): Node | null => findNode(doc, path, part);
  const source: YamlSource = {
    file,
    text,
    value,
    problems,
    at(path, part = "value") {
      for (let depth = path.length; depth >= 0; depth--) {
        const node = nodeAt(path.slice(0, depth), depth === path.length ? part : "value");
        if (node?.range) return pos(node.range[0]);
      }
      return { line: 1, col: 1 };
    },
    inScalar(path, offset) {
      const node = nodeAt(path, "value");
      if (!isScalar(node) || !node.range) return this.at(path);
      const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE";
      return pos(node.range[0] + (quoted ? 1 : 0) + offset);
    },
  };
  // js-yaml bounds the nesting of what it reads; this bounds the texts it leaves to `yaml`
  // (shallow enough not to overflow, deeper than the limit), so the limit is the same for both.
  const deep = value === undefined ? null : tooDeepPath(value);
  if (deep) {
    source.value = undefined;
    problems.push({ file, ...source.at(deep), message: NESTING_MESSAGE });
  }
  return source;
}

/** The problems `yaml` gives duplicate keys, at the same places, from the line reader's offsets: one pass over the text. */
function duplicateProblems(file: string, text: string, duplicates: DuplicateKey[]): Problem[] {
  duplicates.sort((a, b) => a.offset - b.offset);
  const problems: Problem[] = [];
  let line = 1;
  let lineStart = 0;
  for (const { offset, key } of duplicates) {
    for (let nl = text.indexOf("\n", lineStart); nl !== -1 && nl < offset; nl = text.indexOf("\n", lineStart)) {
      line++;
      lineStart = nl + 1;
    }
    problems.push({ file, line, col: offset - lineStart + 1, message: duplicateKeyMessage(key) });
  }
  return problems;
}

function duplicateKeyMessage(key: string): string {
  return `duplicate key ${JSON.stringify(key)}: keys of a map (and job names) must be unique`;
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/**
 * Scalar keys that repeat an earlier key of the same map (the later occurrences). A plain
 * walk of the collections, not yaml's `visit` (which calls out for every node: 0.5 s of a
 * 100,000-job manifest, against 0.13 s here), and a Set only for large maps: a job's own
 * maps have a handful of keys, where comparing with the earlier ones is cheaper.
 */
function duplicateKeys(doc: Document): Scalar[] {
  const duplicates: Scalar[] = [];
  const walk = (node: unknown): void => {
    if (isMap(node)) {
      const items = node.items;
      const seen = items.length > SMALL_MAP ? new Set<unknown>() : null;
      for (let i = 0; i < items.length; i++) {
        const { key, value } = items[i]!;
        if (isScalar(key)) {
          if (seen ? seen.has(key.value) : repeats(items, i, key.value)) duplicates.push(key);
          seen?.add(key.value);
        } else {
          walk(key);
        }
        walk(value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item);
    } else if (isPair(node)) {
      walk(node.key);
      walk(node.value);
    }
  };
  walk(doc.contents);
  return duplicates;
}

/** Maps up to this many keys are checked without a Set. */
const SMALL_MAP = 16;

/** Whether a scalar key before `index` has `value` (SameValueZero, as a Set compares). */
function repeats(items: ReadonlyArray<Pair>, index: number, value: unknown): boolean {
  for (let j = 0; j < index; j++) {
    const other = items[j]!.key;
    if (isScalar(other) && (other.value === value || (other.value !== other.value && value !== value))) return true;
  }
  return false;
}

/** Key → pair of each map, built on first lookup: finding 10,000 jobs must not be quadratic. */
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
function pairOf(map: YAMLMap, key: string): Pair | undefined {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) if (isPair(pair) && isScalar(pair.key) && !index.has(String(pair.key.value))) index.set(String(pair.key.value), pair);
    pairIndex.set(map, index);
  }
  return index.get(key);
}

function findNode(doc: Document, path: ValuePath, part: "key" | "value"): Node | null {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = pairOf(node, String(segment));
      if (!pair) return null;
      if (i === path.length - 1 && part === "key") return pair.key as Node;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(segment)];
    } else {
      return null;
    }
  }
  return (node as Node | null) ?? null;
}

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

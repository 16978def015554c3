import { TopMaps, type DuplicateKey } from "./job-entries.js";
import { escapedScalar, isIndicator, isKeyChar, plainScalar } from "./plain-scalar.js";
import { forgetSharedSlices, sharedSlice } from "./shared-slices.js";

/** What readBlockYaml returns for a text outside the subset it reads. */
export const NOT_BLOCK: unique symbol = Symbol("not block yaml");

type Value = unknown;
type Container = Record<string, Value> | Value[];

/** Tabs, control characters, a lone carriage return, a byte order mark, YAML 1.1 line breaks: read differently. */
const UNREAD_CHARACTER = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|\r(?!\n)/;

/** Deeper than this is left to js-yaml, which finds where a text nests too deeply. */
const MAX_DEPTH = 64;
/** `yaml` refuses implicit keys over 1,024 characters: longer lines are left to it. */
const MAX_LINE = 1024;

// Where the last read ended: readers return a value and leave its end here (no { value, end } per scalar).
let cursor = 0;
/** The end of the line being read (the readers never look past it). */
let lineEnd = 0;
let text = "";
let tops = new TopMaps(null);

/**
 * Reads the block-style YAML manifests are written in, in one pass over the lines, to the
 * value `yaml`'s `parseDocument(text).toJS()` gives; NOT_BLOCK for anything else. Why: js-yaml
 * reads 1,000,000 jobs in ~9 s plus an event per token to collect; this loop takes ~3 s.
 * It takes maps by indentation; keys plain (letters, digits, `_ $ . - /`) or quoted, read
 * as strings; values on the key's line (plain, quoted, a one-line flow collection); lists
 * of such values. Anything else (block or multi-line scalars, continued values, maps in
 * lists, anchors, tags, escapes JSON does not share) gives up on the whole text, left to
 * js-yaml and `yaml`; so does a repeated key, unless the caller lists `duplicateKeys` (the
 * later value kept, as `yaml` does: a million jobs with one named twice then skip `yaml`'s
 * parse, minutes and gigabytes at that size). Held to `yaml` by test/manifest/plain-yaml.test.ts.
 */
export function readBlockYaml(source: string, duplicateKeys?: DuplicateKey[]): Record<string, Value> | typeof NOT_BLOCK {
  if (UNREAD_CHARACTER.test(source)) return NOT_BLOCK;
  text = source;
  tops = new TopMaps(duplicateKeys ?? null);
  try {
    return readLines();
  } finally {
    text = "";
    forgetSharedSlices();
    tops = new TopMaps(null);
  }
}

function readLines(): Record<string, Value> | typeof NOT_BLOCK {
  let root: Record<string, Value> | null = null;
  /** Open maps and lists, innermost last, and the indentation of their lines. */
  const containers: Container[] = [];
  const indents: number[] = [];
  /** A key whose value starts on a later line (a map or list), or is empty. */
  let pendingMap: Record<string, Value> | null = null;
  let pendingKey = "";
  let pendingKeyAt = 0;
  let pendingIndent = -1;
  let pendingDepth = 0;
  /** A line indented more than this would continue the last value: declined. */
  let valueIndent = -1;
  let started = false;

  for (let start = 0; start < text.length; ) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const next = end + 1;
    if (text.charCodeAt(end - 1) === 13 && end > start) end--;
    if (end - start > MAX_LINE) return NOT_BLOCK;
    lineEnd = end;
    let at = start;
    while (text.charCodeAt(at) === 32 && at < end) at++;
    const indent = at - start;
    const first = text.charCodeAt(at);
    start = next;
    if (at === end || first === 35) continue; // blank, or a comment
    if (first === 45 /* - */ && text.startsWith("---", at)) {
      // A document start before anything else; later, or `---` inside, is another document.
      if (started || indent !== 0 || !isEndOfValue(at + 3)) return NOT_BLOCK;
      started = true;
      continue;
    }
    if (first === 46 /* . */ && text.startsWith("...", at)) return NOT_BLOCK;
    started = true;
    const isItem = first === 45 && (text.charCodeAt(at + 1) === 32 || at + 1 === end);

    if (pendingMap) {
      if (indent > pendingIndent) {
        if (containers.length >= MAX_DEPTH) return NOT_BLOCK;
        const container: Container = isItem ? [] : {};
        put(pendingMap, pendingKey, container, pendingDepth, pendingKeyAt);
        if (pendingDepth === 1 && !isItem) tops.open(container as Record<string, Value>);
        containers.push(container);
        indents.push(indent);
      } else {
        // `key:` then a list at the key's own indentation is left to js-yaml.
        if (first === 45) return NOT_BLOCK;
        put(pendingMap, pendingKey, null, pendingDepth, pendingKeyAt);
      }
      pendingMap = null;
    } else if (valueIndent >= 0 && indent > valueIndent) {
      return NOT_BLOCK;
    }
    valueIndent = indent;

    while (indents.length > 0 && indents[indents.length - 1]! > indent) {
      indents.pop();
      containers.pop();
    }
    if (indents.length === 0) {
      if (root || indent !== 0) return NOT_BLOCK;
      root = {};
      containers.push(root);
      indents.push(0);
    }
    if (indents[indents.length - 1] !== indent) return NOT_BLOCK;
    const container = containers[containers.length - 1]!;

    if (Array.isArray(container)) {
      if (!isItem) return NOT_BLOCK;
      const item = readValue(skipSpaces(at + 1), containers.length);
      if (item === NOT_BLOCK) return NOT_BLOCK;
      container.push(item);
      continue;
    }
    // A list item where a key belongs, or a key starting with `-`.
    if (first === 45) return NOT_BLOCK;
    const key = readKey(at, false);
    if (key === null || key === "__proto__") return NOT_BLOCK;
    // A top map's keys are checked once the text is read (TopMaps.fill).
    if (containers.length !== 2 && Object.hasOwn(container, key) && !tops.repeated(key, at)) return NOT_BLOCK;
    const colon = cursor;
    const valueAt = skipSpaces(colon);
    if (valueAt === end || (text.charCodeAt(valueAt) === 35 && valueAt > colon)) {
      pendingMap = container;
      pendingKey = key;
      pendingKeyAt = at;
      pendingIndent = indent;
      pendingDepth = containers.length;
      continue;
    }
    const value = readValue(valueAt, containers.length);
    if (value === NOT_BLOCK) return NOT_BLOCK;
    put(container, key, value, containers.length, at);
  }
  if (pendingMap) put(pendingMap, pendingKey, null, pendingDepth, pendingKeyAt);
  if (!tops.fill()) return NOT_BLOCK;
  return root ?? NOT_BLOCK;
}

/** Sets a key of the map at `depth` (1: the root); a top map's keys wait in `tops`. */
function put(map: Record<string, Value>, key: string, value: Value, depth: number, keyAt: number): void {
  if (depth === 2) tops.add(key, value, keyAt);
  else map[key] = value;
}

/** A value written on its line from `at`, in block context: the line must end after it. */
function readValue(at: number, depth: number): Value | typeof NOT_BLOCK {
  const c = text.charCodeAt(at);
  if (c === 34 || c === 39 || c === 123 || c === 91) {
    const value = c === 123 || c === 91 ? readFlow(at, depth + 1) : readQuoted(at);
    if (value === NOT_BLOCK || !isEndOfValue(cursor)) return NOT_BLOCK;
    return value;
  }
  if (!isPlainStart(at)) return NOT_BLOCK;
  // A plain scalar runs to the end of the line or to a comment (`#` after a space).
  let end = at;
  while (end < lineEnd && !(text.charCodeAt(end) === 35 && text.charCodeAt(end - 1) === 32)) {
    // `a: b: c` and `a: b:` are not one scalar.
    if (text.charCodeAt(end) === 58 && (end + 1 === lineEnd || text.charCodeAt(end + 1) === 32)) return NOT_BLOCK;
    end++;
  }
  while (text.charCodeAt(end - 1) === 32) end--;
  return plainScalar(sharedSlice(text, at, end));
}

/** A map key at `at`, that reads as a string; `cursor` is left just past its `:`. */
function readKey(at: number, flow: boolean): string | null {
  const c = text.charCodeAt(at);
  let name: string;
  let colon: number;
  if (c === 34 || c === 39) {
    const quoted = readQuoted(at);
    if (quoted === NOT_BLOCK) return null;
    colon = skipSpaces(cursor);
    name = quoted;
  } else {
    let end = at;
    while (end < lineEnd && isKeyChar(text.charCodeAt(end))) end++;
    colon = skipSpaces(end);
    name = sharedSlice(text, at, end);
    if (name === "" || c === 45 || !isPlainStart(at) || typeof plainScalar(name) !== "string") return null;
  }
  if (text.charCodeAt(colon) !== 58) return null;
  // `:` must be followed by a space (or end the line, in block context).
  if (!(colon + 1 < lineEnd && text.charCodeAt(colon + 1) === 32) && (flow || colon + 1 !== lineEnd)) return null;
  cursor = colon + 1;
  return name;
}

/** A one-line flow map or list at `at` (`{` or `[`), of scalars and flow collections. */
function readFlow(at: number, depth: number): Container | typeof NOT_BLOCK {
  if (depth > MAX_DEPTH) return NOT_BLOCK;
  const isMap = text.charCodeAt(at) === 123;
  const close = isMap ? 125 : 93;
  const map: Record<string, Value> = {};
  const list: Value[] = [];
  let i = skipSpaces(at + 1);
  if (text.charCodeAt(i) === close) {
    cursor = i + 1;
    return isMap ? map : list;
  }
  for (;;) {
    let key: string | null = null;
    if (isMap) {
      key = readKey(i, true);
      if (key === null || key === "__proto__" || Object.hasOwn(map, key)) return NOT_BLOCK;
      i = skipSpaces(cursor);
    }
    const item = readFlowItem(i, depth);
    if (item === NOT_BLOCK) return NOT_BLOCK;
    if (key !== null) map[key] = item;
    else list.push(item);
    i = skipSpaces(cursor);
    const c = text.charCodeAt(i);
    if (c === close && i < lineEnd) {
      cursor = i + 1;
      return isMap ? map : list;
    }
    if (c !== 44 /* , */ || i >= lineEnd) return NOT_BLOCK;
    i = skipSpaces(i + 1);
    // A trailing comma, or an empty entry, is left to js-yaml.
    if (text.charCodeAt(i) === close || text.charCodeAt(i) === 44) return NOT_BLOCK;
  }
}

function readFlowItem(at: number, depth: number): Value | typeof NOT_BLOCK {
  const c = text.charCodeAt(at);
  if (c === 123 || c === 91) return readFlow(at, depth + 1);
  if (c === 34 || c === 39) return readQuoted(at);
  if (!isPlainStart(at)) return NOT_BLOCK;
  let end = at;
  for (; end < lineEnd; end++) {
    const d = text.charCodeAt(end);
    if (d === 44 || d === 93 || d === 125) break;
    // `:`, `#`, quotes and brackets inside a flow scalar are read differently by the parsers.
    if (d === 58 || d === 35 || d === 34 || d === 39 || d === 91 || d === 123) return NOT_BLOCK;
  }
  cursor = end;
  while (text.charCodeAt(end - 1) === 32) end--;
  if (end === at) return NOT_BLOCK;
  return plainScalar(sharedSlice(text, at, end));
}

/** A quoted scalar that closes on its line; NOT_BLOCK for escapes JSON does not share with YAML. */
function readQuoted(at: number): string | typeof NOT_BLOCK {
  const quote = text.charCodeAt(at);
  let escaped = false;
  for (let i = at + 1; i < lineEnd; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 && quote === 34) {
      escaped = true;
      i++;
    } else if (c === quote) {
      if (quote === 39 && text.charCodeAt(i + 1) === 39 && i + 1 < lineEnd) {
        escaped = true;
        i++;
        continue;
      }
      cursor = i + 1;
      return escaped ? (escapedScalar(text.slice(at, i + 1)) ?? NOT_BLOCK) : sharedSlice(text, at + 1, i);
    }
  }
  return NOT_BLOCK;
}

/** Whether only spaces, or spaces then a comment, follow `at` on the line. */
function isEndOfValue(at: number): boolean {
  const next = skipSpaces(at);
  return next >= lineEnd || (text.charCodeAt(next) === 35 && next > at);
}

/** A plain scalar may start here: not an indicator, except `-` before a digit or dot (`-5`, `-.5`). */
function isPlainStart(at: number): boolean {
  if (at >= lineEnd) return false;
  const c = text.charCodeAt(at);
  if (c === 45) {
    const d = text.charCodeAt(at + 1);
    return at + 1 < lineEnd && ((d >= 48 && d <= 57) || d === 46);
  }
  return !isIndicator(c);
}

function skipSpaces(from: number): number {
  let i = from;
  while (i < lineEnd && text.charCodeAt(i) === 32) i++;
  return i;
}

import { plainScalar } from "./plain-scalar.js";

/** What readBlockYaml returns for a text outside the subset it reads. */
export const NOT_BLOCK: unique symbol = Symbol("not block yaml");

type Value = unknown;
type Frame = { indent: number; map: Record<string, Value> | null; list: Value[] | null };

/** Tabs, control characters and the line breaks of YAML 1.1, which the parsers treat differently. */
const UNREAD_CHARACTER = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;

/** Deeper than this is left to js-yaml, which finds where a text nests too deeply. */
const MAX_DEPTH = 64;

/**
 * Reads the block-style YAML manifests are written in, in one pass over the lines, to the
 * value `yaml`'s `parseDocument(text).toJS()` gives; NOT_BLOCK for anything else.
 *
 * Why a third reader: js-yaml 5 reads a 1,000,000-job manifest in ~9 s and allocates an
 * event per token (seconds more of garbage collection); this loop reads the same text in
 * ~2 s. It takes: maps by indentation; keys plain (letters, digits, `_ $ . - /`) or quoted
 * on one line; values on the key's line (plain, quoted, or a one-line flow collection of
 * such values); lists of such values (`- item`). Anything else (a block or multi-line
 * scalar, a value continued on a more indented line, a map in a list, a duplicate key,
 * a key that is not a string, an unusual escape) gives up on the whole text, which
 * js-yaml then reads as before. readPlainYaml runs it after its own refusals (anchors,
 * tags, directives, long lines), and test/manifest/plain-yaml.test.ts compares what it
 * reads with `yaml` on generated and randomly broken documents.
 */
export function readBlockYaml(text: string): Record<string, Value> | typeof NOT_BLOCK {
  if (UNREAD_CHARACTER.test(text)) return NOT_BLOCK;
  let root: Record<string, Value> | null = null;
  const frames: Frame[] = [];
  /** A key whose value starts on a later line (a map or list), or is empty. */
  let pending: { map: Record<string, Value>; key: string; indent: number } | null = null;
  /** A line indented more than this would continue the last value: declined. */
  let valueIndent = -1;
  let started = false;

  for (let start = 0; start < text.length; ) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    let indent = 0;
    while (line.charCodeAt(indent) === 32) indent++;
    if (indent === line.length || line.charCodeAt(indent) === 35) continue; // blank, or a comment
    const first = line.charCodeAt(indent);
    if (first === 45 /* - */ && line.startsWith("---", indent)) {
      // A document start before anything else; later, or `---` inside, is another document.
      if (started || indent !== 0 || !isEndOfValue(line, 3)) return NOT_BLOCK;
      started = true;
      continue;
    }
    if (first === 46 /* . */ && line.startsWith("...", indent)) return NOT_BLOCK;
    started = true;
    const isItem = first === 45 && line.charCodeAt(indent + 1) === 32;

    if (pending) {
      if (indent > pending.indent) {
        if (frames.length >= MAX_DEPTH) return NOT_BLOCK;
        const frame: Frame = isItem ? { indent, map: null, list: [] } : { indent, map: {}, list: null };
        pending.map[pending.key] = frame.map ?? frame.list;
        frames.push(frame);
      } else {
        // `key:` then a list at the key's own indentation is left to js-yaml.
        if (isItem || first === 45) return NOT_BLOCK;
        pending.map[pending.key] = null;
      }
      pending = null;
    } else if (valueIndent >= 0 && indent > valueIndent) {
      return NOT_BLOCK;
    }
    valueIndent = -1;

    while (frames.length > 0 && frames[frames.length - 1]!.indent > indent) frames.pop();
    if (frames.length === 0) {
      if (root || indent !== 0) return NOT_BLOCK;
      root = {};
      frames.push({ indent: 0, map: root, list: null });
    }
    const frame = frames[frames.length - 1]!;
    if (frame.indent !== indent) return NOT_BLOCK;

    if (frame.list) {
      if (!isItem) return NOT_BLOCK;
      const at = skipSpaces(line, indent + 2);
      const item = readValue(line, at, frames.length);
      if (item === NOT_BLOCK) return NOT_BLOCK;
      frame.list.push(item);
      valueIndent = indent;
      continue;
    }
    if (isItem || first === 45) {
      // A list item where a key belongs, or a key starting with `-`.
      if (isItem || !isPlainKeyStart(line, indent)) return NOT_BLOCK;
    }
    const key = readKey(line, indent, false);
    if (key === null) return NOT_BLOCK;
    const map = frame.map!;
    if (key.name === "__proto__" || Object.hasOwn(map, key.name)) return NOT_BLOCK;
    const at = skipSpaces(line, key.end);
    if (at === line.length || (line.charCodeAt(at) === 35 && at > key.end)) {
      pending = { map, key: key.name, indent };
      continue;
    }
    const value = readValue(line, at, frames.length);
    if (value === NOT_BLOCK) return NOT_BLOCK;
    map[key.name] = value;
    valueIndent = indent;
  }
  if (pending) pending.map[pending.key] = null;
  return root ?? NOT_BLOCK;
}

/** A value written on one line from `at`, in block context: the line must end after it. */
function readValue(line: string, at: number, depth: number): Value | typeof NOT_BLOCK {
  const c = line.charCodeAt(at);
  if (c === 34 || c === 39 || c === 123 || c === 91) {
    const read = c === 123 || c === 91 ? readFlow(line, at, depth + 1) : readQuoted(line, at);
    if (read === null || !isEndOfValue(line, read.end)) return NOT_BLOCK;
    return read.value;
  }
  if (!isPlainStart(line, at)) return NOT_BLOCK;
  // A plain scalar runs to the end of the line or to a comment (`#` after a space).
  let end = line.indexOf(" #", at);
  if (end === -1) end = line.length;
  while (line.charCodeAt(end - 1) === 32) end--;
  const text = line.slice(at, end);
  // `a: b: c` and `a: b:` are not one scalar.
  if (text.includes(": ") || text.endsWith(":")) return NOT_BLOCK;
  return plainScalar(text);
}

/** A map key at `at` and the index just past its `:`, or null. Keys must read as strings. */
function readKey(line: string, at: number, flow: boolean): { name: string; end: number } | null {
  const c = line.charCodeAt(at);
  let name: string;
  let colon: number;
  if (c === 34 || c === 39) {
    const quoted = readQuoted(line, at);
    if (quoted === null) return null;
    colon = skipSpaces(line, quoted.end);
    name = quoted.value;
  } else {
    let end = at;
    while (end < line.length && isKeyChar(line.charCodeAt(end))) end++;
    colon = skipSpaces(line, end);
    name = line.slice(at, end);
    if (name === "" || typeof plainScalar(name) !== "string") return null;
  }
  if (line.charCodeAt(colon) !== 58) return null;
  // `:` must be followed by a space (or end the line, in block context).
  if (line.charCodeAt(colon + 1) !== 32 && (flow || colon + 1 !== line.length)) return null;
  return { name, end: colon + 1 };
}

/** A one-line flow map or list starting at `at` (`{` or `[`), of scalars and flow collections. */
function readFlow(line: string, at: number, depth: number): { value: Value; end: number } | null {
  if (depth > MAX_DEPTH) return null;
  const isMap = line.charCodeAt(at) === 123;
  const close = isMap ? 125 : 93;
  const map: Record<string, Value> = {};
  const list: Value[] = [];
  let i = skipSpaces(line, at + 1);
  if (line.charCodeAt(i) === close) return { value: isMap ? map : list, end: i + 1 };
  for (;;) {
    let key: string | null = null;
    if (isMap) {
      const read = readKey(line, i, true);
      if (read === null || read.name === "__proto__" || Object.hasOwn(map, read.name)) return null;
      key = read.name;
      i = skipSpaces(line, read.end);
    }
    const item = readFlowItem(line, i, depth);
    if (item === null) return null;
    if (key !== null) map[key] = item.value;
    else list.push(item.value);
    i = skipSpaces(line, item.end);
    const c = line.charCodeAt(i);
    if (c === close) return { value: isMap ? map : list, end: i + 1 };
    if (c !== 44 /* , */) return null;
    i = skipSpaces(line, i + 1);
    // A trailing comma, or an empty entry, is left to js-yaml.
    if (line.charCodeAt(i) === close || line.charCodeAt(i) === 44) return null;
  }
}

function readFlowItem(line: string, at: number, depth: number): { value: Value; end: number } | null {
  const c = line.charCodeAt(at);
  if (c === 123 || c === 91) return readFlow(line, at, depth + 1);
  if (c === 34 || c === 39) return readQuoted(line, at);
  if (!isPlainStart(line, at)) return null;
  let end = at;
  for (; end < line.length; end++) {
    const d = line.charCodeAt(end);
    if (d === 44 || d === 93 || d === 125) break;
    // `:`, `#`, quotes and brackets inside a flow scalar are read differently by the parsers.
    if (d === 58 || d === 35 || d === 34 || d === 39 || d === 91 || d === 123) return null;
  }
  let last = end;
  while (line.charCodeAt(last - 1) === 32) last--;
  if (last === at) return null;
  return { value: plainScalar(line.slice(at, last)), end };
}

/** A quoted scalar that closes on this line; null for escapes JSON does not share with YAML. */
function readQuoted(line: string, at: number): { value: string; end: number } | null {
  const quote = line.charCodeAt(at);
  if (quote === 39) {
    let value = "";
    let from = at + 1;
    for (;;) {
      const close = line.indexOf("'", from);
      if (close === -1) return null;
      value += line.slice(from, close);
      if (line.charCodeAt(close + 1) !== 39) return { value, end: close + 1 };
      value += "'";
      from = close + 2;
    }
  }
  let escaped = false;
  for (let i = at + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 92) {
      escaped = true;
      i++;
    } else if (c === 34) {
      if (!escaped) return { value: line.slice(at + 1, i), end: i + 1 };
      const body = line.slice(at, i + 1);
      // JSON's escapes mean the same in YAML; YAML's others (\x, \U, \N, \0...) and lone
      // surrogates are left to js-yaml.
      if (/\\u[dD][89a-fA-F]/.test(body)) return null;
      try {
        return { value: JSON.parse(body) as string, end: i + 1 };
      } catch {
        return null;
      }
    } else if (c < 32 || c === 127) {
      return null;
    }
  }
  return null;
}

/** Whether only spaces, or spaces then a comment, follow `at`. */
function isEndOfValue(line: string, at: number): boolean {
  const next = skipSpaces(line, at);
  return next === line.length || (line.charCodeAt(next) === 35 && next > at);
}

/** A plain scalar may start here: not an indicator, except `-` before a digit or dot (`-5`, `-.5`). */
function isPlainStart(line: string, at: number): boolean {
  const c = line.charCodeAt(at);
  if (c === 45) {
    const d = line.charCodeAt(at + 1);
    return (d >= 48 && d <= 57) || d === 46;
  }
  return at < line.length && !"-?:,[]{}#&*!|>'\"%@`".includes(line[at]!);
}

function isPlainKeyStart(line: string, at: number): boolean {
  return isPlainStart(line, at) && line.charCodeAt(at) !== 45;
}

/** Letters, digits, `_ $ . - /`: what job names and field names are made of. */
function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c === 46 || c === 45 || c === 47;
}

function skipSpaces(line: string, from: number): number {
  let i = from;
  while (line.charCodeAt(i) === 32) i++;
  return i;
}

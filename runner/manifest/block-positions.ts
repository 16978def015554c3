import type { ValuePath } from "./yaml-source.js";

export interface Position {
  line: number;
  col: number;
}

interface Entry {
  key: Position;
  /** Null when the value is empty, or is not indexed (a list, a flow collection's insides). */
  value: Position | null;
  /** A scalar written on one line: a character inside it is at `value` + offset (+1 past a quote). */
  scalar: "plain" | "quoted" | null;
}

/**
 * Where the keys and values of a block-style YAML map are, from one scan of its lines:
 * the positions `yaml` gives, without `yaml`'s parse (~1.5 s for 10,000 jobs here, ~0.1 s
 * this way), so reporting 20,000 problems stays within a couple of seconds.
 *
 * It reads the plain block style manifests are written in: maps by indentation, keys
 * plain or quoted without escapes, values on the key's line. Anything else (a flow map at
 * the top, complex keys, a key it cannot read) makes it give up on the whole text (null);
 * a list or flow collection is left out of the index. A path the index does not hold is
 * answered by `yaml`, so the worst case is only the cost of that parse. Used only on texts
 * js-yaml read (see plain-yaml.ts), so tabs, anchors, tags and documents are already ruled
 * out; test/manifest/block-positions.test.ts compares it with `yaml` position by position.
 */
export function indexBlockYaml(text: string): BlockPositions | null {
  const entries = new Map<string, Entry>();
  let root: Position | null = null;
  /** Open maps, innermost last: the indentation of their keys and their path. */
  const open: Array<{ indent: number; path: string[] }> = [];
  /** A key whose value starts on a later line: a nested map or list, or nothing. */
  let pending: { indent: number; path: string[]; entry: Entry } | null = null;
  /** Lines indented more than this belong to the last value (continued, a block scalar, a list). */
  let skipAbove = -1;
  let skippedFor: Entry | null = null;
  let sequenceAt = -1;

  let lineStart = 0;
  for (let line = 1; lineStart <= text.length; line++) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    const raw = text.slice(lineStart, lineEnd);
    lineStart = lineEnd + 1;
    const content = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const indent = content.length - content.trimStart().length;
    const rest = content.slice(indent);
    if (rest === "" || rest.startsWith("#")) continue;
    if (skipAbove >= 0) {
      // A list at its key's own indentation (`key:\n- a`) continues on lines starting with `-`.
      if (indent > skipAbove || (indent === sequenceAt && (rest === "-" || rest.startsWith("- ")))) {
        if (skippedFor) skippedFor.scalar = null;
        continue;
      }
      skipAbove = sequenceAt = -1;
      skippedFor = null;
    }
    if (rest === "---" || rest.startsWith("--- ")) {
      if (root || open.length > 0) return null;
      continue;
    }
    const position = { line, col: indent + 1 };

    if (pending) {
      const isList = rest === "-" || rest.startsWith("- ");
      if (isList && indent >= pending.indent) {
        pending.entry.value = position;
        skipAbove = pending.indent;
        sequenceAt = indent === pending.indent ? indent : -1;
        pending = null;
        continue;
      }
      if (indent > pending.indent) {
        pending.entry.value = position;
        open.push({ indent, path: pending.path });
      }
      pending = null;
    }
    while (open.length > 0 && open[open.length - 1]!.indent > indent) open.pop();
    if (open.length === 0) {
      if (root || indent !== 0) return null;
      root = position;
      open.push({ indent: 0, path: [] });
    }
    const parent = open[open.length - 1]!;
    if (parent.indent !== indent) return null;

    const key = readKey(rest);
    if (!key) return null;
    const path = [...parent.path, key.name];
    const entry: Entry = { key: position, value: null, scalar: null };
    entries.set(pathKey(path), entry);
    const valueStart = skipSpaces(rest, key.end);
    if (valueStart === rest.length || rest[valueStart] === "#") {
      pending = { indent, path, entry };
      continue;
    }
    const first = rest[valueStart]!;
    if ("&*!?%@`".includes(first)) return null;
    entry.value = { line, col: indent + valueStart + 1 };
    if (first === '"' || first === "'") entry.scalar = closesOnLine(rest, valueStart) ? "quoted" : null;
    else if (first !== "|" && first !== ">" && first !== "{" && first !== "[") entry.scalar = "plain";
    // Whatever follows more indented is part of this value.
    skipAbove = indent;
    skippedFor = entry;
  }
  return root ? new BlockPositions(entries, root) : null;
}

export class BlockPositions {
  constructor(
    private readonly entries: Map<string, Entry>,
    private readonly root: Position,
  ) {}

  /** The position `yaml` gives for the value (or key) at `path`, or null when not indexed. */
  at(path: ValuePath, part: "key" | "value"): Position | null {
    if (path.length === 0) return part === "value" ? this.root : null;
    const entry = this.entries.get(pathKey(path));
    if (!entry) return null;
    return part === "key" ? entry.key : entry.value;
  }

  /** A character of a one-line scalar, or null. */
  inScalar(path: ValuePath, offset: number): Position | null {
    const entry = this.entries.get(pathKey(path));
    if (!entry?.value || !entry.scalar) return null;
    return { line: entry.value.line, col: entry.value.col + (entry.scalar === "quoted" ? 1 : 0) + offset };
  }
}

function pathKey(path: ValuePath): string {
  return path.join("\u0000");
}

/** A map key at the start of `rest` and where its `:` ends, or null for what this scan does not read. */
function readKey(rest: string): { name: string; end: number } | null {
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const close = rest.indexOf(quote, 1);
    if (close === -1) return null;
    const name = rest.slice(1, close);
    // Escapes (`\"`, `''`) are read by `yaml` instead.
    if ((quote === '"' && name.includes("\\")) || rest[close + 1] === quote || rest[close + 1] !== ":") return null;
    return isValueSeparator(rest, close + 2) ? { name, end: close + 2 } : null;
  }
  if ("-?:,[]{}#&*!|>'\"%@`".includes(quote ?? "")) return null;
  for (let i = rest.indexOf(":"); i !== -1; i = rest.indexOf(":", i + 1)) {
    if (!isValueSeparator(rest, i + 1)) continue;
    const name = rest.slice(0, i).trimEnd();
    if (name.includes(" #")) return null;
    return { name, end: i + 1 };
  }
  return null;
}

function isValueSeparator(rest: string, at: number): boolean {
  return at === rest.length || rest[at] === " ";
}

function skipSpaces(text: string, from: number): number {
  let i = from;
  while (text[i] === " ") i++;
  return i;
}

/** Whether the quoted scalar starting at `start` closes on this line. */
function closesOnLine(rest: string, start: number): boolean {
  const quote = rest[start]!;
  for (let i = start + 1; i < rest.length; i++) {
    if (quote === '"' && rest[i] === "\\") i++;
    else if (rest[i] === quote) {
      if (quote === "'" && rest[i + 1] === "'") i++;
      else return true;
    }
  }
  return false;
}

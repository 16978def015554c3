import { CORE_SCHEMA, defineMappingTag, load } from "js-yaml";
import { NOT_BLOCK, readBlockYaml } from "./block-reader.js";
import type { DuplicateKey } from "./job-entries.js";
import { MAX_NESTING, NestingTooDeep } from "./nesting.js";

/** What readPlainYaml returns for a text it leaves to the `yaml` package. */
export const DECLINED: unique symbol = Symbol("declined");

/**
 * Reads the YAML most manifests are written in, fast, to exactly the value `yaml`'s
 * `parseDocument(text).toJS()` gives it; declines everything else.
 *
 * Why two parsers: `yaml` keeps every node's source position, which is what puts an
 * error at its `FILE:LINE:COL`, but its parser takes ~1.5 s for a 10,000-job manifest on
 * a 2-core machine. js-yaml reads the same text in ~0.15 s, typing scalars by the same
 * YAML 1.2 core schema. A manifest is read by js-yaml first; `yaml` parses it only when
 * a problem needs a position, or when this function declines.
 *
 * It declines what js-yaml refuses (syntax errors, duplicate keys, several documents,
 * collections as keys), aliases (`yaml` bounds their expansion and points at the bomb),
 * a root that is not a map (a manifest problem either way), and the text below, which
 * the two read differently. test/manifest/plain-yaml.test.ts holds them to that on
 * generated and randomly broken documents.
 *
 * A text nested deeper than MAX_NESTING is not declined but answered with where it goes
 * too deep: `yaml` would run out of stack on it.
 */
export function readPlainYaml(text: string, duplicateKeys?: DuplicateKey[]): unknown {
  // The line reader (block-reader.ts) first: it holds itself to `yaml` on its own, without
  // the refusals below, which are for js-yaml. Given `duplicateKeys`, it lists a block map's
  // repeated keys there instead of declining (js-yaml refuses them; `yaml` is slow on a big text).
  const block = readBlockYaml(text, duplicateKeys);
  if (block !== NOT_BLOCK) return block;
  duplicateKeys?.splice(0); // what it listed before it gave up
  return readWithJsYaml(text);
}

/** What readPlainYaml does with a text the line reader declines (exported for its test). */
export function readWithJsYaml(text: string): unknown {
  if (UNSUPPORTED.some((pattern) => pattern.test(text)) || hasUnsupportedLine(text)) return DECLINED;
  let value: unknown;
  try {
    value = load(text, { schema: SCHEMA, maxAliases: 0, maxDepth: MAX_NESTING });
  } catch (err) {
    return NestingTooDeep.from(err) ?? DECLINED;
  }
  return value !== null && typeof value === "object" && !Array.isArray(value) ? value : DECLINED;
}

/** Text the two parsers read differently. A false match (inside a string) only costs the fast path. */
const UNSUPPORTED: ReadonlyArray<RegExp> = [
  /^%/m, // a directive: `%YAML 1.1` changes how `yaml` types scalars
  /^\.\.\.(?:[ \t\r]|$)/m, // a document end: js-yaml reads what follows as an empty document, `yaml` as a second one
  /^[ \t]+---/m, // an indented document start, which js-yaml takes as one
  /(?:^|[\s[{,])!/, // a tag: js-yaml applies `!!int` to text `yaml` leaves unresolved
  /(?:^|[\s[{,])&\S/, // an anchor: js-yaml accepts some `yaml` refuses
  /^ *\t/m, // a tab in indentation: js-yaml lets some through that `yaml` refuses
  /\\\r?\n/, // `\` ending a line: an escaped line break before an empty line folds differently
  /[|>][-+]?[1-9]/, // a block scalar's indentation indicator, which the two apply differently
  /\uFEFF/, // a byte order mark: the two strip it in different places
  /\r(?!\n)/, // a carriage return alone: js-yaml breaks the line there, `yaml` does not
  /\d[eE][-+]?\d{3}/, // an exponent past a double's range: js-yaml keeps the text, `yaml` reads Infinity
  /\\U/, // a `\U` escape: js-yaml accepts code points past U+10FFFF, `yaml` refuses them
];

/**
 * Whether a line is over 1,024 characters, or holds a run of 250 digits (decimal, hex,
 * octal: past a double's range, js-yaml keeps the text where `yaml` reads Infinity). A loop
 * over lines, the digit pattern tried only on lines long enough to hold it: the regex
 * `[^\n]{1025}` backtracks (~170 ms on 1.6 MB), and the digit pattern run over the whole
 * text cost ~150 ms of a 100,000-job manifest.
 */
function hasUnsupportedLine(text: string): boolean {
  let start = 0;
  for (let end = text.indexOf("\n"); ; end = text.indexOf("\n", start)) {
    if (end === -1) end = text.length;
    const length = end - start;
    if (length > 1024) return true;
    if (length >= DIGIT_RUN && LONG_DIGIT_RUN.test(text.slice(start, end))) return true;
    if (end === text.length) return false;
    start = end + 1;
  }
}

const DIGIT_RUN = 250;
const LONG_DIGIT_RUN = new RegExp(`[0-9a-fA-F]{${DIGIT_RUN}}`);

/** js-yaml's object map, refusing the keys `yaml` would name differently. */
const plainMap = defineMappingTag<Record<string, unknown>>("tag:yaml.org,2002:map", {
  create: () => ({}),
  addPair(map, key, value) {
    // js-yaml stringifies a null key as "null", `yaml` as "" (collections it already refuses).
    if (key === null || typeof key === "object") return "declined: key is not a scalar";
    const name = String(key);
    // As `yaml` does: an own property, never the prototype.
    if (name === "__proto__") Object.defineProperty(map, name, { value, enumerable: true, configurable: true, writable: true });
    else map[name] = value;
    return "";
  },
  has: (map, key) => Object.prototype.hasOwnProperty.call(map, String(key)),
  keys: (map) => Object.keys(map),
  get: (map, key) => map[String(key)],
  identify: () => false,
});

const SCHEMA = CORE_SCHEMA.withTags(plainMap);

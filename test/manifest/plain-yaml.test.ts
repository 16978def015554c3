import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { NOT_BLOCK, readBlockYaml } from "../../runner/manifest/block-reader.js";
import { DECLINED, readPlainYaml, readWithJsYaml } from "../../runner/manifest/plain-yaml.js";
import type { DuplicateKey } from "../../runner/manifest/job-entries.js";
import { parsePositioned, parseYamlSource } from "../../runner/manifest/yaml-source.js";
import { repoRoot } from "../support/temp-project.js";
import { seeded } from "../support/seeded.js";
import { blockDocument, document, mutate } from "./yaml-documents.js";

// The contract of the fast reader: whatever it reads, the `yaml` path (which the problems
// and positions come from) reads too, without a problem, to the same value. Checked on
// hand-picked cases, the fixtures, and a few thousand generated and mutated documents.

/** Where two values first differ (Object.is on leaves, so -0 and NaN count), or null. */
function difference(a: unknown, b: unknown, path = "$"): string | null {
  if (Object.is(a, b)) return null;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return `${path}: ${String(a)} vs ${String(b)}`;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: different kinds`;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.join("\u0000") !== keysB.join("\u0000")) return `${path}: keys ${JSON.stringify(keysA)} vs ${JSON.stringify(keysB)}`;
  for (const key of keysA) {
    const found = difference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

/** Asserts the contract for one text; returns whether the fast reader took it. */
function agrees(text: string, read: (text: string) => unknown = readPlainYaml): boolean {
  const fast = read(text);
  if (fast === DECLINED || fast === NOT_BLOCK) return false;
  const positioned = parsePositioned("jobs.yaml", text);
  expect(positioned.problems, `js-yaml read ${JSON.stringify(text)}, yaml reports problems`).toEqual([]);
  expect(difference(fast, positioned.value), `values differ for ${JSON.stringify(text)}`).toBeNull();
  return true;
}

describe("readPlainYaml reads exactly what yaml reads, or declines", () => {
  test("scalars are typed as yaml's YAML 1.2 core schema types them, as values and as keys", () => {
    const scalars = [
      "0b101", "0o17", "017", "0x1F", "0X1F", "1_000", "+1", "-0", "+0", "1.", "1.5", ".5", "1e3", "1E3", "1e+3", "-1.5e-3", ".inf", "+.inf", "-.Inf",
      ".NaN", ".nan", "NaN", "inf", "~", "null", "Null", "NULL", "nUll", "true", "True", "TRUE", "tRue", "yes", "on", "y", "n", "0.", "00", "09",
      "0o8", "-0x1", "+0x1", "-0o7", "12:30", "12:30:00", "2026-01-01", "2026-01-01T00:00:00Z", "=", "<<", "1e", "-.0", "+.5", "9007199254740993",
      "0xFFFFFFFFFFFFFFFFF", "'1'", '"1"', '"null"', "''",
    ];
    for (const scalar of scalars) {
      expect(agrees(`k: ${scalar}\n`), scalar).toBe(true);
      agrees(`k: ${scalar}\n`, readWithJsYaml);
      agrees(`${scalar}: v\n`);
      agrees(`k: [${scalar}, {${scalar}: x}]\n`);
    }
  });

  test("what the two parsers read differently is declined", () => {
    const declined = {
      "a null key": "~: 1\n",
      "an empty key": ": 1\n",
      "a collection as key": "[a]: 1\n",
      "an alias": "a: &x 1\nb: *x\n",
      "a YAML 1.1 directive": "%YAML 1.1\n---\na: yes\n",
      "a core tag on text it does not fit": "a: !!int 0b1\n",
      "a local tag": "a: !foo x\n",
      "a key over 1,024 characters": `${"k".repeat(1100)}: 1\n`,
      "a duplicate key": "a: 1\na: 2\n",
      "tab indentation": "a:\n\tb: 1\n",
      "two documents": "a: 1\n---\nb: 2\n",
      "carriage returns alone as line ends": "a: 1\rb:\r  c: 2\r",
      "a number past a double's range": "a: 1e400\n",
      "a key past a double's range": "1e400: v\n",
      "a code point past U+10FFFF": 'a: "\\U00110000"\n',
      "300 digits": `a: ${"9".repeat(300)}\n`,
      "a hex run of 260 on the last line, without a line break": `a: 1\nb: 0x${"f".repeat(260)}`,
      "a line of 870 characters ending in 250 digits": `a: 1\nb: "${"x".repeat(600)}" # ${"7".repeat(250)}\nc: 2\n`,
    };
    for (const [what, text] of Object.entries(declined)) {
      expect(readWithJsYaml(text), what).toBe(DECLINED);
      // The line reader may take some (a number past a double's range): then as `yaml` does.
      if (readPlainYaml(text) !== DECLINED) expect(agrees(text), what).toBe(true);
    }
  });

  test("ordinary manifests take the fast path: the shipped one and a generated 1,000-job one", () => {
    expect(agrees(readFileSync(join(repoRoot, "jobs.yaml"), "utf8"))).toBe(true);
    const jobs = Array.from({ length: 1_000 }, (_, i) => `  job-${i}:\n    handler: jobs/h${i % 100}.ts\n    schedule: "${i % 60} ${i % 7} * * * *"\n    params: { n: ${i}, tag: "t-${i}" }\n    timeout: 30s\n    retries: { max: 2, backoff: exponential, delay: 1s }\n`);
    expect(agrees(`version: 1\ndefaults:\n  timezone: UTC\njobs:\n${jobs.join("")}`)).toBe(true);
  });

  test("every fixture is read the same or declined", () => {
    const corpus = join(repoRoot, "test", "fixtures", "invalid");
    let read = 0;
    for (const entry of readdirSync(corpus, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (agrees(readFileSync(join(corpus, entry.name, "jobs.yaml"), "utf8"))) read++;
    }
    // Most fixtures are valid YAML with a manifest problem: the fast path takes them.
    expect(read).toBeGreaterThan(20);
  });

  test("generated documents, and the same with random edits, agree or are declined", () => {
    const random = seeded(Number(process.env.FUZZ_SEED ?? 20261129));
    let read = 0;
    let total = 0;
    for (let i = 0; i < 2000; i++) {
      const text = document(random);
      for (const variant of [text, mutate(text, random), mutate(mutate(text, random), random), text.replaceAll("\n", "\r\n"), text.replaceAll("\n", "\r")]) {
        total++;
        // Each reader on its own, and the two as readPlainYaml chains them.
        if (agrees(variant, readWithJsYaml)) read++;
        agrees(variant);
      }
    }
    // The comparison has teeth only if the fast path takes a good share of the cases.
    expect(read / total).toBeGreaterThan(0.05);
  });

  test("block-style documents: the line reader (block-reader.ts) agrees or declines, on its own", () => {
    const random = seeded(Number(process.env.FUZZ_SEED ?? 20261204));
    let read = 0;
    let total = 0;
    for (let i = 0; i < 3000; i++) {
      const text = blockDocument(random);
      for (const variant of [text, mutate(text, random), mutate(mutate(text, random), random), text.replaceAll("\n", "\r\n")]) {
        total++;
        if (agrees(variant, readBlockYaml)) read++;
      }
    }
    expect(read / total).toBeGreaterThan(0.1);
  });

  test("the line reader takes a generated manifest, and declines what it leaves to js-yaml", () => {
    const jobs = Array.from({ length: 200 }, (_, i) => `  job-${i}: # c\n    handler: jobs/h${i % 10}.ts\n    schedule: ${i % 2 ? `{ every: ${i}m }` : `"${i % 60} * * * * *"`}\n    params: { n: ${i}, tags: [a, 'b c', -1.5], "q": { x: null } }\n    enabled:\n      - prod\n      - "stage"\n`);
    expect(agrees(`---\nversion: 1\n\njobs:\n${jobs.join("")}`, readBlockYaml)).toBe(true);
    const declined = ["a: |\n  text\n", "a: b\n  c\n", "a:\n- b\n", "a:\n  - b: 1\n", "a: 1\na: 2\n", "1: x\n", "a: {b: 1,}\n", 'a: "\\x41"\n', "a: 'b\n  c'\n", "a: b: c\n"];
    for (const text of declined) expect(readBlockYaml(text), text).toBe(NOT_BLOCK);
  });
});

describe("keys written twice: the line reader lists them, and they are reported as `yaml` reports them", () => {
  /** Asserts that the manifest source reads `text` as `yaml` does, problems included; returns whether the line reader took it. */
  function sameAsYaml(text: string): boolean {
    const listed: DuplicateKey[] = [];
    const fast = readPlainYaml(text, listed) !== DECLINED && listed.length > 0;
    const source = parseYamlSource("jobs.yaml", text);
    const positioned = parsePositioned("jobs.yaml", text);
    expect(difference(source.value, positioned.value), text).toBeNull();
    expect(source.problems, text).toEqual(positioned.problems);
    return fast;
  }

  test("top maps and nested ones, quoted keys, keys with their value on later lines, CRLF: same value, same problems, no `yaml` parse", () => {
    const cases = [
      'version: 1\njobs:\n  a: { handler: x.ts }\n  b:\n    handler: y.ts\n    handler: z.ts\n  a:\n    handler: w.ts\n  "a": { handler: q.ts }\n',
      "a: 1\na: 2\n",
      "top:\n  k: 1\n  k:\n    deep: 2\n",
      "version: 1\r\njobs:\r\n  x: { handler: a.ts }\r\n  x: { handler: b.ts }\r\n",
      "jobs:\n  # c\n  a: 1\n\n  'a': 2\ndefaults:\n  a: 1\n  a:\n",
    ];
    for (const text of cases) expect(sameAsYaml(text), text).toBe(true);
  });

  test("generated block documents with a line written twice", () => {
    const random = seeded(Number(process.env.FUZZ_SEED ?? 20261205));
    let fast = 0;
    for (let i = 0; i < 1500; i++) {
      const lines = blockDocument(random).split("\n");
      const keyed = lines.flatMap((line, n) => (/^ *[^ #-][^:]*:( |$)/.test(line) ? [n] : []));
      if (keyed.length === 0) continue;
      const n = keyed[Math.floor(random() * keyed.length)]!;
      lines.splice(n + 1, 0, lines[n]!);
      if (sameAsYaml(lines.join("\n"))) fast++;
    }
    expect(fast).toBeGreaterThan(100);
  });
});

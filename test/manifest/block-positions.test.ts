import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { indexBlockYaml } from "../../runner/manifest/block-positions.js";
import { DECLINED, readPlainYaml } from "../../runner/manifest/plain-yaml.js";
import { parsePositioned, type ValuePath } from "../../runner/manifest/yaml-source.js";
import { repoRoot } from "../support/temp-project.js";
import { seeded } from "../support/seeded.js";
import { document, mutate } from "./yaml-documents.js";

/** Every path of a value, its maps' keys by name and its lists' items by index. */
function pathsOf(value: unknown, path: Array<string | number> = [], out: Array<{ path: ValuePath; value: unknown }> = []): Array<{ path: ValuePath; value: unknown }> {
  out.push({ path, value });
  if (Array.isArray(value)) value.forEach((item, i) => pathsOf(item, [...path, i], out));
  else if (value !== null && typeof value === "object") for (const [key, item] of Object.entries(value)) pathsOf(item, [...path, key], out);
  return out;
}

/**
 * For a text js-yaml reads: every position the block index answers is the one `yaml`
 * gives. Returns how many it answered (0 when it gave up on the text).
 */
function answeredLikeYaml(text: string): number {
  const value = readPlainYaml(text);
  if (value === DECLINED || typeof value !== "object") return 0;
  const index = indexBlockYaml(text);
  if (!index) return 0;
  const positioned = parsePositioned("x.yaml", text);
  let answered = 0;
  for (const { path, value: at } of pathsOf(value)) {
    for (const part of ["key", "value"] as const) {
      const found = index.at(path, part);
      if (!found) continue;
      answered++;
      expect(found, `${part} of ${JSON.stringify(path)} in:\n${text}`).toEqual(positioned.at(path, part));
    }
    // A character inside a string (a cron field): offsets within it.
    for (const offset of typeof at === "string" ? [0, 2].filter((o) => o < at.length) : []) {
      const found = index.inScalar(path, offset);
      if (found) expect(found, `offset ${offset} in ${JSON.stringify(path)} in:\n${text}`).toEqual(positioned.inScalar(path, offset));
    }
  }
  return answered;
}

describe("positions from the block index", () => {
  test("are yaml's for the shipped manifest, every fixture and a generated manifest", () => {
    let answered = answeredLikeYaml(readFileSync(join(repoRoot, "jobs.yaml"), "utf8"));
    const corpus = join(repoRoot, "test", "fixtures", "invalid");
    for (const entry of readdirSync(corpus, { withFileTypes: true })) {
      if (entry.isDirectory()) answered += answeredLikeYaml(readFileSync(join(corpus, entry.name, "jobs.yaml"), "utf8"));
    }
    const lines = ["version: 1", "jobs:"];
    for (let i = 0; i < 200; i++) lines.push(`  "job-${i}":`, `    handler: jobs/h.ts # a comment`, `    schedule: '${i % 60} * * * *'`, "    enabled:", "    - production", "    params: { n: 1 }", "    description: |", "      two", "        lines");
    answered += answeredLikeYaml(`${lines.join("\n")}\n`);
    expect(answered).toBeGreaterThan(2000);
  });

  test("are yaml's for generated documents and random edits of them", () => {
    const random = seeded(Number(process.env.FUZZ_SEED ?? 20261204));
    let answered = 0;
    for (let i = 0; i < 1500; i++) {
      const text = document(random);
      for (const variant of [text, mutate(text, random), mutate(mutate(text, random), random), text.replaceAll("\n", "\r\n")]) answered += answeredLikeYaml(variant);
    }
    expect(answered).toBeGreaterThan(1000);
  });
});

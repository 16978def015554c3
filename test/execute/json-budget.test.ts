// jsonSizeUpTo counts plain values by a walk and anything else through JSON.stringify with a
// replacer: both must give the same count, or a result's cut would depend on its shape.
import { expect, test } from "vitest";
import { jsonSizeUpTo } from "../../runner/execute/json-budget.js";

/** The replacer count alone, as jsonSizeUpTo counted every object before the walk. */
function replacerCount(value: unknown, maxBytes: number): number | null {
  const OVER = Symbol("over");
  const sizeOf = (v: unknown): number => {
    switch (typeof v) {
      case "string":
        return v.length + 2;
      case "number":
        return Number.isFinite(v) ? String(v).length : 4;
      case "boolean":
        return v ? 4 : 5;
      case "bigint":
        return v.toString().length + 2;
      case "object":
        return 2;
      default:
        return 0;
    }
  };
  if (value === null || typeof value !== "object") return sizeOf(value) <= maxBytes ? sizeOf(value) : null;
  let used = 0;
  try {
    JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
      const size = sizeOf(v);
      if (size === 0) return v;
      used += size + (Array.isArray(this) || key === "" ? 0 : key.length + 3);
      if (used > maxBytes) throw OVER;
      return typeof v === "bigint" ? v.toString() : v;
    });
  } catch (err) {
    if (err === OVER) return null;
  }
  return used;
}

// A small deterministic generator (no Math.random: a failure must be reproducible).
function values(seed: number, count: number): unknown[] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const leaves: unknown[] = [0, -2.5, 1e21, NaN, Infinity, "", "abc", "é".repeat(20), true, false, null, undefined, 10n, () => 1, Symbol("s"), new Date(0), new Map([[1, 2]])];
  const make = (depth: number): unknown => {
    const r = next();
    if (depth > 3 || r < 0.4) return leaves[Math.floor(next() * leaves.length)];
    if (r < 0.7) return Array.from({ length: Math.floor(next() * 6) }, () => make(depth + 1));
    const obj: Record<string, unknown> = {};
    for (let i = 0, n = Math.floor(next() * 6); i < n; i++) obj[`k${i}${"x".repeat(i)}`] = make(depth + 1);
    return obj;
  };
  return Array.from({ length: count }, () => make(0));
}

test("the walk counts plain values as the replacer does, under and over the budget", () => {
  for (const value of values(42, 3000)) {
    for (const max of [8, 64, 65_536]) expect([value, max, jsonSizeUpTo(value, max)]).toEqual([value, max, replacerCount(value, max)]);
  }
});

test("values the walk leaves to the replacer: many of them, a cycle, a toJSON", () => {
  const many = Array.from({ length: 1000 }, (_, i) => ({ i }));
  expect(jsonSizeUpTo(many, 65_536)).toBe(replacerCount(many, 65_536));
  expect(jsonSizeUpTo(many, 1000)).toBeNull();
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  expect(jsonSizeUpTo(cycle, 65_536)).toBe(replacerCount(cycle, 65_536));
  const custom = { toJSON: () => "x".repeat(100) };
  expect(jsonSizeUpTo({ custom }, 50)).toBeNull();
  expect(jsonSizeUpTo({ custom }, 65_536)).toBe(replacerCount({ custom }, 65_536));
});

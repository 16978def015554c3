import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { startStack, type Stack } from "./helpers.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const source = readFileSync(new URL("../../runner/http/dashboard.html", import.meta.url), "utf8");

describe("GET /", () => {
  test("serves the dashboard page with a CSP that admits exactly its inline script and style", async () => {
    stack = await startStack();
    const res = await fetch(`${stack.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toBe(source);
    const csp = res.headers.get("content-security-policy")!;
    const hash = (tag: string) => createHash("sha256").update(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(source)![1]!).digest("base64");
    expect(csp).toContain(`script-src 'sha256-${hash("script")}'`);
    expect(csp).toContain(`style-src 'sha256-${hash("style")}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
  });

  test("the page is self-contained and never parses job text as HTML", () => {
    // The only absolute URL is the SVG namespace, which is a name, not a fetch.
    const urls = [...source.matchAll(/https?:\/\/[^\s"'`)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(["http://www.w3.org/2000/svg"]));
    expect(source).not.toMatch(/\b(src|href)=["'](?!data:)/);
    expect(source).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(source.match(/<script>/g)).toHaveLength(1);
    expect(source.match(/<style>/g)).toHaveLength(1);
  });
});

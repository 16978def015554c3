import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { FIRST_STATE_MAX_JOBS } from "../../runner/http/dashboard-first-state.js";
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
    const served = await res.text();
    // The file, with its first state rendered in (below): the inline script and style as written.
    expect(served).toContain(/<script>[\s\S]*?<\/script>/.exec(source)![0]);
    expect(served).toContain(/<style>[\s\S]*?<\/style>/.exec(source)![0]);
    const csp = res.headers.get("content-security-policy")!;
    const hash = (tag: string) => createHash("sha256").update(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(source)![1]!).digest("base64");
    expect(csp).toContain(`script-src 'sha256-${hash("script")}'`);
    expect(csp).toContain(`style-src 'sha256-${hash("style")}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
  });

  test("the first state is in the HTML: every job, its schedule, last run, recent runs and the summary, job text escaped", async () => {
    stack = await startStack({
      yaml: `version: 1
jobs:
  echo:
    description: "Echoes <b>its</b> params ($' and $& are text)"
    handler: jobs/echo.ts
    params: { greeting: "</script><script>alert(1)</script>" }
  fails: { handler: jobs/fails.ts }
  nightly: { handler: jobs/echo.ts, schedule: "0 3 * * *", timezone: UTC }
`,
    });
    await stack.runner.invoke("fails");
    const ok = await stack.runner.invoke("echo", { note: "</script><b>x</b>" });
    const html = await (await fetch(`${stack.url}/`)).text();
    const rows = /<tbody id="job-rows">([\s\S]*?)<\/tbody>/.exec(html)![1]!;
    expect([...rows.matchAll(/<tr class="job[^"]*" data-job="([^"]+)"/g)].map((m) => m[1])).toEqual(["echo", "fails", "nightly"]);
    expect(rows).toContain("Echoes &#60;b&#62;its&#60;/b&#62; params (");
    expect(rows).toContain('<code class="code">0 3 * * *</code>');
    expect(rows).toMatch(/data-job="fails"[\s\S]*?<span class="badge s-failed" title="boom from the handler">failed<\/span>/);
    expect(rows).toMatch(/data-job="nightly"[\s\S]*?<span class="sub">never run<\/span>/);
    expect(rows).toMatch(/data-job="echo"[\s\S]*?<svg class="spark"[\s\S]*?<rect class="s-ok"/);
    expect(html).toContain('<div class="summary" id="summary"><b>3</b> jobs · <b class="bad">1</b> failing</div>');
    expect(html).toMatch(/<div class="warning" id="warning" role="alert" hidden><\/div>/);
    // The same state as data for the script, which no text in it can close.
    const data = /<script type="application\/json" id="first-state">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(data).not.toContain("</");
    const first = JSON.parse(data) as { jobs: Array<{ name: string; description?: string }>; runs: Record<string, Array<{ runId: string }>> };
    expect(first.jobs.map((j) => j.name)).toEqual(["echo", "fails", "nightly"]);
    // `$'` and `$&` in job text stay text (not replacement patterns pulling in the page).
    expect(first.jobs[0]!.description).toBe("Echoes <b>its</b> params ($' and $& are text)");
    expect(first.runs.echo!.map((r) => r.runId)).toEqual([ok.runId]);
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  test("a manifest of more jobs than the first state holds gets the bare page, which its script fills from the API", async () => {
    const jobs = Array.from({ length: FIRST_STATE_MAX_JOBS + 1 }, (_, i) => `  j${i}: { handler: jobs/echo.ts }`).join("\n");
    stack = await startStack({ yaml: `version: 1\njobs:\n${jobs}\n` });
    const html = await (await fetch(`${stack.url}/`)).text();
    expect(html).toBe(source);
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

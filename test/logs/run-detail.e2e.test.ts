import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { repoRoot } from "../support/temp-project.js";
import { startStack, TOKEN, type Stack } from "../http/helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const artifacts = join(repoRoot, "test-artifacts");

const yaml = `version: 1
jobs:
  sync-invoices:
    description: Pulls invoices from the billing API
    handler: jobs/sync.ts
    timezone: Europe/Berlin
    params: { fail: true }
  greet:
    handler: jobs/greet.ts
    params: { name: nobody }
  slow:
    handler: jobs/slow.ts
`;

const files = {
  "jobs/sync.ts": `export default async (ctx) => {
    ctx.log.info({ page: 1 }, "fetching invoices");
    ctx.log.warn({ status: 503 }, "billing API is struggling");
    if (ctx.params.fail) throw new Error("billing API answered 503");
    return { synced: 12 };
  };\n`,
  "jobs/greet.ts": `export default async (ctx) => { ctx.log.info({ name: ctx.params.name }, "greeting"); return { greeting: "hello " + ctx.params.name }; };\n`,
  // Logs a line every 100 ms until it has logged 60, so a page can watch it live.
  "jobs/slow.ts": `export default async (ctx) => { for (let i = 0; i < 60; i++) { ctx.log.info("step " + i); await new Promise((r) => setTimeout(r, 100)); } };\n`,
};

describe.skipIf(!hasChromium)(`run detail in headless Chromium (skipped: ${CHROMIUM} is absent; apt-get install -y chromium)`, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    stack = await startStack({ yaml, files, server: { token: TOKEN } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") pageErrors.push(msg.text());
    });
    page.on("dialog", (dialog) => void dialog.accept(TOKEN));
    mkdirSync(artifacts, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  test("a failed run, opened from the job's runs, shows its times, stack and log lines (server-rendered)", async () => {
    const failed = await stack.runner.invoke("sync-invoices");
    expect(failed.status).toBe("failed");
    await page.goto(stack.url);
    await page.locator('tr[data-job="sync-invoices"] button.name').click();
    await page.locator(`tr[data-details="sync-invoices"] a.run-link`).first().click();
    await page.waitForURL(`**/runs/${failed.runId}`);
    expect(await page.locator("#status").textContent()).toBe("failed");
    expect(await page.locator("#run-id").textContent()).toBe(failed.runId);
    const stackText = await page.locator("#error").textContent();
    expect(stackText).toContain("JOB_FAILED: Error: billing API answered 503");
    // Source-mapped: the handler's own file, as written.
    expect(stackText).toMatch(/sync\.ts:4/);
    const lines = page.locator("#log-lines tr");
    expect(await lines.count()).toBe(2);
    expect(await lines.nth(0).textContent()).toContain('fetching invoices {"page":1}');
    expect(await lines.nth(1).textContent()).toContain("billing API is struggling");
    // Absolute times with their zone: UTC, and the job's own.
    expect(await page.locator("dl").textContent()).toMatch(/UTC \(\d{4}-\d\d-\d\d [\d:]+ Europe\/Berlin\)/);
    await page.screenshot({ path: join(artifacts, "run-detail.png"), fullPage: true });

    // The first state is in the HTML itself: no script needed to see it.
    const html = await (await fetch(`${stack.url}/runs/${failed.runId}`)).text();
    expect(html).toContain("billing API answered 503");
    expect(html).toContain("fetching invoices");
  });

  test("a running run's page adds its lines live, then shows how it ended", async () => {
    const done = stack.runner.invoke("slow");
    let runId = "";
    await expect.poll(async () => ((runId = (await stack.runner.store.history({ job: "slow", limit: 1 }))[0]?.runId ?? ""), runId)).not.toBe("");
    await page.goto(`${stack.url}/runs/${runId}`);
    expect(await page.locator("#status").textContent()).toBe("running");
    const before = await page.locator("#log-lines tr").count();
    await expect.poll(() => page.locator("#log-lines tr").count(), { timeout: 5000 }).toBeGreaterThan(before + 3);
    await done;
    await expect.poll(() => page.locator("#status").textContent(), { timeout: 10_000 }).toBe("ok");
    expect(await page.locator("#log-lines tr").count()).toBe(60);
  });

  test("a job is invoked with params typed as JSON; bad JSON is refused before anything runs", async () => {
    await page.goto(stack.url);
    const greet = page.locator('tr[data-job="greet"]');
    await greet.locator("button.name").click();
    const details = page.locator('tr[data-details="greet"]');
    await details.locator("input.params").fill("{not json");
    await details.locator('button[data-action="invoke-params"]').click();
    await expect.poll(() => page.locator(".toast").last().textContent()).toContain("params must be JSON");
    expect(await stack.runner.store.history({ job: "greet", limit: 5 })).toEqual([]);

    await details.locator("input.params").fill('{"name": "ada"}');
    await details.locator('button[data-action="invoke-params"]').click();
    await expect.poll(async () => (await stack.runner.store.history({ job: "greet", limit: 5 }))[0]?.result).toEqual({ greeting: "hello ada" });
    await expect.poll(() => page.locator('tr[data-details="greet"] table.runs tbody tr').count()).toBe(1);
    expect(await page.locator('tr[data-details="greet"] table.runs tbody tr').first().textContent()).toContain("hello ada");
    // Its detail shows the params it was invoked with, not the job's from the manifest.
    await page.locator('tr[data-details="greet"] a.run-link').first().click();
    await page.waitForURL("**/runs/*");
    expect(JSON.parse((await page.locator("#params").textContent())!)).toEqual({ name: "ada" });
    expect(await page.locator("#trigger").textContent()).toBe("invoke");
    expect(pageErrors).toEqual([]);
  });

  test("a job's runs: filtered by status, paged past the first 20", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await stack.runner.invoke("sync-invoices", { fail: i % 5 === 0 })).runId);
    await page.goto(stack.url);
    await page.locator('tr[data-job="sync-invoices"] button.name').click();
    const rows = page.locator('tr[data-details="sync-invoices"] table.runs tbody tr');
    await expect.poll(() => rows.count()).toBe(20);
    await page.locator('tr[data-details="sync-invoices"] button[data-action="older"]').click();
    // 25 here plus the failed run of the first test.
    await expect.poll(() => rows.count()).toBe(26);
    expect(await rows.nth(20).getAttribute("data-run")).toBe(ids[4]);
    await page.locator('tr[data-details="sync-invoices"] select.status-filter').selectOption("failed");
    await expect.poll(() => rows.count()).toBe(6);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")))).toEqual([ids[20], ids[15], ids[10], ids[5], ids[0], expect.any(String)]);
    expect(pageErrors).toEqual([]);
  });

  test("the dashboard's first state needs no script: with JavaScript off, every job and its last run show", async () => {
    const bare = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    try {
      const plain = await bare.newPage();
      await plain.goto(stack.url);
      expect(await plain.locator("tr.job").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-job")))).toEqual(["sync-invoices", "greet", "slow"]);
      const [last] = await stack.runner.store.history({ job: "sync-invoices", limit: 1 });
      expect(await plain.locator('tr[data-job="sync-invoices"] .c-last .badge').textContent()).toBe(last!.status);
      expect(await plain.locator("#summary").textContent()).toMatch(/^3 jobs/);
      await plain.screenshot({ path: join(artifacts, "dashboard-no-script.png"), fullPage: true });
    } finally {
      await bare.close();
    }
  });

  test("a refused reload: the dashboard says why, and /readyz warns (still ready) that an older manifest runs", async () => {
    expect(((await (await fetch(`${stack.url}/readyz`)).json()) as { warnings: string[] }).warnings).toEqual([]);
    await page.goto(stack.url);
    expect(await page.locator("#warning").isHidden()).toBe(true);
    const manifest = stack.project.path("jobs.yaml");
    const good = readFileSync(manifest, "utf8");
    writeFileSync(manifest, good.replace("handler: jobs/greet.ts", "handler: jobs/greet.ts\n    overlap: sometimes"));
    // A modification time surely after the running manifest's (coarse file-system clocks).
    utimesSync(manifest, new Date(), new Date(Date.now() + 2000));
    const result = await stack.runner.reload();
    expect(result.ok).toBe(false);
    await expect.poll(() => page.locator("#warning").textContent()).toContain("overlap must be one of skip, queue, allow, replace");
    expect(await page.locator("#warning").textContent()).toContain("newer than the one running");
    const ready = await fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { warnings: string[] }).warnings).toEqual([expect.stringContaining("its reload was refused")]);
    await page.screenshot({ path: join(artifacts, "dashboard-refused-reload.png"), fullPage: true });
    writeFileSync(manifest, good);
    expect((await stack.runner.reload()).ok).toBe(true);
    expect(((await (await fetch(`${stack.url}/readyz`)).json()) as { warnings: string[] }).warnings).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

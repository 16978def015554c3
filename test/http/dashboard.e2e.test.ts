import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Browser, Page } from "playwright-core";
import { repoRoot } from "../support/temp-project.js";
import { startStack, TOKEN, type Stack } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
/** What the page-side callbacks use of the browser's globals (the project's types have no DOM lib). */
type BrowserGlobals = { getComputedStyle(element: unknown): { display: string } };
const hasChromium = existsSync(CHROMIUM);
const artifacts = join(repoRoot, "test-artifacts");

const yaml = `version: 1
jobs:
  heartbeat:
    description: Checks in every second
    handler: jobs/tick.ts
    schedule: { every: 1s }
  report:
    description: "Builds the <b>weekly</b> report & mails it"
    handler: jobs/report.ts
    mode: inline
  sync-invoices:
    description: Pulls invoices from the billing API; fails now and then
    handler: jobs/flaky.ts
    schedule: { every: 1s }
  nightly-cleanup:
    description: Removes expired sessions
    handler: jobs/tick.ts
    schedule: "0 3 * * *"
    timezone: UTC
`;

const files = {
  "jobs/tick.ts": "export default async () => { await new Promise((r) => setTimeout(r, 5 + Math.random() * 40)); return { ok: true }; };\n",
  "jobs/flaky.ts": 'export default async () => { await new Promise((r) => setTimeout(r, 20 + Math.random() * 60)); if (Date.now() % 3000 < 1000) throw new Error("billing API answered 503"); return { synced: 12 }; };\n',
  "jobs/report.ts": "export default async () => { await new Promise((r) => setTimeout(r, 120)); return { rows: 3 }; };\n",
};

describe.skipIf(!hasChromium)(`dashboard in headless Chromium (skipped: ${CHROMIUM} is absent; apt-get install -y chromium)`, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    stack = await startStack({ yaml, files, server: { token: TOKEN } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") pageErrors.push(msg.text());
    });
    mkdirSync(artifacts, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  test("the job table renders every job, job text as text", async () => {
    await page.goto(stack.url);
    const rows = page.locator("tr.job");
    await expect.poll(() => rows.count()).toBe(4);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-job")))).toEqual(["heartbeat", "report", "sync-invoices", "nightly-cleanup"]);
    const report = page.locator('tr[data-job="report"]');
    // The description's markup is shown as written, not rendered.
    expect(await report.locator(".desc").textContent()).toBe("Builds the <b>weekly</b> report & mails it");
    expect(await report.locator("b").count()).toBe(0);
    expect(await report.locator(".c-next").textContent()).toBe("by hand");
    const nightly = page.locator('tr[data-job="nightly-cleanup"]');
    expect(await nightly.locator(".code").textContent()).toBe("0 3 * * *");
    expect(await page.locator('tr[data-job="heartbeat"] .code').textContent()).toBe("{ every: 1s }");
    expect(await nightly.locator(".c-next .sub").textContent()).not.toBe("");
    await expect.poll(() => page.locator("#conn").getAttribute("class")).toContain("live");
  });

  test("a run appears live after a fire", async () => {
    const bars = page.locator('tr[data-job="heartbeat"] svg.spark rect');
    const before = await bars.count();
    await expect.poll(() => bars.count(), { timeout: 5000 }).toBeGreaterThan(before + 1);
    await expect.poll(() => page.locator('tr[data-job="heartbeat"] .c-last .badge').textContent(), { timeout: 5000 }).toMatch(/ok|running/);
  });

  test("the Invoke button asks for the token once, runs the job and shows its run", async () => {
    const prompts: string[] = [];
    page.on("dialog", (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept(TOKEN);
    });
    const report = page.locator('tr[data-job="report"]');
    expect(await report.locator(".c-last").textContent()).toBe("never run");
    await report.locator('button[data-action="invoke"]').click();
    await expect.poll(() => report.locator(".c-last .badge").textContent()).toBe("ok");
    expect(await report.locator("svg.spark rect").count()).toBe(1);
    await report.locator("button.name").click();
    const runs = page.locator('tr[data-details="report"] table.runs tbody tr');
    await expect.poll(() => runs.count()).toBe(1);
    expect(await runs.first().textContent()).toContain('{"rows":3}');
    expect(prompts).toEqual([expect.stringContaining("RUNLET_TOKEN")]);

    const history = await stack.runner.store.history({ job: "report", limit: 5 });
    expect(history).toEqual([expect.objectContaining({ status: "ok", trigger: "invoke", result: { rows: 3 } })]);

    // The token is kept for the tab: a second action does not ask again.
    await report.locator('button[data-action="pause"]').click();
    await expect.poll(() => report.locator('button[data-action="resume"]').count()).toBe(1);
    expect(stack.runner.isPaused("report")).toBe(true);
    await report.locator('button[data-action="resume"]').click();
    await expect.poll(() => report.locator('button[data-action="pause"]').count()).toBe(1);
    expect(prompts).toHaveLength(1);
  });

  test("screenshots, laptop and phone", async () => {
    // A few fires of each scheduled job, so the charts have something to show.
    await expect.poll(() => page.locator('tr[data-job="sync-invoices"] svg.spark rect').count(), { timeout: 8000 }).toBeGreaterThanOrEqual(5);
    await page.locator('tr[data-job="sync-invoices"] button.name').click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(artifacts, "dashboard.png"), fullPage: true });

    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await phone.goto(stack.url);
    await expect.poll(() => phone.locator("tr.job").count()).toBe(4);
    // Under 640px the table becomes cards: the header row is hidden, each job is a grid.
    expect(await phone.locator("table.jobs thead").isVisible()).toBe(false);
    // Polled: the table re-renders its rows as runs end, and a row replaced between the
    // lookup and the read is detached (no computed style).
    await expect.poll(() => phone.locator('tr[data-job="report"]').evaluate((tr) => (globalThis as unknown as BrowserGlobals).getComputedStyle(tr).display)).toBe("grid");
    await phone.locator('tr[data-job="report"] button.name').click();
    await phone.waitForTimeout(300);
    await phone.screenshot({ path: join(artifacts, "dashboard-phone.png"), fullPage: true });
    await phone.close();
    expect(existsSync(join(artifacts, "dashboard.png"))).toBe(true);
    expect(existsSync(join(artifacts, "dashboard-phone.png"))).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});

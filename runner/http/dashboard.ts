import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RunletError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import type { Route } from "./router.js";
import { firstState, withFirstState } from "./dashboard-first-state.js";
import type { RunnerView } from "./runner-view.js";

/**
 * The dashboard is one static HTML file. It is read from the source folder, which ships
 * in the package too, so dev and installed runs serve the same file with no build step.
 */
export const dashboardPath = join(packageRoot, "runner", "http", "dashboard.html");

interface Page {
  text: string;
  html: Buffer;
  /** A CSP that allows exactly this page's inline script and style, by their hashes. */
  csp: string;
}

function loadPage(): Page {
  let text: string;
  try {
    text = readFileSync(dashboardPath, "utf8");
  } catch (err) {
    throw new RunletError("INTERNAL", `cannot read the dashboard page (the package is incomplete) ${dashboardPath}: ${(err as Error).message}`, { cause: err });
  }
  const hashes = (tag: string) =>
    [...text.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => `'sha256-${createHash("sha256").update(m[1]!, "utf8").digest("base64")}'`).join(" ");
  const csp = [
    "default-src 'none'",
    `script-src ${hashes("script")}`,
    `style-src ${hashes("style")}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { text, html: Buffer.from(text, "utf8"), csp };
}

export interface DashboardOptions {
  runner: RunnerView;
  /** Reads need the token (a server bound off loopback, with one): the page is served bare and its script asks the API with the token. */
  readsNeedToken: boolean;
}

/** `GET /`: the dashboard, its first state rendered in (see dashboard-first-state.ts) unless reads need the token. */
export function dashboardRoute({ runner, readsNeedToken }: DashboardOptions): Route {
  const page = loadPage();
  return {
    method: "GET",
    path: "/",
    async handle({ res }) {
      const state = readsNeedToken ? null : await firstState(runner);
      const html = state ? Buffer.from(withFirstState(page.text, state), "utf8") : page.html;
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-length": html.length,
        "content-security-policy": page.csp,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-cache",
      });
      res.end(html);
    },
  };
}

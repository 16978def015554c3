import type { IncomingMessage } from "node:http";
import { isIPv4 } from "node:net";
import { HttpError } from "./http-error.js";

/** Whether an address or host name only reaches this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice("::ffff:".length) : h;
  return isIPv4(v4) && v4.startsWith("127.");
}

/**
 * For a server bound to loopback: refuses requests whose Host names another machine.
 * A web page on any site can make the browser resolve its own name to 127.0.0.1 (DNS
 * rebinding) and then read the API as same-origin; such requests carry the page's host
 * name, so checking Host closes that door. Requests with no Host (HTTP/1.0) pass.
 */
export function checkLoopbackHost(req: IncomingMessage): void {
  const host = req.headers.host;
  if (!host) return;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
  if (!isLoopback(name)) {
    throw new HttpError(403, "HOST_NOT_ALLOWED", `this server listens on loopback only and answers requests for localhost (got Host "${host}"); start it with --host to serve other names`);
  }
}

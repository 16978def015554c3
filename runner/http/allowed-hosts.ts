import type { IncomingMessage } from "node:http";
import { hostname, networkInterfaces } from "node:os";
import { RunletError } from "../errors.js";
import { HttpError } from "./http-error.js";
import { isLoopback } from "./loopback.js";

/** The names a request's Host may give. `any` lets every name through (`RUNLET_ALLOWED_HOSTS=*`). */
export type AllowedHosts = { any: true } | { any: false; names: ReadonlySet<string> };

/**
 * The Host names a server bound off loopback answers: `RUNLET_ALLOWED_HOSTS` (comma-separated
 * names or addresses, `*` for any) when set; else the bound address and the names that
 * reach it: this machine's host name, and for a wildcard bind (0.0.0.0, ::) every address
 * of every interface, loopback included. A DNS-rebinding page reaches the server under the
 * attacker's own name, which is never on this list.
 */
export function allowedHostsFor(boundHost: string, setting: string | undefined = process.env.RUNLET_ALLOWED_HOSTS): AllowedHosts {
  if (setting !== undefined && setting.trim() !== "") {
    const entries = setting.split(",").map((entry) => entry.trim()).filter(Boolean);
    if (entries.includes("*")) return { any: true };
    for (const entry of entries) {
      if (/[\s/@]/.test(entry)) throw new RunletError("BAD_INPUT", `RUNLET_ALLOWED_HOSTS must be a comma-separated list of host names or addresses (got "${entry}")`);
    }
    return { any: false, names: new Set(entries.map(normalized)) };
  }
  const names = new Set<string>([normalized(boundHost), normalized(hostname())]);
  const bound = normalized(boundHost);
  if (bound === "0.0.0.0" || bound === "::") {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const { address, family } of addresses ?? []) if (bound === "::" || family === "IPv4") names.add(normalized(address));
    }
    names.add("localhost");
  }
  return { any: false, names };
}

/**
 * For a server bound off loopback: refuses a request whose Host is not on the allowed
 * list (403 HOST_NOT_ALLOWED). A request with no Host is refused too: every HTTP/1.1
 * client sends one, and a missing one cannot be matched.
 */
export function checkAllowedHost(req: IncomingMessage, allowed: AllowedHosts): void {
  if (allowed.any) return;
  const header = req.headers.host;
  if (header && allowed.names.has(normalized(nameOf(header)))) return;
  const shown = [...allowed.names].join(", ");
  throw new HttpError(403, "HOST_NOT_ALLOWED", `this server answers requests for ${shown} (got ${header ? `Host "${header}"` : "no Host header"}); set RUNLET_ALLOWED_HOSTS to the names clients use`);
}

/** The name part of a Host header: `[::1]:8080` → `::1`, `example.com:80` → `example.com`. */
function nameOf(header: string): string {
  if (header.startsWith("[")) return header.slice(1, header.indexOf("]"));
  return header.split(":")[0]!;
}

/** Lower case, no brackets, no trailing dot: `Example.COM.` and `example.com` are one name. */
function normalized(name: string): string {
  return name.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
}

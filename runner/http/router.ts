import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./http-error.js";

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The `:name` segments of the route's path, decoded. */
  params: Record<string, string>;
}

export interface Route {
  method: "GET" | "POST";
  /** Segments, `:name` for a parameter: `/api/jobs/:name/runs`. */
  path: string;
  handle(ctx: RequestContext): Promise<void> | void;
}

/**
 * Finds the route for a request. Throws 404 when no route has the path, 405 (with
 * `Allow`) when routes have it but not for this method. HEAD is served as GET.
 */
export function matchRoute(routes: Route[], method: string, pathname: string): { route: Route; params: Record<string, string> } {
  const wanted = method === "HEAD" ? "GET" : method;
  const segments = pathname.split("/");
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPath(route.path.split("/"), segments);
    if (!params) continue;
    if (route.method === wanted) return { route, params };
    allowed.push(route.method);
  }
  if (allowed.length === 0) throw new HttpError(404, "NOT_FOUND", `no route ${pathname}`);
  const allow = [...new Set(allowed.flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m])))].join(", ");
  throw new HttpError(405, "METHOD_NOT_ALLOWED", `${pathname} takes ${allow} (got ${method})`, { allow });
}

function matchPath(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const got = segments[i]!;
    if (want.startsWith(":")) {
      if (got === "") return null;
      params[want.slice(1)] = decodeSegment(got);
    } else if (want !== got) {
      return null;
    }
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (err) {
    throw new HttpError(404, "NOT_FOUND", `no route: the path segment "${segment}" is not valid percent-encoding`, {}, { cause: err });
  }
}

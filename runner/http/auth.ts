import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-error.js";

/**
 * Returns a check for state-changing requests: it throws unless the request carries
 * `Authorization: Bearer <token>`. With no token configured every such request is
 * refused (403): an open invoke endpoint is never the default.
 */
export function bearerCheck(token: string | undefined): (req: IncomingMessage) => void {
  // Compare digests, not the strings: timingSafeEqual needs equal lengths, and digests
  // have one, so neither the content nor the length of the token leaks through timing.
  const expected = token ? digest(token) : null;
  return (req) => {
    if (!expected) {
      throw new HttpError(403, "TOKEN_NOT_CONFIGURED", "this server has no token configured (set RUNLET_TOKEN): routes that change state are refused");
    }
    const header = req.headers.authorization ?? "";
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    const challenge = { "www-authenticate": 'Bearer realm="runlet"' };
    if (!match) {
      const found = header ? "an Authorization header of another form" : "no Authorization header";
      throw new HttpError(401, "UNAUTHORIZED", `expected an Authorization: Bearer <token> header (found ${found})`, challenge);
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      throw new HttpError(401, "UNAUTHORIZED", "the bearer token does not match the token this server was started with", challenge);
    }
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

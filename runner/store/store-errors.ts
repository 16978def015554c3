/** A database or socket error in one line; an AggregateError (IPv4 and IPv6 both refused) lists its parts. Loads no driver. */
export function describeStoreError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map((e: Error) => e.message).join("; ");
  const e = err as { message?: string; code?: string };
  return e?.message || e?.code || String(err);
}

/**
 * SQLSTATEs of a server that cannot serve this session, whatever the statement: connection
 * exceptions (class 08), insufficient resources (class 53: disk full, out of memory, too
 * many connections), system errors (class 58: I/O), admin or crash shutdown, starting up,
 * database dropped, a read-only server (a standby after a failover, 25006), and a login
 * the server refuses (the database gone, the password changed).
 */
const UNREACHABLE_STATES = /^(08...|53...|58...|57P0[1-4]|25006|3D000|28000|28P01)$/;

/** pg and pg-pool's own errors of a lost or impossible connection: they carry no code. */
const UNREACHABLE_MESSAGES = /^Connection terminated|timeout exceeded when trying to connect|is not queryable|^Query read timeout|^Cannot use a pool after calling end/;

/**
 * The one place that tells an outage from a failed statement. True when the database could
 * not be reached or the connection broke: refused, reset, timed out, terminated, the pool
 * unable to connect, the server shutting down. False when the database answered with an
 * error on a sound connection (a lost lock race that outlived its retries, a constraint, a
 * bad value) or for anything else: that statement failed, the database is there. A
 * wrapped error (a RunletError's `cause`) is judged by what it wraps.
 */
export function storeUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    // Connecting to a name with IPv4 and IPv6 addresses fails with one error per address.
    if (e instanceof AggregateError && e.errors.length > 0) return e.errors.some(storeUnreachable);
    const { code, syscall, message } = e as { code?: unknown; syscall?: unknown; message?: unknown };
    // A Node system error (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND...) is the socket's.
    if (typeof syscall === "string" && typeof code === "string") return true;
    if (typeof code === "string" && UNREACHABLE_STATES.test(code)) return true;
    if (typeof message === "string" && UNREACHABLE_MESSAGES.test(message)) return true;
  }
  return false;
}

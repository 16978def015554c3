/** A database or socket error in one line; an AggregateError (IPv4 and IPv6 both refused) lists its parts. Loads no driver. */
export function describeStoreError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map((e: Error) => e.message).join("; ");
  const e = err as { message?: string; code?: string };
  return e?.message || e?.code || String(err);
}

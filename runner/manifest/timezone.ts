const known = new Map<string, boolean>();

/** Whether `zone` is an IANA time-zone name this Node.js (ICU) knows. */
export function isValidTimeZone(zone: string): boolean {
  let ok = known.get(zone);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
      ok = zone.length > 0;
    } catch {
      // RangeError: Invalid time zone specified — the answer, not a failure.
      ok = false;
    }
    known.set(zone, ok);
  }
  return ok;
}

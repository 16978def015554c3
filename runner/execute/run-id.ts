import { randomBytes } from "node:crypto";

/**
 * Run ids in UUID form: 8 hex digits drawn for each run (the short id `history` shows),
 * 74 random bits drawn once per process (again if the counter ever runs out), and a
 * 48-bit counter. Unique through the prefix and the counter, as unlikely to collide
 * across replicas as random UUIDs, at a fraction of the cost: `crypto.randomUUID()` takes
 * ~590 bytes and ~0.2 µs a call here, paid by every run of a thousand-job fire.
 */
let middle = "";
let counter = 0;
const COUNTER_MAX = 2 ** 48 - 1;

export function newRunId(): string {
  if (middle === "" || counter === COUNTER_MAX) {
    middle = randomMiddle();
    counter = 0;
  }
  counter++;
  // Math.random is enough here: the head only spreads short ids, uniqueness does not rest on it.
  const head = Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, "0");
  return head + middle + counter.toString(16).padStart(12, "0");
}

/** `-xxxx-4xxx-yxxx-` with the version and variant bits of a v4 UUID. */
function randomMiddle(): string {
  const hex = randomBytes(6).toString("hex");
  const variant = ((parseInt(hex[4]!, 16) & 0x3) | 0x8).toString(16);
  return `-${hex.slice(0, 4)}-4${hex.slice(5, 8)}-${variant}${hex.slice(8, 11)}-`;
}

/**
 * Notices a handler that changed the worker's shared globals (`Date.now = () => 0`,
 * `Array.prototype.x = ...`, `globalThis.fetch = mock`), so that a run of another job is
 * never handed a worker whose globals differ from a fresh one's.
 *
 * What is compared: the prototype and every own property (key, value, getter, setter) of
 * globalThis and of the built-ins below and their prototypes, as they were when the worker
 * started. Comparing ~800 properties costs the worker tens of µs (see
 * test/bench/pool-dispatch.mjs, "jobs alternate"), so the pool worker does it only when a
 * run of another job than the last comes (see pool-worker.ts).
 *
 * Not compared (documented in docs/failures.md): state inside modules (a cached client,
 * `http.globalAgent`'s options), `process` and `console` (Node itself changes their own
 * properties as they are used), and properties of objects not listed here.
 */

const BUILT_INS: Array<[string, object]> = Object.entries({
  Object,
  Function,
  Array,
  String,
  Number,
  Boolean,
  Symbol,
  BigInt,
  Date,
  RegExp,
  Error,
  Promise,
  Map,
  Set,
  WeakMap,
  WeakSet,
  JSON,
  Math,
  Reflect,
  ArrayBuffer,
  Uint8Array,
  TypedArray: Object.getPrototypeOf(Uint8Array) as object,
  Buffer,
  URL,
  Intl,
});

interface Watched {
  name: string;
  target: object;
  proto: object | null;
  keys: Array<string | symbol>;
  /** Per key: [value, get, set], flattened. */
  slots: unknown[];
}

export class GlobalWatch {
  private readonly watched: Watched[] = [];

  /** Takes the reference picture: call once, after the worker's own setup. */
  constructor() {
    this.watch("globalThis", globalThis);
    for (const [name, target] of BUILT_INS) {
      this.watch(name, target);
      const proto = (target as { prototype?: unknown }).prototype;
      if (typeof target === "function" && typeof proto === "object" && proto !== null) this.watch(`${name}.prototype`, proto);
    }
  }

  /** The first property found changed since the worker started (e.g. "Date.now"), or null. */
  changed(): string | null {
    for (const w of this.watched) {
      if (Object.getPrototypeOf(w.target) !== w.proto) return `${w.name} (its prototype)`;
      const keys = Reflect.ownKeys(w.target);
      if (keys.length !== w.keys.length) return `${w.name} (a property was added or removed)`;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (key !== w.keys[i]) return `${w.name} (a property was added or removed)`;
        const at = i * 3;
        // A plain value is read as such: a descriptor object per property cost ~0.3 µs each,
        // most of the check. (A value replaced by a getter that returns the same value reads as unchanged.)
        if (w.slots[at + 1] === undefined && w.slots[at + 2] === undefined && same(readOwn(w.target, key), w.slots[at])) continue;
        const d = Object.getOwnPropertyDescriptor(w.target, key)!;
        if (same(d.value, w.slots[at]) && d.get === w.slots[at + 1] && d.set === w.slots[at + 2]) continue;
        if (this.materialized(w, at, d)) continue;
        return `${w.name}.${String(key)}`;
      }
    }
    return null;
  }

  private watch(name: string, target: object): void {
    const keys = Reflect.ownKeys(target);
    const slots: unknown[] = [];
    for (const key of keys) {
      const d = Object.getOwnPropertyDescriptor(target, key)!;
      slots.push(d.value, d.get, d.set);
    }
    this.watched.push({ name, target, proto: Object.getPrototypeOf(target) as object | null, keys, slots });
  }

  /**
   * Node defines many globals (`AbortController`, `Blob`, `atob`...) as getters that replace
   * themselves with a plain value when first read. Such a value is the built-in if the
   * original getter still returns it; the picture is updated to it.
   */
  private materialized(w: Watched, at: number, now: PropertyDescriptor): boolean {
    const getter = w.slots[at + 1] as (() => unknown) | undefined;
    if (!getter || !("value" in now)) return false;
    let builtIn: unknown;
    try {
      builtIn = getter.call(w.target);
    } catch {
      return false;
    }
    if (!same(builtIn, now.value)) return false;
    w.slots[at] = now.value;
    w.slots[at + 1] = undefined;
    w.slots[at + 2] = undefined;
    return true;
  }
}

function readOwn(target: object, key: string | symbol): unknown {
  try {
    return (target as Record<string | symbol, unknown>)[key];
  } catch {
    return READ_FAILED;
  }
}

const READ_FAILED = Symbol("read failed");

function same(a: unknown, b: unknown): boolean {
  return Object.is(a, b);
}

import type { JobDefinition } from "../contracts/index.js";
import { RunletError } from "../errors.js";
import type schedule from "node-schedule";
import type { ClassicTarget } from "./classic-executor.js";
import type { RunnerLink } from "./classic-options.js";
import { definitionOf } from "./definition.js";
import { FACTORY_PARTS, type FactoryParts } from "./factory-parts.js";
import type { JobSpec } from "./spec-source.js";

/** Anything with factory parts: a JobFactory (typed structurally to keep the import one way). */
export interface ClassicFactory {
  [FACTORY_PARTS](): FactoryParts;
}

/** One class job known to a runtime. */
export interface Entry {
  factory: ClassicFactory;
  parts: FactoryParts;
  /** As hosted by the core: `enabled` while it is scheduled. */
  def: JobDefinition;
  target: ClassicTarget | null;
  /** The handle of the last `create()`. */
  handle: schedule.Job | null;
}

/** The class jobs of one runtime by name, and the rules their names follow. */
export class ClassEntries {
  private readonly entries = new Map<string, Entry>();
  private lastId = 0;

  constructor(private readonly runner: RunnerLink | null) {}

  get(name: string): Entry | undefined {
    return this.entries.get(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  all(): IterableIterator<Entry> {
    return this.entries.values();
  }

  definitions(): JobDefinition[] {
    return [...this.entries.values()].map((e) => e.def);
  }

  /** A name of its own per create(), as node-schedule names its jobs. */
  nextId(): number {
    return ++this.lastId;
  }

  definitionOf(entry: Entry, spec: JobSpec | null): JobDefinition {
    return definitionOf(entry.parts, spec);
  }

  /** The factory's entry, made on first use. Throws BAD_INPUT when its name is taken. */
  register(factory: ClassicFactory): Entry {
    const parts = factory[FACTORY_PARTS]();
    const existing = this.entries.get(parts.name);
    if (existing?.factory === factory) {
      existing.parts = parts;
      return existing;
    }
    if (existing?.def.enabled) {
      throw new RunletError("BAD_INPUT", `two class jobs are named "${parts.name}" (${existing.parts.className} and ${parts.className}); give one another name: super({ name: "..." })`);
    }
    const runner = this.runner;
    if (runner?.core.active.has(parts.name)) {
      throw new RunletError("BAD_INPUT", `${parts.className}: "${parts.name}" is already a job of ${runner.manifestPath}; give the class job another name: super({ name: "..." })`);
    }
    const entry: Entry = { factory, parts, def: { ...definitionOf(parts, null), enabled: false }, target: null, handle: null };
    this.entries.set(parts.name, entry);
    return entry;
  }
}

import type { JobDefinition, Manifest } from "../contracts/index.js";
import type { ErrorCode, Problem } from "../errors.js";

/** What the main thread asks the manifest thread: read this file for this environment. */
export interface ManifestRequest {
  id: number;
  kind: "read";
  file: string;
  env: string;
  /** Also list the handler files the manifest names (the watcher wants them). */
  handlerPaths: boolean;
}

/**
 * A manifest's jobs (or its problems) come first, a batch a message, the next only when
 * the main thread asks for it (NextBatch): a message is copied in one go, and Node hands
 * over every message already queued in one callback, so 10,000 jobs sent at once held the
 * main thread ~0.5 s, and 10,000 problems in one message ~0.1 s.
 */
export type Batch = { id: number } & ({ kind: "jobs"; items: JobDefinition[] } | { kind: "problems"; items: Problem[] });

export const ITEMS_PER_BATCH = 250;

/** The main thread took a batch: send what comes next. */
export interface NextBatch {
  id: number;
  kind: "next";
}

/**
 * Then the answer: the manifest or its problems (both left empty: they came in batches),
 * or an error that is neither; and the handler files when asked.
 */
export type ManifestReply = { id: number; handlerPaths: string[] | null } & (
  | { kind: "manifest"; manifest: Manifest }
  | { kind: "problems"; problems: Problem[] }
  | { kind: "error"; code: ErrorCode; message: string }
);

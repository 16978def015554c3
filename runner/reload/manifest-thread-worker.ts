/**
 * Worker-thread side of manifest-thread.ts: reads, parses and checks a manifest (and lists
 * the handler files it names, for the watcher) where a 10,000-job manifest's seconds of
 * parsing cannot hold up the runner's timers.
 */
import { parentPort } from "node:worker_threads";
import { ManifestError, RunletError } from "../errors.js";
import { loadManifest } from "../manifest/index.js";
import { handlerPathsIn } from "../watch/wanted-files.js";
import { ITEMS_PER_BATCH, type Batch, type ManifestReply, type ManifestRequest, type NextBatch } from "./manifest-thread-protocol.js";

const port = parentPort!;
/** What is left to send of each answer, in order. */
const unsent = new Map<number, Array<Batch | ManifestReply>>();

port.on("message", (message: ManifestRequest | NextBatch) => {
  if (message.kind === "read") unsent.set(message.id, read(message));
  const queue = unsent.get(message.id);
  const next = queue?.shift();
  if (!next) return;
  if (queue!.length === 0) unsent.delete(message.id);
  port.postMessage(next);
});

function read(request: ManifestRequest): Array<Batch | ManifestReply> {
  const reply = readManifest(request);
  if (reply.kind === "manifest") {
    const batches = inBatches(request.id, "jobs", reply.manifest.jobs);
    return [...batches, { ...reply, manifest: { ...reply.manifest, jobs: [] } }];
  }
  if (reply.kind === "problems") return [...inBatches(request.id, "problems", reply.problems), { ...reply, problems: [] }];
  return [reply];
}

function inBatches<K extends Batch["kind"]>(id: number, kind: K, items: ReadonlyArray<unknown>): Batch[] {
  const batches: Batch[] = [];
  for (let start = 0; start < items.length; start += ITEMS_PER_BATCH) batches.push({ id, kind, items: items.slice(start, start + ITEMS_PER_BATCH) } as Batch);
  return batches;
}

function readManifest({ id, file, env, handlerPaths }: ManifestRequest): ManifestReply {
  const paths = () => (handlerPaths ? handlerPathsIn(file) : null);
  try {
    const manifest = loadManifest(file, { env });
    return { id, kind: "manifest", manifest, handlerPaths: paths() };
  } catch (err) {
    if (err instanceof ManifestError) return { id, kind: "problems", problems: err.problems, handlerPaths: paths() };
    const code = err instanceof RunletError ? err.code : "BAD_INPUT";
    return { id, kind: "error", code, message: err instanceof Error ? err.message : String(err), handlerPaths: paths() };
  }
}


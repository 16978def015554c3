import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SHARE_ENV, Worker } from "node:worker_threads";
import type { Manifest } from "../contracts/index.js";
import { ManifestError, RunletError } from "../errors.js";
import { loadManifest } from "../manifest/index.js";
import { handlerPathsIn } from "../watch/wanted-files.js";
import type { JobDefinition } from "../contracts/index.js";
import type { Problem } from "../errors.js";
import type { Batch, ManifestReply, ManifestRequest, NextBatch } from "./manifest-thread-protocol.js";

/**
 * Manifests from this size up are read on a worker thread. Parsing and checking take
 * ~0.3 ms a job here: a 10,000-job manifest (~650 KB) held the event loop for seconds, so
 * fires due meanwhile started late (and were skipped as late). Below it (~250 jobs) a read
 * takes a few milliseconds and a thread's start-up would cost more than it saves.
 */
export const OFF_THREAD_BYTES = 32 * 1024;

interface Waiter {
  jobs: JobDefinition[];
  problems: Problem[];
  resolve: (reply: ManifestReply) => void;
  reject: (err: Error) => void;
}

/** A manifest read: the manifest, or the error that refused it; the handler files it names when asked. */
export interface ManifestRead {
  manifest: Manifest | null;
  error: RunletError | null;
  handlerPaths: string[] | null;
}

/**
 * Reads manifests for reloads without blocking the event loop: large ones on one worker
 * thread kept between reloads (its parsers and compiled schema stay warm), small ones here.
 * The thread shares the process's environment, so `${env:...}` reads what the runner sees.
 */
export class ManifestThread {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;

  constructor(private readonly entry: URL = manifestWorkerEntry()) {}

  async read(file: string, options: { env: string; handlerPaths: boolean }): Promise<ManifestRead> {
    if (sizeOf(file) < OFF_THREAD_BYTES || !existsSync(fileURLToPath(this.entry))) return readHere(file, options);
    const reply = await this.ask({ id: this.nextId++, kind: "read", file, env: options.env, handlerPaths: options.handlerPaths });
    const error =
      reply.kind === "problems" ? new ManifestError(reply.problems) : reply.kind === "error" ? new RunletError(reply.code, reply.message) : null;
    return { manifest: reply.kind === "manifest" ? reply.manifest : null, error, handlerPaths: reply.handlerPaths };
  }

  /** Ends the thread (reads waiting on it fail). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private ask(request: ManifestRequest): Promise<ManifestReply> {
    const worker = (this.worker ??= this.spawn());
    return new Promise((resolve, reject) => {
      const jobs: JobDefinition[] = [];
      const problems: Problem[] = [];
      this.waiting.set(request.id, {
        jobs,
        problems,
        resolve: (reply) => {
          if (reply.kind === "manifest") resolve({ ...reply, manifest: { ...reply.manifest, jobs } });
          else if (reply.kind === "problems") resolve({ ...reply, problems });
          else resolve(reply);
        },
        reject,
      });
      worker.postMessage(request);
    });
  }

  private spawn(): Worker {
    const worker = new Worker(this.entry, { env: SHARE_ENV });
    // Idle between reloads: it must not keep the process alive.
    worker.unref();
    worker.on("message", (message: Batch | ManifestReply) => {
      const waiter = this.waiting.get(message.id);
      if ("items" in message) {
        if (message.kind === "jobs") for (const job of message.items) waiter?.jobs.push(job);
        else for (const problem of message.items) waiter?.problems.push(problem);
        worker.postMessage({ id: message.id, kind: "next" } satisfies NextBatch);
        return;
      }
      this.waiting.delete(message.id);
      waiter?.resolve(message);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const { reject } of this.waiting.values()) reject(new RunletError("BAD_INPUT", `the manifest could not be read: ${err.message}`, { cause: err }));
      this.waiting.clear();
    };
    // A thread that dies (out of memory on a huge manifest) fails the read; the next read starts a new one.
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the manifest thread exited with code ${code}`)));
    return worker;
  }
}

function readHere(file: string, options: { env: string; handlerPaths: boolean }): ManifestRead {
  const handlerPaths = options.handlerPaths ? handlerPathsIn(file) : null;
  try {
    return { manifest: loadManifest(file, { env: options.env }), error: null, handlerPaths };
  } catch (err) {
    return { manifest: null, error: err instanceof RunletError ? err : new RunletError("BAD_INPUT", String(err), { cause: err }), handlerPaths };
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // unreadable: read here, where loadManifest reports it as a problem
  }
}

/**
 * The built worker entry. Worker threads run JavaScript only: from source (vitest) it is
 * the one in dist/; from dist/ it sits beside this file.
 */
function manifestWorkerEntry(from: string = import.meta.url): URL {
  const fromSource = fileURLToPath(from).endsWith(".ts");
  return new URL(fromSource ? "../../dist/runner/reload/manifest-thread-worker.js" : "./manifest-thread-worker.js", from);
}

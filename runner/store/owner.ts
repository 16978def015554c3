import { hostname } from "node:os";
import type { RunError } from "../contracts/index.js";
import type { RunOwner } from "./run-store.js";

/** This process as the owner of the runs it starts. */
export function currentOwner(): RunOwner {
  return { pid: process.pid, host: hostname() };
}

/**
 * The default `isGone` for `reapLost`: an owner on this host whose pid no longer exists.
 * An owner on another host is never judged gone from here (only that host can tell).
 * Limits: a pid reused by an unrelated process reads as alive; and a runner that is pid 1
 * in a container restarted with the same hostname looks like this process, so its
 * leftovers are only reaped if the caller treats its own pid as gone at start-up
 * (`{ selfIsGone: true }`, right before this process starts any run).
 */
export function ownerIsGone(owner: RunOwner, options: { selfIsGone?: boolean } = {}): boolean {
  if (owner.host !== hostname()) return false;
  if (owner.pid === process.pid) return options.selfIsGone ?? false;
  try {
    // Signal 0 checks existence without touching the process.
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The error a `lost` run is stored with. */
export function lostError(owner: RunOwner): RunError {
  return { message: `the runner that started this run (pid ${owner.pid} on ${owner.host}) is gone; the run's outcome is unknown` };
}

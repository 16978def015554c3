import { hostname } from "node:os";
import type { RunOwner } from "../store/run-store.js";

/** This process, as the owner of the runs it records as `running`. */
export const thisProcess: RunOwner = { pid: process.pid, host: hostname() };

/**
 * Whether the process that owned a `running` record is gone. Only a process on this host
 * can be checked (signal 0); one on another host is never declared gone from here. Called
 * at start-up, before this process has started any run: a record with this very pid is
 * from an earlier process that had the same pid (pid 1 in a restarted container).
 */
export function isOwnerGone(owner: RunOwner): boolean {
  if (owner.host !== thisProcess.host) return false;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    // ESRCH: no such process. EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

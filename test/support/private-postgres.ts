import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A PostgreSQL server of a test's own: `initdb` in a temporary folder, a free port on
 * 127.0.0.1, trust auth for user `postgres`. Tests that need an outage cut *this* server
 * (`cut()` stops it: connections are refused) and bring it back (`restore()`, same port
 * and data); the machine's own server is never touched. `stop()` removes everything.
 *
 * initdb refuses to run as root: as root, the server runs as the `postgres` user (the
 * PostgreSQL packages create it) and its folder is handed to that user.
 */
export interface PrivatePostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  url: string;
  /** Stops the server at once (`immediate`): every connection drops, new ones are refused. */
  cut(): void;
  /** Starts it again on the same port and data; returns once it accepts connections. */
  restore(): void;
  readonly up: boolean;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The folder of `initdb`, `pg_ctl` and `postgres`: $RUNLET_PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
export function postgresBinaries(): string | null {
  if (process.env.RUNLET_PG_BIN) return process.env.RUNLET_PG_BIN;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0]!, "bin") : null;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinaries();
  if (!bin) throw new Error("no PostgreSQL server binaries found (set RUNLET_PG_BIN to the folder holding initdb and pg_ctl)");
  const dir = mkdtempSync(join(tmpdir(), "runlet-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, tool), ...args]] as const : [join(bin, tool), args] as const;
    const result = spawnSync(command[0], [...command[1]], { encoding: "utf8", timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.stdout}${existsSync(join(dir, "log")) ? `\n${readFileSync(join(dir, "log"), "utf8").slice(-2000)}` : ""}`);
  };
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--no-instructions"]);
  const port = await freePort();
  // No fsync (the OS keeps what was written through a server crash; the data is thrown away anyway); a socket folder of its own, so nothing collides with the machine's.
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  let up = false;
  const start = () => {
    run("pg_ctl", ["-D", data, "-o", serverOptions, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
    up = true;
  };
  const halt = () => {
    if (!up) return;
    run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    up = false;
  };
  start();
  const server: PrivatePostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    cut: halt,
    restore: start,
    get up() {
      return up;
    },
    async stop() {
      try {
        halt();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    [Symbol.asyncDispose]: () => server.stop(),
  };
  return server;
}

/** A port nothing listens on now (the kernel's pick for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * A small project on disk, built from an inline file map, removed on dispose. It lives
 * under test/.tmp/ inside the repository so that compiled handlers resolve npm packages
 * (and `runlet` itself) the way they do in a user's project.
 */
export interface TempProject {
  dir: string;
  path(file: string): string;
  write(file: string, content: string): string;
  [Symbol.asyncDispose](): Promise<void>;
  [Symbol.dispose](): void;
}

export function tempProject(files: Record<string, string> = {}): TempProject {
  const base = join(repoRoot, "test", ".tmp");
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, "p-"));
  const project: TempProject = {
    dir,
    path: (file) => join(dir, file),
    write(file, content) {
      const target = join(dir, file);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
      return target;
    },
    async [Symbol.asyncDispose]() {
      rmSync(dir, { recursive: true, force: true });
    },
    [Symbol.dispose]() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const [file, content] of Object.entries(files)) project.write(file, content);
  return project;
}

export const okHandler = "export default async function () { return 1; }\n";

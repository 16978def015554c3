import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * runlet's own install folder. The code runs from `runner/` (tests, from source) or from
 * `dist/runner/` (the built package), so files shipped beside it (the schema, the built
 * worker entry) are found from the package root, not from a fixed relative path.
 */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "schemas", "jobs.schema.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`runlet: cannot find its package folder above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
})();

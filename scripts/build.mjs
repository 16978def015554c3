// Transpiles runner/ and workers/ to dist/ file by file (no bundling: the layout of
// dist/ mirrors the source, so relative imports and the worker entry keep working).
// Type checking is `npm run typecheck`; esbuild only strips types.
import { build } from "esbuild";
import { readdirSync, rmSync, chmodSync } from "node:fs";
import { join } from "node:path";

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => join(e.parentPath, e.name));
}

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: [...tsFiles("runner"), ...tsFiles("workers")],
  outdir: "dist",
  outbase: ".",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
});
chmodSync("dist/runner/cli/main.js", 0o755);

// Transpiles runner/ and workers/ to dist/ file by file (no bundling: the layout of
// dist/ mirrors the source, so relative imports and the worker entry keep working), then
// writes the .d.ts files a consumer's TypeScript reads (the package ships no .ts sources).
// Type checking is `npm run typecheck`; esbuild only strips types.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, chmodSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

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

// TypeScript is a dev dependency: a consumer installing from a git URL builds without it.
const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");
} catch {
  console.warn("build: typescript not installed, no .d.ts written");
}
if (tsc) execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });

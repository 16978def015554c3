import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseFlags } from "../args.js";
import { EXIT } from "../output.js";
import { RunletError } from "../../errors.js";
import { packageRoot } from "../../package-root.js";
import { writeProject } from "../init/write-project.js";

export const initFlags = {
  help: { type: "boolean", description: "show this help", short: "h" },
} as const;

/** `runlet init [DIR]`: a working project (manifest, a hello job, tsconfig, scripts); never overwrites a file. */
export async function initCommand(argv: string[]): Promise<number> {
  const { positionals } = parseFlags(argv, initFlags);
  if (positionals.length > 1) throw new RunletError("BAD_INPUT", `init takes one folder (got ${positionals.length}: ${positionals.join(" ")}); see \`runlet init --help\``);
  const dir = resolve(positionals[0] ?? ".");
  const own = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string; devDependencies?: Record<string, string> };
  const steps = writeProject({ dir, runletRange: `^${own.version}`, typescriptRange: `^${(own.devDependencies?.typescript ?? "5.9.0").replace(/^\^|~/, "")}` });
  for (const step of steps) process.stdout.write(`  ${step.action.padEnd(8)} ${step.file}${step.note ? ` (${step.note})` : ""}\n`);
  const cd = relative(process.cwd(), dir);
  process.stdout.write(`\nNext:\n${cd ? `  cd ${cd}\n` : ""}  npm install\n  npm run dev        # runs jobs/hello.ts every 10 s, reloads on edits\n  npx runlet invoke hello\n`);
  return EXIT.ok;
}

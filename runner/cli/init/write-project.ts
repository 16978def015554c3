import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { RunletError } from "../../errors.js";
import { GITIGNORE_LINES, HELLO_TS, JOBS_YAML, SCRIPTS, TSCONFIG } from "./templates.js";

/** What `runlet init` did to one file. */
export interface InitStep {
  file: string;
  action: "created" | "updated" | "kept";
  /** Why a file was kept or what was added to it. */
  note?: string;
}

export interface InitOptions {
  dir: string;
  /** The version range of runlet written into a new package.json. */
  runletRange: string;
  /** The version range of TypeScript written into a new package.json. */
  typescriptRange: string;
}

/**
 * Writes a working project into `dir`. Never overwrites a file: an existing one is kept,
 * except that package.json gains the missing scripts and .gitignore the missing lines.
 */
export function writeProject(options: InitOptions): InitStep[] {
  const { dir } = options;
  mkdirSync(dir, { recursive: true });
  const steps: InitStep[] = [];
  const create = (file: string, content: string) => {
    const path = join(dir, file);
    if (existsSync(path)) return steps.push({ file, action: "kept", note: "exists" });
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { flag: "wx" });
    steps.push({ file, action: "created" });
  };
  steps.push(packageJson(dir, options));
  create("jobs.yaml", JOBS_YAML);
  create("jobs/hello.ts", HELLO_TS);
  create("tsconfig.json", TSCONFIG);
  steps.push(gitignore(dir));
  return steps;
}

function packageJson(dir: string, options: InitOptions): InitStep {
  const path = join(dir, "package.json");
  if (!existsSync(path)) {
    const name = relative(dirname(dir), dir).toLowerCase().replace(/[^a-z0-9-_.]+/g, "-").replace(/^[-_.]+/, "") || "jobs";
    const pkg = {
      name,
      version: "0.1.0",
      private: true,
      type: "module",
      scripts: { ...SCRIPTS },
      dependencies: { runlet: options.runletRange },
      devDependencies: { typescript: options.typescriptRange },
    };
    writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`, { flag: "wx" });
    return { file: "package.json", action: "created" };
  }
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new RunletError("BAD_INPUT", `${path}: not valid JSON (${(err as Error).message}); fix it and run \`runlet init\` again`, { cause: err });
  }
  const scripts = { ...(pkg.scripts as Record<string, string> | undefined) };
  const added = Object.entries(SCRIPTS).filter(([name]) => scripts[name] === undefined);
  const notes: string[] = [];
  if (added.length > 0) notes.push(`added scripts ${added.map(([name]) => name).join(", ")}`);
  if (pkg.type !== "module") notes.push(`not an ES module package: add "type": "module" to use top-level await in your own files`);
  if (added.length === 0) return { file: "package.json", action: "kept", note: notes.join("; ") || "has the scripts" };
  for (const [name, command] of added) scripts[name] = command;
  const indent = /^[ \t]+/m.exec(readFileSync(path, "utf8"))?.[0] ?? "  ";
  writeFileSync(path, `${JSON.stringify({ ...pkg, scripts }, null, indent)}\n`);
  return { file: "package.json", action: "updated", note: notes.join("; ") };
}

function gitignore(dir: string): InitStep {
  const path = join(dir, ".gitignore");
  if (!existsSync(path)) {
    writeFileSync(path, `${GITIGNORE_LINES.join("\n")}\n`, { flag: "wx" });
    return { file: ".gitignore", action: "created" };
  }
  const text = readFileSync(path, "utf8");
  const present = new Set(text.split(/\r?\n/).map((l) => l.trim().replace(/^\//, "")));
  const missing = GITIGNORE_LINES.filter((l) => !present.has(l) && !present.has(l.replace(/\/$/, "")));
  if (missing.length === 0) return { file: ".gitignore", action: "kept", note: "ignores .runlet/" };
  appendFileSync(path, `${text.endsWith("\n") || text === "" ? "" : "\n"}${missing.join("\n")}\n`);
  return { file: ".gitignore", action: "updated", note: `added ${missing.join(", ")}` };
}

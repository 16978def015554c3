/**
 * The files `runlet init` writes: the smallest project that validates, runs and
 * type-checks (strict, `nodenext`) as soon as `npm install` has run.
 */

export const JOBS_YAML = `# yaml-language-server: $schema=./node_modules/runlet/schemas/jobs.schema.json
# Every field is described in node_modules/runlet/docs/manifest.md
version: 1

defaults:
  timeout: 1m

jobs:
  hello:
    description: Says hello every 10 seconds
    handler: jobs/hello.ts
    schedule: { every: 10s }
    params: { name: world }
`;

export const HELLO_TS = `import { defineJob } from "runlet/job";

/** A job's handler: runlet calls the default export on each fire (or \`runlet invoke hello\`). */
export default defineJob<{ name: string }>(async (ctx) => {
  ctx.log.info({ name: ctx.params.name, attempt: ctx.attempt }, "hello");
  return { greeted: ctx.params.name, at: ctx.fireDate.toISOString() };
});
`;

export const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "nodenext",
      moduleResolution: "nodenext",
      lib: ["ES2023"],
      types: ["node"],
      strict: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ["jobs"],
  },
  null,
  2,
)}\n`;

/** Lines `.gitignore` must hold: run history and handler builds live in `.runlet/`. */
export const GITIGNORE_LINES = ["node_modules/", ".runlet/"];

/** The scripts `runlet init` adds to package.json (an existing script of the same name is kept). */
export const SCRIPTS = {
  start: "runlet start",
  dev: "runlet dev",
  validate: "runlet validate",
} as const;

import { COMMON_FLAGS, parseFlags } from "../args.js";
import { loadProject } from "../project.js";
import { EXIT } from "../output.js";

export const validateFlags = { ...COMMON_FLAGS } as const;

/** `runlet validate`: the manifest and every handler (compiled), all problems at once. */
export async function validateCommand(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, validateFlags);
  const project = await loadProject({ manifest: flags.manifest, env: flags.env, compile: true });
  process.stderr.write(`${project.manifest.file}: ${project.manifest.jobs.length} job${project.manifest.jobs.length === 1 ? "" : "s"}, all valid.\n`);
  return EXIT.ok;
}

/** The environment `enabled` is read for: `--env`, else RUNLET_ENV, else NODE_ENV, else development. */
export function resolveEnvironment(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.RUNLET_ENV || env.NODE_ENV || "development";
}

/** The environment names an `enabled` value mentions (a list's items, a map's keys but "*"). */
export function environmentsNamed(enabled: unknown): string[] {
  if (Array.isArray(enabled)) return enabled.filter((e): e is string => typeof e === "string");
  if (enabled !== null && typeof enabled === "object") return Object.keys(enabled).filter((k) => k !== "*");
  return [];
}

/**
 * Whether a job is enabled in `environment`. `enabled` has been validated: a boolean, a
 * list of environment names, or a map { <env>: bool, "*": bool } ("*" covers the rest).
 */
export function isEnabledIn(enabled: unknown, environment: string): boolean {
  if (enabled === undefined || enabled === true) return true;
  if (enabled === false) return false;
  if (Array.isArray(enabled)) return enabled.includes(environment);
  const map = enabled as Record<string, boolean>;
  if (Object.hasOwn(map, environment)) return map[environment] === true;
  return Object.hasOwn(map, "*") ? map["*"] === true : false;
}

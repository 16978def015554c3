// Writes docs/manifest.md, the manifest reference, from schemas/jobs.schema.json: the
// schema is the one source of the manifest's shape, so the reference cannot drift from
// it. `npm run docs` rewrites the page; `node scripts/manifest-docs.mjs --check` (run by
// the test suite) fails when the page is not what the schema gives.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SCHEMA_FILE = join(root, "schemas", "jobs.schema.json");
export const PAGE_FILE = join(root, "docs", "manifest.md");

/** The reference page for a schema, as Markdown. */
export function manifestReference(schema) {
  const defs = schema.$defs ?? {};
  const deref = (node) => {
    let out = node;
    const seen = new Set();
    while (out?.$ref && !seen.has(out.$ref)) {
      seen.add(out.$ref);
      const target = defs[out.$ref.replace("#/$defs/", "")] ?? {};
      out = { ...target, ...out, $ref: target.$ref, description: out.description ?? target.description };
    }
    return out ?? {};
  };
  /** Defs documented once under "Value types" and linked from the tables. */
  const valueTypes = new Set(["duration", "cron", "ruleValue", "ruleRange"].filter((name) => defs[name]));
  /** The first value type a chain of $refs reaches (timeout → duration), if any. */
  const valueTypeOf = (node) => {
    for (let n = node, hops = 0; n?.$ref && hops < 10; hops++) {
      const name = n.$ref.replace("#/$defs/", "");
      if (valueTypes.has(name)) return name;
      n = defs[name];
    }
    return null;
  };
  const typeOf = (node) => {
    const ref = valueTypeOf(node);
    if (ref) return `[${ref}](#${ref.toLowerCase()})`;
    const n = deref(node);
    if (n.enum) return n.enum.map((v) => `\`${JSON.stringify(v).replace(/^"|"$/g, "")}\``).join(" \\| ");
    if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``;
    const variants = n.anyOf ?? n.oneOf;
    if (variants) return [...new Set(variants.map(typeOf))].join(" \\| ");
    if (n.type === "array") return `list of ${typeOf(n.items ?? {})}`;
    if (n.type === "object") return n.properties ? `{ ${Object.keys(n.properties).join(", ")} }` : "map";
    if (n.type === "integer") return n.minimum === undefined ? "integer" : `integer ≥ ${n.minimum}`;
    if (n.type === "number") return n.minimum === undefined ? "number" : `number ≥ ${n.minimum}`;
    if (n.type === "string" && n.format === "date-time") return "ISO 8601 date-time";
    return n.type ?? "any";
  };
  const cell = (text) => (text ?? "").replace(/\|/g, "\\|").replace(/\n+/g, " ");
  const table = (properties, required = []) => [
    "| field | type | meaning |",
    "|---|---|---|",
    ...Object.entries(properties).map(([name, node]) => `| \`${name}\`${required.includes(name) ? " (required)" : ""} | ${typeOf(node)} | ${cell(deref(node).description)} |`),
  ];
  /** Object shapes inside a field (schedule's forms, retries' map): one table each. */
  const shapes = (name, node) => {
    const n = deref(node);
    const forms = (n.anyOf ?? n.oneOf ?? [n]).map(deref).filter((f) => f.type === "object" && f.properties);
    return forms.flatMap((form, i) => [
      "",
      `**\`${name}\`${forms.length > 1 ? `, form ${i + 1}` : ""}**${form.description ? `: ${form.description}` : ""}`,
      "",
      ...table(form.properties, form.required),
    ]);
  };

  const job = deref(defs.job);
  const top = schema.properties ?? {};
  const lines = [
    "# Manifest reference (`jobs.yaml`)",
    "",
    "<!-- Generated from schemas/jobs.schema.json by `npm run docs` (scripts/manifest-docs.mjs). Do not edit by hand: edit the schema and run `npm run docs`. -->",
    "",
    `${schema.description ?? ""} Editors that read JSON Schema complete and check the file when it starts with:`,
    "",
    "```yaml",
    "# yaml-language-server: $schema=./node_modules/runlet/schemas/jobs.schema.json",
    "```",
    "",
    "What a handler receives is in [handlers](handlers.md); how fields behave at run time in [operations](operations.md).",
    "",
    "## Top level",
    "",
    ...table(top, schema.required).map((row) => (row.startsWith("| `defaults`") ? row.replace(/\| \{[^}]*\} \|/, "| job fields but handler, schedule |") : row)),
    "",
    "## Job fields",
    "",
    `${job.description ?? ""} Every field but \`handler\` and \`schedule\` can also be set under \`defaults\`${top.defaults ? "" : " (when the manifest has defaults)"}; a job's own value replaces the default whole (maps are not merged).`,
    "",
    ...table(job.properties ?? {}, job.required),
  ];
  const detailed = Object.entries(job.properties ?? {}).filter(([name, node]) => shapes(name, node).length > 0);
  const topDetailed = Object.entries(top).filter(([name, node]) => name !== "defaults" && name !== "jobs" && shapes(name, node).length > 0);
  if (detailed.length + topDetailed.length > 0) {
    lines.push("", "## Shapes of structured fields");
    for (const [name, node] of [...topDetailed, ...detailed]) lines.push(...shapes(name, node));
  }
  if (valueTypes.size > 0) {
    lines.push("", "## Value types");
    for (const name of valueTypes) {
      const n = defs[name];
      lines.push("", `### ${name}`, "", cell(n.description));
      if (n.type === "object" && n.properties) lines.push("", ...table(n.properties, n.required));
    }
  }
  return `${lines.join("\n")}\n`;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const page = manifestReference(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")));
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(PAGE_FILE, "utf8");
    } catch {}
    if (current !== page) {
      console.error("docs/manifest.md is out of date with schemas/jobs.schema.json: run `npm run docs` and commit the result.");
      process.exit(1);
    }
  } else {
    writeFileSync(PAGE_FILE, page);
    console.log(`wrote ${PAGE_FILE}`);
  }
}

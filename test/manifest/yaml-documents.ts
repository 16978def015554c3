/** Generated YAML documents, valid and broken, for comparing the two YAML readers. */

export type Random = () => number;

const pick = <T,>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const PLAIN = [
  "0b101", "0o17", "017", "0x1F", "-0", "1.", ".5", "1e3", "-.0", "+.5", ".inf", "-.Inf", ".NaN", "~", "null", "Null", "true", "False", "yes", "on",
  "2026-01-01", "12:30", "=", "<<", "a b", "x#y", "x #y", "http://x:80/y", "*/5 * * * *", "5m", "1.5s", "__proto__", "constructor", "a-b", "-a", "a:b",
  "%x", "@x", "`x", "?x", "? x", "- x", "|x", ">x", "a,b", "[x", "x]", "{x", "x}", "é ü 😀",
];
const KEYS = ["a", "b", "handler", "schedule", "1", "0x10", "1.0", "true", "null", "~", "__proto__", "'q k'", '"d\\tk"', "a b", "-x", "x-"];
const ESCAPES = ["\\n", "\\t", "\\x41", "\\u00e9", "\\U0001F600", "\\N", "\\_", "\\L", "\\P", "\\\\", '\\"', "\\/", "\\ ", "\\q", "\\u12"];

function scalar(random: Random, indent: string): string {
  switch (Math.floor(random() * 6)) {
    case 0:
      return `'${pick(random, PLAIN).replaceAll("'", "''")}${random() < 0.2 ? "\n" + indent + "  more" : ""}'`;
    case 1:
      return `"${pick(random, PLAIN)}${pick(random, ESCAPES)}${random() < 0.3 ? pick(random, ["\\\n", "\n", "\n\n", " \n \n"]) + indent + pick(random, ["  ", "\t", " \t "]) + "cont" : ""}"`;
    case 2: {
      const header = `${pick(random, ["|", ">"])}${pick(random, ["", "-", "+", "2", "1-"])}`;
      const lines = Array.from({ length: 1 + Math.floor(random() * 3) }, () => `${indent}  ${random() < 0.2 ? pick(random, [" ", "\t", "  "]) : ""}${pick(random, PLAIN)}${random() < 0.2 ? pick(random, ["  ", "\t"]) : ""}`);
      return `${header}\n${lines.join(random() < 0.3 ? "\n\n" : "\n")}${random() < 0.3 ? "\n" : ""}`;
    }
    case 3:
      return `${pick(random, PLAIN)}${pick(random, ["\n", "\n\n", "\n  \n"])}${indent}  ${pick(random, PLAIN)}`;
    case 4:
      return `${pick(random, PLAIN)}${pick(random, [" # note", "#x", "  #", "\t# tab"])}`;
    default:
      return pick(random, PLAIN);
  }
}

function flow(random: Random, depth: number): string {
  const item = (): string => (depth < 2 && random() < 0.3 ? flow(random, depth + 1) : random() < 0.3 ? `'${pick(random, PLAIN)}'` : pick(random, PLAIN));
  const count = Math.floor(random() * 4);
  const sep = random() < 0.2 ? ",\n  " : ", ";
  const pair = (): string => `${random() < 0.2 ? `"${pick(random, KEYS)}"` : pick(random, KEYS)}${pick(random, [": ", ": ", ":", " : ", ":\n  "])}${random() < 0.1 ? "" : item()}`;
  const comment = random() < 0.1 ? " # note\n" : "";
  if (random() < 0.5) return `[${comment}${Array.from({ length: count }, () => (random() < 0.15 ? pair() : random() < 0.05 ? "" : item())).join(sep)}${random() < 0.1 ? "," : ""}]`;
  return `{${comment}${Array.from({ length: count }, pair).join(sep)}${random() < 0.1 ? "," : ""}}`;
}

function block(random: Random, indent: string, depth: number): string {
  const lines: string[] = [];
  const seq = depth > 0 && random() < 0.3;
  const count = 1 + Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    const lead = seq ? `${indent}- ` : `${indent}${random() < 0.1 ? "? " : ""}${pick(random, KEYS)}${pick(random, [":", ":", ":", "  :", "\n" + indent + ":"])}`;
    const r = random();
    if (seq && r < 0.15) {
      // A compact map or a nested sequence as a list item.
      lines.push(random() < 0.5 ? `${lead}- ${pick(random, PLAIN)}\n${indent}  - ${flow(random, 0)}` : `${lead}${pick(random, KEYS)}: ${pick(random, PLAIN)}\n${indent}  ${pick(random, KEYS)}: ${flow(random, 0)}`);
      continue;
    }
    if (depth < 3 && r < 0.3) lines.push(`${lead}\n${block(random, seq ? indent + "  " : indent + pick(random, ["  ", "    ", " "]), depth + 1)}`);
    else if (r < 0.45) lines.push(`${lead} ${flow(random, 0)}`);
    else if (r < 0.5) lines.push(lead);
    else lines.push(`${lead} ${scalar(random, indent)}`);
    if (random() < 0.15) lines.push(`${indent}# a comment`);
    if (random() < 0.1) lines.push("");
  }
  return lines.join("\n");
}

export function document(random: Random): string {
  const head = random() < 0.2 ? pick(random, ["---\n", "# yaml-language-server: $schema=x\n", "\ufeff"]) : "";
  return `${head}${block(random, "", 0)}\n${random() < 0.1 ? "...\n" : ""}`;
}

const EDITS = [" ", "  ", "\t", "\n", ":", "-", "#", "'", '"', "[", "]", "{", "}", ",", "?", "&a ", "*a", "!", "%", "|", ">", "\\", "~", "\u0007"];

export function mutate(text: string, random: Random): string {
  const at = Math.floor(random() * (text.length + 1));
  const r = random();
  if (r < 0.3) return text.slice(0, at) + text.slice(at + 1);
  if (r < 0.4) return text.slice(0, at) + text.slice(at, at + 8) + text.slice(at);
  return text.slice(0, at) + pick(random, EDITS) + text.slice(at);
}

/**
 * Documents in the block style manifests are written in (maps by indentation, one-line
 * values, flow collections, lists of scalars, comments), so the line reader of
 * block-reader.ts, which declines most of what document() makes, is compared with `yaml`
 * on many texts it takes, and on the same with random edits.
 */
export function blockDocument(random: Random): string {
  const lines: string[] = random() < 0.1 ? ["---"] : [];
  const value = (): string => {
    const r = random();
    if (r < 0.15) return flow(random, 0);
    if (r < 0.25) return `'${pick(random, PLAIN).replaceAll("'", "''")}'`;
    if (r < 0.35) return `"${pick(random, PLAIN)}${random() < 0.5 ? pick(random, ESCAPES) : ""}"`;
    return `${pick(random, PLAIN)}${random() < 0.1 ? pick(random, [" # note", "  #x", "#x"]) : ""}`;
  };
  const map = (indent: string, depth: number): void => {
    const count = 1 + Math.floor(random() * 4);
    for (let i = 0; i < count; i++) {
      const key = random() < 0.7 ? pick(random, ["job-1", "handler", "schedule", "params", "n", "a.b", "x_y", "k/v", "$x"]) : pick(random, KEYS);
      const r = random();
      if (depth < 3 && r < 0.3) {
        lines.push(`${indent}${key}:${random() < 0.1 ? " # c" : ""}`);
        map(indent + pick(random, ["  ", "  ", "    ", " "]), depth + 1);
      } else if (r < 0.4) {
        lines.push(`${indent}${key}:`);
        const inner = indent + pick(random, ["  ", "  ", ""]);
        for (let j = 0; j < 1 + Math.floor(random() * 3); j++) lines.push(`${inner}- ${value()}`);
      } else if (r < 0.45) {
        lines.push(`${indent}${key}:`);
      } else {
        lines.push(`${indent}${key}:${pick(random, [" ", " ", "  "])}${value()}`);
      }
      if (random() < 0.1) lines.push(random() < 0.5 ? "" : `${indent}${pick(random, ["", "  "])}# a comment`);
    }
  };
  map("", 0);
  return `${lines.join("\n")}${random() < 0.9 ? "\n" : ""}`;
}

/**
 * A plain (unquoted) scalar typed as `yaml` types it by the YAML 1.2 core schema: the same
 * tests in the same order (null, bool, octal, decimal and hex integers, then floats), and
 * the same conversions (parseInt, parseFloat), so block-reader.ts gives the value the
 * `yaml` path gives. Most scalars start with a letter that no number or null can: those
 * are strings after one character test.
 */
export function plainScalar(text: string): unknown {
  const c = text.charCodeAt(0);
  const maybeWord = c === 126 /* ~ */ || c === 110 || c === 78 || c === 116 || c === 84 || c === 102 || c === 70; // n N t T f F
  const maybeNumber = (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46; // digit - + .
  if (!maybeWord && !maybeNumber) return text;
  // The words are `~`, null (4 letters), true (4) and false (5).
  const length = text.length;
  if (length <= 5 && length !== 2 && length !== 3) {
    if (NULL.test(text)) return null;
    if (BOOL.test(text)) return c === 116 || c === 84;
  }
  if (!maybeNumber) return text;
  if (OCT.test(text)) return parseInt(text.substring(2), 8);
  if (INT.test(text)) return parseInt(text, 10);
  if (HEX.test(text)) return parseInt(text.substring(2), 16);
  if (NAN.test(text)) return text.slice(-3).toLowerCase() === "nan" ? NaN : text[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (EXP.test(text) || FLOAT.test(text)) return parseFloat(text);
  return text;
}

const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** Whether a plain scalar may not start with this character code (a YAML indicator). */
export function isIndicator(c: number): boolean {
  return c < 128 && INDICATOR[c] === 1;
}

const INDICATOR = new Uint8Array(128);
for (const c of "-?:,[]{}#&*!|>'\"%@`") INDICATOR[c.charCodeAt(0)] = 1;

/** Letters, digits, `_ $ . - /`: what job names and field names are made of. */
export function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c === 46 || c === 45 || c === 47;
}

/**
 * A quoted scalar written on one line with escapes (`''` in single quotes, `\` in double
 * quotes), quotes included; null for what JSON and YAML do not read the same: YAML's own
 * escapes (`\x`, `\U`, `\N`, `\0`...) and lone surrogates are left to js-yaml.
 */
export function escapedScalar(quoted: string): string | null {
  if (quoted.charCodeAt(0) === 39) return quoted.slice(1, -1).replaceAll("''", "'");
  if (/\\u[dD][89a-fA-F]/.test(quoted)) return null;
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return null;
  }
}

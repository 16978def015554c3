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
  if (NULL.test(text)) return null;
  if (BOOL.test(text)) return c === 116 || c === 84;
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

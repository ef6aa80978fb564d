// One MQTT topic level as one WAMP URI component, reversibly. A URI component may not be empty nor
// hold '.', '#' or whitespace (WAMP spec, "URIs"); an MQTT topic level may be empty and hold any
// character but '/', '+', '#' and U+0000. So:
// - an empty level is the component `%` (a lone '%' is no percent-escape, so it means nothing else);
// - '.', '%' and whitespace (what JavaScript's \s matches, as the router's URI check) are written as
//   '%' and two uppercase hex digits per UTF-8 byte: `a b` ↔ `a%20b`, `v1.2` ↔ `v1%2E2`, `100%` ↔ `100%25`;
// - every other character stands for itself, so `sensors`, `Kitchen-1`, `ü` are the same both ways.
// Only what encodeLevel writes decodes: `%41`, `%2e`, `%2F` are not the encoding of any level, and a
// WAMP URI holding one has no MQTT topic (decodeLevel gives undefined).

/** The component an empty topic level becomes. */
export const EMPTY_LEVEL = '%';

/** Characters a URI component cannot hold, and '%' itself (the escape). */
const ESCAPED = /[.%\s]/g;
/** Whether a level needs any escaping (the same set, without the global flag's lastIndex state). */
const NEEDS_ESCAPE = /[.%\s]/;

const HEX = '0123456789ABCDEF';

function escape(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x80) return `%${HEX[code >> 4]}${HEX[code & 15]}`;
  let out = '';
  // Whitespace beyond ASCII (U+00A0, U+2028, U+3000, ...): one escape per UTF-8 byte, as in URLs.
  for (const byte of Buffer.from(char, 'utf8')) out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  return out;
}

/** A topic level (no '/', '+', '#' or U+0000 in it) as a URI component. */
export function encodeLevel(level: string): string {
  if (level === '') return EMPTY_LEVEL;
  return NEEDS_ESCAPE.test(level) ? level.replace(ESCAPED, escape) : level;
}

/** The topic level a URI component stands for; undefined when encodeLevel writes no such component. */
export function decodeLevel(component: string): string | undefined {
  if (component === EMPTY_LEVEL) return '';
  if (!component.includes('%')) return component;
  let level: string;
  try {
    level = decodeURIComponent(component);
  } catch {
    return undefined; // '%' not followed by two hex digits, or bytes that are not UTF-8
  }
  // Canonical only, so that a topic has one URI: `%41` ('A'), `%2e` (lowercase) and `%2F` ('/',
  // which no level holds) are not what encodeLevel writes.
  return encodeLevel(level) === component ? level : undefined;
}

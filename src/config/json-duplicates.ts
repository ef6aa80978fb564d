// Duplicate keys in JSON config text. JSON.parse keeps the last of two equal keys without a word,
// so a config with `"realms"` twice would silently lose the first; jsonc-parser's visitor (VS
// Code's JSON scanner) walks the text once and reports where each repeat is.

import type { visit as Visit } from 'jsonc-parser';
import { join, type ConfigIssue } from './check-values.js';

/**
 * One issue per repeated key: the path of the object, the key, and the line of the repeat.
 * `visit` is jsonc-parser's, passed in because the caller loads the library only while reading.
 */
export function duplicateKeys(text: string, visit: typeof Visit): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const open: Set<string>[] = [];
  visit(text, {
    onObjectBegin: () => {
      open.push(new Set());
    },
    onObjectEnd: () => {
      open.pop();
    },
    onObjectProperty: (key, _offset, _length, line, column, pathOf) => {
      const seen = open[open.length - 1];
      if (!seen) return;
      if (seen.has(key)) {
        const path = pathOf().reduce<string>((p, k) => join(p, k), '');
        issues.push({ path: join(path, key), message: `duplicate key ${JSON.stringify(key)} (line ${line + 1}, column ${column + 1}): JSON keeps only the last` });
      }
      seen.add(key);
    },
  }, { disallowComments: true });
  return issues;
}

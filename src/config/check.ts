// `junction check --config FILE`: validate a config file and say what is wrong, one line per
// problem as `path: message`, where path is the JSON path of the key at fault.

import { loadConfigFile } from './load.js';
import { ConfigError, formatIssue } from './check-values.js';

export interface CheckResult {
  /** False when the file cannot be used; `lines` then holds one line per error. */
  ok: boolean;
  /** On success: a summary line, then one `path: warning: message` line per warning. */
  lines: string[];
}

export async function checkConfigFile(path: string): Promise<CheckResult> {
  try {
    const config = await loadConfigFile(path);
    const { realms, listeners } = config.router;
    const warnings = config.warnings ?? [];
    const summary = `${path}: OK (${plural(realms.length, 'realm')}, ${plural(listeners.length, 'transport')}` +
      `${warnings.length > 0 ? `, ${plural(warnings.length, 'warning')}` : ''})`;
    return { ok: true, lines: [summary, ...warnings.map((w) => formatIssue({ path: w.path, message: `warning: ${w.message}` }))] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, lines: err.issues.map(formatIssue) };
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

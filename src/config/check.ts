// `junction check --config FILE`: validate, and say what is wrong with the path of each key at fault.

import { loadConfigFile } from './load.js';
import { ConfigError } from './check-values.js';

export async function checkConfigFile(path: string): Promise<{ ok: boolean; lines: string[] }> {
  try {
    const config = await loadConfigFile(path);
    const { realms, listeners } = config.router;
    return { ok: true, lines: [`${path}: OK (${realms.length} realm${realms.length === 1 ? '' : 's'}, ${listeners.length} transport${listeners.length === 1 ? '' : 's'})`] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, lines: err.issues.map((i) => `${path}: ${i.path || '(file)'}: ${i.message}`) };
  }
}

// A static path's `options.default_file` (Crossbar's meaning: the file of the directory served,
// with 200, for a name a directory of the path does not have, as a single-page application's
// client-side routes need; static-files.ts). It must lie inside the directory; one that does not
// exist (yet) is a warning, and those requests keep their 404 until it does.

import { existsSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { describeFileError, type Checker } from './check-values.js';

/** The absolute path of `value` inside `directory` (absolute); undefined when absent, empty or after an error. */
export function defaultFile(c: Checker, value: unknown, path: string, directory: string, url: string): string | undefined {
  // "" is Crossbar's "no default file" as well (it tests the value for truth).
  const name = c.string(value, path, { required: false, nonEmpty: false });
  if (!name) return undefined;
  const file = resolve(directory, name);
  if (!file.startsWith(directory + sep)) {
    c.error(path, `must name a file inside the directory ${directory}, got ${JSON.stringify(name)}`);
    return undefined;
  }
  // A directory that does not exist has its own warning (load-static.ts).
  if (!existsSync(directory)) return file;
  try {
    if (statSync(file).isFile()) return file;
    c.warn(path, `${file} is not a file: requests below ${url} that match no file answer 404`);
  } catch (err) {
    c.warn(path, `${file}: ${describeFileError(err)}: requests below ${url} that match no file answer 404 until it exists`);
  }
  return file;
}

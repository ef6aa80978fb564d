// A web path of `type: static`: files from a directory, with Crossbar's `options`
// (`enable_directory_listing`, `cache_timeout`, `mime_types`, `default_file`). A directory that
// does not exist is a warning, not an error: Crossbar starts and answers 404 there, and so does
// Junction.

import { statSync } from 'node:fs';
import type { StaticPathConfig } from './types.js';
import { describe, describeFileError, join, type Checker, type Obj } from './check-values.js';
import type { LoadContext } from './load-context.js';
import { defaultFile } from './load-default-file.js';

/** Longest `cache_timeout` accepted: one year, the most HTTP caches honour. */
const MAX_CACHE_TIMEOUT = 365 * 24 * 3600;

export function parseStaticPath(ctx: LoadContext, entry: Obj, path: string, url: string): StaticPathConfig | undefined {
  const { c } = ctx;
  if (entry['directory'] === undefined && (entry['package'] !== undefined || entry['resource'] !== undefined)) {
    // Files inside an installed Python package: nothing Junction can reach.
    c.object(entry, path, ['id', 'type', 'package', 'resource', 'options']);
    c.warn(join(path, 'package'), `a Python package's resources cannot be served by Junction: ${url} answers 404 (copy the files to a directory and give it as "directory")`);
    return undefined;
  }
  const s = c.object(entry, path, ['id', 'type', 'directory', 'options'])!;
  c.string(s['id'], join(path, 'id'), { required: false });
  const dir = directory(ctx, s['directory'], join(path, 'directory'), url);
  const options = s['options'] === undefined ? {} : staticOptions(c, s['options'], join(path, 'options'), dir, url);
  return dir === undefined ? undefined : { type: 'static', directory: dir, ...options };
}

/** `dir`: the directory (absolute; undefined after an error), `url`: the path served, for `default_file`. */
function staticOptions(c: Checker, value: unknown, path: string, dir: string | undefined, url: string): Partial<StaticPathConfig> {
  const o = c.object(value, path, ['enable_directory_listing', 'cache_timeout', 'mime_types', 'default_file']);
  if (!o) return {};
  const options: Partial<StaticPathConfig> = {};
  if (c.boolean(o['enable_directory_listing'], join(path, 'enable_directory_listing'), false)) options.listDirectories = true;
  // Crossbar allows null: no caching headers of its own (Junction's default, no-cache, then applies).
  if (o['cache_timeout'] !== undefined && o['cache_timeout'] !== null) {
    const seconds = c.integer(o['cache_timeout'], join(path, 'cache_timeout'), undefined, 0, MAX_CACHE_TIMEOUT);
    if (seconds !== undefined) options.cacheTimeout = seconds;
  }
  if (o['mime_types'] !== undefined) {
    const p = join(path, 'mime_types');
    const types: Record<string, string> = {};
    for (const [ext, type] of Object.entries(c.map(o['mime_types'], p) ?? {})) {
      const tp = join(p, ext);
      if (!/^\.[^./\\]+$/.test(ext)) c.error(tp, `must be a file extension starting with '.', such as ".svg"`);
      else if (typeof type !== 'string' || !/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(type)) c.error(tp, `must be a content type such as "image/svg+xml", got ${describe(type)}`);
      else types[ext.toLowerCase()] = type;
    }
    options.mimeTypes = types;
  }
  const fallback = dir === undefined ? undefined : defaultFile(c, o['default_file'], join(path, 'default_file'), dir, url);
  if (fallback !== undefined) options.defaultFile = fallback;
  return options;
}

function directory(ctx: LoadContext, value: unknown, path: string, url: string): string | undefined {
  const { c } = ctx;
  const dir = c.string(value, path);
  if (dir === undefined) return undefined;
  const abs = ctx.file(dir);
  try {
    if (!statSync(abs).isDirectory()) {
      c.error(path, `${abs} is not a directory`);
      return undefined;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      c.error(path, `cannot use ${abs}: ${describeFileError(err)}`);
      return undefined;
    }
    c.warn(path, `${abs} does not exist: requests below ${url} answer 404 until it does`);
  }
  return abs;
}

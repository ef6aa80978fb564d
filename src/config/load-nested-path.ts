// A web path of `type: path` (Crossbar's Path Service): a `paths` map of its own, mounted below the
// entry's URL. load-web.ts reads that map with the same loader as a transport's `paths`, so every
// path type works there; this file checks the entry itself and says where its map goes.
//
// As in Crossbar, the map's "/" entry serves the entry's own URL, its other keys serve the segments
// below it (they win over what the "/" entry has at the same place), and without a "/" entry the
// URL itself answers 404 (load-web.ts mounts a `notfound` there).

import { join, type Checker, type Obj } from './check-values.js';

/** How deep `path` entries may nest (Crossbar sets no bound; a config never needs this many). */
export const MAX_PATH_NESTING = 8;

/** Where a `paths` map is mounted: '' for a transport's own, '/api' for the map of a `path` entry at /api. */
export interface WebPathPrefix {
  url: string;
  /** How many `path` entries this map sits in (0 for a transport's own). */
  depth: number;
}

export const TRANSPORT_PATHS: WebPathPrefix = { url: '', depth: 0 };

/** The URL path a key of a `paths` map mounted at `prefix` serves: "ws" → "/ws", or "/api/ws" below /api; "/" → the prefix itself. */
export function urlOf(prefix: WebPathPrefix, key: string): string {
  if (key === '/') return prefix.url === '' ? '/' : prefix.url;
  return `${prefix.url}/${key}`;
}

/** A `path` entry at `url` (its key path `path`): its `paths` map and where that is mounted; undefined after an error. */
export function nestedPaths(c: Checker, entry: Obj, path: string, url: string, parent: WebPathPrefix): { paths: Obj; prefix: WebPathPrefix } | undefined {
  const s = c.object(entry, path, ['id', 'type', 'paths'])!;
  c.string(s['id'], join(path, 'id'), { required: false });
  const p = join(path, 'paths');
  if (parent.depth >= MAX_PATH_NESTING) {
    c.error(join(path, 'type'), `"path" entries nest at most ${MAX_PATH_NESTING} deep (this one is inside ${parent.depth}): flatten the map`);
    return undefined;
  }
  if (s['paths'] === undefined) {
    c.error(p, 'is required: the map of what this path serves below it ("/" for the path itself)');
    return undefined;
  }
  const paths = c.map(s['paths'], p);
  return paths && { paths, prefix: { url, depth: parent.depth + 1 } };
}

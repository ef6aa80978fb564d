// Web paths that answer HTTP by themselves: Crossbar's `json`, `redirect`, `reverseproxy` and
// `nodeinfo` (keys as Crossbar's checkconfig has them), and the Python-only path types, which are
// accepted with a warning (python-only.ts).

import type { WebServicePathConfig } from './types.js';
import { MIB, join, type Checker, type Obj } from './check-values.js';
import { PYTHON_ONLY_WEB_PATHS, warnPythonOnlyPath } from './python-only.js';

/** A reverse proxy's defaults (Junction's bounds): 30 s per request, request bodies up to 16 MiB. */
export const DEFAULT_PROXY_TIMEOUT = 30_000;
export const DEFAULT_PROXY_MAX_REQUEST_BODY = 16 * MIB;

export const WEB_SERVICE_TYPES: readonly string[] = ['json', 'redirect', 'reverseproxy', 'nodeinfo', ...Object.keys(PYTHON_ONLY_WEB_PATHS)];

/** Whether `type` is one of the path types this file reads. */
export function isWebServiceType(type: unknown): type is string {
  return typeof type === 'string' && WEB_SERVICE_TYPES.includes(type);
}

/** The path's config; undefined after an error, or for a Python-only type (a warning, and 404s). */
export function parseWebService(c: Checker, type: string, entry: Obj, path: string, url: string): WebServicePathConfig | undefined {
  const id = () => c.string(entry['id'], join(path, 'id'), { required: false });
  switch (type) {
    case 'json': {
      const s = c.object(entry, path, ['id', 'type', 'value', 'options'])!;
      id();
      if (!('value' in s)) {
        c.error(join(path, 'value'), 'is required (any JSON value)');
        return undefined;
      }
      const op = join(path, 'options');
      const o = s['options'] === undefined ? {} : c.object(s['options'], op, ['prettify', 'sort_keys', 'allow_cross_origin', 'discourage_caching']) ?? {};
      const prettify = c.boolean(o['prettify'], join(op, 'prettify'), true);
      const value = c.boolean(o['sort_keys'], join(op, 'sort_keys'), false) ? sortKeys(s['value']) : s['value'];
      return {
        type: 'json',
        body: JSON.stringify(value, null, prettify ? 2 : undefined),
        allowCrossOrigin: c.boolean(o['allow_cross_origin'], join(op, 'allow_cross_origin'), false),
        discourageCaching: c.boolean(o['discourage_caching'], join(op, 'discourage_caching'), false),
      };
    }
    case 'redirect': {
      const s = c.object(entry, path, ['id', 'type', 'url'])!;
      id();
      const target = c.string(s['url'], join(path, 'url'));
      if (target === undefined) return undefined;
      // It goes out as the Location header: one line of visible ASCII (no header injection).
      if (!/^[\x21-\x7e]+$/.test(target)) {
        c.error(join(path, 'url'), 'must be a URL of visible ASCII characters (no spaces or line breaks; %-encode others)');
        return undefined;
      }
      return { type: 'redirect', url: target };
    }
    case 'reverseproxy': {
      const s = c.object(entry, path, ['id', 'type', 'host', 'port', 'path', 'timeout', 'max_request_body'])!;
      id();
      const host = c.string(s['host'], join(path, 'host'));
      const port = c.integer(s['port'], join(path, 'port'), 80, 1, 65535);
      const base = c.string(s['path'], join(path, 'path'), { required: false, nonEmpty: false }) ?? '';
      if (base !== '' && !base.startsWith('/')) c.error(join(path, 'path'), `must start with '/' (or be empty), got ${JSON.stringify(base)}`);
      // Junction's own bounds: how long a forwarded request may take, how large a body it may carry.
      const timeout = c.integer(s['timeout'], join(path, 'timeout'), DEFAULT_PROXY_TIMEOUT, 100, 3_600_000);
      const maxRequestBody = c.integer(s['max_request_body'], join(path, 'max_request_body'), DEFAULT_PROXY_MAX_REQUEST_BODY, 0, 1024 * MIB);
      if (host === undefined || port === undefined || timeout === undefined || maxRequestBody === undefined) return undefined;
      return { type: 'reverseproxy', host, port, path: base.replace(/\/+$/, ''), timeout, maxRequestBody };
    }
    case 'nodeinfo':
      c.object(entry, path, ['id', 'type']);
      id();
      return { type: 'nodeinfo' };
    default:
      warnPythonOnlyPath(c, type, path, url);
      return undefined;
  }
}

/** `value` with every object's keys in order (Crossbar's `sort_keys`). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Obj)[k])]));
  }
  return value;
}

// Crossbar keys that run Python inside the router (WSGI apps, Twisted resources, in-process
// components, the worker's Python interpreter). They cannot apply to Junction, yet a Crossbar
// user's config carries them: each is accepted with one warning saying what Junction does instead,
// never refused and never silently ignored.

import { join, type Checker } from './check-values.js';

/** Web path types (`paths.<key>.type`) that need Python: the path answers 404. */
export const PYTHON_ONLY_WEB_PATHS: Readonly<Record<string, string>> = {
  wsgi: 'a Python WSGI application',
  resource: 'a Twisted Web resource class',
  wap: 'a Python WAMP application page (Jinja templates)',
  cgi: 'CGI scripts',
  upload: "Crossbar's file upload service",
  archive: 'files from a ZIP archive',
  schemadoc: "Crossbar's documentation pages of realm inventories (which Junction does not have)",
};

/** Warns about a Python-only web path type; its configuration is not read. */
export function warnPythonOnlyPath(c: Checker, type: string, path: string, url: string): void {
  const instead = type === 'archive'
    ? 'unpack the archive and serve it with a "static" path'
    : 'run it as a separate web server and forward to it with a "reverseproxy" path';
  c.warn(join(path, 'type'), `${PYTHON_ONLY_WEB_PATHS[type]} cannot run inside Junction: ${url} answers 404 (${instead})`);
}

/** Router worker keys (`workers[i].<key>`) that need Python, each with what Junction does instead. */
export const PYTHON_ONLY_ROUTER_KEYS: Readonly<Record<string, string>> = {
  components: 'router components run inside Crossbar\'s Python process: Junction does not start them; run each as an ordinary WAMP client (for example a systemd service) connecting to a transport',
  connections: 'router connections serve Python components inside Crossbar: Junction ignores them; components connect as ordinary WAMP clients',
  manhole: "the manhole is a Python shell into Crossbar's worker: Junction has none; its log and the status dashboard (a \"dashboard\" web path) show the router's state",
};

/** Router worker `options` keys that need Python or Crossbar's worker processes. */
export const PYTHON_ONLY_ROUTER_OPTIONS: Readonly<Record<string, string>> = {
  python: 'Junction runs on Node.js, not a Python interpreter: ignored',
  pythonpath: 'Junction loads no Python modules: ignored',
  cpu_affinity: 'Junction is one process and does not pin CPUs: ignored (use systemd\'s CPUAffinity= if needed)',
  env: "Junction runs no worker processes: ignored (set Junction's own environment, e.g. systemd's Environment=)",
  expose_controller: 'Junction has no controller process: ignored',
  expose_shared: 'Junction has no controller process: ignored',
  reactor: "Twisted's reactor choice does not apply: Junction runs on Node.js's event loop: ignored",
};

/** Warns once for each key of `table` present in `obj`; returns the keys, to add to the allowed ones. */
export function warnPythonOnlyKeys(c: Checker, obj: unknown, path: string, table: Readonly<Record<string, string>>): string[] {
  if (c.isObject(obj)) {
    for (const key of Object.keys(obj)) if (key in table) c.warn(join(path, key), table[key]!);
  }
  return Object.keys(table);
}

/**
 * Warns once for each key of `table` present in `obj` (keys whose absence changes nothing a client
 * sees here); returns the keys, to add to the allowed ones.
 */
export function warnHarmlessKeys(c: Checker, obj: unknown, path: string, table: Readonly<Record<string, string>>): string[] {
  return warnPythonOnlyKeys(c, obj, path, table);
}

export function isPythonOnlyPath(type: unknown): type is string {
  return typeof type === 'string' && Object.hasOwn(PYTHON_ONLY_WEB_PATHS, type);
}

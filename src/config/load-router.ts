// Crossbar's `workers` list as Junction reads it: exactly one worker of type "router", with its
// `options` (Junction's router-wide byte budgets), `realms` (load-realms.ts) and `transports`
// (load-transports.ts).

import type { RouterConfig } from './types.js';
import { MIB, describe, join, type Obj } from './check-values.js';
import type { LoadContext } from './load-context.js';
import { parseRealm } from './load-realms.js';
import { parseTransports } from './load-transports.js';
import { PYTHON_ONLY_ROUTER_KEYS, PYTHON_ONLY_ROUTER_OPTIONS, warnPythonOnlyKeys } from './python-only.js';

export function parseWorkers(ctx: LoadContext, value: unknown): RouterConfig {
  const { c } = ctx;
  const workers = c.array(value, 'workers', { required: true });
  if (!workers) return { realms: [], listeners: [] };
  let router: RouterConfig | undefined;
  let routerPath = '';
  workers.forEach((w, i) => {
    const path = join('workers', i);
    if (!c.isObject(w)) {
      c.error(path, `must be an object, got ${describe(w)}`);
      return;
    }
    if (w['type'] === undefined) {
      c.error(join(path, 'type'), 'is required (Junction runs one worker of type "router")');
    } else if (w['type'] !== 'router') {
      c.error(join(path, 'type'), `worker type ${describe(w['type'])} is not supported: Junction runs exactly one worker of type "router"`);
    } else if (router) {
      c.error(path, `only one router worker is supported (the first is ${routerPath})`);
    } else {
      routerPath = path;
      router = parseRouter(ctx, w, path);
    }
  });
  if (!router && workers.length === 0) c.error('workers', 'must hold one worker of type "router"');
  return router ?? { realms: [], listeners: [] };
}

function parseRouter(ctx: LoadContext, w: Obj, path: string): RouterConfig {
  const { c } = ctx;
  c.object(w, path, ['type', 'id', 'options', 'realms', 'transports', ...warnPythonOnlyKeys(c, w, path, PYTHON_ONLY_ROUTER_KEYS)]);
  c.string(w['id'], join(path, 'id'), { required: false });
  let maxIncomingBytes: number | undefined;
  let maxSendQueueTotal: number | undefined;
  if (w['options'] !== undefined) {
    const op = join(path, 'options');
    const pythonOnly = warnPythonOnlyKeys(c, w['options'], op, PYTHON_ONLY_ROUTER_OPTIONS);
    const o = c.object(w['options'], op, ['title', 'max_incoming_bytes', 'max_send_queue_total', ...pythonOnly]);
    if (o) c.string(o['title'], join(op, 'title'), { required: false });
    // Junction's: bytes of unfinished incoming messages, all connections together.
    if (o?.['max_incoming_bytes'] !== undefined) maxIncomingBytes = c.integer(o['max_incoming_bytes'], join(op, 'max_incoming_bytes'), undefined, MIB, 4096 * MIB);
    // Junction's: bytes waiting to be written, all connections' send queues together.
    if (o?.['max_send_queue_total'] !== undefined) maxSendQueueTotal = c.integer(o['max_send_queue_total'], join(op, 'max_send_queue_total'), undefined, MIB, 4096 * MIB);
  }

  const realmsPath = join(path, 'realms');
  const realms = (c.array(w['realms'], realmsPath, { required: true, nonEmpty: true }) ?? [])
    .map((r, i) => parseRealm(c, r, join(realmsPath, i), ctx));
  const seen = new Map<string, number>();
  realms.forEach((r, i) => {
    if (!r.name) return;
    const first = seen.get(r.name);
    if (first !== undefined) c.error(join(join(realmsPath, i), 'name'), `realm '${r.name}' is already defined at ${join(realmsPath, first)}`);
    else seen.set(r.name, i);
  });

  const listeners = parseTransports(ctx, w['transports'], join(path, 'transports'));
  const router: RouterConfig = { realms, listeners };
  if (maxIncomingBytes !== undefined) router.maxIncomingBytes = maxIncomingBytes;
  if (maxSendQueueTotal !== undefined) router.maxSendQueueTotal = maxSendQueueTotal;
  return router;
}

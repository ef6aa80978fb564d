// Junction's `serial` section: bridges that make boards on serial ports WAMP sessions
// (firmware-bridges/PROTOCOL.md). One entry per bridge; each lists its ports.

import type { SerialBridgeConfig } from './types.js';
import { describe, join, type Checker } from './check-values.js';
import { isValidPattern } from '../wamp/uri.js';
import { TRUSTED_ROLE } from '../wamp/roles.js';

const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 250000, 460800, 500000, 921600, 1000000];

export interface SerialParseContext {
  realmRefs: Array<{ realm: string; path: string }>;
  roleRefs: Array<{ role: string; path: string }>;
}

export function parseSerial(c: Checker, value: unknown, path: string, ctx: SerialParseContext): SerialBridgeConfig[] {
  const out: SerialBridgeConfig[] = [];
  const ids = new Map<string, string>();
  (c.array(value, path) ?? []).forEach((entry, i) => {
    const p = join(path, i);
    const o = c.object(entry, p, ['id', 'realm', 'role', 'prefix', 'ports', 'call_timeout', 'reopen_min', 'reopen_max']);
    if (!o) return;
    const id = c.string(o['id'], join(p, 'id'), { required: false }) ?? `serial${i}`;
    if (ids.has(id)) c.error(join(p, 'id'), `serial bridge id '${id}' is already used by ${ids.get(id)}`);
    else ids.set(id, p);
    if (!/^[A-Za-z0-9_-]+$/.test(id)) c.error(join(p, 'id'), `must be letters, digits, _ or -, got ${describe(id)}`);
    const realm = c.string(o['realm'], join(p, 'realm')) ?? '';
    if (realm) ctx.realmRefs.push({ realm, path: join(p, 'realm') });
    const role = c.string(o['role'], join(p, 'role'), { required: false }) ?? TRUSTED_ROLE;
    if (o['role'] !== undefined) ctx.roleRefs.push({ role, path: join(p, 'role') });
    const prefix = c.string(o['prefix'], join(p, 'prefix'), { required: false }) ?? 'devices';
    if (!isValidPattern(`${prefix}.`, 'prefix') || prefix.endsWith('.')) c.error(join(p, 'prefix'), `must be a URI such as "devices" or "home.sensors", got ${describe(prefix)}`);
    const ports: SerialBridgeConfig['ports'] = [];
    const portsPath = join(p, 'ports');
    (c.array(o['ports'], portsPath, { required: true, nonEmpty: true }) ?? []).forEach((port, j) => {
      const pp = join(portsPath, j);
      const po = c.object(port, pp, ['path', 'baud']);
      if (!po) return;
      const portPath = c.string(po['path'], join(pp, 'path')) ?? '';
      if (portPath && !portPath.startsWith('/')) c.error(join(pp, 'path'), `must be an absolute device path (a /dev/serial/by-id name, or a glob in its last part such as /dev/ttyACM*), got ${describe(portPath)}`);
      if (/[*?]/.test(portPath.slice(0, portPath.lastIndexOf('/')))) c.error(join(pp, 'path'), 'may have * or ? in its last part only');
      const baud = c.integer(po['baud'], join(pp, 'baud'), 115200, 1, 4_000_000)!;
      if (!BAUD_RATES.includes(baud)) c.warn(join(pp, 'baud'), `${baud} is not a usual baud rate`);
      ports.push({ path: portPath, baudRate: baud });
    });
    const reopenMin = c.integer(o['reopen_min'], join(p, 'reopen_min'), 500, 50, 600_000)!;
    const reopenMax = c.integer(o['reopen_max'], join(p, 'reopen_max'), 30_000, 50, 3_600_000)!;
    if (reopenMax < reopenMin) c.error(join(p, 'reopen_max'), `must be at least reopen_min (${reopenMin})`);
    out.push({ id, realm, role, prefix, ports, callTimeout: c.integer(o['call_timeout'], join(p, 'call_timeout'), 10_000, 1, 3_600_000)!, reopenMin, reopenMax });
  });
  return out;
}

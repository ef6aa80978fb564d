// Crossbar's `type: twisted` endpoint: a Twisted server endpoint description in `server_string`
// (Crossbar hands it to Twisted's serverFromString). The descriptions that name what Junction's own
// endpoints do are read into the same endpoint: `tcp:PORT`, `tcp6:PORT` (`interface=`, `backlog=`),
// `unix:PATH` or `unix:address=PATH` (`backlog=`), and `ssl:PORT:privateKey=KEY:certKey=CERT`
// (`extraCertChain=`, `dhParameters=`, `interface=`, `backlog=`). Others (systemd, tor, …) are an
// error naming the key. As in Twisted, parts are separated by ':' and a backslash takes the next
// character as it is ('\:' for a colon in a path).

import { describe, join, type Checker, type Obj } from './check-values.js';

const FORMS = '"tcp:PORT", "tcp6:PORT", "unix:PATH" or "ssl:PORT:privateKey=KEY.pem:certKey=CERT.pem"';

/** Twisted's options per description kind that Junction reads; any other is warned about and unused. */
const KNOWN: Record<string, string[]> = {
  tcp: ['port', 'interface', 'backlog'],
  tcp6: ['port', 'interface', 'backlog'],
  unix: ['address', 'backlog'],
  ssl: ['port', 'privateKey', 'certKey', 'extraCertChain', 'dhParameters', 'interface', 'backlog'],
};

/** The Crossbar endpoint (`type: tcp` or `unix`) the description stands for; undefined after an error. */
export function twistedEndpoint(c: Checker, value: Obj, path: string): Obj | undefined {
  const e = c.object(value, path, ['type', 'server_string', 'max_connections']);
  if (!e) return undefined;
  const sp = join(path, 'server_string');
  const text = c.string(e['server_string'], sp);
  if (text === undefined) return undefined;
  const [kind = '', ...parts] = splitDescription(text);
  const known = KNOWN[kind];
  if (!known) {
    c.error(sp, `${describe(kind)} descriptions are not supported by Junction: use ${FORMS} (or an endpoint of type "tcp" or "unix")`);
    return undefined;
  }
  const named: Record<string, string> = {};
  const positional: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) positional.push(part);
    else named[part.slice(0, eq)] = part.slice(eq + 1);
  }
  // Twisted takes the first options by position too: the port (address for unix), then for ssl the key.
  const order = kind === 'unix' ? ['address'] : kind === 'ssl' ? ['port', 'privateKey'] : ['port'];
  positional.forEach((v, i) => {
    const key = order[i];
    if (key === undefined || named[key] !== undefined) c.error(sp, `has a value without a name: ${describe(v)}`);
    else named[key] = v;
  });
  for (const key of Object.keys(named)) {
    if (!known.includes(key)) c.warn(sp, `"${key}=" is not used by Junction (it reads ${known.map((k) => `${k}=`).join(', ')})`);
  }
  const out: Obj = kind === 'unix' ? { type: 'unix', path: named['address'] } : { type: 'tcp', port: whole(named['port']) };
  if (kind === 'tcp6') out['version'] = 6;
  if (named['interface'] !== undefined && kind !== 'unix') out['interface'] = named['interface'];
  if (named['backlog'] !== undefined) out['backlog'] = whole(named['backlog']);
  if (e['max_connections'] !== undefined) out['max_connections'] = e['max_connections'];
  if (kind === 'ssl') {
    if (named['privateKey'] === undefined) c.error(sp, 'an "ssl:" description needs privateKey=KEY.pem');
    // Twisted's certKey defaults to the privateKey file (one PEM file holding both).
    const tls: Obj = { key: named['privateKey'], certificate: named['certKey'] ?? named['privateKey'] };
    if (named['extraCertChain'] !== undefined) tls['chain_certificates'] = [named['extraCertChain']];
    if (named['dhParameters'] !== undefined) tls['dhparam'] = named['dhParameters'];
    out['tls'] = tls;
  }
  return out;
}

/** A number when the text is one (the endpoint's checks then name what is wrong with it), else the text. */
function whole(text: string | undefined): unknown {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : text;
}

/** The description's parts, split at ':' not escaped by a backslash, the escapes removed. */
export function splitDescription(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) current += text[++i];
    else if (ch === ':') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

// A bridge's `url`: one broker URL, or a list of a broker cluster's nodes (tried in order; the
// bridge fails over to the next when the node in use goes away). Every entry must be a plain
// mqtt:// or mqtts:// URL; the list must not be empty, nor mix mqtt:// and mqtts:// (one `tls`
// block applies to all nodes).

import { describe, join, type Checker } from './check-values.js';

export function brokerUrls(c: Checker, value: unknown, path: string): { urls: string[]; secure: boolean } {
  if (Array.isArray(value)) {
    if (value.length === 0) {
      c.error(path, 'is an empty list: give at least one broker URL, e.g. ["mqtt://node1.local:1883", "mqtt://node2.local:1883"]');
      return { urls: [], secure: false };
    }
    const urls: string[] = [];
    const schemes = new Set<boolean>();
    value.forEach((entry, i) => {
      const url = brokerUrl(c, entry, join(path, i));
      if (url === undefined) return;
      if (urls.includes(url.text)) c.error(join(path, i), `${describe(url.text)} is already in the list`);
      urls.push(url.text);
      schemes.add(url.secure);
    });
    if (schemes.size > 1) c.error(path, 'mixes mqtt:// and mqtts:// nodes: the bridge has one `tls` setting for all of them');
    return { urls, secure: schemes.has(true) };
  }
  const url = brokerUrl(c, value, path);
  return url ? { urls: [url.text], secure: url.secure } : { urls: [], secure: false };
}

function brokerUrl(c: Checker, value: unknown, path: string): { text: string; secure: boolean } | undefined {
  const text = c.string(value, path);
  if (text === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    c.error(path, `must be a URL like "mqtt://broker.local:1883" or "mqtts://broker.local:8883", got ${describe(text)}`);
    return undefined;
  }
  let ok = true;
  const fail = (message: string): void => { c.error(path, message); ok = false; };
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') fail(`must start with mqtt:// or mqtts://, got ${describe(text)}`);
  else if (!parsed.hostname) fail(`names no host: ${describe(text)}`);
  if (parsed.username || parsed.password) fail('must not hold credentials: use username and password (value not shown)');
  if (parsed.pathname !== '' && parsed.pathname !== '/') fail(`must not have a path, got ${describe(parsed.pathname)}`);
  return ok ? { text, secure: parsed.protocol === 'mqtts:' } : undefined;
}

// Crossbar's `*-proxy` authentication methods (`anonymous-proxy`, `cryptosign-proxy`: the two its
// router knows). They authenticate sessions that Crossbar's proxy workers forward to a router
// worker on behalf of their clients. Junction has no proxy workers (clients connect to it
// directly), so each is accepted with one warning and not offered, the way a `type: function`
// method is.

import { join, type Checker } from './check-values.js';

/** Each proxy method, with the method its clients use when they connect to Junction directly. */
const PROXY_METHODS: Readonly<Record<string, string>> = {
  'anonymous-proxy': 'anonymous',
  'cryptosign-proxy': 'cryptosign',
};

/**
 * Warns once for each proxy method in the `auth` block at `path`; returns the block without them
 * (as it came when it is not an object, for the caller's own error) and whether there were any.
 */
export function dropProxyMethods(c: Checker, auth: unknown, path: string): { rest: unknown; dropped: boolean } {
  if (!c.isObject(auth)) return { rest: auth, dropped: false };
  const rest = { ...auth };
  let dropped = false;
  for (const [method, direct] of Object.entries(PROXY_METHODS)) {
    if (!(method in rest)) continue;
    c.warn(join(path, method), `"${method}" authenticates sessions forwarded by Crossbar's proxy workers, which Junction does not have: this method is not offered (its logins fail); clients connect to Junction directly and authenticate with "${direct}"`);
    delete rest[method];
    dropped = true;
  }
  return { rest, dropped };
}

// Crossbar's cookie authentication. On a WebSocket transport with cookie tracking, every session
// that joins is remembered under the client's cookie (authid, role, method, extra, realm). A later
// HELLO on that transport that offers 'cookie' among its authmethods, with the same cookie, on the
// same realm, is welcomed at once with that identity, whatever the order of its authmethods — as
// Crossbar does: the WELCOME names the method first used (authmethod) and 'cookie' as authprovider.
// Without a remembered identity 'cookie' is skipped and the next method offered is tried.

import type { AuthConfig } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import type { AuthContext, AuthOutcome, Identity, PendingAuth } from './authenticator.js';

type Outcome = AuthOutcome | Promise<AuthOutcome>;

/** WELCOME by the client's cookie, when `auth.cookie` is on, the client offers 'cookie' and its cookie was authenticated on this realm. */
export function cookieWelcome(auth: AuthConfig | undefined, offered: unknown[], ctx: AuthContext): AuthOutcome | undefined {
  const remembered = auth?.cookie && offered.includes('cookie') ? ctx.transport.cookie?.identity() : undefined;
  if (!remembered || remembered.realm !== ctx.realm) return undefined;
  const identity: Identity = { authid: remembered.authid, authrole: remembered.authrole, authmethod: remembered.authmethod, authprovider: 'cookie' };
  if (remembered.authextra) identity.authextra = remembered.authextra;
  return { kind: 'welcome', identity };
}

/** The same outcome, remembering under the client's tracking cookie the identity it ends in (if it ends in a WELCOME). */
export function rememberedByCookie(outcome: Outcome, ctx: AuthContext): Outcome {
  const cookie = ctx.transport.cookie;
  if (!cookie) return outcome;
  const remember = (o: AuthOutcome): AuthOutcome => {
    if (o.kind === 'welcome' && o.identity.authprovider !== 'cookie') {
      const { authid, authrole, authmethod, authextra } = o.identity;
      cookie.remember({ realm: ctx.realm, authid, authrole, authmethod, ...(authextra ? { authextra: authextra as Dict } : {}) });
    }
    if (o.kind === 'challenge') {
      const pending: PendingAuth = { authenticate: (signature, extra) => rememberedByCookie(o.pending.authenticate(signature, extra), ctx) };
      return { ...o, pending };
    }
    return o;
  };
  return outcome instanceof Promise ? outcome.then(remember) : remember(outcome);
}

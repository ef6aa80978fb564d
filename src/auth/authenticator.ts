// Authentication at session opening, per the transport's `auth` block. Each method is a small
// object; the session drives it: begin() on HELLO, then authenticate() for each AUTHENTICATE.

import { timingSafeEqual, createHash, randomBytes } from 'node:crypto';
import type { AuthConfig } from '../config/types.js';
import type { Dict } from '../wamp/message.js';
import { ErrorUri } from '../wamp/errors.js';

export interface Identity {
  authid: string;
  authrole: string;
  authmethod: string;
  authprovider: string;
  authextra?: Dict;
}

export type AuthOutcome =
  | { kind: 'welcome'; identity: Identity }
  | { kind: 'challenge'; method: string; extra: Dict; pending: PendingAuth }
  | { kind: 'abort'; reason: string; message: string };

export interface PendingAuth {
  authenticate(signature: string, extra: Dict): AuthOutcome | Promise<AuthOutcome>;
}

/** Crossbar gives anonymous sessions a random authid; keep that shape (readable, unique enough). */
function randomAuthid(): string {
  const hex = randomBytes(12).toString('hex').toUpperCase();
  return hex.match(/.{4}/g)!.join('-');
}

function abort(reason: string, message: string): AuthOutcome {
  return { kind: 'abort', reason, message };
}

function sameSecret(given: string, expected: string): boolean {
  // Hash both so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Starts authenticating a HELLO. `auth` absent: anyone joins as role "anonymous".
 * The client's `authmethods` are tried in its order of preference.
 */
export function beginAuthentication(auth: AuthConfig | undefined, details: Dict): AuthOutcome {
  if (!auth) {
    return { kind: 'welcome', identity: { authid: randomAuthid(), authrole: 'anonymous', authmethod: 'anonymous', authprovider: 'static' } };
  }
  const offered = Array.isArray(details['authmethods']) ? details['authmethods'] : ['anonymous'];
  const authid = typeof details['authid'] === 'string' ? details['authid'] : undefined;
  for (const method of offered) {
    if (method === 'anonymous' && auth.anonymous) {
      return {
        kind: 'welcome',
        identity: { authid: auth.anonymous.authid ?? randomAuthid(), authrole: auth.anonymous.role, authmethod: 'anonymous', authprovider: 'static' },
      };
    }
    if (method === 'ticket' && auth.ticket) {
      if (authid === undefined) return abort(ErrorUri.notAuthorized, 'ticket authentication needs an authid');
      const principal = auth.ticket.principals[authid];
      return {
        kind: 'challenge',
        method: 'ticket',
        extra: {},
        pending: {
          authenticate(signature) {
            // The same answer whether the authid or the ticket was wrong: reveal nothing.
            if (!principal || !sameSecret(signature, principal.ticket)) {
              return abort(ErrorUri.notAuthorized, 'authentication failed');
            }
            return { kind: 'welcome', identity: { authid, authrole: principal.role, authmethod: 'ticket', authprovider: 'static' } };
          },
        },
      };
    }
  }
  return abort(ErrorUri.noMatchingAuthMethod, `none of the offered authmethods [${offered.join(', ')}] is enabled on this transport`);
}

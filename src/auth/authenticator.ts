// Authentication at session opening, per the transport's `auth` block. The session drives it:
// beginAuthentication() on HELLO, then PendingAuth.authenticate() for the client's AUTHENTICATE.
// Each method is static (principals from the config) or dynamic (an authenticator procedure,
// called as (realm, authid, details), returns the role — or, for WAMP-CRA, the secret; for
// Cryptosign, the principal whose key it is).
//
// Every credential failure looks the same to the client — ABORT wamp.error.not_authorized,
// "authentication failed" — whether the authid, the secret or the key was wrong.

import { createHmac, randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { AuthConfig, DynamicAuthConfig } from '../config/types.js';
import type { ChannelBindingType, TransportInfo } from '../core-boundary.js';
import type { Dict } from '../wamp/message.js';
import { ErrorUri } from '../wamp/errors.js';
import { craChallenge, craVerify, type CraSecret } from './wampcra.js';
import { cryptosignChallenge, cryptosignVerify, isPublicKeyHex } from './cryptosign.js';
import { ScramExchange, scramClientNonce, scramCredential, type ScramCredential } from './scram.js';
import { tlsPrincipalFor } from './tls-client.js';
import { log } from '../log.js';
import { AuthGateRefusal } from './auth-gate.js';
import { cookieWelcome, rememberedByCookie } from './cookie.js';

export interface Identity {
  authid: string;
  authrole: string;
  authmethod: string;
  authprovider: string;
  authextra?: Dict;
  /** The realm to join when it is not the one the HELLO named (or it named none): the principal's
   *  `realm`, or the one a dynamic authenticator returned. */
  realm?: string;
}

export type AuthOutcome =
  | { kind: 'welcome'; identity: Identity }
  | { kind: 'challenge'; method: string; extra: Dict; pending: PendingAuth }
  /** `failure`: wrong credentials (counted against the client's address). */
  | { kind: 'abort'; reason: string; message: string; failure?: boolean };

export interface PendingAuth {
  authenticate(signature: string, extra: Dict): AuthOutcome | Promise<AuthOutcome>;
}

/** What authentication needs to know about the session being opened. */
export interface AuthContext {
  /** The realm the HELLO named; '' when it named none (a principal's or authenticator's realm is then needed). */
  realm: string;
  /** The session ID the client will get (WAMP-CRA challenges name it). */
  session: number;
  transport: TransportInfo;
  /** Calls a dynamic authenticator; resolves to its first result argument. */
  callAuthenticator(realm: string, procedure: string, args: unknown[]): Promise<unknown>;
}

type Outcome = AuthOutcome | Promise<AuthOutcome>;

const FAILED: AuthOutcome = Object.freeze({ kind: 'abort', reason: ErrorUri.notAuthorized, message: 'authentication failed', failure: true });
/** The authenticator could not decide (busy, failing, gone): not the client's fault, not counted against its address. */
const UNAVAILABLE: AuthOutcome = Object.freeze({ kind: 'abort', reason: ErrorUri.authenticationFailed, message: 'authentication is not available right now; try again later' });

/** A HELLO without a realm on a transport whose authenticator has no `authenticator-realm`: nowhere to ask. */
const NO_REALM: AuthOutcome = Object.freeze({ kind: 'abort', reason: ErrorUri.noSuchRealm, message: 'no realm given, and the authenticator has no authenticator-realm to be called on' });

/** A dynamic authenticator's answer: the principal, or why there is none ('norealm': no realm to call it on). */
type Answer = DynamicPrincipal | 'refused' | 'unavailable' | 'norealm';

/** Crossbar gives anonymous sessions a random authid; keep that shape (readable, unique enough). */
function randomAuthid(): string {
  const hex = randomBytes(12).toString('hex').toUpperCase();
  return hex.match(/.{4}/g)!.join('-');
}

function sameSecret(given: string, expected: string): boolean {
  // Hash both so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function welcome(authid: string, authrole: string, authmethod: string, authprovider: string, authextra?: Dict, realm?: string): AuthOutcome {
  const identity: Identity = { authid, authrole, authmethod, authprovider };
  if (authextra) identity.authextra = authextra;
  if (realm !== undefined) identity.realm = realm;
  return { kind: 'welcome', identity };
}

/**
 * A static principal with a `realm` may join that realm only: a HELLO naming another is refused
 * (after its credentials were checked), a HELLO naming none is given the principal's.
 */
function staticWelcome(requested: string, authid: string, principal: { role: string; realm?: string }, authmethod: string): AuthOutcome {
  if (principal.realm !== undefined && requested !== '' && requested !== principal.realm) {
    return { kind: 'abort', reason: ErrorUri.notAuthorized, message: `principal '${authid}' may not join realm '${requested}'` };
  }
  return welcome(authid, principal.role, authmethod, 'static', undefined, principal.realm);
}

/**
 * Starts authenticating a HELLO. `auth` absent: anyone joins as role "anonymous".
 * The client's `authmethods` are tried in its order of preference.
 */
export function beginAuthentication(auth: AuthConfig | undefined, details: Dict, ctx: AuthContext): Outcome {
  const offered = Array.isArray(details['authmethods']) ? details['authmethods'] : ['anonymous'];
  // Cookie tracking (WebSocket `cookie`): src/auth/cookie.ts.
  return cookieWelcome(auth, offered, ctx) ?? rememberedByCookie(chooseMethod(auth, offered, details, ctx), ctx);
}

function chooseMethod(auth: AuthConfig | undefined, offered: unknown[], details: Dict, ctx: AuthContext): Outcome {
  if (!auth) return welcome(randomAuthid(), 'anonymous', 'anonymous', 'static');
  const authid = typeof details['authid'] === 'string' ? details['authid'] : undefined;
  const authextra = typeof details['authextra'] === 'object' && details['authextra'] !== null ? details['authextra'] as Dict : {};
  const start = new MethodStart(ctx, authid, authextra);
  for (const method of offered) {
    if (method === 'anonymous' && auth.anonymous) return start.anonymous(auth.anonymous);
    if (method === 'ticket' && auth.ticket) return start.ticket(auth.ticket);
    if (method === 'wampcra' && auth.wampcra) return start.wampcra(auth.wampcra);
    if (method === 'cryptosign' && auth.cryptosign) return start.cryptosign(auth.cryptosign);
    if (method === 'scram' && auth.scram) return start.scram(auth.scram);
    if (method === 'tls' && auth.tls) return start.tls(auth.tls);
  }
  const enabled = Object.keys(auth).join(', ');
  return {
    kind: 'abort', reason: ErrorUri.noMatchingAuthMethod,
    // Not String(m): an offered dict may carry a 'toString' that is no function (found by the core fuzz).
    message: `none of the offered authmethods [${offered.map((m) => (typeof m === 'string' ? m : `(${Array.isArray(m) ? 'array' : m === null ? 'null' : typeof m})`)).join(', ')}] is enabled on this transport (enabled: ${enabled})`,
  };
}

/** The principal a dynamic authenticator returned: a role name, or a dict. */
interface DynamicPrincipal {
  role: string;
  authid?: string;
  extra?: Dict;
  /** The realm the session joins instead of the one it asked for (Crossbar: the authenticator may assign or redirect). */
  realm?: string;
  raw: Dict;
}

class MethodStart {
  /** The Cryptosign channel binding the client asked for (undefined: none). */
  private channelBinding: ChannelBinding | undefined;

  constructor(private readonly ctx: AuthContext, private readonly authid: string | undefined, private readonly authextra: Dict) {}

  anonymous(config: NonNullable<AuthConfig['anonymous']>): Outcome {
    if (config.type === 'static') return staticWelcome(this.ctx.realm, config.authid ?? randomAuthid(), config, 'anonymous');
    const authid = this.authid ?? randomAuthid();
    return this.askAuthenticator(config, 'anonymous', authid, {}).then((p) =>
      typeof p === 'string' ? notWelcome(p) : welcome(p.authid ?? authid, p.role, 'anonymous', 'dynamic', p.extra, p.realm));
  }

  ticket(config: NonNullable<AuthConfig['ticket']>): Outcome {
    const authid = this.authid;
    if (authid === undefined) return { kind: 'abort', reason: ErrorUri.notAuthorized, message: 'ticket authentication needs an authid' };
    const requested = this.ctx.realm;
    const pending: PendingAuth = config.type === 'static'
      ? {
        authenticate(ticket) {
          const principal = Object.hasOwn(config.principals, authid) ? config.principals[authid] : undefined;
          // Compare even for an unknown authid, so both failures take the same time.
          const ok = sameSecret(ticket, principal?.ticket ?? '\0unknown');
          return principal && ok ? staticWelcome(requested, authid, principal, 'ticket') : FAILED;
        },
      }
      : {
        authenticate: (ticket) => this.askAuthenticator(config, 'ticket', authid, { ticket }).then((p) =>
          typeof p === 'string' ? notWelcome(p) : welcome(p.authid ?? authid, p.role, 'ticket', 'dynamic', p.extra, p.realm)),
      };
    return { kind: 'challenge', method: 'ticket', extra: {}, pending };
  }

  wampcra(config: NonNullable<AuthConfig['wampcra']>): Outcome {
    const authid = this.authid;
    if (authid === undefined) return { kind: 'abort', reason: ErrorUri.notAuthorized, message: 'wampcra authentication needs an authid' };
    if (config.type === 'static') {
      const user = Object.hasOwn(config.users, authid) ? config.users[authid] : undefined;
      if (user) return this.craChallenge(authid, user.role, 'static', user, true, undefined, user.realm);
      // An unknown authid gets a challenge like a known one (see decoyCraUser), so probing tells
      // neither which authids exist nor anything about their roles; it fails at AUTHENTICATE.
      const decoy = decoyCraUser(authid, Object.values(config.users));
      return this.craChallenge(authid, decoy.role, 'static', decoy, false, undefined);
    }
    return this.askAuthenticator(config, 'wampcra', authid, {}).then((p) => {
      if (p === 'unavailable' || p === 'norealm') return notWelcome(p);
      if (p === 'refused') {
        // As for a known authid: a challenge (with a role this authenticator does hand out), failing at AUTHENTICATE.
        const role = lastCraRole.get(config.authenticator) ?? 'anonymous';
        return this.craChallenge(authid, role, 'dynamic', { secret: randomBytes(32).toString('base64') }, false, undefined);
      }
      const secret = p.raw['secret'];
      if (typeof secret !== 'string' || secret === '') {
        log.error(`wampcra authenticator ${config.authenticator} returned no 'secret' for '${authid}'`);
        return FAILED;
      }
      lastCraRole.set(config.authenticator, p.role);
      const cra: CraSecret = { secret };
      if (typeof p.raw['salt'] === 'string') {
        cra.salt = p.raw['salt'];
        if (Number.isInteger(p.raw['iterations'])) cra.iterations = p.raw['iterations'] as number;
        if (Number.isInteger(p.raw['keylen'])) cra.keylen = p.raw['keylen'] as number;
      }
      return this.craChallenge(p.authid ?? authid, p.role, 'dynamic', cra, true, p.extra, p.realm);
    });
  }

  private craChallenge(authid: string, role: string, provider: string, secret: CraSecret, known: boolean, extra: Dict | undefined, realm?: string): AuthOutcome {
    const requested = this.ctx.realm;
    const { challenge, extra: challengeExtra } = craChallenge({ authid, authrole: role, authprovider: provider, session: this.ctx.session }, secret);
    return {
      kind: 'challenge', method: 'wampcra', extra: challengeExtra,
      pending: {
        authenticate(signature) {
          const ok = craVerify(challenge, secret.secret, signature);
          if (!known || !ok) return FAILED;
          return provider === 'static' ? staticWelcome(requested, authid, { role, realm }, 'wampcra') : welcome(authid, role, 'wampcra', provider, extra, realm);
        },
      },
    };
  }

  cryptosign(config: NonNullable<AuthConfig['cryptosign']>): Outcome {
    const pubkey = this.authextra['pubkey'];
    if (!isPublicKeyHex(pubkey)) {
      return { kind: 'abort', reason: ErrorUri.notAuthorized, message: 'cryptosign authentication needs authextra.pubkey (an Ed25519 public key, 64 hex characters)' };
    }
    const key = pubkey.toLowerCase();
    const binding = requestedBinding(this.authextra['channel_binding'], this.ctx.transport);
    if (binding.kind === 'abort') return binding;
    this.channelBinding = binding.kind === 'binding' ? binding : undefined;
    if (config.type === 'static') {
      let found: { authid: string; role: string; realm?: string } | undefined;
      for (const [authid, principal] of Object.entries(config.principals)) {
        if (principal.authorizedKeys.includes(key)) found = { authid, role: principal.role, realm: principal.realm };
      }
      // A key authorized for another authid than the one claimed is a failure, not a switch.
      if (found && this.authid !== undefined && this.authid !== found.authid) found = undefined;
      return this.cryptosignChallenge(key, found, 'static');
    }
    return this.askAuthenticator(config, 'cryptosign', this.authid ?? null, {}).then((p) => {
      if (p === 'unavailable' || p === 'norealm') return notWelcome(p);
      if (p === 'refused') return this.cryptosignChallenge(key, undefined, 'dynamic');
      // The authenticator must vouch for the key the client will prove it holds: a role alone
      // would let any key in under whatever authid the client claims.
      const vouched = vouchedKeys(p.raw);
      if (!vouched) {
        log.error(`cryptosign authenticator ${config.authenticator} returned no 'pubkey' (or 'authorized_keys') for '${this.authid ?? key}': refused; it must name the key(s) it accepts`);
        return this.cryptosignChallenge(key, undefined, 'dynamic');
      }
      if (!vouched.includes(key)) return this.cryptosignChallenge(key, undefined, 'dynamic');
      const authid = p.authid ?? this.authid ?? key;
      return this.cryptosignChallenge(key, { authid, role: p.role, extra: p.extra, realm: p.realm }, 'dynamic');
    });
  }

  private cryptosignChallenge(key: string, principal: { authid: string; role: string; extra?: Dict; realm?: string | undefined } | undefined, provider: string): AuthOutcome {
    const challenge = cryptosignChallenge();
    const requested = this.ctx.realm;
    const binding = this.channelBinding;
    return {
      kind: 'challenge', method: 'cryptosign', extra: { challenge, channel_binding: binding?.type ?? null },
      pending: {
        authenticate(signature) {
          // Verify even for an unknown key, so both failures take the same time.
          const ok = typeof signature === 'string' && cryptosignVerify(key, challenge, signature, binding?.channelId);
          if (!principal || !ok) return FAILED;
          return provider === 'static'
            ? staticWelcome(requested, principal.authid, principal, 'cryptosign')
            : welcome(principal.authid, principal.role, 'cryptosign', provider, principal.extra, principal.realm);
        },
      },
    };
  }

  scram(config: NonNullable<AuthConfig['scram']>): Outcome {
    const authid = this.authid;
    if (authid === undefined) return { kind: 'abort', reason: ErrorUri.notAuthorized, message: 'scram authentication needs an authid' };
    const nonce = scramClientNonce(this.authextra);
    if (!nonce) return { kind: 'abort', reason: ErrorUri.notAuthorized, message: 'scram authentication needs authextra.nonce (base64)' };
    if (config.type === 'static') {
      const principal = Object.hasOwn(config.principals, authid) ? config.principals[authid] : undefined;
      // An unknown authid is challenged like a known one (made-up keys) and fails at AUTHENTICATE.
      const credential = principal ?? decoyScramCredential(authid, Object.values(config.principals));
      return this.scramChallenge(authid, nonce, credential, principal && { authid, role: principal.role, realm: principal.realm }, 'static');
    }
    return this.askAuthenticator(config, 'scram', authid, {}).then((p) => {
      if (p === 'unavailable' || p === 'norealm') return notWelcome(p);
      if (p === 'refused') return this.scramChallenge(authid, nonce, decoyScramCredential(authid, []), undefined, 'dynamic');
      const credential = scramCredential(p.raw);
      if ('error' in credential) {
        log.error(`scram authenticator ${config.authenticator} returned a principal for '${authid}' whose '${credential.key}' ${credential.error}`);
        return FAILED;
      }
      return this.scramChallenge(authid, nonce, credential, { authid: p.authid ?? authid, role: p.role, extra: p.extra, realm: p.realm }, 'dynamic');
    });
  }

  private scramChallenge(authid: string, nonce: Buffer, credential: ScramCredential, principal: { authid: string; role: string; extra?: Dict; realm?: string | undefined } | undefined, provider: string): AuthOutcome {
    const exchange = new ScramExchange(authid, nonce, credential);
    const requested = this.ctx.realm;
    return {
      kind: 'challenge', method: 'scram', extra: exchange.challengeExtra(),
      pending: {
        authenticate(proof) {
          const serverSignature = exchange.verify(proof);
          if (!principal || serverSignature === undefined) return FAILED;
          const outcome = provider === 'static'
            ? staticWelcome(requested, principal.authid, principal, 'scram')
            : welcome(principal.authid, principal.role, 'scram', provider, principal.extra, principal.realm);
          // The client checks this signature: proof that the router holds the principal's keys.
          if (outcome.kind === 'welcome') outcome.identity.authextra = { ...outcome.identity.authextra, scram_server_signature: serverSignature };
          return outcome;
        },
      },
    };
  }

  /**
   * TLS client certificates: no CHALLENGE, the certificate (verified against the listener's `ca`)
   * is the credential. Static: the principal whose `certificate-sha1` it is, or without one, whose
   * authid is the certificate's CN. Dynamic: the authenticator gets it as transport.client_cert.
   */
  tls(config: NonNullable<AuthConfig['tls']>): Outcome {
    const cert = this.ctx.transport.tlsSession?.clientCertificate();
    if (!cert) return { kind: 'abort', reason: ErrorUri.notAuthorized, message: 'tls authentication needs a client certificate that the router\'s CA verifies' };
    const cn = cert.subject['cn'];
    if (config.type === 'static') {
      const match = tlsPrincipalFor(config.principals, cert.sha1, cn);
      if (!match || (this.authid !== undefined && this.authid !== match.authid)) return FAILED;
      return staticWelcome(this.ctx.realm, match.authid, match.principal, 'tls');
    }
    const authid = this.authid ?? cn ?? null;
    return this.askAuthenticator(config, 'tls', authid, {}).then((p) => {
      if (typeof p === 'string') return notWelcome(p);
      const assigned = p.authid ?? authid;
      if (assigned === null) {
        log.error(`tls authenticator ${config.authenticator} returned no authid for a certificate without a CN (sha1 ${cert.sha1})`);
        return FAILED;
      }
      return welcome(assigned, p.role, 'tls', 'dynamic', p.extra, p.realm);
    });
  }

  /** Calls the dynamic authenticator: the principal, 'refused', or 'unavailable' (logged with the reason). */
  private async askAuthenticator(config: DynamicAuthConfig, authmethod: string, authid: string | null, more: Dict): Promise<Answer> {
    const { ctx } = this;
    const t = ctx.transport;
    const details: Dict = {
      session: ctx.session,
      authmethod,
      authid,
      authextra: this.authextra,
      transport: {
        type: t.type, peer: t.peer, serializer: t.serializer, ...(t.protocol ? { protocol: t.protocol } : {}), tls: t.tls === true,
        // Crossbar's key: the verified client certificate (null without one).
        ...(t.tls ? { client_cert: t.tlsSession?.clientCertificate() ?? null } : {}),
      },
      ...more,
    };
    // Without `authenticator-realm` the authenticator is called on the realm the HELLO named.
    const authenticatorRealm = config.authenticatorRealm ?? ctx.realm;
    if (authenticatorRealm === '') return 'norealm';
    let result: unknown;
    try {
      result = await ctx.callAuthenticator(authenticatorRealm, config.authenticator, [ctx.realm === '' ? null : ctx.realm, authid, details]);
    } catch (err) {
      if (err instanceof AuthGateRefusal) return 'unavailable'; // logged by the gate
      const uri = (err as { uri?: unknown }).uri;
      const denied = uri === ErrorUri.notAuthorized || uri === ErrorUri.authenticationFailed ||
        (typeof uri === 'string' && !uri.startsWith('wamp.error.'));
      if (denied) return 'refused';
      log.error(`${t.peer}: authenticator ${config.authenticator} could not be called for ${authmethod} '${authid ?? ''}': ${(err as Error).message}`);
      return 'unavailable';
    }
    return parsePrincipal(result, config.authenticator) ?? 'refused';
  }
}

function parsePrincipal(result: unknown, authenticator: string): DynamicPrincipal | undefined {
  if (typeof result === 'string' && result !== '') return { role: result, raw: {} };
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) {
    const raw = result as Dict;
    if (typeof raw['role'] === 'string' && raw['role'] !== '') {
      const p: DynamicPrincipal = { role: raw['role'], raw };
      if (typeof raw['authid'] === 'string' && raw['authid'] !== '') p.authid = raw['authid'];
      if (typeof raw['realm'] === 'string' && raw['realm'] !== '') p.realm = raw['realm'];
      else if (raw['realm'] !== undefined && raw['realm'] !== null) {
        log.error(`authenticator ${authenticator} returned a 'realm' that is not a realm name: ${JSON.stringify(raw['realm'])?.slice(0, 100)}`);
        return undefined;
      }
      const extra = raw['extra'] ?? raw['authextra'];
      if (typeof extra === 'object' && extra !== null && !Array.isArray(extra)) p.extra = extra as Dict;
      return p;
    }
  }
  log.error(`authenticator ${authenticator} returned neither a role nor a dict with a 'role': ${JSON.stringify(result)?.slice(0, 200)}`);
  return undefined;
}

function notWelcome(answer: 'refused' | 'unavailable' | 'norealm'): AuthOutcome {
  if (answer === 'norealm') return NO_REALM;
  return answer === 'refused' ? FAILED : UNAVAILABLE;
}

/** The key(s) a Cryptosign authenticator accepts: `pubkey` (Crossbar's contract) or `authorized_keys`; undefined when it named none. */
function vouchedKeys(raw: Dict): string[] | undefined {
  const keys = [raw['pubkey'], ...(Array.isArray(raw['authorized_keys']) ? raw['authorized_keys'] : [])];
  const named = keys.filter(isPublicKeyHex).map((k) => k.toLowerCase());
  return named.length > 0 ? named : undefined;
}

interface ChannelBinding {
  kind: 'binding';
  type: ChannelBindingType;
  channelId: Buffer;
}

/**
 * The channel binding a Cryptosign HELLO asks for (authextra.channel_binding): none (absent or
 * null), or the connection's channel ID; refused when the transport cannot give it (not TLS, or
 * a TLS version the binding is not defined for) or the type is unknown.
 */
function requestedBinding(value: unknown, transport: TransportInfo): ChannelBinding | { kind: 'none' } | AuthOutcome & { kind: 'abort' } {
  if (value === undefined || value === null) return { kind: 'none' };
  if (value !== 'tls-unique' && value !== 'tls-exporter') {
    return { kind: 'abort', reason: ErrorUri.notAuthorized, message: `unknown channel_binding ${JSON.stringify(value)?.slice(0, 40)} (supported: tls-unique, tls-exporter)` };
  }
  const channelId = transport.tlsSession?.channelBinding(value);
  if (!channelId) {
    const needs = value === 'tls-unique' ? 'TLS 1.2 or older' : 'TLS 1.3';
    return { kind: 'abort', reason: ErrorUri.notAuthorized, message: `channel_binding '${value}' needs a ${needs} connection; this one cannot give it` };
  }
  return { kind: 'binding', type: value, channelId };
}

/** Per-process key for made-up answers: stable for one authid, unguessable from outside. */
const DECOY_KEY = randomBytes(32);
function decoyNumber(authid: string, purpose: string): number {
  return createHmac('sha256', DECOY_KEY).update(`${purpose}\0${authid}`).digest().readUInt32BE(0);
}

/**
 * What an unknown WAMP-CRA authid is challenged as: a configured user picked by the authid (stable,
 * unpredictable), whose role and salt parameters it borrows, with a made-up salt when that user is
 * salted. Every field of the challenge is then one a real user could have.
 */
function decoyCraUser(authid: string, users: Array<CraSecret & { role: string }>): CraSecret & { role: string } {
  const template = users.length > 0 ? users[decoyNumber(authid, 'user') % users.length]! : undefined;
  const decoy: CraSecret & { role: string } = { secret: randomBytes(32).toString('base64'), role: template?.role ?? 'anonymous' };
  if (template?.salt !== undefined) {
    decoy.salt = createHmac('sha256', DECOY_KEY).update(`salt\0${authid}`).digest('base64').slice(0, template.salt.length || 16);
    if (template.iterations !== undefined) decoy.iterations = template.iterations;
    if (template.keylen !== undefined) decoy.keylen = template.keylen;
  }
  return decoy;
}

/** What an unknown SCRAM authid is challenged with: a configured principal's KDF parameters, a made-up salt and keys. */
function decoyScramCredential(authid: string, principals: ScramCredential[]): ScramCredential {
  const template = principals.length > 0 ? principals[decoyNumber(authid, 'scram') % principals.length]! : undefined;
  const decoy: ScramCredential = {
    kdf: template?.kdf ?? 'argon2id-13', iterations: template?.iterations ?? 4096,
    salt: createHmac('sha256', DECOY_KEY).update(`scram-salt\0${authid}`).digest().subarray(0, template?.salt.length ?? 16),
    storedKey: randomBytes(32), serverKey: randomBytes(32),
  };
  if (decoy.kdf === 'argon2id-13') decoy.memory = template?.memory ?? 512;
  return decoy;
}

/** The role each dynamic WAMP-CRA authenticator last handed out, for the challenge of an authid it refuses. */
const lastCraRole = new Map<string, string>();

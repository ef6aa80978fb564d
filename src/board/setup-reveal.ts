// First-boot credentials behind the setup code, for the status dashboard: the procedure
// `junction.setup.reveal(code)` returns the generated admin credentials from the setup file
// (/var/lib/junction/setup.json: {setup_code, admin: {authid, ticket}, created}, written by the
// appliance's first boot) when `code` is its setup code, once: the file is removed after a
// successful reveal (the code is one-time; the ticket then lives only in the router's config).
// Registered when a `dashboard` web path names the file (`setup`). The file is read at each call:
// it may appear after the start, and once it is gone the procedure answers junction.error.no_setup.
// Attempts are limited per caller address and for the whole node (src/board/reveal-limiter.ts),
// counted when they arrive, before the file is read. The caller's address comes from its session:
// the procedure is registered with disclose_caller and the built-in dashboard role discloses its
// callers for this procedure; callers whose session is not disclosed share one address.

import { createHash, timingSafeEqual } from 'node:crypto';
// fs.promises is read where used, not imported from node:fs/promises: the bundled CLI then
// loads that module (~0.8 MB) only when a file is actually served or written.
import { promises as fsp } from 'node:fs';
import { TRUSTED_ROLE } from '../wamp/roles.js';
import { ClientSession, WampError } from '../client/client-session.js';
import type { SessionFactory } from '../core-boundary.js';
import { RevealLimiter, ATTEMPTS_PER_ADDRESS, guesserAddress } from './reveal-limiter.js';
import { log } from '../log.js';

export const SETUP_REVEAL = 'junction.setup.reveal';
/** A caller whose session (and so address) the router did not disclose. */
const UNKNOWN_ADDRESS = 'undisclosed';

/** The transport peer of a session in the realm ('tcp4:10.0.0.7:51234'), if it is there. */
export type PeerOf = (sessionId: number) => string | undefined;

export class SetupReveal {
  private session: ClientSession | undefined;
  private readonly limiter: RevealLimiter;
  /** Checks run one at a time, so two right codes at once cannot both read the file before it goes. */
  private checks: Promise<unknown> = Promise.resolve();

  constructor(readonly realm: string, readonly file: string, private readonly peerOf: PeerOf = () => undefined, now?: () => number) {
    this.limiter = new RevealLimiter(now);
  }

  async start(factory: SessionFactory): Promise<void> {
    this.session = await ClientSession.connect(factory, { realm: this.realm, role: TRUSTED_ROLE, authid: 'junction-setup', name: 'setup-reveal', privileged: true });
    await this.session.register(SETUP_REVEAL, (args, _kwargs, { details }) => this.reveal(args[0], this.addressOf(details['caller'])), { disclose_caller: true });
    log.info(`setup: ${SETUP_REVEAL} in realm '${this.realm}' reveals the credentials in ${this.file} for its setup code`);
  }

  async stop(): Promise<void> {
    this.limiter.stop();
    await this.session?.close().catch(() => undefined);
  }

  /** The address attempts are counted against: the caller's, without its port. */
  addressOf(callerSession: unknown): string {
    const peer = typeof callerSession === 'number' ? this.peerOf(callerSession) : undefined;
    return peer === undefined ? UNKNOWN_ADDRESS : guesserAddress(peer);
  }

  /** Not async itself: the attempt is counted before anything is awaited. */
  reveal(code: unknown, address = UNKNOWN_ADDRESS): Promise<Record<string, unknown>> {
    const admitted = this.limiter.admit(address);
    const checked = admitted.then(() => {
      const result = this.checks.then(() => this.check(code, address));
      this.checks = result.catch(() => undefined);
      return result;
    });
    return checked;
  }

  private async check(code: unknown, address: string): Promise<Record<string, unknown>> {
    let setup: { setup_code?: unknown; admin?: { authid?: unknown; ticket?: unknown }; created?: unknown };
    try {
      setup = JSON.parse(await fsp.readFile(this.file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new WampError('junction.error.no_setup', ['no setup pending: the credentials were given or setup is complete']);
      log.warn(`setup: cannot read ${this.file}: ${(err as Error).message}`);
      throw new WampError('junction.error.no_setup', ['the setup file cannot be read']);
    }
    if (typeof setup.setup_code !== 'string' || setup.setup_code === '' || typeof code !== 'string' || !sameSecret(code.trim(), setup.setup_code)) {
      log.warn(`setup: wrong setup code from ${address} (at most ${ATTEMPTS_PER_ADDRESS} attempts per address within 15 min)`);
      throw new WampError('wamp.error.not_authorized', ['wrong setup code']);
    }
    this.limiter.succeeded();
    await fsp.rm(this.file, { force: true }).catch((err: Error) => log.warn(`setup: cannot remove ${this.file} after revealing it: ${err.message}`));
    log.info(`setup: credentials revealed on the dashboard to ${address}; ${this.file} removed`);
    return { authid: setup.admin?.authid ?? null, ticket: setup.admin?.ticket ?? null, created: setup.created ?? null };
  }
}

/** Compares in constant time (hashes first, so lengths do not leak either). */
function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

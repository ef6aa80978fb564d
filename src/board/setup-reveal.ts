// First-boot credentials behind the setup code, for the status dashboard: the procedure
// `junction.setup.reveal(code)` returns the generated admin credentials from the setup file
// (/var/lib/junction/setup.json: {setup_code, admin: {authid, ticket}, created}, written by the
// appliance's first boot) when `code` is its setup code, once: the file is removed after a
// successful reveal (the code is one-time; the ticket then lives only in the router's config).
// Registered when a `dashboard` web path names the file (`setup`). The file is read at each call:
// it may appear after the start, and once it is gone the procedure answers junction.error.no_setup.
// Wrong codes are throttled for the
// whole node (not per caller, whose address a WAMP procedure does not see): after 5 failures within
// 15 minutes every attempt is refused until the oldest of them is 15 minutes old.

import { createHash, timingSafeEqual } from 'node:crypto';
// fs.promises is read where used, not imported from node:fs/promises: the bundled CLI then
// loads that module (~0.8 MB) only when a file is actually served or written.
import { promises as fsp } from 'node:fs';
import { TRUSTED_ROLE } from '../auth/authorizer.js';
import { ClientSession, WampError } from '../client/session.js';
import type { SessionFactory } from '../router/transport.js';
import { log } from '../log.js';

export const SETUP_REVEAL = 'junction.setup.reveal';
const MAX_FAILURES = 5;
const WINDOW_MS = 15 * 60_000;

export class SetupReveal {
  private session: ClientSession | undefined;
  private failures: number[] = [];

  constructor(readonly realm: string, readonly file: string, private readonly now: () => number = Date.now) {}

  async start(factory: SessionFactory): Promise<void> {
    this.session = await ClientSession.connect(factory, { realm: this.realm, role: TRUSTED_ROLE, authid: 'junction-setup', name: 'setup-reveal', privileged: true });
    await this.session.register(SETUP_REVEAL, (args) => this.reveal(args[0]));
    log.info(`setup: ${SETUP_REVEAL} in realm '${this.realm}' reveals the credentials in ${this.file} for its setup code`);
  }

  async stop(): Promise<void> {
    await this.session?.close().catch(() => undefined);
  }

  async reveal(code: unknown): Promise<Record<string, unknown>> {
    const t = this.now();
    this.failures = this.failures.filter((at) => t - at < WINDOW_MS);
    if (this.failures.length >= MAX_FAILURES) {
      const wait = Math.ceil((this.failures[0]! + WINDOW_MS - t) / 1000);
      throw new WampError('junction.error.too_many_attempts', [`too many wrong setup codes; try again in ${wait} s`]);
    }
    let setup: { setup_code?: unknown; admin?: { authid?: unknown; ticket?: unknown }; created?: unknown };
    try {
      setup = JSON.parse(await fsp.readFile(this.file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new WampError('junction.error.no_setup', ['no setup pending: the credentials were given or setup is complete']);
      log.warn(`setup: cannot read ${this.file}: ${(err as Error).message}`);
      throw new WampError('junction.error.no_setup', ['the setup file cannot be read']);
    }
    if (typeof setup.setup_code !== 'string' || setup.setup_code === '' || typeof code !== 'string' || !sameSecret(code.trim(), setup.setup_code)) {
      this.failures.push(t);
      log.warn(`setup: wrong setup code (${this.failures.length} of ${MAX_FAILURES} within 15 min)`);
      throw new WampError('wamp.error.not_authorized', ['wrong setup code']);
    }
    this.failures = [];
    await fsp.rm(this.file, { force: true }).catch((err: Error) => log.warn(`setup: cannot remove ${this.file} after revealing it: ${err.message}`));
    log.info(`setup: credentials revealed on the dashboard; ${this.file} removed`);
    return { authid: setup.admin?.authid ?? null, ticket: setup.admin?.ticket ?? null, created: setup.created ?? null };
  }
}

/** Compares in constant time (hashes first, so lengths do not leak either). */
function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

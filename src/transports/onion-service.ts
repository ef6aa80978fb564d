// Keeps a listener published as a Tor onion service (an `onion` endpoint): connects to the Tor
// daemon's control port, authenticates, and sends ADD_ONION mapping the virtual port to the local
// 127.0.0.1 port. The key is Tor's new one at the first start, written to private_key_file (0600),
// and that file's key at every start after (Flags=DiscardPK), so the .onion address stays. The
// control connection stays open: Tor removes a service without Flags=Detach when the connection
// that made it closes, which is what Junction's stop wants. Tor missing or gone: a log line saying
// what to do, and another try after 1, 2, 4 … 30 s, forever (Tor may start after Junction).

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { onionKeyOf, type OnionServiceConfig } from '../config/types.js';
import { log } from '../log.js';
import { TorControl } from './tor-control.js';

const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;

export class OnionService {
  private control: TorControl | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private stopped = false;
  /** "<id>.onion" once Tor published it (for the log and tests). */
  address: string | undefined;

  constructor(private readonly config: OnionServiceConfig, private readonly localPort: number, private readonly name: string) {}

  /** Starts trying; never throws (every failure is logged and retried). */
  start(): void {
    void this.attempt();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.control?.close(); // Tor drops the service with the connection
    this.control = undefined;
  }

  private async attempt(): Promise<void> {
    const where = this.config.control.type === 'unix' ? `unix:${this.config.control.path}` : `${this.config.control.host}:${this.config.control.port}`;
    let control: TorControl | undefined;
    try {
      control = await TorControl.open(this.config.control);
      if (this.stopped) return control.close();
      await control.authenticate();
      const saved = await this.savedKey();
      const port = `Port=${this.config.virtualPort},127.0.0.1:${this.localPort}`;
      const reply = await control.command(saved ? `ADD_ONION ${saved} Flags=DiscardPK ${port}` : `ADD_ONION NEW:ED25519-V3 ${port}`);
      const serviceId = value(reply.lines, 'ServiceID');
      if (!serviceId) throw new Error('Tor answered ADD_ONION without a ServiceID');
      if (!saved) await this.saveKey(value(reply.lines, 'PrivateKey'));
      if (this.stopped) return control.close();
      this.control = control;
      this.retryMs = FIRST_RETRY_MS;
      this.address = `${serviceId}.onion`;
      log.info(`listener ${this.name}: onion service ${this.address}:${this.config.virtualPort} (Tor at ${where}) -> 127.0.0.1:${this.localPort}${saved ? '' : `, its new key written to ${this.config.privateKeyFile}`}`);
      control.onClose((err) => {
        if (this.stopped || this.control !== control) return;
        this.control = undefined;
        log.warn(`listener ${this.name}: lost Tor's control connection at ${where} (${err.message}): ${this.address} is unreachable until Tor is back; trying again`);
        this.address = undefined;
        this.retry();
      });
    } catch (err) {
      control?.close();
      if (this.stopped) return;
      log.warn(`listener ${this.name}: onion service: cannot use Tor's control port at ${where}: ${(err as Error).message}. Start tor with "ControlPort" (or "ControlSocket") at that address and "CookieAuthentication 1"; trying again in ${this.retryMs / 1000} s`);
      this.retry();
    }
  }

  private retry(): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => void this.attempt(), this.retryMs);
    this.retryTimer.unref?.();
    this.retryMs = Math.min(this.retryMs * 2, LAST_RETRY_MS);
  }

  /** The key on file, or undefined when there is none yet (a new one is asked for). */
  private async savedKey(): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.config.privateKeyFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read private_key_file ${this.config.privateKeyFile}: ${(err as Error).message}`);
    }
    const key = onionKeyOf(text);
    if (!key) throw new Error(`private_key_file ${this.config.privateKeyFile} does not hold an ED25519-V3 key: remove it to have a new one (and a new .onion address) made`);
    return key;
  }

  private async saveKey(key: string | undefined): Promise<void> {
    const parsed = key === undefined ? undefined : onionKeyOf(key);
    if (!parsed) throw new Error('Tor answered ADD_ONION NEW without an ED25519-V3 PrivateKey');
    await mkdir(dirname(this.config.privateKeyFile), { recursive: true, mode: 0o700 });
    // "wx": never overwrite a key another process wrote meanwhile.
    await writeFile(this.config.privateKeyFile, `${parsed}\n`, { mode: 0o600, flag: 'wx' });
  }
}

/** Publishes a listener bound at `address` (its 127.0.0.1 port) as the configured onion service. */
export function startOnionService(config: OnionServiceConfig, address: AddressInfo | string | null, name: string): OnionService {
  const service = new OnionService(config, typeof address === 'object' && address ? address.port : 0, name);
  service.start();
  return service;
}

/** The value of "key=value" among a reply's lines. */
function value(lines: string[], key: string): string | undefined {
  const line = lines.find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1);
}

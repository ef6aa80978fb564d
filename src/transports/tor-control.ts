// A connection to a Tor daemon's control port (Tor's control-spec): one command line out, one reply
// in. A reply is lines "250-key=value" ending with "250 OK" (or a 4xx/5xx line for an error);
// asynchronous "650" event lines are skipped. Authentication reads what PROTOCOLINFO offers: no auth,
// or the cookie file (CookieAuthentication 1).

import { connect, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';

export type TorControlAddress = { type: 'tcp'; host: string; port: number } | { type: 'unix'; path: string };

/** A reply: its status code and its lines without the "250-" prefixes. */
export interface TorReply { status: number; lines: string[] }

/** Longest reply kept (a misbehaving peer cannot make Junction hold more). */
const MAX_REPLY_BYTES = 64 * 1024;

export class TorControl {
  private buffer = '';
  private lines: string[] = [];
  /** Bytes of the reply being read (its lines and the unfinished one). */
  private replyBytes = 0;
  /** Inside a "250+key=" data block, which ends with a line ".". */
  private inData = false;
  private waiting: Array<{ resolve: (r: TorReply) => void; reject: (e: Error) => void }> = [];
  private closedError: Error | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket, readonly where: string) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.read(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      this.closed = true;
      this.fail(new Error('the control connection closed'));
    });
  }

  /** Connects; rejects with Node's error (ECONNREFUSED, ENOENT, EACCES) if the daemon is not there. */
  static open(address: TorControlAddress): Promise<TorControl> {
    const where = address.type === 'unix' ? `unix:${address.path}` : `${address.host}:${address.port}`;
    return new Promise((resolve, reject) => {
      const socket = address.type === 'unix' ? connect(address.path) : connect(address.port, address.host);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new TorControl(socket, where));
      });
    });
  }

  /** Called once, when the connection is gone (closed by Tor, or by close()). */
  onClose(handler: (err: Error) => void): void {
    const call = () => handler(this.closedError ?? new Error('the control connection closed'));
    if (this.closed) queueMicrotask(call); // it closed while the caller was busy
    else this.socket.once('close', call);
  }

  /** Sends one command and waits for its reply; a 4xx/5xx reply rejects with Tor's words. */
  async command(line: string): Promise<TorReply> {
    if (this.closedError) throw this.closedError;
    const reply = new Promise<TorReply>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.socket.write(`${line}\r\n`);
    const r = await reply;
    if (r.status >= 400) throw new Error(`Tor answered ${r.status} ${r.lines.join(' ')}`);
    return r;
  }

  /**
   * PROTOCOLINFO, then AUTHENTICATE as it allows: with nothing (no auth configured) or with the
   * cookie file's bytes in hex. A password-only daemon is refused with what to configure.
   */
  async authenticate(): Promise<void> {
    const info = await this.command('PROTOCOLINFO 1');
    const auth = info.lines.find((l) => l.startsWith('AUTH '));
    const methods = /METHODS=(\S+)/.exec(auth ?? '')?.[1]?.split(',') ?? [];
    if (methods.includes('NULL')) {
      await this.command('AUTHENTICATE');
      return;
    }
    if (!methods.includes('COOKIE')) {
      throw new Error(`Tor offers authentication ${methods.join(', ') || '(none named)'}; Junction authenticates with Tor's cookie: set "CookieAuthentication 1" in torrc`);
    }
    const file = unquote(/COOKIEFILE=("(?:[^"\\]|\\.)*")/.exec(auth ?? '')?.[1] ?? '""');
    let cookie: Buffer;
    try {
      cookie = await readFile(file);
    } catch (err) {
      throw new Error(`cannot read Tor's cookie file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): the user Junction runs as must be able to read it, e.g. be in the group debian-tor (with "CookieAuthGroupReadable 1" in torrc)`);
    }
    await this.command(`AUTHENTICATE ${cookie.toString('hex')}`);
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    this.replyBytes += chunk.length;
    if (this.replyBytes > MAX_REPLY_BYTES) {
      this.fail(new Error(`a reply longer than ${MAX_REPLY_BYTES} bytes`));
      this.socket.destroy();
      return;
    }
    let end: number;
    while ((end = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (this.inData) {
      if (line === '.') this.inData = false;
      else this.lines.push(line);
      return;
    }
    const status = Number(line.slice(0, 3));
    if (status === 650) return; // an event nobody asked for
    this.lines.push(line.slice(4));
    if (line[3] === '+') this.inData = true;
    if (line[3] !== ' ') return; // "250-" and "250+" lines go on
    const lines = this.lines;
    this.lines = [];
    this.replyBytes = this.buffer.length;
    this.waiting.shift()?.resolve({ status, lines });
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.closedError);
  }
}

/** A control-spec QuotedString: "..." with backslash escapes. */
function unquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/g, '$1');
}

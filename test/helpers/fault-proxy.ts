// A TCP proxy that puts network faults in a connection's path, for kernels without netem: delay
// (each chunk held back before it goes on), byte-level throttling (at most so many bytes a second,
// sent in small slices so messages arrive split across segments), stalls (a connection stops
// forwarding either way without closing, as a stale NAT entry or a dead access point leaves it),
// dropped connections (both ends reset), a cut (every connection dropped and new ones refused: a
// cable pulled, a hub down) and a pause (nothing passes on any connection, made before or during
// it, as with a hung hub: what is sent waits, in order, for `open`).
import { createServer, connect, type Server, type Socket } from 'node:net';

/** Bytes held for one direction before the proxy stops reading its source (TCP's window closes). */
const HIGH_WATER = 256 * 1024;
/** How often a throttled direction sends its next slice. */
const SLICE_MS = 20;

interface Chunk { data: Buffer; due: number }

/** One direction of one proxied connection. */
class Direction {
  private readonly queue: Chunk[] = [];
  private queued = 0;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;
  /** Bytes this direction may still send now (throttled), refilled by the time passed. */
  private allowance = 0;
  private refilled = Date.now();

  constructor(private readonly from: Socket, private readonly to: Socket, private readonly pair: Connection) {
    from.on('data', (data: Buffer) => {
      this.queue.push({ data, due: Date.now() + pair.proxy.delayMs });
      this.queued += data.length;
      if (this.queued > HIGH_WATER) from.pause();
      this.pump();
    });
    from.on('end', () => {
      this.ended = true;
      this.pump();
    });
    to.on('drain', () => {
      this.waitingForDrain = false;
      this.pump();
    });
  }

  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pair.stalled || this.pair.proxy.mode === 'paused' || this.waitingForDrain || this.to.destroyed) return;
    const rate = this.pair.proxy.bytesPerSecond;
    while (this.queue.length) {
      const head = this.queue[0]!;
      const now = Date.now();
      if (head.due > now) return this.later(head.due - now);
      let size = head.data.length;
      if (rate > 0) {
        this.allowance = Math.min(this.allowance + ((now - this.refilled) * rate) / 1000, (rate * SLICE_MS) / 1000);
        this.refilled = now;
        size = Math.min(size, Math.floor(this.allowance));
        if (size <= 0) return this.later(SLICE_MS);
        this.allowance -= size;
      }
      const slice = head.data.subarray(0, size);
      if (size === head.data.length) this.queue.shift();
      else head.data = head.data.subarray(size);
      this.queued -= size;
      if (this.queued <= HIGH_WATER) this.from.resume();
      if (this.to === this.pair.upstream) this.pair.proxy.bytesToTarget += size;
      if (!this.to.write(slice)) {
        this.waitingForDrain = true;
        return;
      }
      if (rate > 0) return this.later(SLICE_MS);
    }
    if (this.ended) this.to.end();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.from.pause();
  }

  private later(ms: number): void {
    this.timer = setTimeout(() => this.pump(), ms);
  }
}

/** A client's connection and the proxy's connection to the target, forwarded both ways. */
class Connection {
  stalled = false;
  private readonly directions: Direction[];

  constructor(readonly client: Socket, readonly upstream: Socket, readonly proxy: FaultProxy) {
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.directions = [new Direction(client, upstream, this), new Direction(upstream, client, this)];
    // A reset on one side resets the other, unless stalled: then nothing at all is passed on.
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('error', () => {});
      a.on('close', () => {
        if (!this.stalled) b.destroy();
        if (client.destroyed && upstream.destroyed) proxy.forget(this);
      });
    }
  }

  stall(): void {
    this.stalled = true;
    for (const d of this.directions) d.stop();
  }

  /** Passes on what waited during a pause. */
  resume(): void {
    for (const d of this.directions) d.pump();
  }

  drop(): void {
    this.stalled = false;
    for (const s of [this.client, this.upstream]) if (!s.destroyed) s.resetAndDestroy();
  }
}

/** open: forwarding; paused: every connection holds what it gets; cut: no connection at all. */
type Mode = 'open' | 'paused' | 'cut';

export class FaultProxy {
  /** ms each chunk is held before it is forwarded (each direction). */
  delayMs = 0;
  /** Most bytes a second each direction forwards; 0 = no limit. */
  bytesPerSecond = 0;
  /** Connections accepted so far (not those refused during a cut). */
  accepted = 0;
  /** Bytes forwarded to the target so far, over all connections. */
  bytesToTarget = 0;
  private readonly live = new Set<Connection>();
  private state: Mode = 'open';

  private constructor(private readonly server: Server, readonly port: number) {}

  /** Listens on `host` (a free port) and forwards each connection to target. */
  static start(host: string, target: { host: string; port: number }): Promise<FaultProxy> {
    return new Promise((resolve, reject) => {
      let proxy: FaultProxy;
      const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
        if (proxy.mode === 'cut') return void client.resetAndDestroy();
        proxy.accepted++;
        const upstream = connect({ port: target.port, host: target.host, allowHalfOpen: true });
        upstream.pause();
        const connection = new Connection(client, upstream, proxy);
        proxy.live.add(connection);
        upstream.once('connect', () => {
          client.resume();
          upstream.resume();
        });
      });
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        proxy = new FaultProxy(server, typeof address === 'object' && address ? address.port : 0);
        resolve(proxy);
      });
    });
  }

  get mode(): Mode {
    return this.state;
  }

  /** Connections open now (stalled ones count until dropped). */
  get connections(): number {
    return this.live.size;
  }

  /** The connections open now stop forwarding, both ways, and pass on no close; later ones are forwarded. */
  stall(): void {
    for (const c of this.live) c.stall();
  }

  /** Resets every connection open now (both ends get a reset). */
  drop(): void {
    for (const c of [...this.live]) c.drop();
    this.live.clear();
  }

  /** Drops every connection and refuses (resets) new ones until `open`. */
  cut(): void {
    this.state = 'cut';
    this.drop();
  }

  /** Every connection, open now or made until `open`, passes nothing on either way: data and ends wait (a reset passes). */
  pause(): void {
    this.state = 'paused';
  }

  /** Ends a cut or a pause: what waited goes on, in order. Stalled connections stay stalled. */
  open(): void {
    this.state = 'open';
    for (const c of this.live) c.resume();
  }

  forget(connection: Connection): void {
    this.live.delete(connection);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// A TCP proxy between a router link and its remote router, for tests that take the network away:
// `cut` drops every connection and refuses new ones (a cable pulled, a hub down), `stall` keeps the
// connections but passes nothing on (a hung process, a dead route; data waits), `open` restores.
// `bytesToTarget` counts what the link sent.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

type Mode = 'open' | 'cut' | 'stall';

interface Pair { client: Socket; target: Socket; held: Array<[Socket, Buffer]> }

export class LinkProxy {
  mode: Mode = 'open';
  bytesToTarget = 0;
  private readonly pairs = new Set<Pair>();

  private constructor(private readonly server: Server, readonly targetPort: number) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<LinkProxy> {
    const server = createServer();
    const proxy = new LinkProxy(server, targetPort);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  cut(): void {
    this.mode = 'cut';
    for (const p of this.pairs) this.drop(p);
  }

  stall(): void {
    this.mode = 'stall';
  }

  open(): void {
    this.mode = 'open';
    for (const p of this.pairs) {
      for (const [to, data] of p.held.splice(0)) this.send(p, to, data);
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') return void client.destroy();
    const target = connect(this.targetPort, '127.0.0.1');
    const pair: Pair = { client, target, held: [] };
    this.pairs.add(pair);
    client.on('data', (data) => this.pass(pair, target, data));
    target.on('data', (data) => this.pass(pair, client, data));
    for (const s of [client, target]) {
      s.on('error', () => this.drop(pair));
      s.on('close', () => this.drop(pair));
    }
  }

  private pass(pair: Pair, to: Socket, data: Buffer): void {
    if (this.mode === 'stall') pair.held.push([to, data]);
    else this.send(pair, to, data);
  }

  private send(pair: Pair, to: Socket, data: Buffer): void {
    if (to === pair.target) this.bytesToTarget += data.length;
    to.write(data);
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.target.destroy();
  }
}

// The bystander: an ordinary client on a real WebSocket (wamp.2.json, written frame by frame with ws)
// that keeps working while others attack the router. It serves `bystander.echo`, subscribes to
// `bystander.tick`, and every `intervalMs` calls its own procedure and publishes an event to itself.
// Every call must come back with its argument, every acknowledged publication must arrive as an event.

import { WsConn } from '../helpers/wamp-wire.js';

export class Bystander {
  private request = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pendingCalls = new Map<number, number>();
  private readonly expectedEvents = new Set<number>();
  calls = 0;
  results = 0;
  events = 0;
  readonly errors: string[] = [];
  private seq = 0;

  private constructor(private readonly conn: WsConn) {}

  static async start(url: string, intervalMs = 20): Promise<Bystander> {
    const conn = await WsConn.open(url, 'json');
    const b = new Bystander(conn);
    conn.onMessage = (m) => b.onMessage(m as unknown[]);
    conn.sendMessage([1, 'realm1', { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }]);
    if (!(await conn.next((m) => m[0] === 2))) throw new Error(`bystander not welcomed: ${JSON.stringify(conn.messages)}`);
    const reg = ++b.request;
    conn.sendMessage([64, reg, {}, 'bystander.echo']);
    const sub = ++b.request;
    conn.sendMessage([32, sub, {}, 'bystander.tick']);
    if (!(await conn.next((m) => m[0] === 65 && m[1] === reg)) || !(await conn.next((m) => m[0] === 33 && m[1] === sub))) {
      throw new Error(`bystander could not register/subscribe: ${JSON.stringify(conn.messages)}`);
    }
    b.timer = setInterval(() => b.tick(), intervalMs);
    return b;
  }

  private tick(): void {
    if (this.conn.closed) {
      if (!this.errors.includes('closed')) this.errors.push('closed');
      return;
    }
    const n = ++this.seq;
    const call = ++this.request;
    this.pendingCalls.set(call, n);
    this.calls++;
    this.conn.sendMessage([48, call, {}, 'bystander.echo', [n]]);
    this.expectedEvents.add(n);
    this.conn.sendMessage([16, ++this.request, { acknowledge: true, exclude_me: false }, 'bystander.tick', [], { seq: n }]);
  }

  private onMessage(m: unknown[]): void {
    switch (m[0]) {
      case 68: // INVOCATION of our echo: answer with the argument
        this.conn.sendMessage([70, m[1], {}, (m[4] as unknown[]) ?? []]);
        return;
      case 50: {
        const n = this.pendingCalls.get(m[1] as number);
        if (n === undefined) return void this.errors.push(`RESULT for unknown call ${String(m[1])}`);
        this.pendingCalls.delete(m[1] as number);
        if ((m[3] as unknown[])?.[0] !== n) this.errors.push(`call ${n} came back as ${JSON.stringify(m[3])}`);
        this.results++;
        return;
      }
      case 36: {
        // Fuzzing sessions may publish here too; count only our own events.
        const seq = (m[5] as Record<string, unknown> | undefined)?.['seq'];
        if (typeof seq === 'number' && this.expectedEvents.delete(seq)) this.events++;
        return;
      }
      case 8: case 3: case 6:
        this.errors.push(`unexpected ${JSON.stringify(m).slice(0, 300)}`);
        return;
    }
  }

  /** Stops calling; waits until every call is answered and every event arrived. */
  async stop(ms = 10_000): Promise<void> {
    clearInterval(this.timer);
    const ok = await this.conn.wait(() => this.pendingCalls.size === 0 && this.expectedEvents.size === 0, ms);
    if (!ok) this.errors.push(`${this.pendingCalls.size} calls unanswered, ${this.expectedEvents.size} events missing after ${ms} ms`);
    this.conn.close();
  }
}

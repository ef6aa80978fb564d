// A WAMP subscriber that keeps every EVENT with its whole details dict, for tests that look at
// what a router adds there (forward_for, _late, _published_at): Autobahn|JS keeps only the
// attributes it knows. Plain WAMP over WebSocket (JSON), anonymous.
import type { Dict } from '../../src/wamp/message.js';
import { WsConn } from './wamp-wire.js';

export interface SeenEvent { topic: string; args: unknown[]; kwargs: Dict; details: Dict }

export class EventWatcher {
  readonly events: SeenEvent[] = [];
  private readonly topics = new Map<number, string>();
  private nextRequest = 1;

  private constructor(private readonly conn: WsConn) {
    conn.onMessage = (m) => {
      const [type, sub, , details, args, kwargs] = m as [number, number, number, Dict, unknown[]?, Dict?];
      if (type !== 36) return;
      const topic = (details['topic'] as string | undefined) ?? this.topics.get(sub) ?? '';
      this.events.push({ topic, args: args ?? [], kwargs: kwargs ?? {}, details });
    };
  }

  /** Connects (a ws:// or ws+unix: URL) and joins the realm. */
  static async join(url: string, realm: string): Promise<EventWatcher> {
    const conn = await WsConn.open(url, 'json');
    conn.sendMessage([1, realm, { roles: { subscriber: {} } }]);
    const welcome = await conn.next((m) => m[0] === 2 || m[0] === 3);
    if (welcome?.[0] !== 2) throw new Error(`could not join ${realm} at ${url}: ${JSON.stringify(welcome)}`);
    return new EventWatcher(conn);
  }

  async subscribe(uri: string, match: 'exact' | 'prefix' | 'wildcard' = 'exact'): Promise<void> {
    const request = this.nextRequest++;
    const from = this.conn.messages.length;
    this.conn.sendMessage([32, request, match === 'exact' ? {} : { match }, uri]);
    const reply = await this.conn.next((m) => (m[0] === 33 || m[0] === 8) && m[m[0] === 33 ? 1 : 2] === request, from);
    if (reply?.[0] !== 33) throw new Error(`subscribing to ${uri} failed: ${JSON.stringify(reply)}`);
    this.topics.set(reply[2] as number, uri);
  }

  /** The events of a topic (for a prefix subscription: topics that start with it). */
  of(topic: string): SeenEvent[] {
    return this.events.filter((e) => e.topic === topic || (topic.endsWith('.') && e.topic.startsWith(topic)));
  }

  close(): void {
    this.conn.close();
  }
}

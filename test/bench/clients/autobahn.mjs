// Autobahn|JS (npm `autobahn` 22.x), the client real applications use, over WebSocket with JSON
// only: Autobahn offers msgpack too by default, and the bench compares JSON routing.
import { createRequire } from 'node:module';

// Autobahn's log.warn (bound to console.warn when it loads) reports every connection that
// closes, including the bench's own orderly ones; only its other warnings are kept.
const warn = console.warn;
const chatter = /^(connection closed|auto-reconnect disabled|giving up trying to auto-reconnect)/;
console.warn = (first, ...rest) => { if (!chatter.test(String(first))) warn(first, ...rest); };
export const autobahn = createRequire(import.meta.url)('autobahn');
console.warn = warn;

/** Opens a session; resolves with it and a `close()` that resolves once the connection is gone. */
export function open(url, realm = 'realm1', timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      transports: [{ type: 'websocket', url, serializers: [new autobahn.serializer.JSONSerializer()] }],
      realm,
      max_retries: 0,
      use_es6_promises: true,
    });
    const timer = setTimeout(() => reject(new Error(`no session from ${url}`)), timeoutMs);
    let closed;
    const gone = new Promise((r) => { closed = r; });
    connection.onclose = (reason, details) => {
      clearTimeout(timer);
      closed();
      reject(new Error(`connection closed: ${reason} ${details?.message ?? ''}`));
      return true; // no reconnect
    };
    connection.onopen = (session) => {
      clearTimeout(timer);
      const close = () => { if (connection.isOpen) connection.close(); return gone; };
      resolve({ session, close });
    };
    connection.open();
  });
}

// A minimal WAMP-over-WebSocket (JSON) client for load generation: light enough that the
// router, not the client, is what the bench measures. In relay mode it sends the same frames
// and skips the session opening.
import WebSocket from 'ws';

export function connect(url, { wamp, realm = 'realm1' }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'wamp.2.json', { perMessageDeflate: false });
    ws.on('error', reject);
    ws.on('open', () => {
      ws._socket.setNoDelay(true);
      if (!wamp) return resolve(ws);
      ws.send(JSON.stringify([1, realm, { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }]));
      ws.once('message', (d) => {
        const m = JSON.parse(d);
        if (m[0] === 2) resolve(ws);
        else reject(new Error(`not welcomed: ${d}`));
      });
    });
  });
}

/** Sends a request and resolves with the first answer whose type is in `types`. */
export function request(ws, message, types) {
  return new Promise((resolve) => {
    const on = (d) => {
      const m = JSON.parse(d);
      if (types.includes(m[0])) { ws.off('message', on); resolve(m); }
    };
    ws.on('message', on);
    ws.send(JSON.stringify(message));
  });
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

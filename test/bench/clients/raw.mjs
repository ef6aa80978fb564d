// Frame-level clients on `ws`, light enough that the router, not the client, is what they load.
// Mode 'relay' skips the session opening (the raw relay speaks no WAMP); mode 'light' does the
// WAMP JSON HELLO/WELCOME and then sends hand-built frames (used for idle sessions, and for J and
// F when the run asks for --light clients).
import WebSocket from 'ws';

export function connect(url, { wamp, realm = 'realm1', timeoutMs = 15_000 }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'wamp.2.json', { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`no WELCOME from ${url}`)); }, timeoutMs);
    ws.on('error', (err) => { clearTimeout(timer); reject(err); });
    ws.on('open', () => {
      ws._socket.setNoDelay(true);
      if (!wamp) { clearTimeout(timer); return resolve(ws); }
      ws.send(JSON.stringify([1, realm, { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }]));
      ws.once('message', (d) => {
        clearTimeout(timer);
        const m = JSON.parse(d);
        if (m[0] === 2) resolve(ws);
        else reject(new Error(`not welcomed: ${d}`));
      });
    });
  });
}

/** Sends a request and resolves with the first answer whose type is in `types`. */
export function request(ws, message, types) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(message)}`)), 15_000);
    const on = (d) => {
      const m = JSON.parse(d);
      if (!types.includes(m[0])) return;
      clearTimeout(timer);
      ws.off('message', on);
      if (m[0] === 8) reject(new Error(`refused: ${d}`));
      else resolve(m);
    };
    ws.on('message', on);
    ws.send(JSON.stringify(message));
  });
}

/** Closes politely (close frame, then wait for the peer's), so a router never writes to a vanished socket. */
export function close(ws) {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve();
  return new Promise((resolve) => { ws.once('close', resolve); ws.close(1000); });
}

// One WAMP session over WebSocket/JSON from outside a booted image (images/boot-check.mjs and
// images/sd-writes/measure.mjs): just what those checks use, with `ws` from the checkout.
import WebSocket from 'ws';

/** One WAMP session over WebSocket/JSON; resolves with helpers once WELCOME arrives, rejects on ABORT. */
export function joinRealm({ port, realm, auth }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json'], { handshakeTimeout: 5000 });
    const pending = new Map();
    const handlers = new Map();
    let nextId = 1;
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('no answer to HELLO within 10 s')); }, 10_000);
    ws.on('error', (e) => { clearTimeout(timer); reject(e); });
    ws.on('close', () => { clearTimeout(timer); reject(new Error('closed')); for (const p of pending.values()) p.reject(new Error('closed')); });
    ws.on('open', () => {
      const details = { roles: { caller: {}, subscriber: {}, publisher: {} } };
      if (auth) Object.assign(details, { authmethods: ['ticket'], authid: auth.authid });
      else details.authmethods = ['anonymous'];
      ws.send(JSON.stringify([1, realm, details]));
    });
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      switch (m[0]) {
        case 4: ws.send(JSON.stringify([5, auth?.ticket ?? '', {}])); break;           // CHALLENGE
        case 3: clearTimeout(timer); ws.close(); reject(Object.assign(new Error(`ABORT ${m[2]}`), { abort: m[2] })); break;
        case 2: clearTimeout(timer); resolve({                                          // WELCOME
          call(procedure, a = []) {
            const id = nextId++; ws.send(JSON.stringify([48, id, {}, procedure, a]));
            return new Promise((res, rej) => pending.set(id, { resolve: res, reject: rej }));
          },
          subscribe(t, onEvent) {
            const id = nextId++; ws.send(JSON.stringify([32, id, {}, t]));
            return new Promise((res, rej) => pending.set(id, { resolve: (sub) => { handlers.set(sub, onEvent); res(sub); }, reject: rej }));
          },
          close() { ws.removeAllListeners('close'); ws.close(); },
        }); break;
        case 50: pending.get(m[1])?.resolve(m[3]); pending.delete(m[1]); break;        // RESULT
        case 33: pending.get(m[1])?.resolve(m[2]); pending.delete(m[1]); break;        // SUBSCRIBED
        case 8: pending.get(m[2])?.reject(new Error(`ERROR ${m[4]}`)); pending.delete(m[2]); break;
        case 36: handlers.get(m[1])?.(m[4] ?? [], m[5] ?? {}, m[3] ?? {}); break;      // EVENT
      }
    });
  });
}

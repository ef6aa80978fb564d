// The raw relay: a ws server that forwards frames without parsing them — the ceiling for any
// Node router built on ws. It batches writes per event-loop turn, as Junction does, so the
// comparison measures WAMP routing, not write strategy.
//   /callee   the RPC callee: its frames go to every caller (one caller in the bench)
//   /pub      a publisher: each frame is forwarded to every /sub connection, and a 1-byte ack
//             frame goes back so the publisher can keep a window, as with PUBLISHED
//   anything else: a caller (frames go to the callee) or a subscriber (/sub), or idle
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false });
const callers = new Set();
const subscribers = new Set();
let callee;
const ACK = Buffer.from('a');

function batched(ws) {
  const socket = ws._socket;
  socket.setNoDelay(true);
  let corked = false;
  const uncork = () => { corked = false; socket.uncork(); };
  return (data, binary) => {
    if (!corked) { corked = true; socket.cork(); setImmediate(uncork); }
    ws.send(data, { binary });
  };
}

wss.on('connection', (ws, req) => {
  const send = batched(ws);
  ws.sendBatched = send;
  const path = req.url;
  if (path === '/callee') {
    callee = ws;
    ws.on('message', (d, bin) => { for (const c of callers) c.sendBatched(d, bin); });
  } else if (path === '/pub') {
    ws.on('message', (d, bin) => {
      for (const s of subscribers) s.sendBatched(d, bin);
      send(ACK, false);
    });
  } else if (path === '/sub') {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
  } else {
    callers.add(ws);
    ws.on('message', (d, bin) => callee?.sendBatched(d, bin));
    ws.on('close', () => callers.delete(ws));
  }
});
wss.on('listening', () => process.send?.('ready'));

// The raw relay: a `ws` server that forwards frames without parsing them, the ceiling for any
// Node router built on ws. Like Junction it coalesces each connection's writes per event-loop
// turn (cork until setImmediate), so the comparison measures WAMP routing, not write strategy.
// The path of the connection says its role:
//   /callee  an RPC callee; callers' frames are dealt to the callees in turn (round robin),
//            callees' frames go to the caller (one caller per case)
//   /pub     a publisher: each frame goes to every /sub connection, then a 1-byte ack frame
//            back, so the publisher keeps a window as it does with PUBLISHED
//   /sub     a subscriber
//   other    a caller, or an idle connection
import { WebSocketServer } from 'ws';

process.on('disconnect', () => process.exit(0)); // the runner is gone
const wss = new WebSocketServer({ port: Number(process.argv[2]), host: '127.0.0.1', perMessageDeflate: false });
const callers = new Set();
const callees = [];
const subscribers = new Set();
let turn = 0;
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

function member(set, ws) {
  set.add(ws);
  ws.on('close', () => set.delete(ws));
}

wss.on('connection', (ws, req) => {
  const send = batched(ws);
  ws.forward = send;
  switch (req.url) {
    case '/callee':
      callees.push(ws);
      ws.on('close', () => callees.splice(callees.indexOf(ws), 1));
      ws.on('message', (d, binary) => { for (const c of callers) c.forward(d, binary); });
      break;
    case '/pub':
      ws.on('message', (d, binary) => {
        for (const s of subscribers) s.forward(d, binary);
        send(ACK, false);
      });
      break;
    case '/sub':
      member(subscribers, ws);
      break;
    default:
      member(callers, ws);
      ws.on('message', (d, binary) => {
        if (callees.length === 0) return;
        callees[turn++ % callees.length].forward(d, binary);
      });
  }
});
wss.on('listening', () => process.send?.('ready'));

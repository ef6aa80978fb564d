// The floor under any MQTT broker written for Node: a net server that keeps each socket and answers
// CONNECT with CONNACK and PINGREQ with PINGRESP, nothing else (no parser, no session, no
// bookkeeping but one Set). Only the memory case runs it, beside Junction and aedes with the same
// V8 options: what Node itself holds per idle TCP connection (socket, stream states, libuv handle),
// which no Node broker can go below.
import { createServer } from 'node:net';

process.on('disconnect', () => process.exit(0)); // the runner is gone
const sockets = new Set();
const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const PINGRESP = Buffer.from([0xd0, 0x00]);
function onData(chunk) {
  if (chunk[0] === 0x10) this.write(CONNACK);
  else if (chunk[0] === 0xc0) this.write(PINGRESP);
}
function onClose() {
  sockets.delete(this);
}
function ignore() {}
const server = createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.on('error', ignore);
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));

// The floor of a Node MQTT broker for the memory case: a bare `net` server that answers CONNECT with
// CONNACK and PINGREQ with PINGRESP and holds nothing else per connection (no parser: an idle
// client's packets are read whole). What Node itself costs per idle TCP connection, measured the
// same way as Junction and aedes.
import { createServer } from 'node:net';

const CONNACK = Buffer.from([0x20, 2, 0, 0]);
const PINGRESP = Buffer.from([0xd0, 0]);

process.on('disconnect', () => process.exit(0)); // the runner is gone
const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (chunk) => {
    if (chunk[0] >> 4 === 1) socket.write(CONNACK);
    else if (chunk[0] >> 4 === 12) socket.write(PINGRESP);
  });
  socket.on('error', () => {});
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));

// aedes (npm; the version in peers.mjs), a Node MQTT broker, on a loopback port: the MQTT cases'
// peer written in the same language as Junction. Installed by the bench into .bench-peers/
// (startRouter calls ensurePeer first). In-memory persistence (its default), anonymous clients,
// MQTT over TCP only.
import { createServer } from 'node:net';
import { importPeer } from './peers.mjs';

const { Aedes } = await importPeer('aedes');

process.on('disconnect', () => process.exit(0)); // the runner is gone
const broker = await Aedes.createBroker();
broker.on('connectionError', () => {}); // a client gone mid-write is not the bench's concern
const server = createServer(broker.handle);
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));

// fox-wamp (npm; the version in peers.mjs), a peer Node WAMP router, on a loopback port. It is
// installed by the bench into .bench-peers/ (startRouter calls ensurePeer first). Its package
// entry (lib/fox_router.js) needs only the in-memory engine, so the sqlite3 native module (not
// built: install scripts are off) is never loaded. WAMP over WebSocket, JSON only.
import { requirePeer } from './peers.mjs';

const FoxRouter = requirePeer('fox-wamp');

process.on('disconnect', () => process.exit(0)); // the runner is gone
const router = new FoxRouter();
const server = router.listenWAMP({ port: Number(process.argv[2]), host: '127.0.0.1' });
server.on('listening', () => process.send?.('ready'));

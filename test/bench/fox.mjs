// fox-wamp 0.7.28 (npm), a peer Node WAMP router, on a loopback port. Its package entry
// (lib/fox_router.js) needs only the in-memory engine, so the sqlite3 native module (not built:
// its install script did not run) is never loaded. WAMP over WebSocket, JSON only.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const FoxRouter = require('fox-wamp');

process.on('disconnect', () => process.exit(0)); // the runner is gone
const router = new FoxRouter();
const server = router.listenWAMP({ port: Number(process.argv[2]), host: '127.0.0.1' });
server.on('listening', () => process.send?.('ready'));

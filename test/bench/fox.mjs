// fox-wamp (npm), a peer Node WAMP router, on a port. Its optional SQLite engine is not used.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const FoxRouter = require('fox-wamp');
const router = new FoxRouter();
router.listenWAMP({ port: Number(process.argv[2]), host: '127.0.0.1' });
setTimeout(() => process.send?.('ready'), 200);

// Build step after tsc: bundles the CLI (dist/cli.js and the router modules it reaches) into one
// CommonJS file, dist/bin/junction.cjs, which is what `junction` runs.
//
// Why: Node 20 loads each ES module with an asynchronous read through libuv's thread pool, so a
// router made of ~70 modules spent most of its start-up waiting on file reads and kept four pool
// threads (stacks and malloc arenas) for nothing afterwards. One CommonJS file is read once,
// synchronously: start-up to the first answered call drops by ~40 ms and idle memory by ~5 MB
// (`npm run bench`, cold start and idle RSS).
//
// npm packages stay outside the bundle (`require`d from node_modules as before), and modules the
// router imports only when configured (MQTT, serial, telemetry) are still evaluated only then:
// esbuild wraps them in functions that run on first use.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli.js'],
  outfile: 'dist/bin/junction.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  // The modules find files (the dashboard's web assets, package.json) relative to their own URL;
  // in the bundle that URL is the bundle's, which sits at the same depth under dist/ as they do.
  define: { 'import.meta.url': '__junction_bundle_url' },
  // "use strict" first: the modules are ES modules, strict by definition, and a directive only
  // counts at the very top of the file.
  banner: { js: "'use strict';\nconst __junction_bundle_url = require('node:url').pathToFileURL(__filename).href;" },
  // Minified: V8 keeps a script's source in memory (for lazy compilation), so a smaller file is
  // resident memory saved (identifiers minified: ~2 MB less idle RSS than names kept, measured by
  // the issue 19 budget test's baseline). No keepNames: esbuild's helper re-set the `name` of every
  // closure each time one was made (Object.defineProperty per call: ~10% of the router's CPU per
  // MQTT message, profiled). Stack traces name minified functions; the linked source map (node
  // --enable-source-maps) leads back to src/ and the real names.
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});

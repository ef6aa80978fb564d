// Where the status dashboard's assets are: the `directory` every `dashboard` web path gets. Kept in
// config/ (not beside the HTTP code that serves it) so loading a config needs nothing of transports/.

import { fileURLToPath } from 'node:url';

/** dist/web beside dist/config, or src/web when run from source (the bundle sits at the same depth). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../web/', import.meta.url));

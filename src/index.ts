// Public API for embedding Junction in a Node program.
export { startNode, JunctionNode } from './node.js';
export { Router } from './router/router.js';
// A Router's own services (meta API, dynamic authenticators/authorizers): new Router(realms, new InProcessServices())
export { InProcessServices } from './router-services/in-process-services.js';
export { ClientSession, WampError, Result } from './client/client-session.js';
export type { JunctionConfig, RealmConfig, ListenerConfig } from './config/types.js';
export { loadConfigFile, parseConfig, defaultConfig, ConfigError } from './config/load.js';

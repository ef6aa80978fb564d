// A running Junction: the router built from a validated config, and its listeners.
// Start and graceful stop; nothing here parses files (see config/).

import type { JunctionConfig } from './config/types.js';
import { Router } from './router/router.js';
import { Listener } from './transports/listener.js';
import { log } from './log.js';

export class JunctionNode {
  readonly router: Router;
  readonly listeners: Listener[];
  private stopping: Promise<void> | undefined;

  constructor(readonly config: JunctionConfig) {
    this.router = new Router(config.router.realms);
    this.listeners = config.router.listeners.map((l) => new Listener(l, this.router));
  }

  async start(): Promise<void> {
    await this.router.ready;
    const started: Listener[] = [];
    try {
      for (const listener of this.listeners) {
        await listener.start();
        started.push(listener);
        log.info(`listening: ${listener.url}`);
      }
    } catch (err) {
      await Promise.allSettled(started.map((l) => l.stop()));
      throw err;
    }
    log.info(`Junction ready: realms ${this.router.realmNames.join(', ')}`);
  }

  /** GOODBYE to every session, then close the listeners. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.router.shutdown();
      await Promise.allSettled(this.listeners.map((l) => l.stop()));
    })();
    return this.stopping;
  }
}

export async function startNode(config: JunctionConfig): Promise<JunctionNode> {
  const node = new JunctionNode(config);
  await node.start();
  return node;
}

// Every realm's router links (`rlinks`), started once the router is ready and stopped before it.

import type { RealmConfig } from '../config/types.js';
import type { SessionFactory } from '../core-boundary.js';
import { RouterLink } from './router-link.js';

export class RouterLinks {
  readonly links: RouterLink[];

  constructor(realms: readonly RealmConfig[], router: SessionFactory) {
    this.links = realms.flatMap((realm) => (realm.rlinks ?? []).map((config) => new RouterLink(realm.name, config, router)));
  }

  start(): void {
    for (const link of this.links) link.start();
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.links.map((l) => l.stop()));
  }
}

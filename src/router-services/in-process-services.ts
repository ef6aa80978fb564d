// The router's own services as in-process sessions: the meta API of each realm that enables it, and
// the service caller (dynamic authenticators and authorizers). Each joins its realm through the
// router's one door like any client, so it goes through the same authorization path; the core sees
// them only as `RouterServices` (router/router.ts). node.ts hands them to the Router.

import type { RealmConfig } from '../config/types.js';
import type { Router, RouterServices } from '../router/router.js';
import type { ServicePurpose } from '../router/session.js';
import type { Payload } from '../client/client-session.js';
import { MetaApi } from './meta-api.js';
import { ServiceCaller } from './service-caller.js';
import type { RouterLinkView } from './router-link-status.js';

export class InProcessServices implements RouterServices {
  private readonly metaApis = new Map<string, MetaApi>();
  private caller: ServiceCaller | undefined;
  private links: readonly RouterLinkView[] = [];

  start(router: Router, realms: readonly RealmConfig[]): Promise<void> {
    this.caller = new ServiceCaller(router);
    for (const config of realms) {
      const realm = router.realm(config.name);
      const ofRealm = () => this.links.filter((l) => l.localRealm === config.name);
      if (realm && config.enableMetaApi !== false) this.metaApis.set(config.name, new MetaApi(realm, ofRealm));
    }
    return Promise.all([...this.metaApis.values()].map((m) => m.start(router))).then(() => undefined);
  }

  /** The realms' router links, once node.ts has made them: junction.rlink.* show them. */
  showRouterLinks(links: ReadonlyArray<RouterLinkView & { onStateChange(listener: (link: RouterLinkView) => void): void }>): void {
    this.links = links;
    for (const link of links) link.onStateChange((l) => this.metaApis.get(l.localRealm)?.routerLinkChanged(l));
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...[...this.metaApis.values()].map((m) => m.stop()), this.caller?.close()]);
  }

  call(realm: string, procedure: string, args: unknown[], purpose: ServicePurpose): Promise<Payload> {
    if (!this.caller) return Promise.reject(new Error('the router services have not started'));
    return this.caller.call(realm, procedure, args, purpose);
  }
}

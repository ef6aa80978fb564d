// The roles and features the router announces in WELCOME: exactly what is implemented.

export const ROUTER_AGENT = 'Junction';

export function routerRoles(): Record<string, { features: Record<string, boolean> }> {
  return {
    broker: {
      features: {
        event_history: true,
        event_retention: true,
        pattern_based_subscription: true,
        publisher_exclusion: true,
        publisher_identification: true,
        session_meta_api: true,
        subscriber_blackwhite_listing: true,
        subscription_meta_api: true,
        subscription_revocation: true,
      },
    },
    dealer: {
      features: {
        call_canceling: true,
        call_timeout: true,
        caller_identification: true,
        pattern_based_registration: true,
        progressive_call_results: true,
        registration_meta_api: true,
        registration_revocation: true,
        session_meta_api: true,
        shared_registration: true,
        testament_meta_api: true,
      },
    },
  };
}

/** Does a client's HELLO announce `feature` for `role`? Accepts the spec's alternate spelling. */
export function clientHasFeature(roles: Record<string, unknown>, role: string, feature: string): boolean {
  const r = roles[role] as { features?: Record<string, unknown> } | undefined;
  const f = r?.features;
  if (!f || typeof f !== 'object') return false;
  if (f[feature] === true) return true;
  return feature === 'call_canceling' && f['call_cancelling'] === true;
}

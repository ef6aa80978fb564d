// Error and close-reason URIs the router sends. One place, so a typo cannot split a URI in two.

export const ErrorUri = {
  invalidUri: 'wamp.error.invalid_uri',
  noSuchProcedure: 'wamp.error.no_such_procedure',
  procedureAlreadyExists: 'wamp.error.procedure_already_exists',
  procedureExistsWithDifferentPolicy: 'wamp.error.procedure_exists_with_different_invocation_policy',
  noSuchRegistration: 'wamp.error.no_such_registration',
  noSuchSubscription: 'wamp.error.no_such_subscription',
  invalidArgument: 'wamp.error.invalid_argument',
  canceled: 'wamp.error.canceled',
  timeout: 'wamp.error.timeout',
  payloadSizeExceeded: 'wamp.error.payload_size_exceeded',
  protocolViolation: 'wamp.error.protocol_violation',
  notAuthorized: 'wamp.error.not_authorized',
  authorizationFailed: 'wamp.error.authorization_failed',
  noSuchRealm: 'wamp.error.no_such_realm',
  noSuchRole: 'wamp.error.no_such_role',
  noMatchingAuthMethod: 'wamp.error.no_matching_auth_method',
  authenticationFailed: 'wamp.error.authentication_failed',
  optionNotAllowed: 'wamp.error.option_not_allowed',
  featureNotSupported: 'wamp.error.feature_not_supported',
  noSuchSession: 'wamp.error.no_such_session',
  maxConcurrencyReached: 'crossbar.error.max_concurrency_reached',
  unregistered: 'wamp.error.unregistered',
} as const;

export const CloseReason = {
  systemShutdown: 'wamp.close.system_shutdown',
  closeRealm: 'wamp.close.close_realm',
  goodbyeAndOut: 'wamp.close.goodbye_and_out',
  /** Crossbar's reply to a client's GOODBYE, and its reason for a kill without one. */
  normal: 'wamp.close.normal',
  killed: 'wamp.close.killed',
} as const;

// Role names the router gives a meaning of its own, whatever the config says.

/**
 * Built into every realm: the router's own components (meta API, bridges, telemetry, schedules by
 * default) join with it and may do everything. A config may name it without defining it.
 */
export const TRUSTED_ROLE = 'trusted';

/** The role of clients on a transport without an `auth` block (as in Crossbar). */
export const ANONYMOUS_ROLE = 'anonymous';

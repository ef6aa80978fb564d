// The MQTT clients' keep-alive [MQTT-3.1.2-24]: a connection silent for 1.5 times its keep-alive is
// closed. One clock for all connections instead of a Node timer each (a Timeout with its closure
// was ~260 bytes per idle connection, and refreshing it on every read cost more than stamping a
// number): the clock ticks every TICK_MS while some connection is watched, a read stamps the
// connection with the current tick, and each tick closes the connections whose silence passed
// their limit. A connection is closed less than 2 ticks (0.5 s) after its limit, never before (a
// stamp is at most one tick behind the read; a busy event loop only makes ticks late).

/** A connection as the clock watches it. */
export interface KeptAlive {
  /** The tick of its last read (set by the connection; see `now`). */
  lastRead: number;
  /** Ticks of silence it is allowed (see `allowedTicks`). */
  readonly keepAliveTicks: number;
  keepAliveExpired(): void;
}

const TICK_MS = 250;

let tick = 0;
const watched = new Set<KeptAlive>();
let timer: NodeJS.Timeout | undefined;

/** The current tick, to stamp a read with. */
export function now(): number {
  return tick;
}

/** The ticks of silence a keep-alive of `seconds` allows: 1.5 × it (more than that many have passed: closed). */
export function allowedTicks(seconds: number): number {
  return Math.ceil((seconds * 1500) / TICK_MS);
}

export function watch(connection: KeptAlive): void {
  connection.lastRead = tick;
  watched.add(connection);
  if (!timer) {
    timer = setInterval(check, TICK_MS);
    timer.unref(); // the connections' sockets keep the process alive, not their clock
  }
}

export function unwatch(connection: KeptAlive): void {
  watched.delete(connection);
  if (watched.size === 0 && timer) {
    clearInterval(timer);
    timer = undefined;
  }
}

function check(): void {
  tick++;
  for (const connection of watched) {
    if (tick - connection.lastRead > connection.keepAliveTicks) {
      unwatch(connection);
      connection.keepAliveExpired();
    }
  }
}

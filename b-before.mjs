// b.ts
import { EventEmitter } from "node:events";

// ../before/src/serializers/json.ts
var utf8 = new TextDecoder("utf-8", { fatal: true });
var BINARY_STRING_START = '"\\u0000';
function reviveBinary(_key, value) {
  return typeof value === "string" && value.charCodeAt(0) === 0 ? Buffer.from(value.slice(1), "base64") : value;
}
function replaceBinary(key, value) {
  const raw = this[key];
  if (raw instanceof Uint8Array) return "\0" + Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64");
  return value;
}
function containsBytes(value) {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === "object" && v !== null && containsBytes(v)) return true;
    }
    return false;
  }
  if (value instanceof Uint8Array) return true;
  const obj = value;
  for (const key in obj) {
    const v = obj[key];
    if (typeof v === "object" && v !== null && containsBytes(v)) return true;
  }
  return false;
}
var jsonSerializer = {
  name: "json",
  binary: false,
  rawSocketId: 1,
  encode(message) {
    const text = containsBytes(message) ? JSON.stringify(message, replaceBinary) : JSON.stringify(message);
    return Buffer.from(text, "utf8");
  },
  decode(data, utf8Checked = false) {
    const text = utf8Checked ? data.toString("utf8") : utf8.decode(data);
    return text.includes(BINARY_STRING_START) ? JSON.parse(text, reviveBinary) : JSON.parse(text);
  }
};

// ../before/src/serializers/msgpack.ts
import { createRequire } from "node:module";

// ../before/src/serializers/wire-values.ts
var INT32_MIN = -2147483648;
var UINT32_MAX = 4294967295;
function forBinaryEncoding(value) {
  if (typeof value === "number") {
    return (value > UINT32_MAX || value < INT32_MIN) && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let copy2;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const w = v === void 0 ? null : forBinaryEncoding(v);
      if (w !== v) {
        copy2 ??= value.slice();
        copy2[i] = w;
      }
    }
    return copy2 ?? value;
  }
  const obj = value;
  let copy;
  for (const key in obj) {
    const v = obj[key];
    if (v === void 0) {
      copy ??= { ...obj };
      delete copy[key];
      continue;
    }
    const w = forBinaryEncoding(v);
    if (w !== v) {
      copy ??= { ...obj };
      copy[key] = w;
    }
  }
  return copy ?? value;
}

// ../before/src/serializers/msgpack.ts
var requireLazily = createRequire(import.meta.url);
var packr;
function codec() {
  if (packr) return packr;
  const { Packr: PackrClass } = requireLazily("msgpackr");
  packr = new PackrClass({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: "number", variableMapSize: true });
  return packr;
}
var msgpackSerializer = {
  name: "msgpack",
  binary: true,
  rawSocketId: 2,
  encode(message) {
    return codec().pack(forBinaryEncoding(message));
  },
  decode(data) {
    return codec().unpack(data);
  }
};

// ../before/src/serializers/cbor.ts
import { createRequire as createRequire2 } from "node:module";
var requireLazily2 = createRequire2(import.meta.url);
var encoder;
function bignum(bytes) {
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  return value;
}
function codec2() {
  if (encoder) return encoder;
  const cbor = requireLazily2("cbor-x");
  cbor.addExtension({ tag: 2, decode: (bytes) => bignum(bytes) });
  cbor.addExtension({ tag: 3, decode: (bytes) => -1 - bignum(bytes) });
  for (const tag of [28, 29]) {
    cbor.addExtension({ tag, decode: () => {
      throw new Error(`CBOR tag ${tag} (shared reference) is not supported`);
    } });
  }
  encoder = new cbor.Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false, int64AsNumber: true });
  return encoder;
}
var cborSerializer = {
  name: "cbor",
  binary: true,
  rawSocketId: 3,
  encode(message) {
    return codec2().encode(forBinaryEncoding(message));
  },
  decode(data) {
    return codec2().decode(data);
  }
};

// ../before/src/serializers/index.ts
var BY_NAME = new Map([jsonSerializer, msgpackSerializer, cborSerializer].map((s) => [s.name, s]));
var BY_SUBPROTOCOL = new Map([...BY_NAME.values()].map((s) => [subprotocolOf(s.name), s]));
var BY_RAWSOCKET_ID = new Map([...BY_NAME.values()].map((s) => [s.rawSocketId, s]));
function getSerializer(name) {
  const serializer = BY_NAME.get(name);
  if (!serializer) throw new Error(`unknown serializer '${String(name)}'`);
  return serializer;
}
function subprotocolOf(name) {
  return `wamp.2.${name}`;
}
function serializerFromRawSocketId(id) {
  return BY_RAWSOCKET_ID.get(id);
}

// ../before/src/transports/byte-queue.ts
var ByteQueue = class {
  chunks = [];
  /** Index of the first chunk still holding unread bytes (an index, not shift(): O(1) per chunk). */
  head = 0;
  /** Unread bytes in total. */
  length = 0;
  push(chunk) {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }
  /** The big-endian 32-bit word at the front (a frame or handshake header). Needs length ≥ 4. */
  peekUInt32() {
    const first = this.chunks[this.head];
    if (first.length >= 4) return first.readUInt32BE(0);
    let word = 0;
    let chunk = this.head;
    let offset = 0;
    for (let i = 0; i < 4; i++) {
      while (offset >= this.chunks[chunk].length) {
        chunk++;
        offset = 0;
      }
      word = word * 256 + this.chunks[chunk][offset++];
    }
    return word;
  }
  /** Removes and returns the first `n` bytes (n ≤ length): a view when they sit in one chunk, else one copy. */
  take(n) {
    if (n === 0) return EMPTY;
    this.length -= n;
    const first = this.chunks[this.head];
    if (first.length > n) {
      this.chunks[this.head] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.dropHead();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.chunks[this.head];
      const want = n - offset;
      if (chunk.length <= want) {
        chunk.copy(out, offset);
        offset += chunk.length;
        this.dropHead();
      } else {
        chunk.copy(out, offset, 0, want);
        this.chunks[this.head] = chunk.subarray(want);
        offset += want;
      }
    }
    return out;
  }
  /** Discards the first `n` bytes (n ≤ length). */
  skip(n) {
    this.length -= n;
    while (n > 0) {
      const chunk = this.chunks[this.head];
      if (chunk.length <= n) {
        n -= chunk.length;
        this.dropHead();
      } else {
        this.chunks[this.head] = chunk.subarray(n);
        n = 0;
      }
    }
  }
  dropHead() {
    this.chunks[this.head++] = EMPTY;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
};
var EMPTY = Buffer.alloc(0);

// ../before/src/transports/keepalive.ts
var KeepAlive = class {
  constructor(interval, timeout, ping, onDead) {
    this.interval = interval;
    this.timeout = timeout;
    this.ping = ping;
    this.onDead = onDead;
  }
  interval;
  timeout;
  ping;
  onDead;
  intervalTimer;
  timeoutTimer;
  start() {
    if (this.interval <= 0) return;
    this.intervalTimer = setInterval(() => {
      if (this.timeoutTimer) return;
      this.ping();
      if (this.timeout > 0) this.timeoutTimer = setTimeout(() => this.onDead(), this.timeout);
    }, this.interval);
    this.intervalTimer.unref();
  }
  /** Any pong (or, for RawSocket, any traffic we choose to count) proves the peer alive. */
  alive() {
    if (this.timeoutTimer) {
      clearTimeout(this.timeoutTimer);
      this.timeoutTimer = void 0;
    }
  }
  stop() {
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.intervalTimer = this.timeoutTimer = void 0;
  }
};

// ../before/src/log.ts
var ORDER = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
var threshold = ORDER[process.env["JUNCTION_LOG"] ?? "info"] ?? ORDER.info;
function emit(level, message) {
  if (ORDER[level] < threshold) return;
  const line = `${(/* @__PURE__ */ new Date()).toISOString()} ${level.toUpperCase().padEnd(5)} ${message}
`;
  (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line);
}
var log = {
  debug: (m) => emit("debug", m),
  info: (m) => emit("info", m),
  warn: (m) => emit("warn", m),
  error: (m) => emit("error", m),
  setLevel(level) {
    threshold = ORDER[level];
  }
};

// ../before/src/transports/outbound.ts
function encodeOnce(serializer, message, cache, peer) {
  const name = serializer.name;
  const cached = cache?.[name];
  if (cached !== void 0) return cached;
  try {
    const encoded = serializer.encode(message);
    if (cache) cache[name] = encoded;
    return encoded;
  } catch (err) {
    log.warn(`${peer}: cannot encode message type ${String(message[0])}: ${err.message}`);
    return void 0;
  }
}
var WriteBatcher = class {
  constructor(socket, recorder) {
    this.socket = socket;
    this.recorder = recorder;
  }
  socket;
  recorder;
  corked = false;
  uncork = () => {
    this.corked = false;
    this.socket.uncork();
    this.recorder?.record(this.socket.writableLength);
  };
  /** Call before writing. */
  hold() {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(this.uncork);
  }
};

// ../before/src/config/types.ts
var DEFAULT_TRANSPORT_OPTIONS = {
  maxMessageSize: 1024 * 1024,
  autoPingInterval: 0,
  autoPingTimeout: 0,
  autoPingSize: 4,
  openHandshakeTimeout: 1e4,
  allowedOrigins: ["*"],
  maxSendQueue: 4 * 1024 * 1024,
  sendQueuePolicy: "drop-events",
  maxMessagesPerSecond: 0,
  maxMessagesBurst: 0,
  maxUnauthenticatedBytes: 64 * 1024
};
var DEFAULT_RETAINED_LIMITS = { maxTopics: 1e4, maxBytes: 16 * 1024 * 1024 };
var DEFAULT_HISTORY_MAX_BYTES = 1024 * 1024;
var DEFAULT_MAX_PENDING_CALL_BYTES = 4 * 1024 * 1024;
var DEFAULT_MAX_PENDING_CALL_BYTES_TOTAL = 16 * 1024 * 1024;
var DEFAULT_MAX_SUBSCRIPTION_BYTES = 16 * 1024 * 1024;
var DEFAULT_MAX_INCOMING_BYTES = 8 * 1024 * 1024;
var DEFAULT_MAX_SEND_QUEUE_TOTAL = 32 * 1024 * 1024;

// ../before/src/transports/send-queue-total.ts
var SLOW_BACKLOG = 64 * 1024;
var SendQueueTotal = class {
  constructor(limit = DEFAULT_MAX_SEND_QUEUE_TOTAL) {
    this.limit = limit;
  }
  limit;
  /** Bytes waiting in all connections' send queues, as last recorded by their guards. */
  bytes = 0;
  get over() {
    return this.bytes > this.limit;
  }
};

// ../before/src/transports/limits.ts
var EVENT = 36;
var MESSAGES_PER_TURN = 64;
var SendQueueGuard = class {
  /** `options`: a WAMP transport's, or an MQTT listener's (the same two keys). `total`: all connections' send queues. */
  constructor(options, owner, total = new SendQueueTotal()) {
    this.owner = owner;
    this.total = total;
    this.limit = options.maxSendQueue;
    this.threshold = this.limit;
    this.policy = options.sendQueuePolicy;
    this.hardLimit = options.sendQueuePolicy === "drop-events" ? 2 * options.maxSendQueue : options.maxSendQueue;
  }
  owner;
  total;
  limit;
  policy;
  /** Non-events still go while the backlog is under this; past it the session is closed. */
  hardLimit;
  /**
   * The send path calls `over` past this backlog: `limit`, or 0 while the connection is slow (more
   * than SLOW_BACKLOG stayed queued after its last writes left), so that each event to it is
   * checked against the total of all connections.
   */
  threshold;
  /** This connection's bytes in `total`, as last recorded. */
  recorded = 0;
  released = false;
  droppedEvents = 0;
  slow = false;
  disconnected = false;
  /** Keeps this connection's share of the total current as `socket` drains, and gives it back on close. */
  watch(socket) {
    socket.on("drain", () => this.record(socket.writableLength));
    socket.once("close", () => {
      this.record(0);
      this.released = true;
    });
  }
  /**
   * The socket's backlog is `bytes` now: called by the WriteBatcher once a turn's writes left, by
   * `over`, and on drain and close.
   */
  record(bytes) {
    if (this.released) return;
    this.total.bytes += bytes - this.recorded;
    this.recorded = bytes;
    this.threshold = bytes > SLOW_BACKLOG ? 0 : this.limit;
  }
  /**
   * The backlog is over `threshold`: true when `type` must not be sent (an EVENT dropped, or the
   * session being closed), false when it still goes.
   */
  over(type, backlog, session2) {
    return this.overLimit(type === EVENT, backlog, session2);
  }
  /** As `over`, for a message that may be dropped (an EVENT, an MQTT QoS 0 PUBLISH) or not. */
  overLimit(droppable, backlog, session2) {
    if (this.disconnected) return true;
    this.record(backlog);
    const overOwn = backlog > this.limit;
    if (!overOwn && !(droppable && this.total.over)) return false;
    const why = overOwn ? `max_send_queue ${this.limit}` : `all connections' send queues hold ${this.total.bytes} bytes, max_send_queue_total ${this.total.limit}`;
    if (this.policy === "drop-events") {
      if (droppable) {
        this.droppedEvents++;
        if (!this.slow) {
          this.slow = true;
          log.warn(`${this.owner.info.type} ${this.owner.info.peer}: slow consumer: ${backlog} bytes waiting (${why}); dropping events for it`);
          session2?.slowConsumer?.(false);
        }
        return true;
      }
      if (backlog <= this.hardLimit) return false;
    }
    this.slow = true;
    this.disconnected = true;
    log.warn(`${this.owner.info.type} ${this.owner.info.peer}: slow consumer: ${backlog} bytes waiting (${why}, send_queue_policy ${this.policy}); closing the session`);
    session2?.slowConsumer?.(true);
    this.owner.dropSlowConsumer();
    return true;
  }
  stats(bytes) {
    return { bytes, limit: this.limit, policy: this.policy, droppedEvents: this.droppedEvents, slow: this.slow, disconnected: this.disconnected };
  }
};
var MessageBudget = class _MessageBudget {
  constructor(rate, burst) {
    this.rate = rate;
    this.burst = burst > 0 ? burst : rate;
    this.tokens = this.burst;
    this.last = performance.now();
  }
  rate;
  tokens;
  last;
  burst;
  /** The budget for `options`, or undefined when there is no rate limit. */
  static of(options) {
    return options.maxMessagesPerSecond > 0 ? new _MessageBudget(options.maxMessagesPerSecond, options.maxMessagesBurst) : void 0;
  }
  take() {
    if (this.tokens < 1) {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.rate / 1e3);
      this.last = now;
      if (this.tokens < 1) return false;
    }
    this.tokens--;
    return true;
  }
  /** ms until the next token. */
  waitMs() {
    return Math.max(1, Math.ceil((1 - this.tokens) * 1e3 / this.rate));
  }
};

// ../before/src/transports/incoming-budget.ts
var LOG_INTERVAL_MS = 1e4;
var ONE_READ = 128 * 1024;
var IncomingBudget = class _IncomingBudget {
  constructor(limit = DEFAULT_MAX_INCOMING_BYTES) {
    this.limit = limit;
  }
  limit;
  /** Bytes held by all holders together. */
  total = 0;
  holders = /* @__PURE__ */ new Set();
  droppedSinceLog = 0;
  lastLog = -Infinity;
  /**
   * The budget for these listeners: `max_incoming_bytes`, but never less than one largest message
   * (its `max_message_size`, with room for a frame header and one read), or it could never arrive.
   */
  static for(listeners, configured = DEFAULT_MAX_INCOMING_BYTES) {
    let largest = 0;
    for (const l of listeners) {
      const services = [...Object.values(l.websocket), ...l.rawsocket ? [l.rawsocket] : []];
      for (const s of services) largest = Math.max(largest, s.options.maxMessageSize);
      if (l.mqtt) largest = Math.max(largest, l.mqtt.maxMessageSize);
    }
    return new _IncomingBudget(Math.max(configured, largest + ONE_READ));
  }
  /** `holder` now holds `bytes` (0 once nothing of an unfinished message is left, or it closed). */
  hold(holder, bytes) {
    const before = holder.heldBytes;
    if (bytes === before) return;
    holder.heldBytes = bytes;
    this.total += bytes - before;
    if (bytes === 0) {
      this.holders.delete(holder);
      return;
    }
    if (before === 0) this.holders.add(holder);
    if (this.total > this.limit) this.shed();
  }
  /** Over the limit: drop the largest holders, unauthenticated ones first, until under it. */
  shed() {
    while (this.total > this.limit) {
      let victim;
      for (const h of this.holders) {
        if (victim === void 0 || h.unauthenticated && !victim.unauthenticated || h.unauthenticated === victim.unauthenticated && h.heldBytes > victim.heldBytes) victim = h;
      }
      if (victim === void 0) return;
      this.hold(victim, 0);
      this.report(victim);
      victim.dropForBudget();
    }
  }
  report(victim) {
    this.droppedSinceLog++;
    const now = Date.now();
    if (now - this.lastLog < LOG_INTERVAL_MS) return;
    log.warn(`${victim.description}: dropped${victim.unauthenticated ? " before authentication" : ""}: unfinished incoming messages hold more than max_incoming_bytes (${this.limit}) in all; ${this.droppedSinceLog} connection(s) dropped for it since the last such line`);
    this.lastLog = now;
    this.droppedSinceLog = 0;
  }
};

// ../before/src/transports/peer.ts
function describePeer(socket) {
  const address = socket.remoteAddress;
  if (!address) return "unix";
  if (socket.remoteFamily !== "IPv6") return `tcp4:${address}:${socket.remotePort}`;
  if (address.startsWith("::ffff:") && address.includes(".")) return `tcp4:${address.slice(7)}:${socket.remotePort}`;
  return `tcp6:[${address}]:${socket.remotePort}`;
}

// ../before/src/transports/rawsocket.ts
var RAWSOCKET_MAGIC = 127;
var FRAME_MESSAGE = 0;
var FRAME_PING = 1;
var FRAME_PONG = 2;
var ERR_SERIALIZER_UNSUPPORTED = 1;
var ERR_RESERVED_BITS = 3;
var MAX_FRAME_LENGTH = 2 ** 24;
var CLOSE_GRACE_MS = 2e3;
var FLUSH_BEFORE_RESET_MS = 300;
function lengthExponent(maxMessageSize) {
  let l = 0;
  while (l < 15 && 2 ** (10 + l) <= maxMessageSize) l++;
  return l;
}
function frameHeader(type, length) {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE((length === MAX_FRAME_LENGTH ? 8 : 0) * 2 ** 24 + type * 2 ** 24 + (length & 16777215));
  return header;
}
var RawSocketTransport = class {
  constructor(socket, service2, factory2, incoming = new IncomingBudget(), sendQueues = new SendQueueTotal()) {
    this.socket = socket;
    this.service = service2;
    this.factory = factory2;
    this.incoming = incoming;
    this.maxLength = 2 ** (9 + lengthExponent(service2.options.maxMessageSize));
    this.guard = new SendQueueGuard(service2.options, this, sendQueues);
    this.guard.watch(socket);
    this.batcher = new WriteBatcher(socket, this.guard);
    this.budget = MessageBudget.of(service2.options);
    socket.setNoDelay?.(true);
    this.info = {
      type: "rawsocket",
      serializer: "",
      peer: describePeer(socket),
      tls: socket.encrypted === true
    };
    const { autoPingInterval, autoPingTimeout, openHandshakeTimeout } = service2.options;
    this.keepAlive = new KeepAlive(autoPingInterval, autoPingTimeout, () => this.writeFrame(FRAME_PING, EMPTY2), () => {
      log.info(`rawsocket ${this.info.peer}: no PONG within ${autoPingTimeout} ms, dropping`);
      socket.destroy();
    });
    this.handshakeTimer = setTimeout(() => {
      log.info(`rawsocket ${this.info.peer}: no handshake within ${openHandshakeTimeout} ms; dropped`);
      socket.destroy();
    }, openHandshakeTimeout);
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (err) => log.debug(`rawsocket ${this.info.peer}: ${err.message}`));
    socket.on("close", () => this.onClose());
  }
  socket;
  service;
  factory;
  incoming;
  info;
  queue = new ByteQueue();
  serializer;
  session;
  /** Largest message the peer accepts (from its handshake). */
  peerMaxLength = 0;
  /** Largest message we accept: exactly what our handshake reply announces. */
  maxLength;
  keepAlive;
  handshakeTimer;
  /** No more reading or sending: closing, closed, or framing broken. */
  closed = false;
  batcher;
  guard;
  /** Incoming message budget (max_messages_per_second); undefined = no limit. */
  budget;
  /** Set while reading is paused because the budget is spent. */
  throttleTimer;
  /** Reading is paused: the budget is spent, or this turn's share of messages is handled (MESSAGES_PER_TURN). */
  readingPaused = false;
  /** Bytes read before the session was established (max_unauthenticated_bytes). */
  unauthenticatedBytes = 0;
  heldBytes = 0;
  onData(chunk) {
    if (this.closed) return;
    if (this.unauthenticated) {
      this.unauthenticatedBytes += chunk.length;
      const limit = this.service.options.maxUnauthenticatedBytes;
      if (this.unauthenticatedBytes > limit) return this.fail(`more than ${limit} bytes before the session was established (max_unauthenticated_bytes)`);
    }
    this.queue.push(chunk);
    if (!this.serializer && !this.handshake()) return;
    if (!this.readingPaused) this.readFrames();
    this.incoming.hold(this, this.closed ? 0 : this.queue.length);
  }
  get unauthenticated() {
    return this.session?.established !== true;
  }
  get description() {
    return `rawsocket ${this.info.peer}`;
  }
  /** Unfinished messages hold more than max_incoming_bytes, all connections together: ended at once, as a slow consumer is. */
  dropForBudget() {
    this.dropSlowConsumer();
  }
  /** The message budget is spent: stop reading until it refills (the frames already in stay queued). */
  throttle() {
    this.socket.pause();
    this.readingPaused = true;
    this.throttleTimer = setTimeout(() => this.unthrottle(), this.budget.waitMs());
  }
  /** This turn handled its share of messages: the rest of the burst waits for the next turn. */
  yieldTurn() {
    this.socket.pause();
    this.readingPaused = true;
    setImmediate(() => this.unthrottle());
  }
  unthrottle() {
    this.throttleTimer = void 0;
    this.readingPaused = false;
    if (this.closed) return;
    this.keepAlive.alive();
    this.readFrames();
    this.incoming.hold(this, this.closed ? 0 : this.queue.length);
    if (!this.readingPaused && !this.closed) this.socket.resume();
  }
  /** Returns true once the handshake is done. */
  handshake() {
    if (this.queue.length < 4) return false;
    const hello = this.queue.peekUInt32();
    this.queue.skip(4);
    clearTimeout(this.handshakeTimer);
    const magic = hello >>> 24;
    const lengthAndSerializer = hello >>> 16 & 255;
    if (magic !== RAWSOCKET_MAGIC) {
      this.closed = true;
      this.socket.destroy();
      return false;
    }
    if ((hello & 65535) !== 0) return this.refuse(ERR_RESERVED_BITS);
    const serializerId = lengthAndSerializer & 15;
    const serializer = serializerFromRawSocketId(serializerId);
    if (!serializer || !this.service.serializers.includes(serializer.name)) return this.refuse(ERR_SERIALIZER_UNSUPPORTED);
    this.serializer = serializer;
    this.peerMaxLength = 2 ** (9 + (lengthAndSerializer >> 4));
    this.info = { ...this.info, serializer: serializer.name };
    this.socket.write(Buffer.from([RAWSOCKET_MAGIC, lengthExponent(this.maxLength) << 4 | serializerId, 0, 0]));
    this.session = this.factory.openSession(this, { auth: this.service.auth, openTimeoutMs: this.service.options.openHandshakeTimeout });
    this.keepAlive.start();
    return true;
  }
  /** Error reply (the low nibble 0 marks it), then close. */
  refuse(code) {
    this.closed = true;
    this.socket.end(Buffer.from([RAWSOCKET_MAGIC, code << 4, 0, 0]));
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    return false;
  }
  readFrames() {
    const queue = this.queue;
    let frames = 0;
    while (!this.closed && queue.length >= 4) {
      const header = queue.peekUInt32();
      const b0 = header >>> 24;
      const type = b0 & 7;
      const length = (b0 & 8 ? MAX_FRAME_LENGTH : 0) + (header & 16777215);
      if ((b0 & 240) !== 0 || type > FRAME_PONG) return this.fail(`invalid frame header 0x${b0.toString(16)}`);
      if (length > this.maxLength) return this.fail(`frame of ${length} bytes exceeds the ${this.maxLength} bytes announced`);
      if (length > this.service.options.maxUnauthenticatedBytes && this.unauthenticated) {
        return this.fail(`frame of ${length} bytes before the session was established (max_unauthenticated_bytes ${this.service.options.maxUnauthenticatedBytes})`);
      }
      if (queue.length < 4 + length) return;
      if (++frames > MESSAGES_PER_TURN) return this.yieldTurn();
      if (this.budget !== void 0 && !this.budget.take()) return this.throttle();
      queue.skip(4);
      const payload = queue.take(length);
      if (type === FRAME_MESSAGE) this.onMessage(payload);
      else if (type === FRAME_PING) this.writeFrame(FRAME_PONG, payload);
      else this.keepAlive.alive();
    }
  }
  onMessage(payload) {
    let message;
    try {
      message = this.serializer.decode(payload);
    } catch (err) {
      this.session.protocolError(`cannot decode ${this.serializer.name} message: ${err.message}`);
      return;
    }
    this.session.receive(message);
  }
  /** Framing broken: nothing more can be read. The session may still say ABORT before we close. */
  fail(reason) {
    (this.unauthenticated ? log.info : log.warn)(`rawsocket ${this.info.peer}: ${reason}; closing`);
    this.session?.protocolError(reason);
    this.close();
    this.socket.pause();
  }
  writeFrame(type, payload) {
    this.batcher.hold();
    this.socket.write(frameHeader(type, payload.length));
    if (payload.length > 0) this.socket.write(payload);
  }
  send(message, cache) {
    if (this.closed || !this.serializer || this.socket.destroyed) return true;
    const backlog = this.socket.writableLength;
    if (backlog > this.guard.threshold && this.guard.over(message[0], backlog, this.session)) return true;
    const encoded = encodeOnce(this.serializer, message, cache, this.info.peer);
    if (encoded === void 0 || encoded.length > this.peerMaxLength) return false;
    this.writeFrame(FRAME_MESSAGE, encoded);
    return true;
  }
  /** The send queue is over its limit and the policy says go (SendQueueGuard). */
  dropSlowConsumer() {
    this.closed = true;
    this.keepAlive.stop();
    this.socket.destroy();
  }
  sendQueue() {
    return this.guard.stats(this.socket.writableLength);
  }
  sendBacklogged() {
    return this.socket.writableLength > this.guard.limit;
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.stop();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }
  /**
   * Router shutdown: the TCP close is RawSocket's only way to say it (no GOODBYE, see
   * Session.shutdown), and it must be a reset: a client that keeps its half of the connection open
   * after a FIN — as Autobahn|JS's Node RawSocket client does (allowHalfOpen) — never notices a FIN,
   * and a reset cannot follow one (libuv refuses once the socket is shut down). What is still queued
   * gets a moment to leave first.
   */
  goAway() {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.stop();
    const reset = () => {
      if (this.socket.destroyed) return;
      try {
        this.socket.resetAndDestroy();
      } catch {
        this.socket.destroy();
      }
    };
    if (this.socket.writableLength === 0) return reset();
    setTimeout(reset, FLUSH_BEFORE_RESET_MS).unref();
  }
  onClose() {
    this.closed = true;
    this.incoming.hold(this, 0);
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.throttleTimer);
    this.keepAlive.stop();
    this.session?.transportClosed();
  }
};
var EMPTY2 = Buffer.alloc(0);

// ../before/src/transports/websocket.ts
import { WebSocketServer } from "ws";

// ../before/src/transports/dashboard.ts
import { fileURLToPath } from "node:url";
var DASHBOARD_DIR = fileURLToPath(new URL("../web/", import.meta.url));

// ../before/src/transports/websocket.ts
var TEXT = { binary: false };
var BINARY = { binary: true };
var CLOSE_GRACE_MS2 = 2e3;
var NORMAL_CLOSURE = 1e3;
var GOING_AWAY = 1001;
var MAX_PING_PAYLOAD = 125;
var receiverOf = (ws) => ws._receiver;
function heldByReceiver(ws) {
  const receiver = receiverOf(ws);
  return receiver ? (receiver._bufferedBytes ?? 0) + (receiver._messageLength ?? 0) : 0;
}
function announcedByReceiver(ws) {
  return receiverOf(ws)?._payloadLength ?? 0;
}
var WebSocketTransport = class {
  constructor(ws, serializer, service2, factory2, request, incoming = new IncomingBudget(), sendQueues = new SendQueueTotal()) {
    this.ws = ws;
    this.serializer = serializer;
    this.service = service2;
    this.incoming = incoming;
    const socket = request.socket;
    socket.setNoDelay(true);
    this.socket = socket;
    this.guard = new SendQueueGuard(service2.options, this, sendQueues);
    this.guard.watch(socket);
    this.batcher = new WriteBatcher(socket, this.guard);
    this.budget = MessageBudget.of(service2.options);
    this.info = {
      type: "websocket",
      serializer: serializer.name,
      peer: describePeer(socket),
      protocol: ws.protocol,
      tls: socket.encrypted === true
    };
    const { autoPingInterval, autoPingTimeout, autoPingSize } = service2.options;
    const pingPayload = Buffer.alloc(Math.max(0, Math.min(autoPingSize, MAX_PING_PAYLOAD)));
    this.keepAlive = new KeepAlive(autoPingInterval, autoPingTimeout, () => ws.ping(pingPayload), () => {
      log.info(`websocket ${this.info.peer}: no pong within ${autoPingTimeout} ms, dropping`);
      ws.terminate();
    });
    this.session = factory2.openSession(this, { auth: service2.auth, openTimeoutMs: service2.options.openHandshakeTimeout });
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    ws.on("pong", () => this.keepAlive.alive());
    ws.on("error", (err) => log.debug(`websocket ${this.info.peer}: ${err.message}`));
    socket.prependListener("data", () => {
      this.turnMessages = 0;
    });
    socket.on("data", (chunk) => this.onSocketData(chunk));
    ws.once("close", () => {
      this.closed = true;
      this.incoming.hold(this, 0);
      this.keepAlive.stop();
      this.session.transportClosed();
    });
    this.keepAlive.start();
  }
  ws;
  serializer;
  service;
  incoming;
  info;
  session;
  keepAlive;
  closed = false;
  batcher;
  socket;
  guard;
  /** Incoming message budget (max_messages_per_second); undefined = no limit. */
  budget;
  /**
   * While the budget is spent, or this turn's share of messages is handled: messages ws had already
   * parsed from the last chunk read, as (data, isBinary) pairs, handled as tokens refill and over
   * the next turns (MESSAGES_PER_TURN); reading is paused meanwhile.
   */
  held;
  heldNext = 0;
  /** Messages handled since the last chunk arrived. */
  turnMessages = 0;
  /** Bytes read off the socket before the session was established (max_unauthenticated_bytes). */
  unauthenticatedBytes = 0;
  heldBytes = 0;
  /**
   * Counts what the peer sent before its session was established (the message size limit of ws is
   * per server, so a pre-authentication limit is kept here, on the bytes read), and reports what
   * ws holds of unfinished messages to the budget of all connections.
   */
  onSocketData(chunk) {
    if (this.closed) return;
    if (this.unauthenticated) {
      this.unauthenticatedBytes += chunk.length;
      const limit = this.service.options.maxUnauthenticatedBytes;
      if (this.unauthenticatedBytes > limit || announcedByReceiver(this.ws) > limit) {
        log.info(`websocket ${this.info.peer}: dropped: more than ${limit} bytes before the session was established (max_unauthenticated_bytes)`);
        this.dropForBudget();
        return;
      }
    }
    this.incoming.hold(this, heldByReceiver(this.ws));
  }
  get unauthenticated() {
    return !this.session.established;
  }
  get description() {
    return `websocket ${this.info.peer}`;
  }
  /** The peer sends more than the router will hold: ended at once, unflushed, as a slow consumer is. */
  dropForBudget() {
    this.dropSlowConsumer();
  }
  onMessage(data, isBinary) {
    if (this.held !== void 0) {
      this.held.push(data, isBinary);
      return;
    }
    if (++this.turnMessages > MESSAGES_PER_TURN) {
      this.hold(data, isBinary);
      setImmediate(() => this.release());
      return;
    }
    if (this.budget !== void 0 && !this.budget.take()) {
      this.hold(data, isBinary);
      setTimeout(() => this.release(), this.budget.waitMs());
      return;
    }
    this.handle(data, isBinary);
  }
  hold(data, isBinary) {
    this.held = [data, isBinary];
    this.heldNext = 0;
    this.ws.pause();
  }
  /** Handles held messages as the budget allows, MESSAGES_PER_TURN per turn; reading resumes once none is left. */
  release() {
    const held = this.held;
    this.keepAlive.alive();
    let handled = 0;
    while (this.heldNext < held.length) {
      if (this.closed) return;
      if (++handled > MESSAGES_PER_TURN) {
        setImmediate(() => this.release());
        return;
      }
      if (this.budget !== void 0 && !this.budget.take()) {
        setTimeout(() => this.release(), this.budget.waitMs());
        return;
      }
      const i = this.heldNext;
      this.heldNext += 2;
      this.handle(held[i], held[i + 1]);
    }
    this.held = void 0;
    if (!this.closed) this.ws.resume();
  }
  handle(data, isBinary) {
    let message;
    try {
      message = this.serializer.decode(data, !isBinary);
    } catch (err) {
      this.session.protocolError(`cannot decode ${this.serializer.name} message: ${err.message}`);
      return;
    }
    this.session.receive(message);
  }
  send(message, cache) {
    if (this.closed) return true;
    const backlog = this.socket.writableLength;
    if (backlog > this.guard.threshold && this.guard.over(message[0], backlog, this.session)) return true;
    const encoded = encodeOnce(this.serializer, message, cache, this.info.peer);
    if (encoded === void 0 || encoded.length > this.service.options.maxMessageSize) return false;
    this.batcher.hold();
    this.ws.send(encoded, this.serializer.binary ? BINARY : TEXT);
    return true;
  }
  /** The send queue is over its limit and the policy says go (SendQueueGuard). */
  dropSlowConsumer() {
    this.closed = true;
    this.keepAlive.stop();
    this.ws.terminate();
  }
  sendQueue() {
    return this.guard.stats(this.socket.writableLength);
  }
  sendBacklogged() {
    return this.socket.writableLength > this.guard.limit;
  }
  close() {
    this.closeWith(NORMAL_CLOSURE);
  }
  /** Router shutdown: 1001 "going away", which browsers and Autobahn report as a clean close they retry after. */
  goAway() {
    this.closeWith(GOING_AWAY, "router restarting");
  }
  closeWith(code, reason) {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.stop();
    this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS2).unref();
  }
};

// b.ts
var FakeSocket = class extends EventEmitter {
  writableLength = 0;
  destroyed = false;
  remoteAddress = "127.0.0.1";
  remotePort = 1;
  remoteFamily = "IPv4";
  setNoDelay() {
  }
  cork() {
  }
  uncork() {
  }
  write() {
    return true;
  }
  pause() {
  }
  resume() {
  }
  end() {
  }
  destroy() {
  }
};
var service = { serializers: ["json", "msgpack", "cbor"], options: { ...DEFAULT_TRANSPORT_OPTIONS, autoPingInterval: 0 } };
var session = { established: true, receive() {
}, protocolError() {
}, transportClosed() {
} };
var factory = { openSession: () => session };
function rawsocket() {
  const s = new FakeSocket();
  const t = new RawSocketTransport(s, service, factory);
  s.emit("data", Buffer.from([127, 241, 0, 0]));
  return t;
}
function websocket() {
  const s = new FakeSocket();
  const ws = Object.assign(new EventEmitter(), { protocol: "wamp.2.json", send() {
  }, ping() {
  }, terminate() {
  }, close() {
  }, pause() {
  }, resume() {
  } });
  return new WebSocketTransport(ws, getSerializer("json"), service, factory, { socket: s });
}
var msg = [36, 1, 2, {}, ["hello", 42]];
for (const [name, make] of [["rawsocket", rawsocket], ["websocket", websocket]]) {
  const ts = Array.from({ length: 100 }, make);
  const N = 2e5;
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const cache = {};
      for (let k = 0; k < 10; k++) ts[(i + k) % 100].send(msg, cache);
    }
    const ns = Number(process.hrtime.bigint() - t0) / (N * 10);
    best = Math.min(best, ns);
    await new Promise((r) => setImmediate(r));
  }
  console.log(`${name}: ${best.toFixed(1)} ns per send (best of 7)`);
}
process.exit(0);

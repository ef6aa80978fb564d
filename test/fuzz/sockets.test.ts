// Fuzzing the router through real sockets: WebSocket (wamp.2.json, wamp.2.msgpack, wamp.2.cbor) and
// RawSocket over TCP (JSON, MessagePack, CBOR) on one universal port. Mutated messages of every type,
// damaged bytes, truncated and oversized frames, invalid UTF-8, 10k-deep payloads, random bytes, bad
// RawSocket handshakes (all 256 second bytes, reserved bits, wrong magic) and bad HTTP upgrades.
// Every fuzzed connection must get ABORT/ERROR or be closed, or answer a probe; a bystander on its
// own port keeps calling and receiving events throughout; at the end the router takes a fresh session.
//
// Replay: JUNCTION_FUZZ_SEED=<printed seed>; scale: JUNCTION_FUZZ_INPUTS=N (1% of N per target, at least 1000).

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startNode, type JunctionNode } from '../../src/node.js';
import type { ListenerConfig, WampServiceConfig } from '../../src/config/types.js';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../src/config/types.js';
import { getSerializer, type SerializerName } from '../../src/serializers/index.js';
import { log } from '../../src/log.js';
import {
  Rng, FUZZ_SEED, FUZZ_INPUTS, T, CLIENT_TYPES, HELLO_DETAILS, validMessage, mutate, isProtocolViolation, repliesTo,
  wellFormedFromRouter, type MessageContext, type SessionPhase, type ValueOptions, ALL_VALUES,
} from './gen.js';
import { FUZZ_REALM, Failures, show, watchUncaught, Counts } from './harness.js';
import { captureStderr } from '../helpers/capture-log.js';
import { WsConn, RawConn, header, tcp, deepPublish, type FuzzConn } from '../helpers/wamp-wire.js';
import { Bystander } from './bystander.js';

const MAX_MESSAGE = 64 * 1024;
const HANDSHAKE_TIMEOUT = 1000;
const PER_TARGET = Math.max(1000, Math.round(FUZZ_INPUTS * 0.01));
/** Parallel fuzzing connections per target. */
const WORKERS = 6;

const fuzzService = (): WampServiceConfig => ({
  serializers: ['json', 'msgpack', 'cbor', 'ubjson'],
  options: { ...DEFAULT_TRANSPORT_OPTIONS, maxMessageSize: MAX_MESSAGE, openHandshakeTimeout: HANDSHAKE_TIMEOUT },
  auth: { anonymous: { type: 'static', role: 'fuzzer' } },
});

let node: JunctionNode;
let port = 0;
let wsUrl = '';
let bystander: Bystander;
const rng = new Rng(FUZZ_SEED ^ 0x5eed);
const counts = new Counts();
const failures = new Failures();
let uncaught: ReturnType<typeof watchUncaught>;
let stderr: ReturnType<typeof captureStderr>;
const started = Date.now();

beforeAll(async () => {
  console.log(`fuzz sockets: JUNCTION_FUZZ_SEED=${FUZZ_SEED}, ${PER_TARGET} inputs per transport and serializer`);
  uncaught = watchUncaught();
  stderr = captureStderr(/cannot encode/);
  log.setLevel('warn');
  const portOf = (n: JunctionNode, i: number) => {
    const a = n.listeners[i]!.address();
    return typeof a === 'object' && a ? a.port : 0;
  };
  const fuzzListener: ListenerConfig = {
    id: 'fuzz', kind: 'universal', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
    rawsocket: fuzzService(), websocket: { '/ws': fuzzService() }, websocketAnyPath: false, static: {},
  };
  const bystanderListener: ListenerConfig = {
    id: 'bystander', kind: 'websocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
    websocket: { '/': { serializers: ['json'], options: { ...DEFAULT_TRANSPORT_OPTIONS }, auth: { anonymous: { type: 'static', role: 'bystander' } } } },
    websocketAnyPath: true, static: {},
  };
  node = await startNode({ router: { realms: [FUZZ_REALM], listeners: [fuzzListener, bystanderListener] } });
  port = portOf(node, 0);
  wsUrl = `ws://127.0.0.1:${port}/ws`;
  bystander = await Bystander.start(`ws://127.0.0.1:${portOf(node, 1)}/`);
});

afterAll(async () => {
  await node?.stop();
  uncaught?.stop();
  stderr?.restore();
  log.setLevel('info');
});

type Target = { transport: 'websocket' | 'rawsocket'; serializer: SerializerName };
const TARGETS: Target[] = (['websocket', 'rawsocket'] as const).flatMap((transport) =>
  (['json', 'msgpack', 'cbor', 'ubjson'] as const).map((serializer) => ({ transport, serializer })));

const open = (t: Target): Promise<FuzzConn> => (t.transport === 'websocket' ? WsConn.open(wsUrl, t.serializer) : RawConn.open(port, t.serializer));

/** What the router must do with one input. */
type Expect = 'violation' | 'closed' | 'either' | 'answer';

interface Input {
  bytes: Buffer;
  /** WebSocket: send as a text frame (JSON's normal) or binary. */
  text?: boolean;
  /** RawSocket: bytes as they go on the wire, framing included (overrides `bytes`). */
  wire?: Buffer;
  /** The message as the router will decode it (undefined: it will not decode). */
  decoded?: unknown;
  expect: Expect;
  label: string;
}

function decodeLocally(name: SerializerName, bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: getSerializer(name).decode(bytes) };
  } catch {
    return { ok: false };
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** The encoded message, or random bytes when the generator made something the encoder refuses (BigInt, …). */
function encodeOrJunk(r: Rng, name: SerializerName, message: unknown[]): Buffer {
  try {
    return getSerializer(name).encode(message);
  } catch {
    return r.bytes(20);
  }
}

function isUtf8(bytes: Buffer): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** JSON bytes with an invalid UTF-8 sequence inside a string. */
function invalidUtf8(json: Buffer, r: Rng): Buffer {
  const bad = r.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80]]);
  const quote = json.indexOf(0x22); // the first string's opening quote
  const at = quote >= 0 ? quote + 1 : json.length;
  return Buffer.concat([json.subarray(0, at), Buffer.from(bad), json.subarray(at)]);
}

function makeInput(r: Rng, t: Target, phase: SessionPhase, ctx: MessageContext): Input {
  const name = t.serializer;
  const opt: ValueOptions = name === 'json' ? { nonFinite: false, binary: true, exotic: false } : ALL_VALUES;
  const judge = (bytes: Buffer, label: string, extra: Partial<Input> = {}): Input => {
    // Above max_message_size the connection is failed (WebSocket 1009; RawSocket ABORT, checked below).
    if (bytes.length > MAX_MESSAGE) return { bytes, expect: 'closed', label: `${label} (oversized)`, ...extra };
    // ws fails a text frame that is not UTF-8 (1007) before the router sees it.
    const text = extra.text ?? (t.transport === 'websocket' && name === 'json');
    if (t.transport === 'websocket' && text && !isUtf8(bytes)) return { bytes, expect: 'closed', label: `${label} (text frame, not UTF-8)`, ...extra };
    const d = decodeLocally(name, bytes);
    if (!d.ok) return { bytes, expect: 'violation', label, ...extra };
    return { bytes, decoded: d.value, expect: isProtocolViolation(d.value, phase) ? 'violation' : 'answer', label, ...extra };
  };
  const roll = r.int(100);
  if (roll < 4) return judge(r.bytes(r.int(300)), 'random bytes');
  if (roll < 8) {
    // 10,000 levels of nesting in the payload of an acknowledged PUBLISH (a decoder may refuse it).
    const bytes = deepPublish(name, ctx.nextRequest(), 10_000, r.chance(0.3));
    return { ...judge(bytes, 'deep nesting'), expect: phase === 'established' ? 'either' : 'violation' };
  }
  if (roll < 11) {
    // Above max_message_size: the connection is failed (WebSocket 1009, RawSocket ABORT).
    const bytes = getSerializer(name).encode([T.PUBLISH, ctx.nextRequest(), {}, 'com.fuzz.big', ['x'.repeat(MAX_MESSAGE + r.int(5000))]]);
    return { bytes, expect: 'closed', label: 'oversized' };
  }
  if (roll < 14 && name === 'json') {
    const bytes = invalidUtf8(encodeOrJunk(r, 'json', validMessage(r, r.pick(CLIENT_TYPES), ctx, opt)), r);
    // In a text frame ws fails the connection (1007); in a binary frame or RawSocket the decoder refuses it.
    return t.transport === 'websocket' && r.chance(0.5) ? { bytes, text: true, expect: 'closed', label: 'invalid UTF-8 (text frame)' } : judge(bytes, 'invalid UTF-8');
  }
  if (roll < 16 && t.transport === 'rawsocket') {
    // A frame whose header promises more than follows, then the client goes away.
    const bytes = encodeOrJunk(r, name, validMessage(r, 'PUBLISH', ctx, opt));
    return { bytes, wire: Buffer.concat([header(0, bytes.length + 1 + r.int(100)), bytes]), expect: 'closed', label: 'truncated frame' };
  }
  if (roll < 18 && t.transport === 'rawsocket') {
    // Reserved frame types and reserved header bits.
    const b0 = r.pick([3, 4, 5, 6, 7, 0x10, 0x80, 0xf0, 0x18]);
    return { bytes: Buffer.alloc(0), wire: Buffer.from([b0, 0, 0, 0]), expect: 'violation', label: 'bad frame header' };
  }
  if (roll < 20 && t.transport === 'websocket') {
    // The other frame kind: JSON in a binary frame, MessagePack/CBOR in a text frame (if valid UTF-8).
    const bytes = encodeOrJunk(r, name, validMessage(r, r.pick(CLIENT_TYPES), ctx, opt));
    if (name === 'json') return { ...judge(bytes, 'json in binary frame'), text: false };
    return judge(bytes, `${name} in text frame`, { text: true });
  }
  // The bulk: a message of some type, mutated or not, encoded, and sometimes damaged as bytes.
  const type = phase === 'new' && r.chance(0.5) ? 'HELLO' : r.pick(CLIENT_TYPES);
  const valid = validMessage(r, type, ctx, opt);
  const { msg, kind } = r.chance(0.2) ? { msg: valid, kind: 'none' } : mutate(r, valid, opt);
  let bytes: Buffer;
  try {
    bytes = getSerializer(name).encode(msg as unknown[]);
  } catch {
    bytes = r.bytes(20);
  }
  if (r.chance(0.15) && bytes.length > 0) {
    bytes = Buffer.from(bytes);
    const d = r.int(3);
    if (d === 0) bytes[r.int(bytes.length)] = r.int(256);
    else if (d === 1) bytes = bytes.subarray(0, r.int(bytes.length));
    else bytes = Buffer.concat([bytes, r.bytes(1 + r.int(4))]);
    return judge(bytes, `${type} ${kind} + damaged bytes`);
  }
  return judge(bytes, `${type} ${kind}`);
}

/** Sends one input on `conn` and checks the router's answer. Returns false when the connection is done. */
async function runInput(conn: FuzzConn, t: Target, input: Input, phase: SessionPhase, ctx: MessageContext, where: string): Promise<SessionPhase | undefined> {
  const before = conn.messages.length;
  if (input.wire && conn instanceof RawConn) conn.sendRaw(input.wire);
  else conn.sendPayload(input.bytes, { text: input.text });
  if (input.label === 'truncated frame' && conn instanceof RawConn) conn.socket.end();
  const since = () => conn.messages.slice(before) as unknown[][];
  const aborted = () => since().some((m) => m[0] === T.ABORT && m[2] === 'wamp.error.protocol_violation');

  if (input.expect === 'violation' || input.expect === 'closed') {
    const closed = await conn.wait(() => conn.closed, 8000);
    if (!closed) {
      failures.add(`${where}: ${input.label}: expected the connection to be failed, still open; got ${show(since())}`, input.decoded ?? `<${input.bytes.length} bytes>`);
      return undefined;
    }
    // A protocol violation is said with ABORT, except where the WebSocket layer itself fails the
    // connection first (ws: invalid UTF-8 in a text frame, oversized frame).
    if (input.expect === 'violation' && !aborted()) {
      failures.add(`${where}: ${input.label}: closed without ABORT protocol_violation; got ${show(since())}`, input.decoded ?? `<${input.bytes.length} bytes>`);
    }
    if (input.expect === 'closed' && t.transport === 'rawsocket' && input.label === 'oversized' && !aborted()) {
      failures.add(`${where}: oversized RawSocket frame: closed without ABORT; got ${show(since())}`);
    }
    return undefined;
  }
  const m = input.decoded as unknown[] | undefined;
  // 'answer' or 'either': a request is answered (or the session ends), and a probe is answered.
  const replies = m ? repliesTo(m[0]) : undefined;
  const needsAnswer = m !== undefined && replies !== undefined && phase === 'established' &&
    (m[0] !== T.PUBLISH || (m[2] as Record<string, unknown>)['acknowledge'] === true);
  let newPhase = phase;
  if (needsAnswer) {
    const ok = await conn.wait(() => conn.closed || since().some((x) =>
      (x[0] === T.ERROR && x[1] === m[0] && x[2] === m[1]) || (replies.includes(x[0] as number) && x[1] === m[1]) ||
      (m[0] === T.CALL && x[0] === T.INVOCATION)), 8000);
    if (!ok) failures.add(`${where}: ${input.label}: request left unanswered; got ${show(since())}`, m);
  }
  if (m && phase === 'new' && m[0] === T.HELLO) {
    await conn.wait(() => conn.closed || since().some((x) => x[0] === T.WELCOME || x[0] === T.ABORT || x[0] === T.CHALLENGE), 8000);
    if (since().some((x) => x[0] === T.WELCOME)) newPhase = 'established';
  }
  if (m && m[0] === T.GOODBYE && phase === 'established') {
    // GOODBYE is answered with GOODBYE, then the router closes.
    await conn.wait(() => conn.closed, 8000);
    if (!conn.closed || !since().some((x) => x[0] === T.GOODBYE)) failures.add(`${where}: GOODBYE not answered with GOODBYE and close; got ${show(since())}`, m);
    return undefined;
  }
  if (!conn.closed && newPhase === 'established') {
    const probe = ctx.nextRequest();
    conn.sendMessage([T.PUBLISH, probe, { acknowledge: true }, 'com.fuzz.probe']);
    const ok = await conn.wait(() => conn.closed || since().some((x) => x[0] === T.PUBLISHED && x[1] === probe), 8000);
    if (!ok) failures.add(`${where}: ${input.label}: the session no longer answers (probe unacknowledged)`, m ?? `<${input.bytes.length} bytes>`);
  } else if (!conn.closed && newPhase === 'new') {
    // Not joined, not closed: only a HELLO still being answered may leave it so; give it a moment.
    await conn.wait(() => conn.closed, 8000);
    if (!conn.closed) failures.add(`${where}: ${input.label}: a session that never joined was left open`, m);
  }
  if (conn.closed) {
    const sent = since();
    const clientEnded = m?.[0] === T.ABORT || m?.[0] === T.GOODBYE;
    if (!clientEnded && input.expect === 'answer' && !sent.some((x) => x[0] === T.ABORT || x[0] === T.GOODBYE)) {
      failures.add(`${where}: ${input.label}: closed without ABORT or GOODBYE; got ${show(sent)}`, m);
    }
    return undefined;
  }
  return newPhase;
}

async function fuzzTarget(t: Target, total: number): Promise<void> {
  const name = `${t.transport}/${t.serializer}`;
  let issued = 0;
  const worker = async (r: Rng) => {
    while (issued < total && failures.list.length < 25) {
      let conn: FuzzConn;
      try {
        conn = await open(t);
      } catch (err) {
        failures.add(`${name}: cannot connect: ${(err as Error).message}`);
        return;
      }
      let request = 0;
      const ctx: MessageContext = { realm: 'realm1', knownIds: [], nextRequest: () => ++request };
      let phase: SessionPhase | undefined = 'new';
      if (r.chance(0.85)) {
        conn.sendMessage([T.HELLO, 'realm1', HELLO_DETAILS]);
        if (!(await conn.next((m) => m[0] === T.WELCOME))) {
          failures.add(`${name}: a valid HELLO was not welcomed: ${show(conn.messages)}`);
          conn.close();
          return;
        }
        phase = 'established';
      }
      for (let k = 0; k < 12 && phase && issued < total; k++) {
        const input = makeInput(r, t, phase, ctx);
        const n = issued++;
        counts.add(`sockets/${name}`);
        const from = conn.messages.length;
        phase = await runInput(conn, t, input, phase, ctx, `${name} input #${n} (${input.label}, phase ${phase})`);
        for (const m of conn.messages.slice(from)) {
          if (!wellFormedFromRouter(m)) failures.add(`${name}: router sent a malformed message ${show(m)}`);
          const mm = m as unknown[];
          const id = mm[0] === T.SUBSCRIBED || mm[0] === T.REGISTERED ? mm[2] : mm[0] === T.INVOCATION ? mm[1] : undefined;
          if (typeof id === 'number' && ctx.knownIds.length < 32) ctx.knownIds.push(id);
        }
      }
      if (conn.undecodable > 0) failures.add(`${name}: ${conn.undecodable} frame(s) from the router did not decode (or came in the wrong frame kind)`);
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, () => worker(rng.fork())));
}

describe('fuzz: real sockets', () => {
  for (const t of TARGETS) {
    it(`${t.transport} ${t.serializer}: ${PER_TARGET} mutated, damaged, oversized, deep and random inputs`, async () => {
      await fuzzTarget(t, PER_TARGET);
      expect(failures.list, failures.report()).toEqual([]);
    }, 120_000);
  }

  it('RawSocket handshake: every second byte, reserved bits, wrong magic, random handshakes', async () => {
    // All 256 values of the second byte: serializers 1-4 are accepted (echoed with our length), others refused with error 1.
    const check = async (hs: Buffer, expectReply: (reply: Buffer) => string | undefined) => {
      const c = await tcp(port);
      c.socket.write(hs);
      await new Promise<void>((r) => {
        const done = () => r();
        const t = setTimeout(done, 4000);
        const poll = setInterval(() => { if (c.data().length >= 4 || c.closed()) { clearTimeout(t); clearInterval(poll); done(); } }, 2);
      });
      const problem = expectReply(c.data());
      if (problem) failures.add(`handshake ${hs.toString('hex')}: ${problem}`);
      c.socket.destroy();
      counts.add('sockets/rawsocket-handshake');
    };
    const batch: Promise<void>[] = [];
    for (let b1 = 0; b1 < 256; b1++) {
      batch.push(check(Buffer.from([0x7f, b1, 0, 0]), (reply) => {
        const ser = b1 & 0x0f;
        if (ser >= 1 && ser <= 4) {
          if (reply.length < 4 || reply[0] !== 0x7f || (reply[1]! & 0x0f) !== ser || reply[2] !== 0 || reply[3] !== 0) return `expected acceptance of serializer ${ser}, got ${reply.toString('hex')}`;
        } else if (reply.subarray(0, 4).toString('hex') !== '7f100000') {
          return `expected error 1 (serializer unsupported), got ${reply.toString('hex')}`;
        }
        return undefined;
      }));
      if (batch.length >= 16) await Promise.all(batch.splice(0));
    }
    // Reserved bytes 3 and 4 not zero: error 3.
    for (let i = 0; i < 32; i++) {
      const b2 = rng.int(256), b3 = rng.int(256);
      if (b2 === 0 && b3 === 0) continue;
      batch.push(check(Buffer.from([0x7f, 0xf1, b2, b3]), (reply) => (reply.subarray(0, 4).toString('hex') === '7f300000' ? undefined : `expected error 3, got ${reply.toString('hex')}`)));
    }
    await Promise.all(batch.splice(0));
    // Wrong magic, random handshakes, and a handshake in pieces: never a crash, never a hang.
    for (let i = 0; i < 200; i++) {
      const hs = rng.bytes(1 + rng.int(12));
      if (hs[0] === 0x7f && rng.chance(0.5)) hs[0] = 0x7e;
      batch.push((async () => {
        const c = await tcp(port);
        c.socket.write(hs);
        c.socket.write('\r\n\r\n');
        // Whatever it is (garbage HTTP, short handshake), the router answers or drops it within the handshake timeout.
        if (!(await c.waitClosed(HANDSHAKE_TIMEOUT + 4000))) failures.add(`random handshake ${hs.toString('hex')}: connection left open`);
        counts.add('sockets/rawsocket-handshake');
      })());
      if (batch.length >= 16) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch.splice(0));
    expect(failures.list, failures.report()).toEqual([]);
  }, 60_000);

  it('WebSocket opening handshake: bad upgrade requests are refused or dropped, never left hanging', async () => {
    const requests = [
      `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.xml\r\n\r\n`,
      `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n`,
      `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n`,
      `GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n`,
      `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${'wamp.2.json,'.repeat(2000)}\r\n\r\n`,
      `POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nabc`,
      `GET /ws HTTP/1.1\r\n${'X-A: b\r\n'.repeat(5000)}\r\n`,
      `\u0000\u0001\u0002 garbage\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
    ];
    await Promise.all(requests.map(async (req) => {
      const c = await tcp(port);
      c.socket.write(req);
      // Answered with an HTTP status and/or closed; a request the server waits on (the POST body)
      // is dropped by the handshake timeout at the latest.
      const closed = await c.waitClosed(HANDSHAKE_TIMEOUT + 4000);
      const answered = /^HTTP\/1\.1 [45]\d\d/.test(c.data().toString('latin1'));
      if (!closed && !answered) failures.add(`upgrade request ${show(req.slice(0, 80))}: neither answered nor closed`);
      c.socket.destroy();
      counts.add('sockets/websocket-upgrade');
    }));
    expect(failures.list, failures.report()).toEqual([]);
  }, 60_000);

  it('a 10,000-deep payload published over JSON reaches subscribers on every serializer, or is dropped with a log line', async () => {
    const subs = await Promise.all((['json', 'msgpack', 'cbor'] as const).map(async (s) => {
      const c = await WsConn.open(wsUrl, s);
      c.sendMessage([T.HELLO, 'realm1', HELLO_DETAILS]);
      await c.next((m) => m[0] === T.WELCOME);
      c.sendMessage([T.SUBSCRIBE, 1, {}, 'com.fuzz.deep.sub']);
      expect(await c.next((m) => m[0] === T.SUBSCRIBED)).toBeDefined();
      return c;
    }));
    const pub = await WsConn.open(wsUrl, 'json');
    pub.sendMessage([T.HELLO, 'realm1', HELLO_DETAILS]);
    await pub.next((m) => m[0] === T.WELCOME);
    for (const depth of [1000, 10_000]) {
      pub.sendPayload(Buffer.from(deepPublish('json', depth, depth).toString('utf8').replace('com.fuzz.deep', 'com.fuzz.deep.sub')));
      const ack = await pub.next((m) => (m[0] === T.PUBLISHED || m[0] === T.ERROR) && (m[1] === depth || m[2] === depth));
      expect(ack?.[0], `publication of depth ${depth}`).toBe(T.PUBLISHED);
      counts.add('sockets/deep-nesting');
    }
    // Each subscriber got both events, or the router logged why it could not encode one for it; and
    // every subscriber is still connected and served.
    const cannotEncode = stderr.lines.filter((l) => /cannot encode/.test(l)).length;
    for (const s of subs) {
      const events = s.messages.filter((m) => (m as unknown[])[0] === T.EVENT).length;
      if (events < 2) expect(cannotEncode, `${s.serializer.name} subscriber got ${events} of 2 events and nothing was logged`).toBeGreaterThan(0);
    }
    for (const s of subs) {
      s.sendMessage([T.PUBLISH, 99, { acknowledge: true }, 'com.fuzz.probe']);
      expect(await s.next((m) => m[0] === T.PUBLISHED && m[1] === 99), `${s.serializer.name} subscriber still served`).toBeDefined();
      expect(s.undecodable).toBe(0);
      s.close();
    }
    pub.close();
  }, 60_000);

  it('a CBOR callee cannot make the router pass a tagged value (date, set, typed array) to a JSON caller as ERROR.Details', async () => {
    const joinAs = async (name: SerializerName) => {
      const c = await WsConn.open(wsUrl, name);
      c.sendMessage([T.HELLO, 'realm1', HELLO_DETAILS]);
      expect(await c.next((m) => m[0] === T.WELCOME)).toBeDefined();
      return c;
    };
    for (const details of [new Date(0), new Set([1]), new Uint16Array([1]), new Map([['a', 1]])]) {
      const callee = await joinAs('cbor');
      callee.sendMessage([T.REGISTER, 1, {}, 'com.fuzz.tagged']);
      expect(await callee.next((m) => m[0] === T.REGISTERED)).toBeDefined();
      const caller = await joinAs('json');
      caller.sendMessage([T.CALL, 1, {}, 'com.fuzz.tagged', []]);
      const invocation = await callee.next((m) => m[0] === T.INVOCATION);
      callee.sendMessage([T.ERROR, T.INVOCATION, invocation![1], details, 'com.fuzz.error']);
      // The callee broke the protocol (Details must be a dict): ABORT, and the caller gets a proper ERROR.
      expect((await callee.next((m) => m[0] === T.ABORT))?.[2], details.constructor.name).toBe('wamp.error.protocol_violation');
      const answer = await caller.next((m) => m[0] === T.ERROR || m[0] === T.RESULT);
      expect(answer && wellFormedFromRouter(answer), `${details.constructor.name}: ${show(answer)}`).toBe(true);
      callee.close();
      caller.close();
      counts.add('sockets/cbor-tagged-details');
    }
  });

  it('ends well: the router takes a fresh session, the bystander was served throughout, nothing uncaught', async () => {
    for (const t of TARGETS) {
      const c = await open(t);
      c.sendMessage([T.HELLO, 'realm1', HELLO_DETAILS]);
      expect(await c.next((m) => m[0] === T.WELCOME), `fresh ${t.transport}/${t.serializer} session`).toBeDefined();
      c.sendMessage([T.CALL, 1, {}, 'bystander.echo', ['fresh']]);
      const r = await c.next((m) => m[0] === T.RESULT && m[1] === 1);
      expect(r?.[3]).toEqual(['fresh']);
      c.close();
    }
    await bystander.stop();
    const seconds = (Date.now() - started) / 1000;
    console.log(`${counts.table('fuzz sockets: inputs per target')}\n  ${seconds.toFixed(1)} s; bystander: ${bystander.calls} calls (${bystander.results} answered), ` +
      `${bystander.events} events; router log: ${stderr.counts.get('WARN') ?? 0} warnings, ${stderr.counts.get('ERROR') ?? 0} errors`);
    expect(bystander.errors).toEqual([]);
    expect(bystander.results).toBe(bystander.calls);
    expect(bystander.calls).toBeGreaterThan(10);
    expect(uncaught.errors).toEqual([]);
    expect(stderr.lines.filter((l) => / ERROR /.test(l))).toEqual([]);
    expect(failures.list, failures.report()).toEqual([]);
  }, 60_000);
});

// Fuzzing the router core in-process: most of the suite's inputs go this way (no sockets, so tens of
// thousands per second). Each input is a valid message of some client type, damaged or not, sent to a
// session in one of three phases (before HELLO, after CHALLENGE, established), either as a decoded
// value or through a serializer's bytes (mutated or not). After each input the session must have
// answered as the spec says: ABORT protocol_violation and closed for a protocol violation; otherwise
// closed with ABORT/GOODBYE, or an ERROR or the right reply for every request, and still answering a
// probe. Throughout, an in-process bystander keeps calling and receiving events.
//
// Replay: JUNCTION_FUZZ_SEED=<printed seed>; scale: JUNCTION_FUZZ_INPUTS=N.

import { describe, it, expect } from 'vitest';
import { Router } from '../../src/router/router.js';
import { InProcessServices } from '../../src/router-services/in-process-services.js';
import type { SessionHandle, SessionOptions, Transport, TransportInfo } from '../../src/core-boundary.js';
import { ClientSession } from '../../src/client/client-session.js';
import { getSerializer, type SerializerName } from '../../src/serializers/index.js';
import { log } from '../../src/log.js';
import {
  Rng, FUZZ_SEED, FUZZ_INPUTS, T, CLIENT_TYPES, HELLO_DETAILS, validMessage, mutate, isProtocolViolation, repliesTo,
  wellFormedFromRouter, type MessageContext, type SessionPhase, type ValueOptions, ALL_VALUES,
} from './gen.js';
import { FUZZ_REALM, Failures, show, watchUncaught, Counts } from './harness.js';
import { captureStderr } from '../helpers/capture-log.js';

/** A transport that records what the router sends; closing it tells the session, as a socket would. */
/**
 * Each session has a peer of its own: the router slows down authentication per peer address after
 * failures (src/auth/throttle.ts), which would make in-process sessions wait on one another.
 */
let peers = 0;
class FuzzTransport implements Transport {
  readonly info: TransportInfo = { type: 'fuzz', serializer: 'native', peer: `fuzz:core:${++peers}` };
  readonly sent: unknown[][] = [];
  closed = false;
  handle!: SessionHandle;
  send(m: unknown[]): boolean {
    if (!this.closed) this.sent.push(m);
    return true;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.handle.transportClosed());
  }
}

const ANON: SessionOptions = { auth: { anonymous: { type: 'static', role: 'fuzzer' } } };
const TICKET: SessionOptions = { auth: { ticket: { type: 'static', principals: { 'svc-1': { ticket: 'secret', role: 'fuzzer' } } } } };

const settle = () => new Promise<void>((r) => setImmediate(r));

class FuzzSession {
  readonly t = new FuzzTransport();
  private request = 0;
  readonly ctx: MessageContext;
  phase: SessionPhase = 'new';
  inputs = 0;
  constructor(router: Router, options: SessionOptions) {
    this.t.handle = router.openSession(this.t, options);
    const knownIds: number[] = [];
    this.ctx = { realm: 'realm1', knownIds, nextRequest: () => ++this.request };
  }
  receive(m: unknown): void {
    this.t.handle.receive(m);
  }
  /** Remembers IDs the router handed out, so later inputs can aim at real subscriptions and calls. */
  learn(from: number): void {
    for (let i = from; i < this.t.sent.length; i++) {
      const m = this.t.sent[i]!;
      const id = m[0] === T.SUBSCRIBED || m[0] === T.REGISTERED ? m[2] : m[0] === T.INVOCATION ? m[1] : undefined;
      if (typeof id === 'number' && this.ctx.knownIds.length < 64) this.ctx.knownIds.push(id);
    }
  }
}

/** Bytes of `msg` in `serializer`, sometimes damaged: flipped, cut, extended, spliced, or replaced. */
function encodedInput(rng: Rng, name: SerializerName, msg: unknown): Buffer {
  let bytes: Buffer;
  try {
    bytes = getSerializer(name).encode(msg as unknown[]);
  } catch {
    bytes = rng.bytes(rng.int(64));
  }
  const r = rng.int(100);
  if (r < 55) return bytes;
  const b = Buffer.from(bytes);
  if (r < 70 && b.length > 0) {
    for (let n = 1 + rng.int(4); n > 0; n--) b[rng.int(b.length)] = rng.int(256);
    return b;
  }
  if (r < 80) return b.subarray(0, rng.int(b.length + 1));
  if (r < 87) return Buffer.concat([b, rng.bytes(1 + rng.int(8))]);
  if (r < 94) {
    const at = rng.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(16)), b.subarray(at)]);
  }
  return rng.bytes(rng.int(200));
}

describe('fuzz: router core (in-process sessions)', () => {
  it(`answers ${FUZZ_INPUTS} random and mutated inputs per the spec while a bystander keeps working`, async () => {
    console.log(`fuzz core: JUNCTION_FUZZ_SEED=${FUZZ_SEED} JUNCTION_FUZZ_INPUTS=${FUZZ_INPUTS}`);
    const rng = new Rng(FUZZ_SEED);
    const counts = new Counts();
    const kinds = new Counts();
    const failures = new Failures();
    const uncaught = watchUncaught();
    const stderr = captureStderr();
    log.setLevel('warn');
    const router = new Router([FUZZ_REALM], new InProcessServices());
    await router.ready;
    // The bystander: one session serves a procedure and subscribes, another calls and publishes.
    const callee = await ClientSession.connect(router, { realm: 'realm1', role: 'bystander', name: 'bystander-callee' });
    const caller = await ClientSession.connect(router, { realm: 'realm1', role: 'bystander', name: 'bystander-caller' });
    await callee.register('bystander.echo', (args) => args[0]);
    const seen = new Set<number>();
    await callee.subscribe('bystander.tick', (_a, kwargs) => { if (typeof kwargs['seq'] === 'number') seen.add(kwargs['seq']); });
    let bystanderCalls = 0;
    let bystanderEvents = 0;
    const bystanderErrors: string[] = [];

    let established: FuzzSession | undefined;
    const openEstablished = (): FuzzSession => {
      if (established && !established.t.closed && established.inputs < 300) return established;
      if (established && !established.t.closed) established.t.close();
      const s = new FuzzSession(router, ANON);
      s.receive([T.HELLO, 'realm1', HELLO_DETAILS]);
      if (s.t.sent[0]?.[0] !== T.WELCOME) throw new Error(`fuzz session did not join: ${show(s.t.sent)} ${stderr.lines.join('\n')}`);
      s.phase = 'established';
      return (established = s);
    };

    const started = Date.now();
    for (let i = 0; i < FUZZ_INPUTS; i++) {
      if (failures.list.length >= 25) break;
      // Phase of the session the input goes to.
      const pr = rng.next();
      let s: FuzzSession;
      if (pr < 0.2) {
        s = new FuzzSession(router, rng.chance(0.8) ? ANON : TICKET);
      } else if (pr < 0.3) {
        s = new FuzzSession(router, TICKET);
        s.receive([T.HELLO, 'realm1', { ...HELLO_DETAILS, authmethods: ['ticket'], authid: 'svc-1' }]);
        if (s.t.sent[0]?.[0] !== T.CHALLENGE) throw new Error(`no CHALLENGE: ${show(s.t.sent)}`);
        s.phase = 'challenged';
      } else {
        s = openEstablished();
      }
      s.inputs++;
      const phase = s.phase;
      // The input: a message of some type (weighted to the phase), mutated or not, native or encoded.
      const type = phase === 'new' && rng.chance(0.5) ? 'HELLO'
        : phase === 'challenged' && rng.chance(0.5) ? 'AUTHENTICATE'
        : rng.pick(CLIENT_TYPES);
      const via: 'native' | SerializerName = rng.pick(['native', 'native', 'json', 'msgpack', 'cbor', 'ubjson'] as const);
      // Exotic values go in as they are (native) or through the encoder (CBOR tags, MessagePack ext).
      const opt: ValueOptions = via === 'json' ? { nonFinite: false, binary: true, exotic: false } : ALL_VALUES;
      const valid = validMessage(rng, type, s.ctx, opt);
      const { msg, kind } = rng.chance(0.15) ? { msg: valid, kind: 'none' as const } : mutate(rng, valid, opt);
      const before = s.t.sent.length;
      let delivered: unknown = msg;
      let decodeFailed = false;
      if (via === 'native') {
        s.receive(msg);
      } else {
        const bytes = encodedInput(rng, via, msg);
        try {
          delivered = getSerializer(via).decode(bytes);
        } catch (err) {
          decodeFailed = true;
          delivered = `<undecodable ${via}: ${(err as Error).message}>`;
        }
        if (decodeFailed) s.t.handle.protocolError(`cannot decode ${via} message`);
        else s.receive(delivered);
      }
      counts.add(`core/${via}/${phase}`);
      kinds.add(kind);
      await settle();
      s.learn(before);

      const out = s.t.sent.slice(before);
      const where = `input #${i} (${via}, ${phase}, ${type}, mutation ${kind})`;
      for (const m of out) if (!wellFormedFromRouter(m)) failures.add(`${where}: router sent a malformed message ${show(m)}`, delivered);
      const abortedForViolation = out.some((m) => m[0] === T.ABORT && m[2] === 'wamp.error.protocol_violation');
      if (decodeFailed || isProtocolViolation(delivered, phase)) {
        if (!abortedForViolation || !s.t.closed) {
          failures.add(`${where}: a protocol violation was not answered with ABORT protocol_violation and close; got ${show(out)} closed=${s.t.closed}`, delivered);
        }
      } else {
        const m = delivered as unknown[];
        // A well-formed request, or one with only an unknown option added (which the spec says to
        // ignore), is no protocol violation.
        const mustNotAbort = via === 'native' && phase === 'established' && (kind === 'none' || kind === 'unknown-option') &&
          [T.PUBLISH, T.SUBSCRIBE, T.CALL, T.REGISTER].includes(m[0] as 16);
        if (mustNotAbort && abortedForViolation) failures.add(`${where}: a valid request was taken for a protocol violation: ${show(out)}`, delivered);
        if (s.t.closed) {
          const clientEnded = m[0] === T.ABORT;
          if (!clientEnded && !out.some((x) => x[0] === T.ABORT || x[0] === T.GOODBYE)) {
            failures.add(`${where}: closed without ABORT or GOODBYE; got ${show(out)}`, delivered);
          }
        } else {
          // Requests need their answer.
          const replies = repliesTo(m[0]);
          const needsAnswer = replies !== undefined && phase === 'established' &&
            (m[0] !== T.PUBLISH || (m[2] as Record<string, unknown>)['acknowledge'] === true);
          if (needsAnswer) {
            const answered = out.some((x) => (x[0] === T.ERROR && x[1] === m[0] && x[2] === m[1]) || (replies.includes(x[0] as number) && x[1] === m[1]))
              || (m[0] === T.CALL && out.some((x) => x[0] === T.INVOCATION));
            if (!answered) failures.add(`${where}: request left unanswered; got ${show(out)}`, delivered);
          }
          if (phase === 'new' && m[0] === T.HELLO && !out.some((x) => x[0] === T.WELCOME || x[0] === T.CHALLENGE)) {
            failures.add(`${where}: HELLO neither welcomed, challenged nor aborted; got ${show(out)}`, delivered);
          }
          if (phase === 'challenged' && m[0] === T.AUTHENTICATE && !out.some((x) => x[0] === T.WELCOME)) {
            failures.add(`${where}: AUTHENTICATE neither welcomed nor aborted; got ${show(out)}`, delivered);
          }
          // A session that is still open must still answer: a probe PUBLISH with acknowledge.
          if (out.some((x) => x[0] === T.WELCOME)) s.phase = 'established';
          if (s.phase === 'established' && !out.some((x) => x[0] === T.GOODBYE)) {
            const probe = s.ctx.nextRequest();
            const at = s.t.sent.length;
            s.receive([T.PUBLISH, probe, { acknowledge: true }, 'com.fuzz.probe']);
            await settle();
            if (!s.t.sent.slice(at).some((x) => x[0] === T.PUBLISHED && x[1] === probe)) {
              failures.add(`${where}: the session no longer answers (probe PUBLISH unacknowledged; closed=${s.t.closed})`, delivered);
            }
          }
          if (s !== established && s.phase === 'established' && !s.t.closed) {
            if (established && !established.t.closed) established.t.close();
            established = s;
          }
        }
      }
      if (s !== established && !s.t.closed) s.t.close(); // sessions used once: the transport goes away

      // The bystander, every few hundred inputs: a call that must come back, an event that must arrive.
      if (i % 250 === 0) {
        const seq = i;
        try {
          const r = await caller.call('bystander.echo', [seq]);
          if (r.args[0] !== seq) bystanderErrors.push(`echo ${seq} came back as ${show(r.args)}`);
          bystanderCalls++;
          await caller.publish('bystander.tick', [], { seq }, { acknowledge: true });
          await settle();
          if (!seen.has(seq)) bystanderErrors.push(`event ${seq} not delivered`);
          bystanderEvents++;
        } catch (err) {
          bystanderErrors.push(`bystander at input ${i}: ${(err as Error).message}`);
        }
      }
    }
    const seconds = (Date.now() - started) / 1000;

    // The router still takes a fresh session and serves it.
    const fresh = await ClientSession.connect(router, { realm: 'realm1', role: 'bystander', name: 'fresh' });
    const r = await fresh.call('bystander.echo', ['fresh']);
    expect(r.args).toEqual(['fresh']);
    await fresh.close();

    uncaught.stop();
    stderr.restore();
    log.setLevel('info');
    console.log(`${counts.table('fuzz core: inputs per target')}\n  ${seconds.toFixed(1)} s; bystander: ${bystanderCalls} calls, ${bystanderEvents} events; ` +
      `router log: ${stderr.counts.get('WARN') ?? 0} warnings, ${stderr.counts.get('ERROR') ?? 0} errors\n${kinds.table('  mutations')}`);
    expect(failures.list, failures.report()).toEqual([]);
    expect(uncaught.errors).toEqual([]);
    expect(bystanderErrors).toEqual([]);
    expect(bystanderCalls).toBeGreaterThan(0);
    // Any "internal error" means a router bug met an input it did not expect.
    expect(stderr.lines.filter((l) => /internal error/.test(l))).toEqual([]);
    expect(counts.total).toBe(FUZZ_INPUTS);
  }, 120_000);
});

describe('fuzz findings, pinned', () => {
  it('ignores unknown Options keys, also those named like Object.prototype members (the spec: unknown keys MUST be ignored)', async () => {
    const router = new Router([FUZZ_REALM], new InProcessServices());
    await router.ready;
    const s = new FuzzSession(router, ANON);
    s.receive([T.HELLO, 'realm1', HELLO_DETAILS]);
    expect(s.t.sent[0]?.[0]).toBe(T.WELCOME);
    const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable',
      'toLocaleString', '__defineGetter__', '__lookupGetter__', '__proto__', '_junk', 'unknown_key'];
    for (const name of names) {
      for (const value of [1, 'x', null, [], {}]) {
        for (const make of [
          (id: number, o: Record<string, unknown>) => [T.PUBLISH, id, { ...o, acknowledge: true }, 'com.fuzz.t1'],
          (id: number, o: Record<string, unknown>) => [T.SUBSCRIBE, id, o, 'com.fuzz.t1'],
          (id: number, o: Record<string, unknown>) => [T.CALL, id, o, 'wamp.session.count'],
          (id: number, o: Record<string, unknown>) => [T.REGISTER, id, o, `com.fuzz.r${id}`],
        ]) {
          const options: Record<string, unknown> = {};
          // As JSON.parse makes it: an own, enumerable property, even for __proto__.
          Object.defineProperty(options, name, { value, enumerable: true, configurable: true, writable: true });
          const id = s.ctx.nextRequest();
          const msg = make(id, options);
          const before = s.t.sent.length;
          s.receive(msg);
          await settle();
          const out = s.t.sent.slice(before);
          expect(s.t.closed, `${show(msg)} → ${show(out)}`).toBe(false);
          expect(out.some((m) => m[1] === id || m[2] === id), `${show(msg)} answered`).toBe(true);
        }
      }
    }
  });
});

describe('fuzz findings, pinned: serializers', () => {
  it('CBOR shared references (tags 28/29), which make cyclic values, do not decode: the session is aborted', async () => {
    const cbor = getSerializer('cbor');
    // [16, 1, {}, "t", [<the message itself>]] and a list holding itself.
    const cyclic = [
      [0xd8, 0x1c, 0x85, 0x10, 0x01, 0xa0, 0x61, 0x74, 0x81, 0xd8, 0x1d, 0x00],
      [0x85, 0x10, 0x01, 0xa0, 0x61, 0x74, 0xd8, 0x1c, 0x81, 0xd8, 0x1d, 0x00],
    ];
    for (const bytes of cyclic) expect(() => cbor.decode(Buffer.from(bytes))).toThrow(/shared reference/);
    // Other tags still decode (bignums become numbers, as before).
    expect(cbor.decode(Buffer.from([0x81, 0xc2, 0x42, 0x01, 0x00]))).toEqual([256]);
  });

  it('a dict position holding a Date, Map, Set, typed array or class instance is a protocol violation', async () => {
    const router = new Router([FUZZ_REALM], new InProcessServices());
    await router.ready;
    for (const notADict of [new Date(0), new Map(), new Set(), new Uint16Array(1), new Error('x'), Object.create({ a: 1 }) as object]) {
      const s = new FuzzSession(router, ANON);
      s.receive([T.HELLO, 'realm1', HELLO_DETAILS]);
      s.receive([T.PUBLISH, 1, notADict, 'com.fuzz.t1', [], {}]);
      await settle();
      expect(s.t.sent.at(-1), Object.prototype.toString.call(notADict)).toEqual([T.ABORT, expect.anything(), 'wamp.error.protocol_violation']);
      expect(s.t.closed).toBe(true);
    }
  });
});

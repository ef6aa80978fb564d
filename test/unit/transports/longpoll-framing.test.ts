// Long-poll bodies by protocol: one message per body, or batched as Autobahn frames batches (JSON:
// each message ended by 0x18; MessagePack and CBOR: each after a 4-byte big-endian length).
import { describe, it, expect } from 'vitest';
import { framingOf, protocolsOf } from '../../../src/transports/longpoll-framing.js';
import type { WampMessage } from '../../../src/wamp/message.js';

const ALL = ['json', 'msgpack', 'cbor'] as const;
const messages: WampMessage[] = [[1, 'realm1', { roles: { caller: {} } }], [48, 7, {}, 'com.example.add', [1, 2]]];

describe('long-poll framing', () => {
  it('knows the plain and batched protocols of the serializers offered, nothing else', () => {
    expect(framingOf('wamp.2.json', ALL)?.batched).toBe(false);
    expect(framingOf('wamp.2.msgpack.batched', ALL)?.batched).toBe(true);
    expect(framingOf('wamp.2.cbor', ['json'])).toBeUndefined();
    for (const p of ['wamp.2.ubjson', 'wamp.1.json', 'wamp.2.json.batched.x', 'wamp.2.constructor']) expect(framingOf(p, ALL)).toBeUndefined();
    expect(protocolsOf(['json'])).toEqual(['wamp.2.json', 'wamp.2.json.batched']);
    expect(framingOf('wamp.2.msgpack', ALL)?.mimeType).toBe('application/x-msgpack');
  });

  for (const s of ALL) {
    it(`${s} batched: a body of several messages splits back into them; framedLength counts the frame`, () => {
      const f = framingOf(`wamp.2.${s}.batched`, ALL)!;
      const encoded = messages.map((m) => f.serializer.encode(m));
      const body = f.body(encoded);
      expect(body.length).toBe(encoded.reduce((n, e) => n + f.framedLength(e), 0));
      expect(f.split(body).map((m) => f.serializer.decode(m))).toEqual(messages);
    });
  }

  it('JSON batched uses 0x18 after each message; a body not ending in it is refused', () => {
    const f = framingOf('wamp.2.json.batched', ALL)!;
    expect(f.body([Buffer.from('[1]'), Buffer.from('[2]')]).toString('latin1')).toBe('[1]\x18[2]\x18');
    expect(() => f.split(Buffer.from('[1]\x18[2]'))).toThrow(/0x18/);
  });

  it('binary batched: a length prefix cut short, or announcing more than follows, is refused', () => {
    const f = framingOf('wamp.2.msgpack.batched', ALL)!;
    expect(() => f.split(Buffer.from([0, 0]))).toThrow(/cut short/);
    expect(() => f.split(Buffer.from([0, 0, 0, 9, 1]))).toThrow(/announces 9 bytes/);
  });

  it('plain: the body is the one message', () => {
    const f = framingOf('wamp.2.cbor', ALL)!;
    const e = f.serializer.encode(messages[1]!);
    expect(f.body([e])).toBe(e);
    expect(f.split(e)).toEqual([e]);
    expect(f.framedLength(e)).toBe(e.length);
  });
});

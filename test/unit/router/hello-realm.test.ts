// A HELLO that names no realm (null, as Autobahn|Python sends it, or ""): no longer a protocol
// violation; authentication may assign a realm (test/interop/auth-realms.test.ts), and when none
// is assigned the session is refused with no_such_realm.
import { describe, it, expect } from 'vitest';
import { makeRouter, rawWire, HELLO_ALL } from '../../helpers/core.js';

describe('HELLO without a realm', () => {
  for (const realm of [null, '']) {
    it(`realm ${JSON.stringify(realm)} without an auth block that assigns one: ABORT no_such_realm`, async () => {
      const wire = rawWire(makeRouter());
      wire.send([1, realm, HELLO_ALL]);
      expect(await wire.next()).toEqual([3, expect.objectContaining({ message: 'no realm given, and authentication assigned none' }), 'wamp.error.no_such_realm']);
    });
  }
});

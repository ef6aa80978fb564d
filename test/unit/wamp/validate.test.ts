import { describe, it, expect } from 'vitest';
import { validateClientMessage, ProtocolViolation } from '../../../src/wamp/validate.js';
import { samples } from '../../helpers/testsuite.js';

// Message types a client sends to a router: the router validates these.
const CLIENT_TYPES = new Set([1, 3, 5, 6, 8, 16, 32, 34, 48, 49, 64, 66, 70]);

describe('message validation against the testsuite option vectors', () => {
  const cases = samples().filter((s) => s.wmsg && CLIENT_TYPES.has(s.wmsg[0] as number));
  it('has vectors to check', () => expect(cases.length).toBeGreaterThan(10));
  for (const c of cases) {
    it(`${c.file}: ${c.description}`, () => {
      if (c.expected_error) {
        expect(() => validateClientMessage(c.wmsg)).toThrow(ProtocolViolation);
        if (c.expected_error.contains) expect(() => validateClientMessage(c.wmsg)).toThrow(c.expected_error.contains);
      } else {
        expect(() => validateClientMessage(c.wmsg)).not.toThrow();
      }
    });
  }
});

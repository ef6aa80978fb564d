import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { payloadProblem } from '../../../src/router/payload-check.js';
import { readPayloadSchema } from '../../../src/wamp/payload-schema.js';
import { payloadTypesOf } from '../../../src/wamp/payload-validation.js';

const types = payloadTypesOf(readPayloadSchema(readFileSync(fileURLToPath(new URL('../../fixtures/payload-validation/garden.bfbs', import.meta.url)))));
const sighting = types.get('garden.Sighting')!;

describe('payloadProblem: the args/kwargs tail of a message', () => {
  it('reads args and kwargs from where the message holds them', () => {
    expect(payloadProblem(sighting, [16, 1, {}, 'garden.on_sighting', ['robin', 2], { seen_at: 5 }], 4, {})).toBeUndefined();
    expect(payloadProblem(sighting, [16, 1, {}, 'garden.on_sighting', ['robin', 2], { seen_at: -5 }], 4, {})).toMatch(/kwargs "seen_at".*out of range for uint64/);
    expect(payloadProblem(sighting, [16, 1, {}, 'garden.on_sighting'], 4, {})).toMatch(/missing positional argument "bird"/);
  });

  it('a payload in payload transparency mode is opaque: not checked, as in Crossbar', () => {
    expect(payloadProblem(sighting, [16, 1, {}, 'garden.on_sighting', [new Uint8Array([1, 2, 3])]], 4, { ppt_scheme: 'x_custom', ppt_serializer: 'cbor' })).toBeUndefined();
  });
});

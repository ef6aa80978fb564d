import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Authorizer } from '../../../src/auth/authorizer.js';
import { readPayloadSchema } from '../../../src/wamp/payload-schema.js';
import { payloadTypesOf } from '../../../src/wamp/payload-validation.js';

const types = payloadTypesOf(readPayloadSchema(readFileSync(fileURLToPath(new URL('../../fixtures/payload-validation/garden.bfbs', import.meta.url)))));
const ALL = { call: true, register: true, publish: true, subscribe: true };

const requester = (authrole: string, answer: unknown) => ({
  id: 7, authid: 'alice', authrole, authmethod: 'ticket', authprovider: 'static',
  transport: { info: { type: 'websocket', peer: 'tcp4:10.0.0.9:4000' } },
  callAuthorizer: async () => answer,
});

describe('Authorizer: a permission\'s validate reaches the decision', () => {
  it('static: the permission that decides carries its validate; others carry none', () => {
    const authorizer = new Authorizer([{
      name: 'anonymous',
      permissions: [
        { uri: 'garden.', match: 'prefix', cache: true, allow: ALL, disclose: { caller: false, publisher: false } },
        { uri: 'garden.sow', match: 'exact', cache: true, allow: ALL, disclose: { caller: false, publisher: false }, validate: { call: types.get('garden.Sow')! } },
      ],
    }], types);
    const sow = authorizer.decide(requester('anonymous', undefined), 'call', 'garden.sow', {}, 'loose');
    expect(sow).toMatchObject({ allow: true, validate: { call: { name: 'garden.Sow' } } });
    expect(authorizer.decide(requester('anonymous', undefined), 'call', 'garden.water', {}, 'loose')).not.toHaveProperty('validate');
  });

  it('dynamic: the authorizer\'s answer names types of the realm\'s inventory (as in Crossbar\'s example)', async () => {
    const authorizer = new Authorizer([{ name: 'frontend', permissions: [], authorizer: 'com.example.authorize' }], types);
    const answer = { allow: true, disclose: false, validate: { call: 'garden.Sow', call_result: 'garden.Harvest', extra: { bed: '{bed}' } }, cache: true };
    const decision = await authorizer.decide(requester('frontend', answer), 'call', 'garden.sow', {}, 'loose');
    expect(decision).toMatchObject({ allow: true, validate: { call: { name: 'garden.Sow' }, callResult: { name: 'garden.Harvest' } } });
    // a type the inventory does not have, or an unknown key: denied (and logged), never unchecked
    const weed = await authorizer.decide(requester('frontend', { allow: true, validate: { call: 'garden.Weed' } }), 'call', 'garden.weed', {}, 'loose');
    expect(weed).toMatchObject({ allow: false });
    const odd = await authorizer.decide(requester('frontend', { allow: true, validate: { colour: 'garden.Sow' } }), 'call', 'garden.odd', {}, 'loose');
    expect(odd).toMatchObject({ allow: false });
    const none = new Authorizer([{ name: 'frontend', permissions: [], authorizer: 'com.example.authorize' }]);
    expect(await none.decide(requester('frontend', { allow: true, validate: { call: 'garden.Sow' } }), 'call', 'garden.sow', {}, 'loose')).toMatchObject({ allow: false });
  });
});

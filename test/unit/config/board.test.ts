// Junction's `telemetry` and `schedules` sections: defaults, and every error named by its JSON path
// (cron expressions checked at load time with node-cron's parser; realms and roles must exist).
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { boardName, TELEMETRY_DEFAULTS } from '../../../src/config/load-board.js';
import { errorsOf } from '../../helpers/config.js';

function base(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [
        { name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '*', allow: { call: true, publish: true, subscribe: true, register: true } }] }] },
        { name: 'devices', roles: [{ name: 'operator', permissions: [{ uri: 'ops.*', allow: { call: true, publish: true } }] }], options: { uri_check: 'strict' } },
      ],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }],
    }],
    ...extra,
  };
}

describe('telemetry section', () => {
  it('is off without the section', () => {
    expect(parseConfig(base()).telemetry).toBeUndefined();
  });

  it('`telemetry: {}` turns it on with defaults: first realm, role trusted, every 5 s, board = hostname', () => {
    const t = parseConfig(base({ telemetry: {} })).telemetry!;
    expect(t).toEqual({ realm: 'realm1', role: 'trusted', authid: 'junction-telemetry', board: boardName(), cron: '*/5 * * * * *' });
    expect(t.cron).toBe(TELEMETRY_DEFAULTS.cron);
    expect(parseConfig(base({ telemetry: true })).telemetry).toEqual(t);
  });

  it('takes realm, role, authid, board, cron; enabled: false switches it off', () => {
    const t = parseConfig(base({ telemetry: { realm: 'devices', role: 'operator', authid: 'tele', board: 'pi_kitchen', cron: '*/30 * * * * *' } })).telemetry;
    expect(t).toEqual({ realm: 'devices', role: 'operator', authid: 'tele', board: 'pi_kitchen', cron: '*/30 * * * * *' });
    expect(parseConfig(base({ telemetry: { enabled: false } })).telemetry).toBeUndefined();
    expect(parseConfig(base({ telemetry: false })).telemetry).toBeUndefined();
  });

  it('sanitizes a host name into one strict URI component', () => {
    expect(boardName('Pi-Kitchen.local')).toBe('pi_kitchen_local');
    expect(boardName('gw1')).toBe('gw1');
    expect(boardName('')).toBe('board');
  });

  it('reports every error with its path', () => {
    const errors = errorsOf(base({ telemetry: { realm: 'nowhere', cron: '*/5 * * * * * *', board: 'Pi.Kitchen', colour: 'red', enabled: 'yes' } }));
    expect(errors['telemetry.realm']).toMatch(/realm 'nowhere' is not defined \(realms: realm1, devices\)/);
    expect(errors['telemetry.cron']).toMatch(/cron expression of 5 fields .* or 6/);
    expect(errors['telemetry.board']).toMatch(/one URI component/);
    expect(errors['telemetry.colour']).toMatch(/unknown key 'colour'/);
    expect(errors['telemetry.enabled']).toMatch(/true or false/);
    expect(errorsOf(base({ telemetry: { cron: '0 0 25 * * *' } }))['telemetry.cron']).toMatch(/not a valid cron expression "0 0 25 \* \* \*": 25 is a invalid expression for hour/);
    expect(errorsOf(base({ telemetry: { role: 'operator' } }))['telemetry.role']).toMatch(/role 'operator' is not defined in realm 'realm1' \(roles: trusted, anonymous\)/);
    expect(errorsOf(base({ telemetry: 5 }))['telemetry']).toMatch(/must be an object/);
  });
});

describe('schedules section', () => {
  it('parses publish and call jobs with defaults', () => {
    const config = parseConfig(base({
      schedules: [
        { name: 'lamp-off', cron: '0 0 23 * * *', publish: { topic: 'home.lamp.set', args: [false], kwargs: { by: 'schedule' }, options: { retain: true } } },
        { cron: '*/10 * * * *', realm: 'devices', role: 'operator', timezone: 'Europe/Berlin', call: { procedure: 'ops.backup', args: ['full'] } },
        { name: 'daily', cron: '@daily', call: { procedure: 'svc.cleanup', timeout: 0 } },
      ],
    }));
    expect(config.schedules).toEqual([
      { name: 'lamp-off', cron: '0 0 23 * * *', realm: 'realm1', role: 'trusted', action: { type: 'publish', topic: 'home.lamp.set', args: [false], kwargs: { by: 'schedule' }, options: { retain: true } } },
      { name: 'schedules[1]', cron: '*/10 * * * *', timezone: 'Europe/Berlin', realm: 'devices', role: 'operator', action: { type: 'call', procedure: 'ops.backup', args: ['full'], kwargs: {}, timeout: 60_000 } },
      { name: 'daily', cron: '@daily', realm: 'realm1', role: 'trusted', action: { type: 'call', procedure: 'svc.cleanup', args: [], kwargs: {}, timeout: 0 } },
    ]);
    expect(parseConfig(base({ schedules: [] })).schedules).toBeUndefined();
  });

  it('reports every error with its path', () => {
    const errors = errorsOf(base({
      schedules: [
        { name: 'a', cron: '61 * * * * *', publish: { topic: 'x.y' } },
        { name: 'a', cron: '* * * * *', publish: { topic: 'x y' } },
        { cron: '* * * * *', realm: 'devices', role: 'anonymous', call: { procedure: 'Ops.Backup' } },
        { cron: '* * * * *' },
        { cron: '* * * * *', publish: { topic: 'a.b' }, call: { procedure: 'a.b' } },
        { cron: 'every day', timezone: 'Mars/Olympus', call: { procedure: 'a.b', args: 'x', kwargs: [1], timeout: -1, retries: 3 } },
        { publish: { topic: 'wamp.session.on_join' }, realm: 'elsewhere' },
        'nope',
      ],
    }));
    expect(errors['schedules[0].cron']).toMatch(/not a valid cron expression "61 \* \* \* \* \*": 61 is a invalid expression for second/);
    expect(errors['schedules[1].name']).toMatch(/schedule name 'a' is already used by schedules\[0\]/);
    expect(errors['schedules[1].publish.topic']).toMatch(/must be a topic URI/);
    expect(errors['schedules[2].role']).toMatch(/role 'anonymous' is not defined in realm 'devices'/);
    expect(errors['schedules[2].call.procedure']).toMatch(/strict URI check in realm 'devices'/);
    expect(errors['schedules[3]']).toMatch(/needs publish: .* or call:/);
    expect(errors['schedules[4]']).toMatch(/either publish or call, not both/);
    expect(errors['schedules[5].cron']).toMatch(/cron expression of 5 fields/);
    expect(errors['schedules[5].timezone']).toMatch(/IANA time zone/);
    expect(errors['schedules[5].call.args']).toMatch(/must be a list/);
    expect(errors['schedules[5].call.kwargs']).toMatch(/must be an object/);
    expect(errors['schedules[5].call.timeout']).toMatch(/between 0 and/);
    expect(errors['schedules[5].call.retries']).toMatch(/unknown key 'retries'/);
    expect(errors['schedules[6].cron']).toBe('is required');
    expect(errors['schedules[6].realm']).toMatch(/realm 'elsewhere' is not defined/);
    expect(errors['schedules[7]']).toMatch(/must be an object/);
    expect(errorsOf(base({ schedules: [{ cron: '* * * * *', publish: { topic: 'wamp.session.on_join' } }] }))['schedules[0].publish.topic']).toMatch(/must not start with 'wamp\.'/);
    expect(errorsOf(base({ schedules: { a: 1 } }))['schedules']).toMatch(/must be a list/);
  });

  it('is a known top-level key beside Crossbar\'s, and other unknown keys are still refused', () => {
    expect(errorsOf(base({ schedule: [] }))['schedule']).toMatch(/unknown key 'schedule' \(supported: .*telemetry, schedules/);
  });
});

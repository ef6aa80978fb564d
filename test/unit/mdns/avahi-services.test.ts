// What the board announces over DNS-SD for a config (the network side is test/integration/mdns.test.ts).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load.js';
import { AvahiServices, servicesOf } from '../../../src/mdns/avahi-services.js';

const realm = (name: string) => ({ name, roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] });
const config = (transports: unknown[], realms = [realm('home')]) => parseConfig({ version: 2, workers: [{ type: 'router', realms, transports }] });

describe('DNS-SD services of the listeners', () => {
  it('a plain WebSocket and a RawSocket transport are _wamp._tcp with every realm; MQTT is _mqtt._tcp with its realm', () => {
    const cfg = config([
      { type: 'websocket', id: 'ws', endpoint: { type: 'tcp', port: 9000 } },
      { type: 'rawsocket', id: 'raw', endpoint: { type: 'tcp', port: 9001 } },
      { type: 'mqtt', id: 'mq', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'plant' } },
    ], [realm('home'), realm('plant')]);
    const [ws, raw, mq] = cfg.router.listeners.map((l, i) => servicesOf({ config: l, port: [9000, 9001, 1883][i] }, cfg));
    expect(ws).toEqual([{ type: '_wamp._tcp', port: 9000, txt: ['path=/', 'realm=home', 'realms=home,plant'] }]);
    expect(raw).toEqual([{ type: '_wamp._tcp', port: 9001, txt: ['rawsocket=yes', 'realm=home', 'realms=home,plant'] }]);
    expect(mq).toEqual([{ type: '_mqtt._tcp', port: 1883, txt: ['realm=plant'] }]);
  });

  it('announces the bound port (port 0), and nothing for loopback-only listeners and Unix sockets', () => {
    const cfg = config([
      { type: 'websocket', id: 'any', endpoint: { type: 'tcp', port: 0 } },
      { type: 'websocket', id: 'local', endpoint: { type: 'tcp', port: 9000, interface: '127.0.0.1' } },
      { type: 'rawsocket', id: 'unix', endpoint: { type: 'unix', path: '/run/junction.sock' } },
    ]);
    const [any, local, unix] = cfg.router.listeners;
    expect(servicesOf({ config: any!, port: 41234 }, cfg).map((s) => s.port)).toEqual([41234]);
    expect(servicesOf({ config: local!, port: 9000 }, cfg)).toEqual([]);
    expect(servicesOf({ config: unix!, port: undefined }, cfg)).toEqual([]);
  });

  it('writes one avahi service group per listener, replaces its own stale files, leaves other services alone, and removes its own on stop', () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-avahi-'));
    writeFileSync(join(dir, 'ssh.service'), '<service-group/>');
    writeFileSync(join(dir, 'junction-gone.service'), '<service-group/>');
    const cfg = config([
      { type: 'websocket', id: 'ws', endpoint: { type: 'tcp', port: 9000 } },
      { type: 'mqtt', id: 'mq', endpoint: { type: 'tcp', port: 1883 }, options: { realm: 'home' } },
    ]);
    const avahi = new AvahiServices(dir);
    avahi.write(cfg.router.listeners.map((l, i) => ({ config: l, port: [9000, 1883][i] })), cfg);
    expect(readdirSync(dir).sort()).toEqual(['junction-mq.service', 'junction-ws.service', 'ssh.service']);
    const ws = readFileSync(join(dir, 'junction-ws.service'), 'utf8');
    expect(ws).toContain('<name replace-wildcards="yes">Junction on %h (ws)</name>');
    expect(ws).toContain('<type>_wamp._tcp</type>');
    expect(ws).toContain('<port>9000</port>');
    expect(ws).toContain('<txt-record>path=/</txt-record>');
    avahi.remove();
    expect(readdirSync(dir)).toEqual(['ssh.service']);
  });
});

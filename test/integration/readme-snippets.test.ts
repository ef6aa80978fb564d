// Every config snippet in README.md, as a reader copies it, passes `junction check` (and the
// systemd drop-in passes systemd-analyze verify with the shipped unit). A snippet is a fragment
// (a transport, a top-level section, part of a universal transport): each is put into a minimal
// config that defines the roles the README's examples name, and checked on its own.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TLS = join(ROOT, 'test/fixtures/tls');

interface Snippet { lang: string; line: number; text: string }

function snippets(markdown: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i + 1;
    while (i + 1 < lines.length && lines[i + 1] !== '```') i++;
    out.push({ lang: open[1]!, line: start, text: lines.slice(start, i + 1).join('\n') });
    i++;
  }
  return out;
}

const allow = { call: true, register: true, publish: true, subscribe: true };
const role = (name: string) => ({ name, permissions: [{ uri: '', match: 'prefix', allow }] });
/** The roles the README's examples refer to. */
const ROLES = ['anonymous', 'sensor', 'device', 'operator', 'dashboard'].map(role);
const TOP_LEVEL = new Set(['bridges', 'serial', 'telemetry', 'schedules']);
const UNIVERSAL_PARTS = new Set(['websocket', 'web', 'rawsocket', 'mqtt']);

/** The snippet inside a config of its own; undefined when the test does not know its shape. */
function wrap(fragment: unknown): Record<string, unknown> | undefined {
  const universal: Record<string, any> = { type: 'universal', endpoint: { type: 'tcp', port: 8080 }, websocket: { ws: {} } };
  const config: Record<string, any> = { version: 2, workers: [{ type: 'router', realms: [{ name: 'realm1', roles: ROLES }], transports: [universal] }] };
  if (Array.isArray(fragment) && fragment.every((t) => typeof t?.type === 'string')) {
    config['workers'][0].transports = fragment; // transports
    return config;
  }
  if (typeof fragment !== 'object' || fragment === null) return undefined;
  const keys = Object.keys(fragment);
  if (keys.includes('workers')) return fragment as Record<string, unknown>; // a whole config
  if (keys.every((k) => TOP_LEVEL.has(k))) return { ...config, ...fragment };
  if (keys.every((k) => UNIVERSAL_PARTS.has(k))) {
    const f = fragment as Record<string, any>;
    Object.assign(universal, f, { websocket: { ...universal['websocket'], ...f['websocket'] } });
    return config;
  }
  return undefined;
}

/** A directory with the files the snippets name (TLS material for the bridge example). */
function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'junction-readme-'));
  copyFileSync(join(TLS, 'ca.crt'), join(dir, 'ca.pem'));
  copyFileSync(join(TLS, 'client.crt'), join(dir, 'client.pem'));
  copyFileSync(join(TLS, 'client.key'), join(dir, 'client.key'));
  mkdirSync(join(dir, 'state'));
  return dir;
}

/** The variables the README's examples read with "${NAME}". */
const ENV = { ...process.env, SENSOR1_PASSWORD: 'example-1', MQTT_PASSWORD: 'example-2', DEVICE1_TICKET: 'example-3', BOARD1_TICKET: 'example-4', HUB_TICKET: 'example-4' };

function analyze(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', args, { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }));
  });
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const all = snippets(README);
const configs = all.filter((s) => s.lang === 'yaml' || s.lang === 'json');

describe('README.md snippets', () => {
  it('has config snippets to check (the test reads them all)', () => {
    expect(configs.length).toBeGreaterThanOrEqual(5);
    // A snippet in a language this test does not check is a gap: add it here.
    expect([...new Set(all.map((s) => s.lang))].sort()).toEqual(['ini', 'json', 'sh', 'yaml']);
  });

  for (const snippet of configs) {
    it(`issue 20 #6: the ${snippet.lang} snippet at README.md line ${snippet.line} passes junction check`, async () => {
      const config = wrap(parse(snippet.text));
      expect(config, `the test knows where this snippet goes:\n${snippet.text}`).toBeDefined();
      const dir = workDir();
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify(config));
      const check = await runCli(['check', '--config', file], { env: ENV });
      expect(check.stderr).toBe('');
      expect(check.stdout).toMatch(/: OK \(/);
      expect(check.code).toBe(0);
    });
  }

  for (const snippet of all.filter((s) => s.lang === 'ini')) {
    it(`issue 20 #5: the systemd drop-in at README.md line ${snippet.line} passes systemd-analyze verify with the unit`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'junction-readme-'));
      copyFileSync(join(ROOT, 'systemd/junction.service'), join(dir, 'junction.service'));
      mkdirSync(join(dir, 'junction.service.d'));
      writeFileSync(join(dir, 'junction.service.d', 'override.conf'), `${snippet.text}\n`);
      const { code, out } = await analyze(['verify', join(dir, 'junction.service')]);
      expect(out.trim()).toBe('');
      expect(code).toBe(0);
    });
  }
});

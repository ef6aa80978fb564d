// `junction init`: the starter file a new user edits. Its commented-out examples are what they copy
// from, so each must pass `junction check` once uncommented.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { STARTER_EXAMPLES, commentedOut } from '../../src/config/starter.js';
import { loadConfigFile } from '../../src/config/load.js';

describe('junction init', () => {
  it('issue 20 #6: init DIR creates DIR (and its parents) when it does not exist', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'junction-init-')), 'etc', 'junction');
    const init = await runCli(['init', dir]);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(existsSync(join(dir, 'junction.yaml'))).toBe(true);
    const check = await runCli(['check', '--config', join(dir, 'junction.yaml')]);
    expect(check.code).toBe(0);
  });

  it('issue 20 #6: init refuses a DIR that is a file, with a reason', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'junction-init-')), 'not-a-dir');
    writeFileSync(file, 'x');
    const init = await runCli(['init', file]);
    expect(init.code).toBe(1);
    expect(init.stderr).toContain('a file is in the way');
  });

  it('issue 20 #6: the commented MQTT, serial, telemetry and schedule examples pass check when uncommented', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-init-'));
    expect((await runCli(['init', dir])).code).toBe(0);
    const file = join(dir, 'junction.yaml');
    let text = readFileSync(file, 'utf8');
    for (const [name, example] of Object.entries(STARTER_EXAMPLES)) {
      expect(text, `${name} is in the starter, commented out`).toContain(commentedOut(example));
      text = text.replace(commentedOut(example), example.text);
    }
    writeFileSync(file, text);
    const check = await runCli(['check', '--config', file]);
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(/OK \(1 realm, 2 transports\)\n$/); // no warnings either
    expect(check.code).toBe(0);
    // Uncommented, they are really on.
    const config = await loadConfigFile(file);
    expect(config.router.listeners.find((l) => l.mqtt)?.mqtt).toMatchObject({ realm: 'realm1', role: 'anonymous', topicPrefix: '' });
    expect(config.serial?.[0]).toMatchObject({ id: 'usb', realm: 'realm1' });
    expect(config.telemetry).toBeDefined();
    expect(config.schedules?.map((s) => s.name)).toEqual(['lamp-off', 'nightly-backup']);
  });
});

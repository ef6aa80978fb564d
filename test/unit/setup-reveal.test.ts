// junction.setup.reveal: the first-boot credentials only for the setup code, wrong codes throttled.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SetupReveal } from '../../src/board/setup-reveal.js';
import { WampError } from '../../src/client/session.js';

const uriOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: WampError) => e.uri);

describe('setup reveal', () => {
  it('answers the setup code once (removes the file), refuses others, throttles after 5 failures in 15 min', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-setup-'));
    const file = join(dir, 'setup.json');
    writeFileSync(file, JSON.stringify({ setup_code: 'ABCD-1234', admin: { authid: 'admin', ticket: 't0p' }, created: '2026-01-01T00:00:00Z' }));
    let now = 1_000_000;
    const r = new SetupReveal('realm1', file, () => now);
    try {
      const write = () => writeFileSync(file, JSON.stringify({ setup_code: 'ABCD-1234', admin: { authid: 'admin', ticket: 't0p' }, created: '2026-01-01T00:00:00Z' }));
      expect(await r.reveal(' ABCD-1234 ')).toEqual({ authid: 'admin', ticket: 't0p', created: '2026-01-01T00:00:00Z' });
      // Once: the file is gone after a successful reveal.
      expect(await uriOf(r.reveal('ABCD-1234'))).toBe('junction.error.no_setup');
      write();
      for (let i = 0; i < 5; i++) expect(await uriOf(r.reveal('nope'))).toBe('wamp.error.not_authorized');
      expect(await uriOf(r.reveal(42))).toBe('junction.error.too_many_attempts');
      expect(await uriOf(r.reveal('ABCD-1234'))).toBe('junction.error.too_many_attempts');
      now += 15 * 60_000;
      expect(await uriOf(r.reveal('ABCD-1234'))).toBe('ok');
      expect(await uriOf(r.reveal('ABCD-1234'))).toBe('junction.error.no_setup');
      writeFileSync(file, JSON.stringify({ admin: { authid: 'admin', ticket: 'x' } })); // no code: nothing matches
      expect(await uriOf(r.reveal(''))).toBe('wamp.error.not_authorized');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// "${NAME}" secrets on the appliance: the environment (EnvironmentFile=), else the systemd
// credential NAME in $CREDENTIALS_DIRECTORY (LoadCredential=NAME).
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load.js';
import { errorsOf } from '../../helpers/config.js';

const VAR = 'JUNCTION_TEST_SENSOR_PASSWORD';
const TICKET = 'workers[0].transports[0].auth.ticket.principals.sensor-1.ticket';

function withTicket(ticket: unknown) {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'sensor', 'allow-by-default': true }] }],
      transports: [{
        type: 'websocket', endpoint: { type: 'tcp', port: 8080 },
        auth: { ticket: { type: 'static', principals: { 'sensor-1': { ticket, role: 'sensor' } } } },
      }],
    }],
  };
}
const ticketOf = (raw: unknown) => parseConfig(raw).router.listeners[0]!.websocket['/']!.auth!.ticket as { principals: Record<string, { ticket: string }> };

function credentials(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'junction-creds-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o400 });
  return dir;
}

afterEach(() => {
  delete process.env[VAR];
  delete process.env['CREDENTIALS_DIRECTORY'];
});

describe('secrets from systemd credentials', () => {
  it('issue 20 #5: "${NAME}" reads the credential NAME from $CREDENTIALS_DIRECTORY when the environment has no NAME', () => {
    process.env['CREDENTIALS_DIRECTORY'] = credentials({ [VAR]: 'from-credential\n' });
    expect(ticketOf(withTicket(`\${${VAR}}`)).principals['sensor-1']!.ticket).toBe('from-credential');
  });

  it('issue 20 #5: the environment wins over a credential of the same name', () => {
    process.env['CREDENTIALS_DIRECTORY'] = credentials({ [VAR]: 'from-credential' });
    process.env[VAR] = 'from-env';
    expect(ticketOf(withTicket(`\${${VAR}}`)).principals['sensor-1']!.ticket).toBe('from-env');
  });

  it('issue 20 #5: neither set: the error names both places it looked, never a value', () => {
    process.env['CREDENTIALS_DIRECTORY'] = credentials({ OTHER: 'x' });
    expect(errorsOf(withTicket(`\${${VAR}}`))).toEqual({
      [TICKET]: `environment variable ${VAR} is not set, and there is no systemd credential ${VAR} (LoadCredential=${VAR}) in ${process.env['CREDENTIALS_DIRECTORY']}`,
    });
    process.env['CREDENTIALS_DIRECTORY'] = credentials({ [VAR]: '\n' });
    expect(errorsOf(withTicket(`\${${VAR}}`))).toEqual({ [TICKET]: `systemd credential ${VAR} is empty` });
  });

  it('issue 20 #5: { file: … } reads a credential by its path too', () => {
    const dir = credentials({ sensor1: 's3cret\n' });
    expect(ticketOf(withTicket({ file: join(dir, 'sensor1') })).principals['sensor-1']!.ticket).toBe('s3cret');
  });
});

import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load.js';
import { errorsOf } from '../../helpers/config.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/payload-validation/', import.meta.url));
const P = 'workers[0].realms[0]';

/** A realm in Crossbar's shape: an inventory of catalogs, a role whose permission validates payloads. */
function config(inventory: unknown, validate: unknown): object {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{
        name: 'realm1',
        ...(inventory === undefined ? {} : { inventory }),
        roles: [{ name: 'anonymous', permissions: [{ uri: 'garden.', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true }, validate }] }],
      }],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 8080 } }],
    }],
  };
}
const INVENTORY = { type: 'wamp.eth', catalogs: [{ name: 'garden', archive: 'garden.bfbs' }] };

describe('realm inventory and permission validate (config)', () => {
  it('resolves each validate key to a table of the inventory', () => {
    const parsed = parseConfig(config(INVENTORY, { call: 'garden.Sow', call_result: 'garden.Harvest', call_result_progress: 'garden.Harvest', call_error: 'garden.Plant', event: 'garden.Sighting' }), undefined, FIXTURES);
    const v = parsed.router.realms[0]!.roles[0]!.permissions[0]!.validate!;
    expect(v.call!.name).toBe('garden.Sow');
    expect(v.call!.object.fields.map((f) => f.name)).toEqual(['bed', 'seeds', 'organic', 'note', 'depth_mm']);
    expect(v.callResult!.name).toBe('garden.Harvest');
    expect(v.callResultProgress!.name).toBe('garden.Harvest');
    expect(v.callError!.name).toBe('garden.Plant');
    expect(v.event!.name).toBe('garden.Sighting');
  });

  it('errors name the key: type not in the inventory, validate without inventory, unknown validate key', () => {
    expect(errorsOf(config(INVENTORY, { call: 'garden.Weed', colour: 'x' }), FIXTURES)).toEqual({
      [`${P}.roles[0].permissions[0].validate.call`]: expect.stringMatching(/^type "garden.Weed" is not in the realm's inventory \(it has garden\./),
      [`${P}.roles[0].permissions[0].validate.colour`]: expect.stringMatching(/^unknown key 'colour'/),
    });
    expect(errorsOf(config(undefined, { call: 'garden.Sow' }), FIXTURES)).toEqual({
      [`${P}.roles[0].permissions[0].validate`]: 'names payload types, but the realm has no `inventory` to find them in',
    });
  });

  it('errors name the catalog: missing file, not a bfbs, a ZIP archive, an on-chain address, another type', () => {
    const errors = errorsOf(config({ type: 'ipfs', catalogs: [{ archive: 'nope.bfbs' }, { archive: 'garden.fbs' }, { archive: 'catalog.zip' }, { name: 'x', address: '0x2F07' }] }, undefined), FIXTURES);
    expect(errors).toEqual({
      [`${P}.inventory.type`]: 'must be one of "wamp.eth", got "ipfs"',
      [`${P}.inventory.catalogs[0].archive`]: expect.stringMatching(/nope\.bfbs: no such file or directory$/),
      [`${P}.inventory.catalogs[1].archive`]: expect.stringMatching(/garden\.fbs: not a FlatBuffers binary schema/),
      [`${P}.inventory.catalogs[2].archive`]: expect.stringMatching(/catalog\.zip: no such file or directory$/),
      [`${P}.inventory.catalogs[3].address`]: expect.stringMatching(/does not fetch catalogs from the network/),
    });
    expect(errorsOf(config({ catalogs: [] }, undefined), FIXTURES)).toEqual({ [`${P}.inventory.catalogs`]: 'must not be empty' });
  });

  it("Crossbar's ZIP catalog: catalog.yaml's `schemas` are read from the archive", () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-catalog-'));
    try {
      // Built with Python's zipfile (deflated), as a catalog's Makefile zips it.
      const zip = (name: string, entries: Record<string, string>) => execFileSync('python3', ['-c', `
import sys, zipfile, json
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for name, src in json.loads(sys.argv[2]).items():
        z.write(src, name) if src.startswith('/') else z.writestr(name, src)
`, join(dir, name), JSON.stringify(entries)]);
      zip('garden.zip', { 'catalog.yaml': 'name: garden\nschemas:\n  - schema/garden.bfbs\n', 'schema/garden.bfbs': join(FIXTURES, 'garden.bfbs') });
      const inventory = { type: 'wamp.eth', catalogs: [{ name: 'garden', archive: join(dir, 'garden.zip') }] };
      const parsed = parseConfig(config(inventory, { call: 'garden.Sow', event: 'garden.Sighting' }), undefined, FIXTURES);
      expect(parsed.router.realms[0]!.roles[0]!.permissions[0]!.validate!.call!.object.fields).toHaveLength(5);

      zip('no-manifest.zip', { 'schema/garden.bfbs': join(FIXTURES, 'garden.bfbs') });
      zip('missing.zip', { 'catalog.yaml': 'schemas:\n  - schema/other.bfbs\n' });
      zip('not-bfbs.zip', { 'catalog.yaml': 'schemas:\n  - garden.fbs\n', 'garden.fbs': join(FIXTURES, 'garden.fbs') });
      const bad = { catalogs: ['no-manifest.zip', 'missing.zip', 'not-bfbs.zip'].map((f) => ({ archive: join(dir, f) })) };
      expect(errorsOf(config(bad, undefined), FIXTURES)).toEqual({
        [`${P}.inventory.catalogs[0].archive`]: expect.stringMatching(/no-manifest\.zip: no catalog\.yaml at the root of the archive$/),
        [`${P}.inventory.catalogs[1].archive`]: expect.stringMatching(/missing\.zip: catalog\.yaml lists schema\/other\.bfbs, which the archive does not hold$/),
        [`${P}.inventory.catalogs[2].archive`]: expect.stringMatching(/not-bfbs\.zip: garden\.fbs: not a FlatBuffers binary schema/),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`extra` (values from the URI) is accepted with a warning', () => {
    const parsed = parseConfig(config(INVENTORY, { call: 'garden.Sow', extra: { bed: '{bed}' } }), undefined, FIXTURES);
    expect(parsed.warnings).toEqual([expect.objectContaining({ path: `${P}.roles[0].permissions[0].validate.extra`, message: expect.stringMatching(/^ignored:/) })]);
  });
});

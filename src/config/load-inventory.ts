// A realm's `inventory` (Crossbar's payload validation): the FlatBuffers binary schemas whose tables
// permissions name in `validate`. The files are read here; the router core gets the parsed tables.
//
//   "inventory": {"type": "wamp.eth", "catalogs": [{"name": "garden", "archive": "schema/garden.bfbs"}]}
//
// A catalog's `archive` is Crossbar's ZIP catalog (catalog.yaml listing .bfbs files) or, Junction's
// shortcut, one .bfbs file. On-chain catalogs (`address`) are refused: Junction fetches nothing.

import { readFileSync } from 'node:fs';
import { PayloadSchemaError, readPayloadSchema } from '../wamp/payload-schema.js';
import { payloadTypesOf, type PayloadType } from '../wamp/payload-validation.js';
import { VALIDATE_KEYS, type PayloadValidationConfig } from './types.js';
import { describeFileError, join, type Checker, type Obj } from './check-values.js';
import type { FileResolver } from './load-tls.js';
import { CatalogArchiveError, catalogSchemas } from './zip-catalog.js';

/** The tables of a realm's inventory, by fully qualified name. */
export type Inventory = ReadonlyMap<string, PayloadType>;

export function parseInventory(c: Checker, value: unknown, path: string, files: FileResolver): Inventory {
  const types = new Map<string, PayloadType>();
  const inv = c.object(value, path, ['type', 'catalogs']);
  if (!inv) return types;
  c.oneOf(inv['type'], join(path, 'type'), ['wamp.eth'] as const, 'wamp.eth');
  const catalogsPath = join(path, 'catalogs');
  (c.array(inv['catalogs'], catalogsPath, { required: true, nonEmpty: true }) ?? []).forEach((entry, i) => {
    const p = join(catalogsPath, i);
    const cat = c.object(entry, p, ['name', 'archive', 'address']);
    if (!cat) return;
    c.string(cat['name'], join(p, 'name'), { required: false });
    if (cat['address'] !== undefined) {
      c.error(join(p, 'address'), 'Junction does not fetch catalogs from the network; give the catalog\'s .bfbs file as `archive`');
      return;
    }
    for (const [name, type] of readCatalog(c, cat, p, files)) {
      if (!types.has(name)) types.set(name, type);
    }
  });
  return types;
}

function readCatalog(c: Checker, cat: Obj, path: string, files: FileResolver): Map<string, PayloadType> {
  const archivePath = join(path, 'archive');
  const file = c.string(cat['archive'], archivePath, { required: true });
  if (file === undefined) return new Map();
  const abs = files.file(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(abs);
  } catch (err) {
    c.error(archivePath, `cannot read ${abs}: ${describeFileError(err)}`);
    return new Map();
  }
  const types = new Map<string, PayloadType>();
  try {
    // A ZIP catalog (Crossbar's) starts "PK"; otherwise the file is one binary schema.
    const schemas = bytes.subarray(0, 2).toString('latin1') === 'PK' ? [...catalogSchemas(bytes)] : [[abs, bytes] as const];
    for (const [name, schema] of schemas) {
      try {
        for (const [typeName, type] of payloadTypesOf(readPayloadSchema(schema))) types.set(typeName, type);
      } catch (err) {
        if (err instanceof PayloadSchemaError && name !== abs) throw new PayloadSchemaError(`${name}: ${err.message}`);
        throw err;
      }
    }
  } catch (err) {
    if (!(err instanceof PayloadSchemaError || err instanceof CatalogArchiveError)) throw err;
    c.error(archivePath, `${abs}: ${err.message}`);
    return new Map();
  }
  return types;
}

/** A permission's `validate`: each key names a table of the realm's inventory. */
export function parseValidate(c: Checker, value: unknown, path: string, inventory: Inventory | undefined): PayloadValidationConfig | undefined {
  const v = c.object(value, path, [...Object.keys(VALIDATE_KEYS), 'extra']);
  if (!v) return undefined;
  if (v['extra'] !== undefined) {
    c.warn(join(path, 'extra'), 'ignored: Junction validates args and kwargs only, not values taken from the URI');
  }
  if (!inventory) {
    c.error(path, 'names payload types, but the realm has no `inventory` to find them in');
    return undefined;
  }
  const out: { -readonly [K in keyof PayloadValidationConfig]: PayloadValidationConfig[K] } = {};
  for (const [key, field] of Object.entries(VALIDATE_KEYS)) {
    if (v[key] === undefined) continue;
    const keyPath = join(path, key);
    const name = c.string(v[key], keyPath);
    if (name === undefined) continue;
    const type = inventory.get(name);
    if (!type) {
      c.error(keyPath, `type ${JSON.stringify(name)} is not in the realm's inventory${inventory.size ? ` (it has ${[...inventory.keys()].slice(0, 8).join(', ')}${inventory.size > 8 ? ', …' : ''})` : ''}`);
      continue;
    }
    out[field] = type;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

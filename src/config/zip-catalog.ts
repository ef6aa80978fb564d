// Crossbar's catalog archive: a ZIP file with `catalog.yaml` at its root, whose `schemas` lists the
// binary schemas (.bfbs) inside the archive. Only what that needs of ZIP is read: the central
// directory, and entries stored or deflated (what every zip tool writes).

import { inflateRawSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';

export class CatalogArchiveError extends Error {}

/** Bytes one entry may unpack to (a catalog's schemas are kilobytes). */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/** The .bfbs files a catalog archive's catalog.yaml lists, by their path in the archive. */
export function catalogSchemas(zip: Buffer): Map<string, Buffer> {
  let entries: Map<string, () => Buffer>;
  try {
    entries = readZip(zip);
  } catch (err) {
    throw err instanceof CatalogArchiveError ? err : new CatalogArchiveError(`corrupt ZIP archive (${(err as Error).message})`);
  }
  const manifest = entries.get('catalog.yaml');
  if (!manifest) throw new CatalogArchiveError('no catalog.yaml at the root of the archive');
  let doc: unknown;
  try {
    doc = parseYaml(manifest().toString('utf8'));
  } catch (err) {
    throw new CatalogArchiveError(`catalog.yaml: ${(err as Error).message}`);
  }
  const schemas = (doc as { schemas?: unknown } | null)?.schemas;
  if (!Array.isArray(schemas) || schemas.some((s) => typeof s !== 'string')) {
    throw new CatalogArchiveError('catalog.yaml has no `schemas` list of .bfbs paths');
  }
  const out = new Map<string, Buffer>();
  for (const name of schemas as string[]) {
    const entry = entries.get(name);
    if (!entry) throw new CatalogArchiveError(`catalog.yaml lists ${name}, which the archive does not hold`);
    out.set(name, entry());
  }
  return out;
}

/** Entry name → its unpacked bytes (read on demand). */
function readZip(zip: Buffer): Map<string, () => Buffer> {
  // End of central directory: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new CatalogArchiveError('not a ZIP archive');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, () => Buffer>();
  for (let n = 0; n < count; n++) {
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== 0x02014b50) throw new CatalogArchiveError('corrupt ZIP central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    entries.set(name, () => unpack(zip, name, local, method, compressed, size));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function unpack(zip: Buffer, name: string, local: number, method: number, compressed: number, size: number): Buffer {
  if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) throw new CatalogArchiveError(`${name}: corrupt ZIP entry`);
  if (size > MAX_ENTRY_BYTES) throw new CatalogArchiveError(`${name}: larger than ${MAX_ENTRY_BYTES} bytes`);
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const data = zip.subarray(start, start + compressed);
  if (method === 0) return Buffer.from(data);
  if (method === 8) {
    try {
      return inflateRawSync(data, { maxOutputLength: MAX_ENTRY_BYTES });
    } catch (err) {
      throw new CatalogArchiveError(`${name}: ${(err as Error).message}`);
    }
  }
  throw new CatalogArchiveError(`${name}: ZIP compression method ${method} is not supported (use deflate or none)`);
}

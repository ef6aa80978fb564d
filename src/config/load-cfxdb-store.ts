// A realm `store` of Crossbar's `type: cfxdb` (its edge edition's LMDB database on disk). Junction
// has no file-backed realm store: the realm's store is kept in memory, as `type: memory`, and its
// `limit`, `call-queue` and `event-history` are read the same way. The database's own keys are
// checked as Crossbar checks them and then not used; one warning says what is lost.

import { join, type Checker, type Obj } from './check-values.js';

/** The database keys of a cfxdb store (Crossbar's RealmStoreDatabase). */
const CFXDB_KEYS = ['path', 'maxsize', 'readonly', 'sync', 'max-buffer', 'buffer-flush'];

/** The extra keys a store object at hand may carry: the database's when its type is cfxdb. */
export function cfxdbKeysOf(c: Checker, store: unknown): string[] {
  return c.isObject(store) && store['type'] === 'cfxdb' ? CFXDB_KEYS : [];
}

/** Checks a cfxdb store's database keys and warns that the store is kept in memory. */
export function checkCfxdbStore(c: Checker, s: Obj, path: string): void {
  c.string(s['path'], join(path, 'path'));
  c.integer(s['maxsize'], join(path, 'maxsize'), 128 * 1024 * 1024, 128 * 1024, 128 * 1024 ** 3);
  c.boolean(s['readonly'], join(path, 'readonly'), false);
  c.boolean(s['sync'], join(path, 'sync'), true);
  c.integer(s['max-buffer'], join(path, 'max-buffer'), 10_000, 1, 100_000_000);
  c.integer(s['buffer-flush'], join(path, 'buffer-flush'), 200, 1, 86_400_000);
  c.warn(join(path, 'type'), 'Junction keeps this realm\'s store in memory, as type "memory" (Crossbar\'s LMDB database is not used; path, maxsize, readonly and sync are ignored): event history and retained events are lost on restart');
}

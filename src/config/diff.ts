// What differs between two loaded configs (or two parts of them), as key paths: what a reload
// reports and decides on. Only paths are reported, never values (they may be tickets or keys).
//
// Paths are written the way the config file spells them as far as the loaded model allows:
// camelCase keys as snake_case (`maxInflight` → `max_inflight`), and array items that have a name
// (`id`, `name`, `path`, else `uri` when unique) by that name (`roles['sensor']`, `ports['/dev/ttyACM0']`) so that
// inserting one item does not read as every later item having changed.

export type Change = 'added' | 'removed' | 'changed';

export interface ConfigDifference {
  /** e.g. `endpoint.port`, `auth.ticket.principals['sensor2']`; '' = the value as a whole. */
  path: string;
  change: Change;
}

/** Keys whose value is a map of the user's own names (principals, websocket paths…): kept as written. */
const USER_NAMED_KEYS = new Set(['principals', 'users', 'websocket', 'static', 'mqttWebsocket', 'longpoll', 'kwargs']);
/** The key that names an array item, in order of preference. */
const ITEM_NAMES = ['id', 'name', 'path', 'uri'] as const;

/** Every difference between `before` and `after`, deepest first-found order; [] when they are equal. */
export function configDiff(before: unknown, after: unknown, path = ''): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  walk(before, after, path, false, out);
  return path === '' ? out.map((d) => ({ ...d, path: d.path.replace(/^\./, '') })) : out;
}

/** Whether two parts of a config are the same (same as configDiff(...).length === 0). */
export function sameConfig(before: unknown, after: unknown): boolean {
  return configDiff(before, after).length === 0;
}

/** One line per difference, e.g. "endpoint.port changed". */
export function describeDifference(d: ConfigDifference): string {
  return d.path === '' ? d.change : `${d.path} ${d.change}`;
}

function walk(a: unknown, b: unknown, path: string, userNamed: boolean, out: ConfigDifference[]): void {
  if (a === b) return;
  if (a === undefined) return void out.push({ path, change: 'added' });
  if (b === undefined) return void out.push({ path, change: 'removed' });
  if (Array.isArray(a) && Array.isArray(b)) return walkArrays(a, b, path, out);
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const name = userNamed ? quoted(key) : field(key);
      walk(a[key], b[key], `${path}${name}`, USER_NAMED_KEYS.has(key) && !userNamed, out);
    }
    return;
  }
  out.push({ path, change: 'changed' });
}

function walkArrays(a: unknown[], b: unknown[], path: string, out: ConfigDifference[]): void {
  const nameKey = itemNameKey(a, b);
  if (nameKey === undefined) {
    // Plain values (serializers, origins…) or unnamed items: compared by position, and an array
    // of plain values that differs is one change.
    if (a.length !== b.length && !a.some(isPlainObject)) return void out.push({ path, change: 'changed' });
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`, false, out);
    return;
  }
  const byName = (items: unknown[]) => new Map(items.map((item) => [String((item as Record<string, unknown>)[nameKey]), item]));
  const before = byName(a);
  const after = byName(b);
  for (const name of new Set([...before.keys(), ...after.keys()])) walk(before.get(name), after.get(name), `${path}${quoted(name)}`, false, out);
}

/** The key naming every item of both arrays uniquely, if there is one. */
function itemNameKey(a: unknown[], b: unknown[]): string | undefined {
  const items = [...a, ...b];
  if (items.length === 0 || !items.every(isPlainObject)) return undefined;
  return ITEM_NAMES.find((key) => [a, b].every((list) => {
    const names = list.map((item) => (item as Record<string, unknown>)[key]);
    return names.every((n) => typeof n === 'string') && new Set(names).size === names.length;
  }));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** A model key as the file spells it: `maxInflight` → `max_inflight`. */
export function fileKey(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Whether `path` is `prefix` or lies under it. */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

function field(key: string): string {
  return `.${fileKey(key)}`;
}

/** How a path names a map key or a named array item: `['sensor']`. */
export function quoted(key: string): string {
  return `['${key}']`;
}

// Checks a WAMP payload (args, kwargs) against a table of a realm's payload schemas, as Crossbar's
// permission `validate` does. The table's fields, in declaration order, take the positional args:
// every field without the `kwarg` attribute (or with `arg`, or `required`) is the next arg and must
// be there; a `kwarg` field is an optional keyword argument. Args or kwargs the table does not name
// are refused. Each value must fit its field's FlatBuffers type: bool, integers within their range,
// float/double numbers, strings, vectors (a [ubyte]/[byte] also as binary), nested tables and
// structs as a dict (or a struct as a list). Unions are not checked (as in Crossbar).
//
// The answer is undefined (valid) or a sentence naming the field and what is wrong; the dealer and
// broker put it into their wamp.error.invalid_argument.

import { BaseType, type FieldType, type PayloadSchema, type SchemaField, type SchemaObject } from './payload-schema.js';

/** A table of a schema, named by a permission's `validate`. */
export interface PayloadType {
  readonly name: string;
  readonly schema: PayloadSchema;
  readonly object: SchemaObject;
}

/** Nested tables deeper than this are refused (a payload cannot make the check recurse without end). */
const MAX_DEPTH = 32;

export function checkPayload(type: PayloadType, args: readonly unknown[] | undefined, kwargs: Record<string, unknown> | undefined): string | undefined {
  const vt = type.object;
  const given = args ?? [];
  let next = 0;
  let kwargsUsed = 0;
  for (const field of vt.fields) {
    if (isPositional(field)) {
      if (next >= given.length) return `missing positional argument "${field.name}" (args[${next}]) in type "${vt.name}"`;
      const problem = checkValue(type.schema, field.type, given[next], 0);
      if (problem) return `args[${next}] ("${field.name}" in type "${vt.name}"): ${problem}`;
      next++;
    } else if (kwargs && Object.hasOwn(kwargs, field.name)) {
      kwargsUsed++;
      const problem = checkValue(type.schema, field.type, kwargs[field.name], 0);
      if (problem) return `kwargs "${field.name}" in type "${vt.name}": ${problem}`;
    }
  }
  if (given.length > next) return `${given.length - next} unexpected positional argument(s) in type "${vt.name}" (it takes ${next})`;
  if (kwargs && Object.keys(kwargs).length > kwargsUsed) {
    const unknown = Object.keys(kwargs).filter((k) => !vt.fields.some((f) => f.name === k && !isPositional(f)));
    return `unexpected keyword argument(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')} in type "${vt.name}"`;
  }
  return undefined;
}

function isPositional(f: SchemaField): boolean {
  return f.required || f.attributes.has('arg') || !f.attributes.has('kwarg');
}

/** Integer base types: [lowest, highest]. */
const INT_RANGE: Record<number, readonly [bigint, bigint]> = {
  [BaseType.UType]: [0n, 255n],
  [BaseType.Byte]: [-128n, 127n],
  [BaseType.UByte]: [0n, 255n],
  [BaseType.Short]: [-32768n, 32767n],
  [BaseType.UShort]: [0n, 65535n],
  [BaseType.Int]: [-(2n ** 31n), 2n ** 31n - 1n],
  [BaseType.UInt]: [0n, 2n ** 32n - 1n],
  [BaseType.Long]: [-(2n ** 63n), 2n ** 63n - 1n],
  [BaseType.ULong]: [0n, 2n ** 64n - 1n],
};

const TYPE_NAMES: Record<number, string> = {
  [BaseType.Bool]: 'bool', [BaseType.Byte]: 'int8', [BaseType.UByte]: 'uint8', [BaseType.Short]: 'int16',
  [BaseType.UShort]: 'uint16', [BaseType.Int]: 'int32', [BaseType.UInt]: 'uint32', [BaseType.Long]: 'int64',
  [BaseType.ULong]: 'uint64', [BaseType.Float]: 'float', [BaseType.Double]: 'double', [BaseType.String]: 'string',
};

const FLOAT_MAX = 3.4028234663852886e38;

function checkValue(schema: PayloadSchema, type: FieldType, value: unknown, depth: number): string | undefined {
  switch (type.base) {
    case BaseType.Vector:
    case BaseType.Vector64:
    case BaseType.Array:
      return checkVector(schema, type, value, depth);
    case BaseType.Obj:
      return checkObject(schema, type.index, value, depth);
    default:
      return checkScalar(schema, type.base, type.index, value, depth);
  }
}

function checkScalar(schema: PayloadSchema, base: BaseType, index: number, value: unknown, depth: number): string | undefined {
  const range = INT_RANGE[base];
  if (range) {
    let n: bigint;
    if (typeof value === 'bigint') n = value;
    else if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
    else return `expected ${TYPE_NAMES[base] ?? 'an integer'}, got ${describeValue(value)}`;
    if (n < range[0] || n > range[1]) return `${String(value)} is out of range for ${TYPE_NAMES[base]} (${range[0]}..${range[1]})`;
    return undefined;
  }
  switch (base) {
    case BaseType.Bool:
      return typeof value === 'boolean' ? undefined : `expected bool, got ${describeValue(value)}`;
    case BaseType.Float:
      if (typeof value !== 'number') return `expected float, got ${describeValue(value)}`;
      return Number.isFinite(value) && Math.abs(value) > FLOAT_MAX ? `${value} is out of range for float` : undefined;
    case BaseType.Double:
      return typeof value === 'number' ? undefined : `expected double, got ${describeValue(value)}`;
    case BaseType.String:
      return typeof value === 'string' ? undefined : `expected string, got ${describeValue(value)}`;
    case BaseType.Obj:
      return checkObject(schema, index, value, depth);
    default:
      return undefined; // None, Union: not checked
  }
}

function checkVector(schema: PayloadSchema, type: FieldType, value: unknown, depth: number): string | undefined {
  // Bytes travel as binary (MessagePack, CBOR; Autobahn's JSON "\0" base64 strings arrive decoded).
  if (value instanceof Uint8Array && (type.element === BaseType.UByte || type.element === BaseType.Byte)) return undefined;
  if (!Array.isArray(value)) return `expected a list, got ${describeValue(value)}`;
  for (let i = 0; i < value.length; i++) {
    const problem = type.element === BaseType.Obj
      ? checkObject(schema, type.index, value[i], depth)
      : checkScalar(schema, type.element, type.index, value[i], depth);
    if (problem) return `[${i}]: ${problem}`;
  }
  return undefined;
}

/** A nested table or struct: a dict by field name, or (a struct only) a list in field order. */
function checkObject(schema: PayloadSchema, index: number, value: unknown, depth: number): string | undefined {
  const obj = schema.objects[index];
  if (!obj) return undefined;
  if (depth >= MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
  if (Array.isArray(value)) {
    if (!obj.isStruct) return `expected a dict for table "${obj.name}", got a list`;
    if (value.length !== obj.fields.length) return `struct "${obj.name}" takes ${obj.fields.length} values, got ${value.length}`;
    for (let i = 0; i < obj.fields.length; i++) {
      const f = obj.fields[i]!;
      const problem = checkValue(schema, f.type, value[i], depth + 1);
      if (problem) return `"${f.name}" in "${obj.name}": ${problem}`;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) {
    return `expected a dict for "${obj.name}", got ${describeValue(value)}`;
  }
  const dict = value as Record<string, unknown>;
  for (const key of Object.keys(dict)) {
    if (!obj.fields.some((f) => f.name === key)) return `unexpected key "${key}" in "${obj.name}"`;
  }
  for (const f of obj.fields) {
    if (!Object.hasOwn(dict, f.name)) {
      if (obj.isStruct || f.required) return `missing "${f.name}" in "${obj.name}"`;
      continue;
    }
    const problem = checkValue(schema, f.type, dict[f.name], depth + 1);
    if (problem) return `"${f.name}" in "${obj.name}": ${problem}`;
  }
  return undefined;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary';
  if (typeof v === 'object') return 'a dict';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' && !Number.isInteger(v)) return `number ${v}`;
  return `${typeof v} ${String(v)}`;
}

/** A schema's tables by fully qualified name (what `validate` names). */
export function payloadTypesOf(schema: PayloadSchema): Map<string, PayloadType> {
  const out = new Map<string, PayloadType>();
  for (const object of schema.objects) out.set(object.name, { name: object.name, schema, object });
  return out;
}

// A FlatBuffers binary schema (.bfbs, what `flatc --binary --schema` writes) read into the tables
// and fields payload validation checks WAMP args/kwargs against (Crossbar's realm `inventory`).
//
// A .bfbs is itself a FlatBuffer whose root is reflection.fbs's `Schema`: objects (tables and
// structs), each with fields, each field with a type {base_type, element, index}. Only what
// validation needs is read: names, field ids, types, `required`, and the attributes `arg`/`kwarg`.
// The reader is a few FlatBuffers primitives over a Buffer (root offset, vtable lookup, strings,
// vectors); a malformed file throws a PayloadSchemaError.

/** reflection.fbs's BaseType. */
export const BaseType = {
  None: 0, UType: 1, Bool: 2, Byte: 3, UByte: 4, Short: 5, UShort: 6, Int: 7, UInt: 8,
  Long: 9, ULong: 10, Float: 11, Double: 12, String: 13, Vector: 14, Obj: 15, Union: 16,
  Array: 17, Vector64: 18,
} as const;
export type BaseType = number;

export interface FieldType {
  readonly base: BaseType;
  /** Vector and Array: the element's base type. */
  readonly element: BaseType;
  /** Obj (or a vector of Obj): the object's position in `PayloadSchema.objects`; an enum's otherwise. */
  readonly index: number;
}

export interface SchemaField {
  readonly name: string;
  /** Position in the declaration (`id`): positional args map onto fields in this order. */
  readonly id: number;
  readonly type: FieldType;
  readonly required: boolean;
  /** Custom attributes declared on the field (`kwarg`, `arg`, ...), by name. */
  readonly attributes: ReadonlySet<string>;
}

export interface SchemaObject {
  /** Fully qualified (`namespace.Name`). */
  readonly name: string;
  readonly isStruct: boolean;
  /** In `id` order. */
  readonly fields: readonly SchemaField[];
}

export interface PayloadSchema {
  readonly objects: readonly SchemaObject[];
}

export class PayloadSchemaError extends Error {}

/** The file identifier flatc writes into every binary schema. */
const BFBS_IDENTIFIER = 'BFBS';

/** Reads a binary schema; throws PayloadSchemaError if `buf` is not one. */
export function readPayloadSchema(buf: Uint8Array): PayloadSchema {
  const r = new Reader(buf);
  if (buf.length < 8 || Buffer.from(buf.subarray(4, 8)).toString('latin1') !== BFBS_IDENTIFIER) {
    throw new PayloadSchemaError('not a FlatBuffers binary schema (no "BFBS" file identifier; compile the .fbs with `flatc --binary --schema`)');
  }
  const schema = r.table(r.u32(0));
  // Schema: objects (0)
  const objects = r.vectorOfTables(schema, 0).map((o) => readObject(r, o));
  return { objects };
}

function readObject(r: Reader, o: number): SchemaObject {
  // Object: name (0), fields (1), is_struct (2)
  const fields = r.vectorOfTables(o, 1).map((f) => readField(r, f)).sort((a, b) => a.id - b.id);
  return { name: r.string(o, 0) ?? '', isStruct: r.bool(o, 2), fields };
}

function readField(r: Reader, f: number): SchemaField {
  // Field: name (0), type (1), id (2), required (7), attributes (9)
  const t = r.tablePointer(f, 1);
  if (t === undefined) throw new PayloadSchemaError('a field without a type');
  // Type: base_type (0), element (1), index (2, default -1)
  const type: FieldType = { base: r.u8Field(t, 0, 0), element: r.u8Field(t, 1, 0), index: r.i32Field(t, 2, -1) };
  const attributes = new Set<string>();
  for (const kv of r.vectorOfTables(f, 9)) {
    const key = r.string(kv, 0);
    if (key !== undefined) attributes.add(key);
  }
  return { name: r.string(f, 0) ?? '', id: r.u16Field(f, 2, 0), type, required: r.bool(f, 7), attributes };
}

/** FlatBuffers primitives: offsets are little-endian, tables find their fields through a vtable. */
class Reader {
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private check(pos: number, size: number): void {
    if (pos < 0 || pos + size > this.buf.length) throw new PayloadSchemaError(`truncated or corrupt schema (offset ${pos})`);
  }

  u32(pos: number): number { this.check(pos, 4); return this.view.getUint32(pos, true); }

  /** A table at `pos` (the position its root or parent offset points to). */
  table(pos: number): number { this.check(pos, 4); return pos; }

  /** Where field `id` of the table at `t` lies, or 0 when it is absent (its default applies). */
  private field(t: number, id: number): number {
    const vtable = t - this.view.getInt32(t, true);
    this.check(vtable, 4);
    const vtableSize = this.view.getUint16(vtable, true);
    const slot = 4 + 2 * id;
    if (slot + 2 > vtableSize) return 0;
    this.check(vtable + slot, 2);
    const off = this.view.getUint16(vtable + slot, true);
    return off === 0 ? 0 : t + off;
  }

  u8Field(t: number, id: number, dflt: number): number {
    const p = this.field(t, id);
    if (!p) return dflt;
    this.check(p, 1);
    return this.view.getUint8(p);
  }

  u16Field(t: number, id: number, dflt: number): number {
    const p = this.field(t, id);
    if (!p) return dflt;
    this.check(p, 2);
    return this.view.getUint16(p, true);
  }

  i32Field(t: number, id: number, dflt: number): number {
    const p = this.field(t, id);
    if (!p) return dflt;
    this.check(p, 4);
    return this.view.getInt32(p, true);
  }

  bool(t: number, id: number): boolean { return this.u8Field(t, id, 0) !== 0; }

  /** The position an offset field points to (table, string or vector). */
  private deref(p: number): number { return p + this.u32(p); }

  tablePointer(t: number, id: number): number | undefined {
    const p = this.field(t, id);
    return p ? this.table(this.deref(p)) : undefined;
  }

  string(t: number, id: number): string | undefined {
    const p = this.field(t, id);
    if (!p) return undefined;
    const s = this.deref(p);
    const len = this.u32(s);
    this.check(s + 4, len);
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + s + 4, len).toString('utf8');
  }

  vectorOfTables(t: number, id: number): number[] {
    const p = this.field(t, id);
    if (!p) return [];
    const v = this.deref(p);
    const len = this.u32(v);
    this.check(v + 4, len * 4);
    const out: number[] = [];
    for (let i = 0; i < len; i++) out.push(this.table(this.deref(v + 4 + 4 * i)));
    return out;
  }
}

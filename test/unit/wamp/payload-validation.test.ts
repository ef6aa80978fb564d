import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseType, PayloadSchemaError, readPayloadSchema } from '../../../src/wamp/payload-schema.js';
import { checkPayload, payloadTypesOf, type PayloadType } from '../../../src/wamp/payload-validation.js';

const FIXTURES = join(__dirname, '../../fixtures/payload-validation');
const bfbs = readFileSync(join(FIXTURES, 'garden.bfbs'));
const schema = readPayloadSchema(bfbs);
const types = payloadTypesOf(schema);
const type = (name: string): PayloadType => types.get(name)!;

describe('payload schema reader (.bfbs)', () => {
  it('the committed garden.bfbs is what flatc makes of garden.fbs', () => {
    // Committed so that the tests need no flatc to read it; this keeps the two in step. Compared as
    // read (the file also holds the path it was compiled from, which differs here).
    const dir = mkdtempSync(join(tmpdir(), 'junction-bfbs-'));
    try {
      execFileSync('flatc', ['--binary', '--schema', '-o', dir, join(FIXTURES, 'garden.fbs')]);
      expect(readPayloadSchema(readFileSync(join(dir, 'garden.bfbs')))).toEqual(schema);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads tables and structs with their fields in declaration order, types and attributes', () => {
    expect([...types.keys()].sort()).toEqual(['garden.Harvest', 'garden.Plant', 'garden.Sample', 'garden.Sighting', 'garden.Sow', 'garden.Spot']);
    const sow = type('garden.Sow').object;
    expect(sow.isStruct).toBe(false);
    expect(sow.fields.map((f) => f.name)).toEqual(['bed', 'seeds', 'organic', 'note', 'depth_mm']);
    expect(sow.fields.map((f) => f.type.base)).toEqual([BaseType.Short, BaseType.UInt, BaseType.Bool, BaseType.String, BaseType.UByte]);
    expect(sow.fields.map((f) => [...f.attributes])).toEqual([[], [], [], ['kwarg'], ['kwarg']]);
    expect(type('garden.Spot').object.isStruct).toBe(true);
    const plant = type('garden.Plant').object;
    expect(plant.fields.map((f) => [f.name, f.required])).toEqual([['species', true], ['height_cm', false]]);
    const sample = type('garden.Sample').object;
    const plants = sample.fields.find((f) => f.name === 'plants')!;
    expect(plants.type.base).toBe(BaseType.Vector);
    expect(plants.type.element).toBe(BaseType.Obj);
    expect(schema.objects[plants.type.index]!.name).toBe('garden.Plant');
  });

  it('refuses what is not a binary schema, and truncated files', () => {
    expect(() => readPayloadSchema(readFileSync(join(FIXTURES, 'garden.fbs')))).toThrow(PayloadSchemaError);
    expect(() => readPayloadSchema(Buffer.alloc(3))).toThrow(PayloadSchemaError);
    expect(() => readPayloadSchema(bfbs.subarray(0, 200))).toThrow(PayloadSchemaError);
  });
});

describe('payload check against a table', () => {
  const sow = type('garden.Sow');

  it('positional fields take args in order; kwarg fields are optional keyword arguments', () => {
    expect(checkPayload(sow, [3, 120, true], undefined)).toBeUndefined();
    expect(checkPayload(sow, [3, 120, true], { note: 'tomatoes', depth_mm: 12 })).toBeUndefined();
    expect(checkPayload(sow, [3, 120, true], {})).toBeUndefined();
  });

  it('a missing positional arg, an extra arg or an unknown kwarg is refused, naming it', () => {
    expect(checkPayload(sow, [3, 120], undefined)).toBe('missing positional argument "organic" (args[2]) in type "garden.Sow"');
    expect(checkPayload(sow, undefined, undefined)).toMatch(/missing positional argument "bed"/);
    expect(checkPayload(sow, [3, 120, true, 'x'], undefined)).toMatch(/1 unexpected positional argument\(s\) in type "garden.Sow"/);
    expect(checkPayload(sow, [3, 120, true], { colour: 'red' })).toBe('unexpected keyword argument(s) "colour" in type "garden.Sow"');
    // a positional field given by name is not a keyword argument
    expect(checkPayload(sow, [3, 120, true], { bed: 3 })).toMatch(/unexpected keyword argument\(s\) "bed"/);
  });

  it('wrong types and out-of-range integers name the field', () => {
    expect(checkPayload(sow, ['3', 120, true], undefined)).toBe('args[0] ("bed" in type "garden.Sow"): expected int16, got string "3"');
    expect(checkPayload(sow, [40000, 120, true], undefined)).toMatch(/args\[0\] \("bed".*40000 is out of range for int16/);
    expect(checkPayload(sow, [3, -1, true], undefined)).toMatch(/"seeds".*-1 is out of range for uint32/);
    expect(checkPayload(sow, [3, 1.5, true], undefined)).toMatch(/"seeds".*expected uint32, got number 1.5/);
    expect(checkPayload(sow, [3, 120, 1], undefined)).toMatch(/"organic".*expected bool, got number 1/);
    expect(checkPayload(sow, [3, 120, true], { depth_mm: 256 })).toMatch(/kwargs "depth_mm".*256 is out of range for uint8/);
    expect(checkPayload(sow, [3, 120, true], { note: 5 })).toMatch(/kwargs "note".*expected string/);
    expect(checkPayload(sow, [null, 120, true], undefined)).toMatch(/expected int16, got null/);
  });

  const good = (): unknown[] => [
    true, -128, 255, -32768, 65535, -(2 ** 31), 2 ** 32 - 1, -(2n ** 63n), 2n ** 64n - 1n, 1.5, 1e300, 'text',
    new Uint8Array([1, 2]), [1, -2, 3], { row: 1, column: 2 }, { species: 'rose', height_cm: 40 },
    [{ species: 'fern' }], 2,
  ];

  it('every base type: the good value passes', () => {
    expect(checkPayload(type('garden.Sample'), good(), undefined)).toBeUndefined();
    const asList = good();
    asList[12] = [0, 255]; // bytes as a list of ints
    asList[14] = [3, 4]; // a struct as a list in field order
    asList[7] = Number.MIN_SAFE_INTEGER; // a 64-bit integer as a number
    expect(checkPayload(type('garden.Sample'), asList, undefined)).toBeUndefined();
  });

  const bad: Array<[number, unknown, RegExp]> = [
    [0, 'true', /"b".*expected bool/],
    [1, -129, /"i8".*out of range for int8/],
    [2, 256, /"u8".*out of range for uint8/],
    [3, 32768, /"i16".*out of range for int16/],
    [4, -1, /"u16".*out of range for uint16/],
    [5, 2 ** 31, /"i32".*out of range for int32/],
    [6, 2 ** 32, /"u32".*out of range for uint32/],
    [7, 2n ** 63n, /"i64".*out of range for int64/],
    [8, -1n, /"u64".*out of range for uint64/],
    [9, 1e39, /"f32".*out of range for float/],
    [10, '1.5', /"f64".*expected double/],
    [11, 7, /"text".*expected string/],
    [12, [1, 300], /"bytes".*\[1\]: 300 is out of range for uint8/],
    [13, [1, 'x'], /"counts".*\[1\]: expected int32/],
    [13, 'nope', /"counts".*expected a list/],
    [14, { row: 1 }, /"spot".*missing "column" in "garden.Spot"/],
    [14, [1], /"spot".*struct "garden.Spot" takes 2 values, got 1/],
    [15, { height_cm: 3 }, /"plant".*missing "species" in "garden.Plant"/],
    [15, { species: 'rose', colour: 'red' }, /"plant".*unexpected key "colour" in "garden.Plant"/],
    [15, ['rose', 3], /"plant".*expected a dict for table "garden.Plant"/],
    [16, [{ species: 1 }], /"plants".*\[0\]: "species" in "garden.Plant": expected string/],
    [17, 256, /"season".*out of range for uint8/],
  ];
  it.each(bad)('every base type: args[%i] = %s is refused', (i, value, message) => {
    const args = good();
    args[i] = value;
    expect(checkPayload(type('garden.Sample'), args, undefined)).toMatch(message);
  });
});

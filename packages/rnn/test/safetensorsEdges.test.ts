/**
 * safetensors at its edges: files of exactly 8 bytes and headers that fill the file, and the byte-order paths a
 * big-endian host would take (forced here, on a little-endian host, through the byte-order parameter): they must
 * write the bytes and read the values the native path does, at any offset.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DType, TypedArray } from '@webrnn/rnn';
import { decodeSafetensors, encodeSafetensors } from '../src/io/index.js';
import { fromLittleEndian, writeLittleEndian } from '../src/io/safetensors.js';

/** A file from a header string (padded to 8 with spaces) and data bytes. */
function rawFile(header: string, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(header.padEnd(Math.ceil(header.length / 8) * 8, ' '));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('file and header lengths at their bounds', () => {
  it('a file of exactly 8 bytes has a header length but an empty header; 0 to 7 bytes are too short', () => {
    for (let n = 0; n < 8; n++) {
      expect(() => decodeSafetensors(new Uint8Array(n), 'f.st')).toThrow(
        `decodeSafetensors: f.st: file is ${n} bytes, too short for the 8-byte header length`,
      );
    }
    expect(() => decodeSafetensors(new Uint8Array(8), 'f.st')).toThrow(
      `f.st: header must be a JSON object starting with '{', got ""`,
    );
    // Eight bytes claiming one header byte: one more than there is.
    const claims = new Uint8Array(8);
    claims[0] = 1;
    expect(() => decodeSafetensors(claims, 'f.st')).toThrow(
      'f.st: header length 1 exceeds the 0 bytes after it (truncated or not safetensors)',
    );
  });

  it('a header that ends exactly at the end of the file is a file without tensors', () => {
    for (const metadata of [{}, { format: 'pt' }] as Record<string, string>[]) {
      const bytes = encodeSafetensors({}, metadata);
      expect(new DataView(bytes.buffer).getBigUint64(0, true)).toBe(BigInt(bytes.length - 8));
      expect(decodeSafetensors(bytes)).toEqual({ tensors: {}, metadata });
    }
    // Unpadded too (other writers need not pad): a 2-byte header filling a 10-byte file.
    const two = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]);
    expect(decodeSafetensors(two)).toEqual({ tensors: {}, metadata: {} });
  });

  it('a zero-size tensor at the end of the data and tensors of one element are read', () => {
    const f = rawFile(
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"e":{"dtype":"I32","shape":[0,3],"data_offsets":[4,4]}}',
      new Uint8Array([0, 0, 0x80, 0x3f]),
    );
    const { tensors } = decodeSafetensors(f);
    expect(Array.from(tensors.a!.data)).toEqual([1]);
    expect(tensors.e).toEqual({ dtype: 'int32', shape: [0, 3], data: new Int32Array(0) });
  });
});

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

/** Random values of a dtype, exactly representable in it (NaN included: compared with Object.is). */
const valuesOf = (dtype: DType) =>
  dtype === 'int32'
    ? fc
        .array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 20 })
        .map((v) => Int32Array.from(v))
    : dtype === 'float32'
      ? fc.array(fc.float(), { maxLength: 20 }).map((v) => Float32Array.from(v))
      : fc.array(fc.double(), { maxLength: 20 }).map((v) => Float64Array.from(v));

const dtypeAndValues = fc
  .constantFrom(...DTYPES)
  .chain((dtype) => fc.tuple(fc.constant(dtype), valuesOf(dtype), fc.nat(9), fc.nat(9)));

const sameValues = (a: TypedArray, b: TypedArray) => {
  expect(a.constructor).toBe(b.constructor);
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i])) expect.fail(`element ${i}: ${a[i]} vs ${b[i]}`);
};

/** The canonical NaN: a value read through a DataView need not keep a NaN's payload bits. */
const canonical = (a: TypedArray): TypedArray => {
  const c = a.slice();
  for (let i = 0; i < c.length; i++) if (Number.isNaN(c[i])) c[i] = Number.NaN;
  return c;
};

describe('the big-endian host paths', () => {
  it('write the same little-endian bytes as the native path, into a buffer view at any offset', () => {
    fc.assert(
      fc.property(dtypeAndValues, ([dtype, values, viewOffset, at]) => {
        const v = canonical(values);
        const size = viewOffset + at + v.byteLength + 3;
        const native = new Uint8Array(new ArrayBuffer(size), viewOffset);
        const portable = new Uint8Array(new ArrayBuffer(size), viewOffset);
        writeLittleEndian(v, native, at, true);
        writeLittleEndian(v, portable, at, false);
        expect(Array.from(portable)).toEqual(Array.from(native));
        // And they are little-endian: element i at byte at + i * size, lowest byte first.
        const dv = new DataView(native.buffer, native.byteOffset + at);
        const w = dtype === 'float64' ? 8 : 4;
        for (let i = 0; i < v.length; i++) {
          const got =
            dtype === 'float64'
              ? dv.getFloat64(i * w, true)
              : dtype === 'float32'
                ? dv.getFloat32(i * w, true)
                : dv.getInt32(i * w, true);
          expect(Object.is(got, v[i]), `${dtype} element ${i}`).toBe(true);
        }
        expect(Array.from(native.subarray(at + v.byteLength))).toEqual([0, 0, 0]);
      }),
    );
  });

  it('read the same values as the native path, from a buffer view at any (unaligned) offset', () => {
    fc.assert(
      fc.property(dtypeAndValues, ([dtype, values, viewOffset, at]) => {
        const v = canonical(values);
        const bytes = new Uint8Array(new ArrayBuffer(viewOffset + at + v.byteLength + 2), viewOffset).fill(
          0xa5,
        );
        writeLittleEndian(v, bytes, at, true);
        const raw = bytes.subarray(at, at + v.byteLength);
        const native = fromLittleEndian(raw, dtype, true);
        const portable = fromLittleEndian(raw, dtype, false);
        sameValues(native, v);
        sameValues(portable, v);
      }),
    );
  });

  it('the default is the host order, which a file written here proves little-endian', () => {
    const f = encodeSafetensors({ x: { dtype: 'int32', shape: [1], data: Int32Array.from([0x01020304]) } });
    expect(Array.from(f.subarray(f.length - 4))).toEqual([4, 3, 2, 1]);
  });
});

describe('every header check, each on its own', () => {
  const t = (name: string, dtype: unknown, shape: unknown, offs: unknown) =>
    `"${name}":{"dtype":${JSON.stringify(dtype)},"shape":${JSON.stringify(shape)},"data_offsets":${JSON.stringify(offs)}}`;
  const eight = new Uint8Array(8);
  const shapeMsg = (got: string) => `tensor 'w': shape must be an array of non-negative integers, got ${got}`;
  const offsMsg = (got: string) =>
    `tensor 'w': data_offsets must be [begin, end] with 0 <= begin <= end, got ${got}`;
  const notObject = (got: string) => `header must be a JSON object starting with '{', got "${got}"`;
  const cases: [string, Uint8Array, string][] = [
    ['metadata a number', rawFile('{"__metadata__":3}'), '__metadata__ must be an object of strings'],
    ['metadata null', rawFile('{"__metadata__":null}'), '__metadata__ must be an object of strings'],
    ['metadata an array', rawFile('{"__metadata__":["a"]}'), '__metadata__ must be an object of strings'],
    [
      'entry null',
      rawFile('{"a":null}'),
      "tensor 'a': entry must be an object { dtype, shape, data_offsets }",
    ],
    ['entry an array', rawFile('{"a":[1]}'), "tensor 'a': entry must be an object"],
    ['entry a string', rawFile('{"a":"F32"}'), "tensor 'a': entry must be an object"],
    [
      'dtype a number',
      rawFile(`{${t('w', 3, [2], [0, 8])}}`, eight),
      "tensor 'w': dtype must be a string, got 3",
    ],
    ['shape fractional', rawFile(`{${t('w', 'F32', [1.5], [0, 8])}}`, eight), shapeMsg('[1.5]')],
    ['shape not an array', rawFile(`{${t('w', 'F32', 2, [0, 8])}}`, eight), shapeMsg('2')],
    ['offsets not an array', rawFile(`{${t('w', 'F32', [2], 8)}}`, eight), offsMsg('8')],
    ['three offsets', rawFile(`{${t('w', 'F32', [2], [0, 8, 8])}}`, eight), offsMsg('[0,8,8]')],
    ['one offset', rawFile(`{${t('w', 'F32', [2], [8])}}`, eight), offsMsg('[8]')],
    ['negative begin', rawFile(`{${t('w', 'F32', [0], [-4, 0])}}`, eight), offsMsg('[-4,0]')],
    ['fractional end', rawFile(`{${t('w', 'F32', [2], [0, 7.5])}}`, eight), offsMsg('[0,7.5]')],
    [
      'end not safe',
      rawFile(`{${t('w', 'F32', [2], [0, 2 ** 53])}}`, eight),
      offsMsg('[0,9007199254740992]'),
    ],
    [
      'bytes/shape mismatch after another tensor',
      rawFile(`{${t('a', 'F32', [1], [0, 4])},${t('b', 'F32', [2], [4, 8])}}`, eight),
      "tensor 'b': shape [2] F32 needs 8 bytes but data_offsets [4, 8] hold 4",
    ],
    ['header of 40 characters, quoted whole', rawFile(`[${'x'.repeat(39)}`), notObject(`[${'x'.repeat(39)}`)],
    ['header over 40, cut', rawFile(`[${'x'.repeat(40)}`), notObject(`[${'x'.repeat(39)}...`)],
  ];
  for (const [what, bytes, msg] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => decodeSafetensors(bytes, 'e.st')).toThrow(`decodeSafetensors: e.st: ${msg}`);
    });
  }

  it('names a file given as bytes "<bytes>"', () => {
    expect(() => decodeSafetensors(new Uint8Array(3))).toThrow('decodeSafetensors: <bytes>: file is 3 bytes');
  });

  it('refuses a header over 100,000,000 bytes before decoding it, and decodes one of exactly that', () => {
    const MAX = 100_000_000;
    const bytes = new Uint8Array(8 + MAX + 1).fill(0x20);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(MAX + 1), true);
    expect(() => decodeSafetensors(bytes, 'big')).toThrow(
      `big: header length ${MAX + 1} is over the limit of ${MAX} bytes`,
    );
    view.setBigUint64(0, BigInt(MAX), true);
    expect(() => decodeSafetensors(bytes, 'big')).toThrow(
      `big: header must be a JSON object starting with '{'`,
    );
  });
});

describe('encoding', () => {
  it('refuses names, dtypes and shapes it cannot write', () => {
    const f32 = (shape: number[]) => ({ dtype: 'float32' as const, shape, data: new Float32Array(0) });
    expect(() => encodeSafetensors({ '': f32([0]) })).toThrow("encodeSafetensors: '' cannot name a tensor");
    expect(() => encodeSafetensors({ __metadata__: f32([0]) })).toThrow(
      "encodeSafetensors: '__metadata__' cannot name a tensor",
    );
    expect(() =>
      encodeSafetensors({ w: { dtype: 'int64' as DType, shape: [0], data: new Int32Array(0) } }),
    ).toThrow("encodeSafetensors: tensor 'w' has unknown dtype 'int64'");
    for (const shape of [[-1], [0, -2], [0.5], [Number.NaN]]) {
      expect(() => encodeSafetensors({ w: f32(shape) })).toThrow(
        `encodeSafetensors: tensor 'w' has invalid shape`,
      );
    }
  });

  it('lays out 8-byte elements first, otherwise in the given order, and pads the header with spaces to 8', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<DType>(...DTYPES), { minLength: 1, maxLength: 6 }),
        fc.string(),
        (dtypes, note) => {
          const tensors = Object.fromEntries(
            dtypes.map((dtype, i) => [
              `t${i}`,
              {
                dtype,
                shape: [i % 3],
                data: new (dtype === 'float64'
                  ? Float64Array
                  : dtype === 'float32'
                    ? Float32Array
                    : Int32Array)(i % 3),
              },
            ]),
          );
          const bytes = encodeSafetensors(tensors, { note });
          const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect(n % 8).toBe(0);
          const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
          expect(text.trimEnd().length).toBe(JSON.stringify(JSON.parse(text)).length);
          expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
          const header = JSON.parse(text) as Record<string, { data_offsets: [number, number] }>;
          const names = dtypes.map((_, i) => `t${i}`);
          const wide = names.filter((_, i) => dtypes[i] === 'float64');
          const narrow = names.filter((_, i) => dtypes[i] !== 'float64');
          let at = 0;
          for (const name of [...wide, ...narrow]) {
            const [b, e] = header[name]!.data_offsets;
            expect(b, name).toBe(at);
            at = e;
          }
          expect(decodeSafetensors(bytes).metadata).toEqual({ note });
        },
      ),
    );
  });
});

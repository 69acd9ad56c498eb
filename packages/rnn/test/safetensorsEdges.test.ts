/**
 * safetensors at its edges: files of exactly 8 bytes and headers that fill the file, and the byte-order paths a
 * big-endian host would take (forced here, on a little-endian host, through the byte-order parameter): they must
 * write the bytes and read the values the native path does, at any offset.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DType, TypedArray } from '@webrnn/rnn';
import { decodeSafetensors, encodeSafetensors } from '../src/io/index.js';
import { readLittleEndian, writeLittleEndian } from '../src/io/safetensors.js';

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
        const native = readLittleEndian(bytes, at, dtype, v.length, true);
        const portable = readLittleEndian(bytes, at, dtype, v.length, false);
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

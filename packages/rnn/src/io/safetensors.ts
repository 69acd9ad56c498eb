import { type DType, type TypedArray, WebrnnError, fmtShape, typedArrayFor } from '../module/deps.js';
import { CHECKSUM_KEY, headerDigest, sha256, verifyTensor } from './checksum.js';
import { METADATA, bytesPer, headerLength, parseHeader, setOwn, sizeOfShape } from './safetensorsHeader.js';

/**
 * The safetensors format (https://github.com/huggingface/safetensors), written and read here without a
 * dependency: an 8-byte little-endian header length N, N bytes of JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { key: string } }` (padded with spaces),
 * then the tensors' little-endian bytes, offsets relative to the end of the header. Files are the ones Python's
 * `safetensors.torch.save_file` reads and writes, for the dtypes webrnn has (F32, F64, I32).
 */

/** A tensor's values on the host, as stored in a file. */
export interface HostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

export interface SafetensorsContents {
  /** Tensors in the header's order. */
  readonly tensors: Record<string, HostTensor>;
  readonly metadata: Record<string, string>;
}

const CODES: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
const ARRAYS: Record<DType, (a: TypedArray) => boolean> = {
  float32: (a) => a instanceof Float32Array,
  float64: (a) => a instanceof Float64Array,
  int32: (a) => a instanceof Int32Array,
};

/** @internal The host's byte order (safetensors stores little-endian). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface EncodeOptions {
  /**
   * Store the SHA-256 of every tensor and of the header in `__metadata__` (see checksum.ts), verified when the
   * file is read. Default true where node:crypto is available.
   */
  readonly checksums?: boolean;
}

/** Serialise tensors and string metadata to the bytes of a .safetensors file. */
export function encodeSafetensors(
  tensors: Record<string, HostTensor>,
  metadata: Record<string, string> = {},
  op = 'encodeSafetensors',
  options: EncodeOptions = {},
): Uint8Array {
  const names = Object.keys(tensors);
  const checksums = options.checksums ?? true;
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') {
      throw new WebrnnError(op, `metadata '${k}' must be a string, got ${typeof v}`);
    }
    if (k === CHECKSUM_KEY) throw new WebrnnError(op, `metadata key '${k}' is reserved for the checksums`);
  }
  for (const name of names) {
    const t = tensors[name]!;
    if (name === '' || name === METADATA) throw new WebrnnError(op, `'${name}' cannot name a tensor`);
    if (!(t.dtype in CODES)) throw new WebrnnError(op, `tensor '${name}' has unknown dtype '${t.dtype}'`);
    if (t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new WebrnnError(op, `tensor '${name}' has invalid shape ${fmtShape(t.shape)}`);
    }
    if (t.data.length !== sizeOfShape(t.shape) || !ARRAYS[t.dtype](t.data)) {
      throw new WebrnnError(
        op,
        `tensor '${name}' of shape ${fmtShape(t.shape)} ${t.dtype} has ${t.data.length} values in a ${t.data.constructor.name}`,
      );
    }
  }
  // Lay out 8-byte elements first (stable otherwise), as Python does, so that every tensor is aligned to its
  // element size for readers that map the file without copying.
  const order = [...names].sort((a, b) => bytesPer(tensors[b]!.dtype) - bytesPer(tensors[a]!.dtype));
  const offsets = new Map<string, [number, number]>();
  let end = 0;
  for (const name of order) {
    const n = tensors[name]!.data.byteLength;
    offsets.set(name, [end, end + n]);
    end += n;
  }
  const headerOf = (sums: Record<string, string> | null, headerSum: string) => {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) setOwn(meta, k, v);
    if (sums) setOwn(meta, CHECKSUM_KEY, JSON.stringify({ header: headerSum, tensors: sums }));
    const header: Record<string, unknown> = {};
    if (Object.keys(meta).length > 0) header[METADATA] = meta;
    for (const name of names) {
      const t = tensors[name]!;
      setOwn(header, name, { dtype: CODES[t.dtype], shape: [...t.shape], data_offsets: offsets.get(name) });
    }
    const json = new TextEncoder().encode(JSON.stringify(header));
    const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    padded.set(json);
    return padded;
  };
  // Digests are fixed-width hex: a header with placeholders has the final header's length, so the data can be
  // written in place and hashed there, without a second copy of the model.
  const placeholder = '0'.repeat(64);
  const sums: Record<string, string> | null = checksums ? {} : null;
  if (sums) for (const name of names) setOwn(sums, name, placeholder);
  let headerSum = placeholder;
  const length = headerOf(sums, headerSum).length;
  const out = new Uint8Array(8 + length + end);
  const dataStart = 8 + length;
  for (const name of order) writeLittleEndian(tensors[name]!.data, out, dataStart + offsets.get(name)![0]);
  if (sums) {
    for (const name of names) {
      const [b, e] = offsets.get(name)!;
      setOwn(
        sums,
        name,
        sha256()
          .update(out.subarray(dataStart + b, dataStart + e))
          .digest('hex'),
      );
    }
    const entries = names.map((name) => {
      const [begin, end] = offsets.get(name)!;
      return { name, code: CODES[tensors[name]!.dtype], shape: tensors[name]!.shape, begin, end };
    });
    headerSum = headerDigest(entries, metadata);
  }
  const json = headerOf(sums, headerSum);
  // Stryker disable next-line ConditionalExpression,StringLiteral: a defence that cannot fire (the length was measured on the same header, the checksum entry has a fixed length); 'true' was checked by hand to fail the tests.
  if (json.length !== length) throw new Error('encodeSafetensors: header length changed'); // cannot happen
  new DataView(out.buffer).setBigUint64(0, BigInt(length), true);
  out.set(json, 8);
  return out;
}

/**
 * Parse the bytes of a .safetensors file, checking everything (errors name `source`, e.g. the path, and the
 * tensor): the header length against the file, the header's JSON, every dtype, shape and offset, that the
 * tensors neither overlap nor leave holes (as the reference implementation requires), that their byte counts
 * match their shapes, and the checksums when the file has them. Values are copied out of `bytes`.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = '<bytes>',
  op = 'decodeSafetensors',
): SafetensorsContents {
  const n = headerLength(bytes, bytes.length, source, op);
  const { entries, metadata, checksums, dataStart } = parseHeader(
    bytes.subarray(8, 8 + n),
    bytes.length,
    source,
    op,
  );
  const tensors: Record<string, HostTensor> = {};
  for (const e of entries) {
    const raw = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    // Stryker disable next-line ConditionalExpression: verifyTensor passes anything when the file has no checksums (the test only spares the hashing); 'false' was checked by hand to fail the tests.
    if (checksums) verifyTensor(checksums, e.name, sha256().update(raw).digest('hex'), source, op);
    setOwn(tensors, e.name, { dtype: e.dtype, shape: e.shape, data: fromLittleEndian(raw, e.dtype) });
  }
  return { tensors, metadata: withoutChecksums(metadata) };
}

/** The checksums are the format's business, checked here: callers see the metadata they saved. */
export function withoutChecksums(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (k !== CHECKSUM_KEY) setOwn(out, k, v);
  return out;
}

/**
 * @internal The host's byte order is a parameter so that tests run the big-endian path on a little-endian host
 * (both must give the same bytes).
 */
export function writeLittleEndian(
  data: TypedArray,
  out: Uint8Array,
  at: number,
  hostLittleEndian = LITTLE_ENDIAN,
): void {
  // Stryker disable next-line ConditionalExpression,BlockStatement: on a little-endian host both branches write the same bytes (the copy is a shortcut).
  if (hostLittleEndian) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const v = new DataView(out.buffer, out.byteOffset + at, data.byteLength);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float64Array) v.setFloat64(i * 8, data[i]!, true);
    else if (data instanceof Float32Array) v.setFloat32(i * 4, data[i]!, true);
    else v.setInt32(i * 4, data[i]!, true);
  }
}

/**
 * A tensor's values from its little-endian bytes (a copy: the offset need not be aligned, the file's buffer is not
 * kept alive). The host's byte order is a parameter for the tests, as in writeLittleEndian.
 */
export function fromLittleEndian(
  raw: Uint8Array,
  dtype: DType,
  hostLittleEndian = LITTLE_ENDIAN,
): TypedArray {
  const count = raw.length / bytesPer(dtype);
  const out = typedArrayFor(dtype, count);
  // Stryker disable next-line ConditionalExpression,BlockStatement: on a little-endian host both branches read the same values.
  if (hostLittleEndian) {
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < count; i++) {
    out[i] =
      dtype === 'float64'
        ? v.getFloat64(i * 8, true)
        : dtype === 'float32'
          ? v.getFloat32(i * 4, true)
          : v.getInt32(i * 4, true);
  }
  return out;
}

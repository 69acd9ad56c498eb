import { type DType, type TypedArray, WebrnnError, fmtShape, typedArrayFor } from '../nn/deps.js';

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
const DTYPES: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32' };
/** Valid safetensors dtypes that webrnn has no tensors for (named as such in errors, not as unknown). */
const UNSUPPORTED = new Set([
  'BOOL',
  'U8',
  'I8',
  'U16',
  'I16',
  'F16',
  'BF16',
  'U32',
  'U64',
  'I64',
  'F8_E4M3',
  'F8_E5M2',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'C64',
]);
const ARRAYS: Record<DType, (a: TypedArray) => boolean> = {
  float32: (a) => a instanceof Float32Array,
  float64: (a) => a instanceof Float64Array,
  int32: (a) => a instanceof Int32Array,
};
const METADATA = '__metadata__';
/** The reference implementation's limit: a larger header is a corrupt file, not a model. */
const MAX_HEADER = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesPer(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialise tensors and string metadata to the bytes of a .safetensors file. */
export function encodeSafetensors(
  tensors: Record<string, HostTensor>,
  metadata: Record<string, string> = {},
  op = 'encodeSafetensors',
): Uint8Array {
  const names = Object.keys(tensors);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') {
      throw new WebrnnError(op, `metadata '${k}' must be a string, got ${typeof v}`);
    }
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
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA] = metadata;
  for (const name of names) {
    const t = tensors[name]!;
    header[name] = { dtype: CODES[t.dtype], shape: [...t.shape], data_offsets: offsets.get(name) };
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  // Stryker disable next-line ConditionalExpression: padding a header already a multiple of 8 copies it unchanged.
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + end);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  for (const name of order) {
    const [begin] = offsets.get(name)!;
    writeLittleEndian(tensors[name]!.data, out, 8 + json.length + begin);
  }
  return out;
}

/**
 * Parse the bytes of a .safetensors file, checking everything (errors name `source`, e.g. the path, and the
 * tensor): the header length against the file, the header's JSON, every dtype, shape and offset, that the
 * tensors neither overlap nor leave holes (as the reference implementation requires) and that their byte counts
 * match their shapes. Values are copied out of `bytes`.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = '<bytes>',
  op = 'decodeSafetensors',
): SafetensorsContents {
  const fail = (msg: string): never => {
    throw new WebrnnError(op, `${source}: ${msg}`);
  };
  if (bytes.length < 8) {
    fail(
      `file is ${bytes.length} bytes, too short for the 8-byte header length (truncated or not safetensors)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    fail(`header length ${n} exceeds the ${bytes.length - 8} bytes after it (truncated or not safetensors)`);
  }
  const headerLength = Number(n);
  if (headerLength > MAX_HEADER)
    fail(`header length ${headerLength} is over the limit of ${MAX_HEADER} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header must be a JSON object starting with '{', got ${quote(text)}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  // Stryker disable all: unreachable today (a text starting with '{' parses to an object or throws); kept as the guard for the casts below.
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail('header must be a JSON object');
  }
  // Stryker restore all
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        fail(`${METADATA} must be an object of strings`);
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string')
          fail(`${METADATA} entry '${k}' must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const bad = (msg: string) => fail(`tensor '${name}': ${msg}`);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      bad('entry must be an object { dtype, shape, data_offsets }');
    }
    const { dtype: code, shape, data_offsets: offs } = value as Record<string, unknown>;
    if (typeof code !== 'string') bad(`dtype must be a string, got ${JSON.stringify(code)}`);
    const dtype = DTYPES[code as string];
    if (!dtype) {
      bad(
        UNSUPPORTED.has(code as string)
          ? `dtype ${code} is not supported (webrnn reads F32, F64 and I32)`
          : `unknown dtype '${code}' (webrnn reads F32, F64 and I32)`,
      );
    }
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      offs.some((o) => !Number.isSafeInteger(o) || o < 0) ||
      offs[0] > offs[1]
    ) {
      bad(`data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataLength) {
      bad(`data_offsets [${begin}, ${end}] are out of range: the data is ${dataLength} bytes (truncated?)`);
    }
    const expected = sizeOfShape(shape as number[]) * bytesPer(dtype!);
    if (end - begin !== expected) {
      bad(
        `shape ${fmtShape(shape as number[])} ${code} needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    entries.push({ name, dtype: dtype!, shape: shape as number[], begin, end });
  }
  // The tensors must tile the data exactly: no overlap, no hole, nothing after the last.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: string | null = null;
  for (const e of sorted) {
    if (e.begin < at) {
      fail(`tensor '${e.name}' (bytes ${e.begin}..${e.end}) overlaps tensor '${prev}' (ending at ${at})`);
    }
    if (e.begin > at)
      fail(`tensor '${e.name}' starts at byte ${e.begin}, leaving bytes ${at}..${e.begin} unused`);
    at = e.end;
    prev = e.name;
  }
  if (at !== dataLength) {
    fail(`the tensors end at byte ${at} of a ${dataLength}-byte data section (trailing bytes)`);
  }
  const tensors: Record<string, HostTensor> = {};
  for (const e of entries) {
    tensors[e.name] = {
      dtype: e.dtype,
      shape: e.shape,
      data: readLittleEndian(bytes, dataStart + e.begin, e.dtype, sizeOfShape(e.shape)),
    };
  }
  return { tensors, metadata };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
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

/** @internal As writeLittleEndian: the host's byte order is a parameter for the tests. */
export function readLittleEndian(
  bytes: Uint8Array,
  at: number,
  dtype: DType,
  count: number,
  hostLittleEndian = LITTLE_ENDIAN,
): TypedArray {
  const out = typedArrayFor(dtype, count);
  // Stryker disable next-line ConditionalExpression,BlockStatement: on a little-endian host both branches read the same values (the copy is a shortcut).
  if (hostLittleEndian) {
    // A copy: the offset need not be aligned for the typed array, and the file's buffer is not kept alive.
    new Uint8Array(out.buffer).set(bytes.subarray(at, at + out.byteLength));
    return out;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, out.byteLength);
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

import { type DType, WebrnnError, fmtShape } from '../module/deps.js';
import { type HeaderEntry, declaredChecksums } from './checksum.js';

/**
 * The checks of a safetensors header, shared by the in-memory decoder and the streaming file reader: the
 * header length against the file, the JSON, every dtype, shape and offset, that the tensors tile the data
 * exactly (no overlap, no hole, nothing after), and the declared checksums. Errors name `source` and the tensor.
 */

export const DTYPES: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32' };
/** Valid safetensors dtypes that webrnn has no tensors for (named as such in errors, not as unknown). */
const UNSUPPORTED = new Set(
  'BOOL U8 I8 U16 I16 F16 BF16 U32 U64 I64 F8_E4M3 F8_E5M2 F8_E8M0 F4 F6_E2M3 F6_E3M2 C64'.split(' '),
);
export const METADATA = '__metadata__';
/** The reference implementation's limit: a larger header is a corrupt file, not a model. */
export const MAX_HEADER = 100_000_000;

export interface TensorEntry extends HeaderEntry {
  readonly dtype: DType;
}

export interface ParsedHeader {
  /** In the header's order. */
  readonly entries: TensorEntry[];
  readonly metadata: Record<string, string>;
  /** Declared SHA-256 of each tensor's bytes, checked against the header; null when the file has none. */
  readonly checksums: Map<string, string> | null;
  /** Where the data starts in the file (8 + header length). */
  readonly dataStart: number;
}

/**
 * Set an own enumerable property, whatever the key: `obj[key] = v` with key `__proto__` would change the
 * prototype instead and the name would vanish.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function bytesPer(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

/** The header length from the file's first 8 bytes, checked against the file's length. */
export function headerLength(first: Uint8Array, fileLength: number, source: string, op: string): number {
  const fail = (msg: string): never => {
    throw new WebrnnError(op, `${source}: ${msg}`);
  };
  if (fileLength < 8) {
    fail(
      `file is ${fileLength} bytes, too short for the 8-byte header length (truncated or not safetensors)`,
    );
  }
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileLength - 8)) {
    fail(`header length ${n} exceeds the ${fileLength - 8} bytes after it (truncated or not safetensors)`);
  }
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} is over the limit of ${MAX_HEADER} bytes`);
  return Number(n);
}

/** Parse and check a header (its bytes after the length) for a file of `fileLength` bytes. */
export function parseHeader(bytes: Uint8Array, fileLength: number, source: string, op: string): ParsedHeader {
  const fail = (msg: string): never => {
    throw new WebrnnError(op, `${source}: ${msg}`);
  };
  // Stryker disable next-line StringLiteral: read only after the decode below succeeded, which replaces it.
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header must be a JSON object starting with '{', got ${quote(text)}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator,BlockStatement,StringLiteral: cannot fire (JSON text starting with '{' parses to an object); 'true' was checked by hand to fail the tests.
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    // Stryker disable next-line StringLiteral: unreachable, as the check above.
    fail('header must be a JSON object');
  }
  const dataStart = 8 + bytes.length;
  const dataLength = fileLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  // JSON.parse makes `__proto__` an own property: Object.entries sees it like any other name.
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        fail(`${METADATA} must be an object of strings`);
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string')
          fail(`${METADATA} entry '${k}' must be a string, got ${JSON.stringify(v)}`);
        setOwn(metadata, k, v as string);
      }
      continue;
    }
    entries.push(parseEntry(name, value, dataLength, (msg) => fail(`tensor '${name}': ${msg}`)));
  }
  checkTiling(entries, dataLength, fail);
  return { entries, metadata, checksums: declaredChecksums(entries, metadata, source, op), dataStart };
}

function parseEntry(
  name: string,
  value: unknown,
  dataLength: number,
  bad: (m: string) => never,
): TensorEntry {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    bad('entry must be an object { dtype, shape, data_offsets }');
  }
  const { dtype: code, shape, data_offsets: offs } = value as Record<string, unknown>;
  if (typeof code !== 'string') bad(`dtype must be a string, got ${JSON.stringify(code)}`);
  const dtype = Object.hasOwn(DTYPES, code as string) ? DTYPES[code as string] : undefined;
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
  return { name, code: code as string, dtype: dtype!, shape: shape as number[], begin, end };
}

/** The tensors must tile the data exactly, as the reference implementation requires. */
function checkTiling(entries: readonly TensorEntry[], dataLength: number, fail: (m: string) => never): void {
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
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

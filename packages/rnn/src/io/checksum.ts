import { WebrnnError } from '../module/deps.js';
import { Sha256 } from './sha256.js';

/**
 * Checksums in a safetensors file's `__metadata__` (the format has none): `webrnn.sha256` holds the JSON
 * `{ "header": hex, "tensors": { name: hex } }`, the SHA-256 of each tensor's bytes as stored (so Python's
 * hashlib can check them too) and of the rest of the header (metadata, names, dtypes, shapes), so
 * that a flipped bit anywhere is refused instead of loading as other weights.
 *
 * SHA-256 from node:crypto where there is one: native and hardware-accelerated (GB/s, far above a disk), no
 * dependency, and a standard any tool can recompute. It is reached with process.getBuiltinModule (synchronous, so
 * the in-memory encoder and decoder keep their signatures); where there is none (a page, Node before 20.16) the
 * same digest comes from sha256.ts, so files are written with checksums and verified everywhere.
 */
export const CHECKSUM_KEY = 'webrnn.sha256';

interface Hash {
  update(data: Uint8Array): Hash;
  digest(encoding: 'hex'): string;
}
type Crypto = { createHash(algorithm: 'sha256'): Hash };

const nodeCrypto: Crypto | null = (() => {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (p?.getBuiltinModule?.('node:crypto') as Crypto | undefined) ?? null;
})();

/** A running SHA-256 (bytes may come in chunks, as from a file). */
export function sha256(): Hash {
  return nodeCrypto ? nodeCrypto.createHash('sha256') : new Sha256();
}

/**
 * What of the header its digest covers: each tensor's name, dtype and shape (in name order) and the metadata but
 * the checksums. Not the offsets: the tiling check and each tensor's own checksum cover them, and a tool that
 * lays the same tensors out in another order has not corrupted anything.
 */
export interface HeaderEntry {
  readonly name: string;
  readonly code: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export function headerDigest(entries: readonly HeaderEntry[], metadata: Record<string, string>): string {
  const meta = Object.entries(metadata)
    .filter(([k]) => k !== CHECKSUM_KEY)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const tensors = [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => [e.name, e.code, e.shape]);
  return sha256()
    .update(new TextEncoder().encode(JSON.stringify([meta, tensors])))
    .digest('hex');
}

/**
 * The checksums a file declares, checked against its header: null when it has none (files of other tools). Every
 * tensor must have one and every one a tensor, and the header's own
 * digest must match, else the file is refused naming `source`.
 */
export function declaredChecksums(
  entries: readonly HeaderEntry[],
  metadata: Record<string, string>,
  source: string,
  op: string,
): Map<string, string> | null {
  const raw = metadata[CHECKSUM_KEY];
  if (raw === undefined) return null;
  const fail = (msg: string): never => {
    throw new WebrnnError(op, `${source}: ${msg} (the file is corrupt or was edited)`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail(`metadata '${CHECKSUM_KEY}' is not valid JSON`);
  }
  const hex = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  const { header, tensors } = (parsed ?? {}) as { header?: unknown; tensors?: unknown };
  if (!hex(header) || tensors === null || typeof tensors !== 'object' || Array.isArray(tensors)) {
    fail(`metadata '${CHECKSUM_KEY}' must be { header: sha256, tensors: { name: sha256 } }`);
  }
  const sums = new Map<string, string>();
  for (const [name, v] of Object.entries(tensors as object)) {
    if (!hex(v)) fail(`metadata '${CHECKSUM_KEY}' has no valid SHA-256 for tensor '${name}'`);
    sums.set(name, v as string);
  }
  for (const e of entries) if (!sums.has(e.name)) fail(`tensor '${e.name}' has no checksum`);
  const names = new Set(entries.map((e) => e.name));
  for (const name of sums.keys())
    if (!names.has(name)) fail(`a checksum names tensor '${name}', which is not in the file`);
  if (headerDigest(entries, metadata) !== header) fail('the header fails its SHA-256 checksum');
  return sums;
}

/** Refuse a tensor whose bytes do not hash to the declared checksum. */
export function verifyTensor(
  sums: Map<string, string> | null,
  name: string,
  digest: string,
  source: string,
  op: string,
): void {
  if (sums && sums.get(name) !== digest) {
    throw new WebrnnError(
      op,
      `${source}: tensor '${name}' fails its SHA-256 checksum (the file is corrupt or was edited)`,
    );
  }
}

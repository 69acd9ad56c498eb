import { type Tensor, WebrnnError, cat, fmtShape, full, stack, tensor, tidy } from '../module/deps.js';

/**
 * Helpers for batches of sequences of different lengths: pad them into one [Tmax, N, ...] tensor with a zero
 * mask, and bucket a data set by length so that each batch holds sequences of similar lengths (little padding),
 * with the permutation that puts per-sequence results back in the original order.
 */

export type PadSide = 'left' | 'right';

export interface PaddedBatch {
  /** [Tmax, N, ...]: sequence n in column n, padded with `value`. */
  readonly input: Tensor;
  /** [Tmax, N], 1 at padding and 0 at real steps (Torch's zeroMask convention), in the input's float dtype. */
  readonly zeroMask: Tensor;
  /** Length of each sequence. */
  readonly lengths: number[];
  /** Position of each column in the list the batch was made from. */
  readonly indices: number[];
}

export interface PadOptions {
  /** 'right' (default): real steps first, padding after; 'left': padding first, so all sequences end together. */
  readonly side?: PadSide;
  /** Padding value (default 0, what maskZero and LookupTableMaskZero read as padding). */
  readonly value?: number;
}

/**
 * Pad sequences [Ti, ...] (same trailing shape, dtype and device) into [Tmax, N, ...] with their zero mask. Built
 * with ops, so gradients reach each sequence.
 */
export function padSequences(seqs: readonly Tensor[], opts: PadOptions = {}): PaddedBatch {
  const side = opts.side ?? 'right';
  if (side !== 'left' && side !== 'right') {
    throw new WebrnnError('padSequences', `side must be 'left' or 'right', got '${String(side)}'`);
  }
  if (seqs.length === 0) throw new WebrnnError('padSequences', 'needs at least one sequence');
  const first = seqs[0]!;
  seqs.forEach((s, i) => {
    const ok =
      s.rank >= 1 &&
      s.shape[0]! >= 1 &&
      s.dtype === first.dtype &&
      s.device === first.device &&
      s.shape.slice(1).join() === first.shape.slice(1).join();
    if (!ok) {
      throw new WebrnnError(
        `sequence ${i}`,
        `has shape ${fmtShape(s.shape)} ${s.dtype} on ${s.device}, expected [T >= 1, ${first.shape.slice(1).join(', ')}] ` +
          `${first.dtype} on ${first.device} like sequence 0 (same trailing shape, dtype and device)`,
      );
    }
  });
  const lengths = seqs.map((s) => s.shape[0]!);
  const tmax = Math.max(...lengths);
  const maskDtype = first.dtype === 'int32' ? 'float32' : first.dtype;
  const maskData: number[] = [];
  for (let t = 0; t < tmax; t++) {
    for (const len of lengths) maskData.push(side === 'right' ? +(t >= len) : +(t < tmax - len));
  }
  const input = tidy(() => {
    const cols = seqs.map((s, i) => {
      const n = tmax - lengths[i]!;
      if (n === 0) return s;
      const pad = full([n, ...s.shape.slice(1)], opts.value ?? 0, { dtype: s.dtype, device: s.device });
      return cat(side === 'right' ? [s, pad] : [pad, s], 0);
    });
    return stack(cols, 1);
  });
  const zeroMask = tensor(maskData, { shape: [tmax, seqs.length], dtype: maskDtype, device: first.device });
  return { input, zeroMask, lengths, indices: seqs.map((_, i) => i) };
}

/** Indices of `lengths` sorted by length (longest first by default); ties keep their order. */
export function sortByLength(lengths: readonly number[], descending = true): number[] {
  const idx = lengths.map((_, i) => i);
  return idx.sort((a, b) => (descending ? lengths[b]! - lengths[a]! : lengths[a]! - lengths[b]!) || a - b);
}

export interface Buckets {
  /** Batches of at most `batchSize` sequences of similar lengths. */
  readonly batches: PaddedBatch[];
  /** The original index of each sequence, in batch order (batch 0's columns, then batch 1's, ...). */
  readonly order: number[];
}

/**
 * Sort the sequences by length and cut them into padded batches of `batchSize` (the last may be smaller). Put
 * per-sequence results, listed in batch order, back in the original order with restoreOrder(results, order).
 */
export function bucketByLength(
  seqs: readonly Tensor[],
  batchSize: number,
  opts: PadOptions & { readonly descending?: boolean } = {},
): Buckets {
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new WebrnnError('bucketByLength', `batchSize must be a positive integer, got ${batchSize}`);
  }
  const order = sortByLength(
    seqs.map((s) => s.shape[0] ?? 0),
    opts.descending ?? true,
  );
  const batches: PaddedBatch[] = [];
  for (let b = 0; b < order.length; b += batchSize) {
    const indices = order.slice(b, b + batchSize);
    const batch = padSequences(
      indices.map((i) => seqs[i]!),
      opts,
    );
    batches.push({ ...batch, indices });
  }
  return { batches, order };
}

/** Results listed in batch order (results[k] belongs to sequence order[k]) back in the original order. */
export function restoreOrder<T>(results: readonly T[], order: readonly number[]): T[] {
  if (results.length !== order.length) {
    throw new WebrnnError('restoreOrder', `got ${results.length} results for ${order.length} sequences`);
  }
  const out = new Array<T>(order.length);
  const seen = new Array<boolean>(order.length).fill(false);
  order.forEach((o, k) => {
    if (!Number.isInteger(o) || o < 0 || o >= order.length || seen[o]) {
      throw new WebrnnError(
        'restoreOrder',
        `order is not a permutation of 0..${order.length - 1} (entry ${k}: ${o})`,
      );
    }
    seen[o] = true;
    out[o] = results[k]!;
  });
  return out;
}

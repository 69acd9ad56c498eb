import { positiveInt } from '../module/checks.js';
import { type Tensor, WebrnnError, matmul, narrow } from '../module/deps.js';
import { Linear } from '../nn/Linear.js';
import type { Module } from '../module/Module.js';
import { additiveScore } from './AdditiveAttention.js';
import { Attention, type AttentionOptions } from './Attention.js';

/** Luong's scoring rules. */
export type LuongScore = 'dot' | 'general' | 'concat';

export interface DotAttentionOptions extends AttentionOptions {
  /** Width of the hidden layer of the 'concat' score (default keySize); ignored by the others. */
  readonly hiddenSize?: number;
}

/**
 * Luong (multiplicative) attention, `new nn.DotAttention(querySize, keySize, score = 'dot', options)`:
 * - 'dot': score(q, k) = q^T k, no parameters; needs querySize == keySize.
 * - 'general': score(q, k) = q^T W k, with W held by `linearQuery` (nn.Linear(querySize -> keySize), no bias,
 *   applied to the query: (W q)^T k).
 * - 'concat': score(q, k) = v^T tanh(W [q; k]), W in `linearConcat` (nn.Linear(querySize + keySize ->
 *   hiddenSize), no bias, so its fan-in is the concatenation's) and v in `linearScore` (hiddenSize -> 1).
 * Parameters are initialised as nn.Linear's. See nn.Attention for the tables, masking and batchfirst.
 */
export class DotAttention extends Attention {
  readonly linearQuery: Linear | null = null;
  readonly linearConcat: Linear | null = null;
  readonly linearScore: Linear | null = null;
  readonly hiddenSize: number | null = null;

  constructor(
    querySize: number,
    keySize: number,
    readonly scoreType: LuongScore = 'dot',
    options: DotAttentionOptions = {},
  ) {
    super(querySize, keySize, options);
    if (scoreType === 'dot') {
      if (querySize !== keySize) {
        throw new WebrnnError(
          this.typeName,
          `score 'dot' needs querySize == keySize, got querySize ${querySize} and keySize ${keySize}; ` +
            "use 'general' or 'concat' for different sizes",
        );
      }
    } else if (scoreType === 'general') {
      this.linearQuery = new Linear(querySize, keySize, false);
    } else if (scoreType === 'concat') {
      const hidden = options.hiddenSize ?? keySize;
      positiveInt(this.typeName, 'hiddenSize', hidden);
      this.hiddenSize = hidden;
      this.linearConcat = new Linear(querySize + keySize, hidden, false);
      this.linearScore = new Linear(hidden, 1, false);
    } else {
      throw new WebrnnError(
        this.typeName,
        `unknown score '${String(scoreType)}', expected 'dot', 'general' or 'concat'`,
      );
    }
  }

  override children(): readonly Module[] {
    return [this.linearQuery, this.linearConcat, this.linearScore].filter((m): m is Linear => m !== null);
  }

  protected override score(q: Tensor, k: Tensor): Tensor {
    if (this.scoreType === 'dot') return matmul(q, k, { transB: true });
    if (this.linearQuery) return matmul(this.linearQuery.updateOutput(q) as Tensor, k, { transB: true });
    // W [q; k] = W_q q + W_k k with W split by columns: no [N, T', T, Hq + Hk] concatenation is built.
    const w = this.linearConcat!.weight;
    const pq = matmul(q, narrow(w, 1, 0, this.querySize), { transB: true });
    const pk = matmul(k, narrow(w, 1, this.querySize, this.keySize), { transB: true });
    return additiveScore(pq, pk, this.linearScore!.weight);
  }

  override describe(): string {
    const hidden = this.hiddenSize === null ? '' : `, hidden ${this.hiddenSize}`;
    return `${this.typeName}('${this.scoreType}', query ${this.querySize}, keys ${this.keySize}${hidden}${this.flags()})`;
  }
}

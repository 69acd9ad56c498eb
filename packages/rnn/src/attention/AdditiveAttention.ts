import { positiveInt } from '../module/checks.js';
import { type Tensor, add, matmul, reshape, tanh, unsqueeze } from '../module/deps.js';
import { Linear } from '../nn/Linear.js';
import type { Module } from '../module/Module.js';
import { Attention, type AttentionOptions } from './Attention.js';

/**
 * Bahdanau (additive) attention: score(q, k) = v^T tanh(W_q q + W_k k + b).
 *
 * `new nn.AdditiveAttention(querySize, keySize, hiddenSize = keySize, options)`. The parameters live in three
 * nn.Linear children, each initialised as nn.Linear (uniform in +-1/sqrt(fan-in)): `linearQuery` (W_q and the
 * bias b), `linearKey` (W_k, no bias) and `linearScore` (v, hiddenSize -> 1, no bias). See nn.Attention for the
 * input and output tables, masking and batchfirst.
 */
export class AdditiveAttention extends Attention {
  readonly linearQuery: Linear;
  readonly linearKey: Linear;
  readonly linearScore: Linear;

  constructor(
    querySize: number,
    keySize: number,
    readonly hiddenSize = keySize,
    options: AttentionOptions = {},
  ) {
    super(querySize, keySize, options);
    positiveInt(this.typeName, 'hiddenSize', hiddenSize);
    this.linearQuery = new Linear(querySize, hiddenSize);
    this.linearKey = new Linear(keySize, hiddenSize, false);
    this.linearScore = new Linear(hiddenSize, 1, false);
  }

  override children(): readonly Module[] {
    return [this.linearQuery, this.linearKey, this.linearScore];
  }

  protected override score(q: Tensor, k: Tensor): Tensor {
    return additiveScore(
      this.linearQuery.updateOutput(q) as Tensor,
      this.linearKey.updateOutput(k) as Tensor,
      this.linearScore.weight,
    );
  }

  override describe(): string {
    return `${this.typeName}(query ${this.querySize}, keys ${this.keySize}, hidden ${this.hiddenSize}${this.flags()})`;
  }
}

/**
 * v^T tanh(pq + pk) for every pair of steps: pq [N, T', A] and pk [N, T, A] (projections already made), v [1, A];
 * the result is [N, T', T]. The sum broadcasts to [N, T', T, A] (the memory cost of additive attention).
 */
export function additiveScore(pq: Tensor, pk: Tensor, v: Tensor): Tensor {
  const [N, T1] = pq.shape as [number, number];
  const T = pk.shape[1]!;
  const h = tanh(add(unsqueeze(pq, 2), unsqueeze(pk, 1)));
  return reshape(matmul(h, v, { transB: true }), [N, T1, T]);
}

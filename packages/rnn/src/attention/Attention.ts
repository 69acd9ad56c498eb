import { type Activity, describeActivity, expectTable, expectTensor } from '../module/activity.js';
import { positiveInt } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  contiguous,
  fmtShape,
  fmtShapeOf,
  matmul,
  reshape,
  softmax,
  tidy,
  transpose,
  unsqueeze,
  where,
} from '../module/deps.js';
import { Module } from '../module/Module.js';

export interface AttentionOptions {
  /** Keys, multi-step queries, mask and multi-step outputs are [N, T, H] instead of [T, N, H]. */
  readonly batchfirst?: boolean;
  /** Output `[context, weights]` (true, the default) or the context tensor alone. */
  readonly returnWeights?: boolean;
}

/**
 * Fill for masked scores before the softmax. Finite on purpose (WGSL may assume no Inf) and far below any real
 * score, so exp(fill - rowMax) underflows to exactly 0 in float32 and float64 alike.
 */
const MASKED_SCORE = -1e30;

/**
 * Soft attention over encoder outputs, the part every scoring rule shares. The input is a table
 * `{query, keys}` or `{query, keys, mask}`:
 * - query [N, Hq] (one decoder step) or [T', N, Hq] (all decoder steps; [N, T', Hq] with batchfirst),
 * - keys [T, N, Hk] (the encoder outputs, also the values; [N, T, Hk] with batchfirst),
 * - mask [T, N] ([N, T] with batchfirst), float or int32: nonzero marks a real step, 0 padding.
 *
 * The output is `{context, weights}` (or the context alone with `returnWeights: false`): context [N, Hk] or
 * [T', N, Hk] ([N, T', Hk] with batchfirst), weights [N, T] or [T', N, T] ([N, T', T] with batchfirst), the
 * softmax of the scores over the T encoder steps.
 *
 * Masked steps get weight exactly 0 and their keys never reach the context. A row whose steps are all masked has
 * no distribution to normalise: its weights and its context are defined as zeros (no NaN), and no gradient flows
 * through it. The mask gets a zero gradInput.
 */
export abstract class Attention extends Module {
  readonly batchfirst: boolean;
  readonly returnWeights: boolean;

  constructor(
    readonly querySize: number,
    readonly keySize: number,
    options: AttentionOptions = {},
  ) {
    super();
    positiveInt(this.typeName, 'querySize', querySize);
    positiveInt(this.typeName, 'keySize', keySize);
    this.batchfirst = options.batchfirst ?? false;
    this.returnWeights = options.returnWeights ?? true;
  }

  /** Scores [N, T', T] of every query step against every key step; q is [N, T', Hq], k is [N, T, Hk]. */
  protected abstract score(q: Tensor, k: Tensor): Tensor;

  override updateOutput(input: Activity): Activity {
    const { query, keys, mask, multiStep } = this.parseInput(input);
    return tidy(() => {
      // Everything batch-first inside: q [N, T', Hq], k [N, T, Hk], m [N, 1, T].
      const q = multiStep ? (this.batchfirst ? query : transpose(query, 0, 1)) : unsqueeze(query, 1);
      const k = this.batchfirst ? keys : transpose(keys, 0, 1);
      const scores = this.score(q, k);
      let weights: Tensor;
      if (mask) {
        const m = unsqueeze(this.batchfirst ? mask : transpose(mask, 0, 1), 1);
        // where() rather than adding -inf: masked scores never meet a NaN and get no gradient; the second
        // where() makes masked weights exactly 0 and turns all-masked rows (uniform after the fill) into zeros.
        weights = where(m, softmax(where(m, scores, MASKED_SCORE), -1), 0);
      } else {
        weights = softmax(scores, -1);
      }
      const context = matmul(weights, k);
      const out = (t: Tensor) =>
        multiStep
          ? this.batchfirst
            ? t
            : contiguous(transpose(t, 0, 1))
          : reshape(t, [t.shape[0]!, t.shape[2]!]);
      return this.returnWeights ? [out(context), out(weights)] : out(context);
    });
  }

  /** Validate the input table, naming what was given and what was expected. */
  protected parseInput(input: Activity): {
    query: Tensor;
    keys: Tensor;
    mask: Tensor | null;
    multiStep: boolean;
  } {
    const t = expectTable('input', input);
    if (t.length !== 2 && t.length !== 3) {
      throw new WebrnnError(
        'input',
        `expected a table {query, keys} or {query, keys, mask}, got ${describeActivity(input)}`,
      );
    }
    const query = expectTensor('query (input[0])', t[0]!);
    const keys = expectTensor('keys (input[1])', t[1]!);
    const mask = t.length === 3 ? expectTensor('mask (input[2])', t[2]!) : null;
    const bf = this.batchfirst;
    const keysExpected = bf ? `[N, T, ${this.keySize}]` : `[T, N, ${this.keySize}]`;
    if (keys.rank !== 3 || keys.shape[2] !== this.keySize) {
      throw new WebrnnError('keys', `have shape ${fmtShapeOf(keys)}, expected ${keysExpected}`);
    }
    if (keys.size === 0) {
      // The shape is right but empty: say so rather than repeat the shape it already has.
      throw new WebrnnError('keys', `have shape ${fmtShapeOf(keys)}: T and N must be >= 1`);
    }
    const N = keys.shape[bf ? 0 : 1]!;
    const T = keys.shape[bf ? 1 : 0]!;
    const qMulti = bf ? `[N, T', ${this.querySize}]` : `[T', N, ${this.querySize}]`;
    const qExpected = `[${N}, ${this.querySize}] or ${qMulti} with N = ${N} (keys are ${fmtShapeOf(keys)})`;
    const qBatch = query.rank === 2 ? query.shape[0] : query.shape[bf ? 0 : 1];
    if (
      (query.rank !== 2 && query.rank !== 3) ||
      query.shape[query.rank - 1] !== this.querySize ||
      qBatch !== N
    ) {
      throw new WebrnnError('query', `has shape ${fmtShapeOf(query)}, expected ${qExpected}`);
    }
    if (query.size === 0) throw new WebrnnError('query', `has shape ${fmtShapeOf(query)}: T' must be >= 1`);
    for (const [name, x] of [
      ['query', query],
      ['keys', keys],
    ] as const) {
      if (x.dtype === 'int32') {
        throw new WebrnnError(
          name,
          `has dtype int32, expected float32 or float64 (shape ${fmtShape(x.shape)})`,
        );
      }
    }
    if (query.dtype !== keys.dtype) {
      throw new WebrnnError(
        'keys',
        `have shape ${fmtShapeOf(keys)}, expected the dtype of query ${fmtShapeOf(query)}`,
      );
    }
    const p = this.parameters()[0][0];
    if (p && p.dtype !== query.dtype) {
      throw new WebrnnError(
        'query',
        `has dtype ${query.dtype} but the parameters are ${p.dtype}; convert one with .type(), .float() or .double()`,
      );
    }
    if (mask) {
      const expected = bf ? [N, T] : [T, N];
      if (mask.shape.join() !== expected.join()) {
        throw new WebrnnError(
          'mask',
          `has shape ${fmtShapeOf(mask)}, expected ${fmtShape(expected)} (${bf ? '[N, T]' : '[T, N]'} for keys ${fmtShapeOf(keys)})`,
        );
      }
    }
    return { query, keys, mask, multiStep: query.rank === 3 };
  }

  protected flags(): string {
    const f = [this.batchfirst ? 'batchfirst' : '', this.returnWeights ? '' : 'context only'].filter(Boolean);
    return f.length ? `, ${f.join(', ')}` : '';
  }
}

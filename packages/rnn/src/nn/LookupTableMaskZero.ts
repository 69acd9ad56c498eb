import { type Activity, expectTensor } from '../module/activity.js';
import { type Tensor, WebrnnError, noGrad, reshape, tidy, where } from '../module/deps.js';
import { LookupTable } from './LookupTable.js';

/**
 * Torch's nn.LookupTableMaskZero: a LookupTable whose index 0 is the padding token. Index 0 maps to a zero vector
 * and sends no gradient to the weight; the real tokens are 1..nTokens. This keeps Torch's convention although our
 * LookupTable is 0-based: the weight has nTokens + 1 rows and row 0 is the padding row (so the inherited `nIndex`
 * is nTokens + 1, the number of rows, as the size of Torch's weight). Row 0 is zeroed at construction and by
 * reset(); the output at padding positions is zero whatever the row holds (Torch re-zeroes the row at every
 * forward; writing a parameter during forward would invalidate graphs that share its storage, so it is not done).
 */
export class LookupTableMaskZero extends LookupTable {
  constructor(
    readonly nTokens: number,
    nOutput: number,
  ) {
    if (!Number.isInteger(nTokens) || nTokens <= 0) {
      throw new WebrnnError('nn.LookupTableMaskZero', `nIndex must be a positive integer, got ${nTokens}`);
    }
    super(nTokens + 1, nOutput);
  }

  override reset(stdv = 1): this {
    super.reset(stdv);
    const w = this.weight;
    noGrad(() => {
      const row = w.select(0, 0);
      row.zero_();
      row.dispose();
    });
    return this;
  }

  override updateOutput(input: Tensor): Tensor {
    const idx = expectTensor('input', input);
    if (idx.dtype !== 'int32') {
      throw new WebrnnError(
        'input',
        `has dtype ${idx.dtype}, expected int32 indices (0 for padding, 1..${this.nTokens} for tokens)`,
      );
    }
    const rows = super.updateOutput(idx);
    const out = tidy(() => where(reshape(idx, [...idx.shape, 1]), rows, 0));
    rows.dispose();
    return out;
  }

  // A bad index raises from the lookup (the CPU at the call, WebGPU at the next read), with Torch's convention.
  protected override indexRange(): string {
    return `padding 0 and tokens 1..${this.nTokens}`;
  }

  override describe(): string {
    return `${this.typeName}(${this.nTokens}, ${this.nOutput})`;
  }
}

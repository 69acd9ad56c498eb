import { type Activity, expectTensor, mapActivity } from './activity.js';
import { positiveInt } from './checks.js';
import {
  type Tensor,
  WebrnnError,
  fmtShape,
  indexSelect,
  noGrad,
  randn,
  reshape,
  tidy,
  zeros,
  zerosLike,
} from './deps.js';
import { Module } from './Module.js';

/**
 * Embeddings (torch's nn.LookupTable): a weight [nIndex, nOutput] whose rows are looked up by 0-based int32
 * indices of any shape; the output has the input's shape plus [nOutput]. Repeated indices accumulate their
 * gradients. The input gets a zero gradient of its own shape and dtype, as in Torch.
 */
export class LookupTable extends Module {
  constructor(
    readonly nIndex: number,
    readonly nOutput: number,
  ) {
    super();
    positiveInt('nn.LookupTable', 'nIndex', nIndex);
    positiveInt('nn.LookupTable', 'nOutput', nOutput);
    this.registerParameter('weight', zeros([nIndex, nOutput]));
    this.reset();
  }

  get weight(): Tensor {
    return this.param('weight');
  }
  get gradWeight(): Tensor {
    return this.weight.grad!;
  }

  /** Normal(0, stdv), stdv = 1 by default, as Torch. */
  override reset(stdv = 1): this {
    const w = this.weight;
    noGrad(() => {
      const r = randn(w.shape, { std: stdv, dtype: w.dtype, device: w.device });
      w.copy_(r);
      r.dispose();
    });
    return this;
  }

  override updateOutput(input: Activity): Activity {
    const idx = expectTensor('input', input);
    if (idx.dtype !== 'int32') {
      throw new WebrnnError('input', `has dtype ${idx.dtype}, expected int32 indices (0-based)`);
    }
    this.checkRange(idx);
    return tidy(() => {
      const rows = indexSelect(this.weight, 0, reshape(idx, [idx.size]));
      return reshape(rows, [...idx.shape, this.nOutput]);
    });
  }

  /** Name the first bad index and where it is (on devices that can read synchronously; GPU kernels clamp). */
  private checkRange(idx: Tensor): void {
    if (!idx.backend.canReadSync) return;
    const data = idx.dataSync();
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < 0 || v >= this.nIndex) {
        const pos: number[] = [];
        let r = i;
        for (let d = idx.rank - 1; d >= 0; d--) {
          pos.unshift(r % idx.shape[d]!);
          r = Math.floor(r / idx.shape[d]!);
        }
        throw new WebrnnError(
          'input',
          `index ${v} at position ${fmtShape(pos)} is out of range for nIndex ${this.nIndex} (0 <= index < ${this.nIndex})`,
        );
      }
    }
  }

  // The indices are not differentiable: Torch gives them a zero gradient of their own type.
  override backward(input: Activity, gradOutput: Activity, scale = 1): Activity {
    super.backward(input, gradOutput, scale);
    return this.zeroGradInput(input);
  }

  override updateGradInput(input: Activity, gradOutput: Activity): Activity {
    super.updateGradInput(input, gradOutput);
    return this.zeroGradInput(input);
  }

  private zeroGradInput(input: Activity): Activity {
    const old = this.gradInput;
    this.gradInput = mapActivity(input, (t) => zerosLike(t));
    if (old && old !== this.gradInput) mapActivity(old, (t) => (t.dispose(), t));
    return this.gradInput;
  }
}

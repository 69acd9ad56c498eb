import { type Activity, expectTensor, mapActivity } from '../module/activity.js';
import { positiveInt } from '../module/checks.js';
import {
  type Tensor,
  WebrnnError,
  indexSelect,
  noGrad,
  randn,
  reshape,
  tidy,
  zeros,
  zerosLike,
} from '../module/deps.js';
import { Module } from '../module/Module.js';

/**
 * Embeddings (torch's nn.LookupTable): a weight [nIndex, nOutput] whose rows are looked up by 0-based int32
 * indices of any shape; the output has the input's shape plus [nOutput]. Repeated indices accumulate their
 * gradients. The input gets a zero gradient of its own shape and dtype, as in Torch.
 */
export class LookupTable extends Module<Tensor, Tensor> {
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

  override updateOutput(input: Tensor): Tensor {
    const idx = expectTensor('input', input);
    if (idx.dtype !== 'int32') {
      throw new WebrnnError('input', `has dtype ${idx.dtype}, expected int32 indices (0-based)`);
    }
    // A bad index raises from the lookup itself (the CPU at the call, WebGPU at the next read), named by its
    // position in the input.
    const report = {
      op: 'input',
      noun: 'index',
      range: this.indexRange(),
      positionShape: idx.shape,
      module: this.errorName(),
    };
    return tidy(() => {
      const rows = indexSelect(this.weight, 0, reshape(idx, [idx.size]), report);
      return reshape(rows, [...idx.shape, this.nOutput]);
    });
  }

  /** What a valid index addresses, for the message naming a bad one. */
  protected indexRange(): string {
    return `nIndex ${this.nIndex}`;
  }

  // The indices are not differentiable: Torch gives them a zero gradient of their own type.
  override backward(input: Tensor, gradOutput: Tensor, scale = 1): Tensor {
    super.backward(input, gradOutput, scale);
    return this.zeroGradInput(input);
  }

  override updateGradInput(input: Tensor, gradOutput: Tensor): Tensor {
    super.updateGradInput(input, gradOutput);
    return this.zeroGradInput(input);
  }

  private zeroGradInput(input: Tensor): Tensor {
    const old = this.gradInput;
    this.gradInput = zerosLike(input);
    if (old && old !== this.gradInput) mapActivity(old, (t) => (t.dispose(), t));
    return this.gradInput;
  }
}

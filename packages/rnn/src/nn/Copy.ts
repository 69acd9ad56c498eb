import { expectTensor } from '../module/activity.js';
import { type Tensor, type DType, WebrnnError, cast, clone } from '../module/deps.js';
import { Module } from '../module/Module.js';

/** Torch's tensor type names, accepted alongside our dtypes. */
const TORCH_TYPES: Record<string, DType> = {
  'torch.FloatTensor': 'float32',
  'torch.DoubleTensor': 'float64',
  'torch.IntTensor': 'int32',
  'torch.LongTensor': 'int32',
};

function toDType(t: DType | string | undefined): DType {
  if (t === undefined) return 'float32';
  if (t === 'float32' || t === 'float64' || t === 'int32') return t;
  const d = TORCH_TYPES[t];
  if (!d) throw new WebrnnError('nn.Copy', `unknown type '${t}', expected float32, float64 or int32`);
  return d;
}

/**
 * Converts its input from `intype` to `outtype` (torch's nn.Copy); the gradient is converted back. When the
 * types are equal the module passes its input through, unless `forceCopy`. As in Torch, `model.type(t)` (and
 * float()/double()) turns both types into t, unless `dontCast`.
 */
export class Copy extends Module<Tensor, Tensor> {
  intype: DType;
  outtype: DType;

  constructor(
    intype?: DType | string,
    outtype?: DType | string,
    readonly forceCopy = false,
    readonly dontCast = false,
  ) {
    super();
    this.intype = toDType(intype);
    this.outtype = toDType(outtype);
  }

  override updateOutput(input: Tensor): Tensor {
    const x = expectTensor('input', input);
    if (x.dtype !== this.intype) {
      throw new WebrnnError(
        'input',
        `has dtype ${x.dtype}, expected ${this.intype} (this Copy converts ${this.intype} to ${this.outtype})`,
      );
    }
    if (this.intype === this.outtype) return this.forceCopy ? clone(x) : x;
    return cast(x, this.outtype);
  }

  override type(dtype: DType): this {
    super.type(dtype);
    if (!this.dontCast) {
      this.intype = dtype;
      this.outtype = dtype;
    }
    return this;
  }
}

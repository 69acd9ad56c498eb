import { type Activity, describeActivity } from '../module/activity.js';
import { WebrnnError, arange, fmtShape, indexSelect, tidy, transpose } from '../module/deps.js';
import { Module } from '../module/Module.js';
import type { Tensor } from '../module/deps.js';

/**
 * Element-research's nn.SeqReverseSequence: reverses a tensor along dimension `dim` (0-based: 0 is time in a
 * [T, N, D] sequence, 1 is time in a batch-first [N, T, D] one). Torch accepted dims 1 to 3 of tensors of up to
 * three dimensions, a limit of its gather-based implementation; here any dimension of any tensor works, and a
 * negative one counts from the end. As torch/rnn's later ReverseSequence, a table (an array of steps) is
 * reversed as a whole when `dim` is 0. The gradient is the gradient output reversed the same way.
 */
export class SeqReverseSequence extends Module {
  constructor(readonly dim = 0) {
    super();
    if (!Number.isInteger(dim)) {
      throw new WebrnnError('nn.SeqReverseSequence', `dim must be an integer, got ${dim}`);
    }
  }

  override updateOutput(input: Activity): Activity {
    if (Array.isArray(input)) {
      if (this.dim !== 0) {
        throw new WebrnnError(
          'input',
          `is a table ${describeActivity(input)}: a table of steps can only be reversed along dim 0, not ${this.dim}`,
        );
      }
      return [...input].reverse();
    }
    return reverseAlong(input as Tensor, this.dim);
  }

  override describe(): string {
    return `${this.typeName}(${this.dim})`;
  }
}

/** x with the entries of dimension `dim` (negative: from the end) in reverse order, on the tape. */
export function reverseAlong(x: Tensor, dim: number): Tensor {
  const d = dim < 0 ? dim + x.rank : dim;
  if (d < 0 || d >= x.rank) {
    throw new WebrnnError(
      'input',
      `has shape ${fmtShape(x.shape)}, which has no dimension ${dim} to reverse (0-based)`,
    );
  }
  const n = x.shape[d]!;
  // A gather with the index n-1, ..., 0 (the op keeps its own hold on the index for backward).
  return tidy(() => indexSelect(x, d, arange(n - 1, -1, -1, { device: x.device })));
}

/**
 * Give a bidirectional pair its zero mask (torch/rnn's ReverseUnreverse does the same): the forward module gets
 * it as it is, the backward one reversed along time, as it sees the sequence. `timeDim` is the mask's time
 * dimension (0 for [T, N], 1 for batch-first [N, T]); the modules take [T, N] masks.
 */
export function setBidirectionalMask(
  fwd: Module,
  bwd: Module,
  zeroMask: Tensor | null | false,
  timeDim: number,
): void {
  if (!zeroMask) {
    fwd.setZeroMask(zeroMask);
    bwd.setZeroMask(zeroMask);
    return;
  }
  tidy(() => {
    const m = timeDim === 0 ? zeroMask : transpose(zeroMask, 0, 1);
    fwd.setZeroMask(m);
    bwd.setZeroMask(reverseAlong(m, 0));
  });
}

import { withGradMode } from '../autograd/gradMode.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './create.js';
import { backendOf, checkTensor, record } from './operands.js';
import { add } from './elementwise.js';
import { cat } from './join.js';
import { clone, narrow } from './shape.js';

/**
 * Cumulative sums along an axis (torch.cumsum), composed from existing ops so that it runs on every backend: a
 * Hillis-Steele scan, ceil(log2 n) passes of y += y shifted by 1, 2, 4, ... along the axis (zeros shifted in).
 * Each output is a tree of at most log2(n) + 1 levels of additions of the inputs it covers, so rounding grows
 * like log n, not n; only real additions happen (no 0 * x), so NaN and +-Inf reach exactly the outputs whose
 * prefix holds them. The gradient is the reverse scan of the incoming gradient (itself recorded, so it
 * differentiates again).
 */
export function cumsum(x: Tensor, axis: number): Tensor {
  return scan('cumsum', x, axis, false);
}

function scan(op: string, x: Tensor, axis: number, reverse: boolean): Tensor {
  checkTensor(op, x, 'x');
  backendOf(op, x);
  // A scalar has one axis position, as in torch.cumsum (dim 0 or -1).
  const a = normalizeAxis(op, axis, Math.max(1, x.rank));
  const y = withGradMode(false, () => scanValues(x, x.rank === 0 ? -1 : a, reverse));
  record(op, [x], [y], ([g]) => [scan(reverse ? 'cumsum' : 'cumsum (reverse)', g!, a, !reverse)]);
  return y;
}

function scanValues(x: Tensor, a: number, reverse: boolean): Tensor {
  let y = clone(x);
  const n = a < 0 ? 1 : x.shape[a]!;
  for (let k = 1; k < n; k *= 2) {
    const pad = zeros(
      x.shape.map((d, i) => (i === a ? k : d)),
      { device: x.device, dtype: x.dtype },
    );
    const kept = narrow(y, a, reverse ? k : 0, n - k);
    const shifted = cat(reverse ? [kept, pad] : [pad, kept], a);
    const next = add(y, shifted);
    for (const t of [pad, kept, shifted, y]) t.dispose();
    y = next;
  }
  return y;
}

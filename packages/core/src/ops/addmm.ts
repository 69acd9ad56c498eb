import { WebrnnError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { add } from './elementwise.js';
import { type MatmulOptions, matmul } from './matmul.js';
import { alloc, backendOf, broadcastView, checkTensor, record, sameDType } from './operands.js';
import { sumTo } from './reduce.js';
import { transpose } from './shape.js';

/**
 * c + a b for a [M, K], b [K, N] and c broadcastable to [M, N] (PyTorch's addmm with beta = alpha = 1): a layer's
 * bias, or a recurrence's input projection, added by the product itself. Where the backend has `addmm` (the CPU:
 * the product starts from c instead of zeros) this saves the separate add's pass over [M, N] and its allocation;
 * elsewhere it is matmul then add. `transA`/`transB` as for matmul (strided views, never copies). Gradients as for
 * the two ops.
 */
export function addmm(c: Tensor, a0: Tensor, b0: Tensor, opts: MatmulOptions = {}): Tensor {
  const op = 'addmm';
  checkTensor(op, c, 'c');
  checkTensor(op, a0, 'a');
  checkTensor(op, b0, 'b');
  const a = opts.transA && a0.rank === 2 ? transpose(a0) : a0;
  const b = opts.transB && b0.rank === 2 ? transpose(b0) : b0;
  const done = <T>(y: T): T => {
    if (a !== a0) a.dispose();
    if (b !== b0) b.dispose();
    return y;
  };
  const backend = backendOf(op, c, a, b);
  sameDType(op, a, b);
  sameDType(op, a, c);
  const M = a.shape[0]!;
  const N = b.shape[1]!;
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0] || !broadcastsTo(c.shape, [M, N])) {
    done(null);
    throw new WebrnnError(
      op,
      `expected a [M, K], b [K, N] and c broadcastable to [M, N]; got a ${fmtShape(a.shape)}, ` +
        `b ${fmtShape(b.shape)}, c ${fmtShape(c.shape)}`,
    );
  }
  if (!backend.addmm) {
    const p = matmul(a, b);
    const y = add(c, p);
    p.dispose();
    return done(y);
  }
  const y = alloc(backend, a.dtype, [M, N]);
  backend.addmm({
    a: a.backendView(op),
    b: b.backendView(op),
    c: broadcastView(c, [M, N], op),
    out: y.backendView(),
  });
  // Recorded on the caller's a and b, so that the transposes need no nodes of their own (as matmul).
  record(
    op,
    [c, a0, b0],
    [y],
    ([g], [as, bs], needs) => {
      const A = opts.transA ? transpose(as!) : as!;
      const B = opts.transB ? transpose(bs!) : bs!;
      const gA = () => (opts.transA ? matmul(B, g!, { transB: true }) : matmul(g!, B, { transB: true }));
      const gB = () => (opts.transB ? matmul(g!, A, { transA: true }) : matmul(A, g!, { transA: true }));
      return [needs[0] ? sumTo(g!, c.shape) : null, needs[1] ? gA() : null, needs[2] ? gB() : null];
    },
    [a0, b0],
  );
  return done(y);
}

function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  const lead = to.length - from.length;
  return from.every((d, i) => d === to[lead + i] || d === 1);
}

import { WebrnnError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { alloc, backendOf, broadcastView, checkTensor, record, sameDType } from './operands.js';
import { sumTo } from './reduce.js';
import { reshape, transpose } from './shape.js';

export interface MatmulOptions {
  /** Use a's transpose (its last two axes swapped): a view, never a copy. */
  readonly transA?: boolean;
  readonly transB?: boolean;
}

/**
 * Matrix product with PyTorch's rules: 2-D x 2-D, batched with broadcast batch dims, and 1-D operands promoted
 * to a row (a) or column (b) and squeezed away again. Transposed operands are strided views: the kernels read
 * them in place.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkTensor('matmul', a, 'a');
  checkTensor('matmul', b, 'b');
  const backend = backendOf('matmul', a, b);
  sameDType('matmul', a, b);
  if (a.rank === 0 || b.rank === 0) {
    throw new WebrnnError(
      'matmul',
      `needs tensors of rank >= 1, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  const at = opts.transA ? transpose(a) : a;
  const bt = opts.transB ? transpose(b) : b;
  const a2 = at.rank === 1 ? reshape(at, [1, at.shape[0]!]) : at;
  const b2 = bt.rank === 1 ? reshape(bt, [bt.shape[0]!, 1]) : bt;
  const [M, K] = a2.shape.slice(-2) as [number, number];
  const [K2, N] = b2.shape.slice(-2) as [number, number];
  if (K !== K2) {
    throw new WebrnnError(
      'matmul',
      `inner dimensions differ: ${fmtShape(at.shape)} x ${fmtShape(bt.shape)} (${K} vs ${K2})` +
        (opts.transA || opts.transB ? ' after the requested transposes' : ''),
    );
  }
  const batchA = a2.shape.slice(0, -2);
  const batchB = b2.shape.slice(0, -2);
  if (!canBroadcast(batchA, batchB)) {
    throw new WebrnnError(
      'matmul',
      `batch dims ${fmtShape(batchA)} of ${fmtShape(a.shape)} and ${fmtShape(batchB)} of ${fmtShape(b.shape)} cannot be broadcast together`,
    );
  }
  const batch = broadcastShapes('matmul', batchA, batchB);
  const y = alloc(backend, a.dtype, [...batch, M, N]);
  backend.matmul({
    a: broadcastView(a2, [...batch, M, K], 'matmul'),
    b: broadcastView(b2, [...batch, K, N], 'matmul'),
    out: y.backendView(),
  });
  const outShape = [...batch, ...(at.rank === 1 ? [] : [M]), ...(bt.rank === 1 ? [] : [N])];
  const result = outShape.length === y.rank ? y : reshape(y, outShape);
  // Record once, from the caller's a and b, so the transposes and promotions need no nodes of their own.
  record(
    'matmul',
    [a, b],
    [result],
    ([g], [as, bs], needs) => {
      const g2 = reshape(g!, [...batch, M, N]);
      const A = reshape(opts.transA ? transpose(as!) : as!, a2.shape);
      const B = reshape(opts.transB ? transpose(bs!) : bs!, b2.shape);
      let da: Tensor | null = null;
      let db: Tensor | null = null;
      // Each gradient is computed directly in its operand's own layout (never as a transposed view), so that
      // accumulating it into a parameter's .grad reads memory in order.
      if (needs[0]) {
        const d = opts.transA ? matmul(B, g2, { transB: true }) : matmul(g2, B, { transB: true });
        da = reshape(sumTo(d, opts.transA ? swapLast(a2.shape) : a2.shape), a.shape);
      }
      if (needs[1]) {
        const d = opts.transB ? matmul(g2, A, { transA: true }) : matmul(A, g2, { transA: true });
        db = reshape(sumTo(d, opts.transB ? swapLast(b2.shape) : b2.shape), b.shape);
      }
      return [da, db];
    },
    [a, b],
  );
  for (const t of [at, bt, a2, b2]) if (t !== a && t !== b) t.dispose();
  if (result !== y) y.dispose();
  return result;
}

function canBroadcast(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i]!;
    const y = b[b.length - i]!;
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

function swapLast(shape: readonly number[]): number[] {
  const s = [...shape];
  const n = s.length;
  [s[n - 2], s[n - 1]] = [s[n - 1]!, s[n - 2]!];
  return s;
}

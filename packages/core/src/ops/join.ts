import { WebrnnError, fmtShape } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { alloc, backendOf, checkTensor, checkTensorList, record } from './operands.js';
import { noGrad } from '../autograd/gradMode.js';
import { narrow, select, unsqueeze } from './shape.js';

/** Concatenate along `axis`: one output, each input copied into its window. */
export function cat(tensors: readonly Tensor[], axis = 0): Tensor {
  checkTensorList('cat', tensors, 'tensors');
  if (tensors.length === 0) throw new WebrnnError('cat', 'needs at least one tensor');
  const backend = backendOf('cat', ...tensors);
  const first = tensors[0]!;
  const a = normalizeAxis('cat', axis, first.rank);
  for (const [i, t] of tensors.entries()) {
    if (t.dtype !== first.dtype) {
      throw new WebrnnError('cat', `tensor ${i} has dtype ${t.dtype}, expected ${first.dtype} like tensor 0`);
    }
    if (t.rank !== first.rank || t.shape.some((d, k) => k !== a && d !== first.shape[k])) {
      throw new WebrnnError(
        'cat',
        `tensor ${i} has shape ${fmtShape(t.shape)}, expected ${fmtShape(first.shape)} except along axis ${axis}`,
      );
    }
  }
  const sizes = tensors.map((t) => t.shape[a]!);
  const shape = first.shape.map((d, k) => (k === a ? sizes.reduce((s, n) => s + n, 0) : d));
  const y = alloc(backend, first.dtype, shape);
  const yv = y.backendView();
  let start = 0;
  for (const t of tensors) {
    const n = t.shape[a]!;
    backend.copy({ x: t.backendView('cat'), out: { ...yv, shape: t.shape, offset: start * yv.strides[a]! } });
    start += n;
  }
  record('cat', tensors, [y], ([g]) => {
    let s = 0;
    return sizes.map((n) => {
      const part = narrow(g!, a, s, n);
      s += n;
      return part;
    });
  });
  return y;
}

/** Join along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  checkTensorList('stack', tensors, 'tensors');
  if (tensors.length === 0) throw new WebrnnError('stack', 'needs at least one tensor');
  backendOf('stack', ...tensors);
  const first = tensors[0]!;
  for (const [i, t] of tensors.entries()) {
    if (t.shape.join() !== first.shape.join()) {
      throw new WebrnnError(
        'stack',
        `tensor ${i} has shape ${fmtShape(t.shape)}, expected ${fmtShape(first.shape)}`,
      );
    }
  }
  const a = normalizeAxis('stack', axis, first.rank + 1);
  const parts = tensors.map((t) => unsqueeze(t, a));
  const y = cat(parts, a);
  for (const p of parts) p.dispose();
  return y;
}

/**
 * Split into pieces along `axis`: of `size` each (the last may be smaller) when given a number, or of the
 * listed sizes. The pieces are views.
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  checkTensor('split', x, 'x');
  const a = normalizeAxis('split', axis, x.rank);
  const n = x.shape[a]!;
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) {
      throw new WebrnnError('split', `split size must be a positive integer, got ${sizes}`);
    }
    // An empty axis still gives one (empty) piece, as in PyTorch.
    list = n === 0 ? [0] : [];
    for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
  } else {
    list = [...sizes];
    const total = list.reduce((s, k) => s + k, 0);
    if (list.some((k) => !Number.isInteger(k) || k < 0) || total !== n) {
      throw new WebrnnError(
        'split',
        `sizes [${list.join(', ')}] do not add up to ${n}, the size of axis ${axis}`,
      );
    }
  }
  let start = 0;
  return list.map((k) => {
    const p = narrow(x, a, start, k);
    start += k;
    return p;
  });
}

/** `chunks` near-equal pieces along `axis` (PyTorch's chunk: pieces of ceil(n / chunks)). */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  checkTensor('chunk', x, 'x');
  if (!Number.isInteger(chunks) || chunks <= 0) {
    throw new WebrnnError('chunk', `chunks must be a positive integer, got ${chunks}`);
  }
  const n = x.shape[normalizeAxis('chunk', axis, x.rank)]!;
  // PyTorch: an empty axis gives `chunks` empty pieces (the count is kept); otherwise pieces of ceil(n / chunks).
  if (n === 0) return split(x, new Array<number>(chunks).fill(0), axis);
  return split(x, Math.ceil(n / chunks), axis);
}

/**
 * All the slices along `axis`, as views, recorded as one op: its gradient is one stack of the slices' gradients
 * (zeros where a slice got none), where separate `select`s would each pad a full-size gradient.
 */
export function unbind(x: Tensor, axis = 0): Tensor[] {
  checkTensor('unbind', x, 'x');
  const a = normalizeAxis('unbind', axis, x.rank);
  const n = x.shape[a]!;
  const parts = noGrad(() => Array.from({ length: n }, (_, i) => select(x, a, i)));
  record('unbind', [x], parts, (grads) => [stack(grads, a)]);
  return parts;
}

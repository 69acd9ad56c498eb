/**
 * Naive reference implementations over plain arrays (row-major data with a shape), written independently of the
 * engine: index arithmetic only, one output element at a time. The forward tests compare the ops with them.
 */

export interface Arr {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Multi-index of flat position `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** Flat position of multi-index `idx` in `shape`. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d]! + idx[d]!;
  return i;
}

const build = (shape: readonly number[], f: (idx: number[]) => number): Arr => ({
  shape,
  data: Array.from({ length: size(shape) }, (_, i) => f(unravel(i, shape))),
});

/** numpy broadcasting of shapes; null when they do not broadcast. */
export function broadcastShape(...shapes: (readonly number[])[]): number[] | null {
  const n = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - n + i] ?? 1;
      if (v !== 1 && d !== 1 && v !== d) return null;
      if (v !== 1) d = v;
    }
    out.push(shapes.some((s) => s[s.length - n + i] === 0) ? 0 : d);
  }
  return out;
}

/** The element of `a` seen at output index `idx` under broadcasting. */
const at = (a: Arr, idx: readonly number[]) => {
  const lead = idx.length - a.shape.length;
  return a.data[
    ravel(
      a.shape.map((d, k) => (d === 1 ? 0 : idx[k + lead]!)),
      a.shape,
    )
  ]!;
};

export function elementwise(f: (...v: number[]) => number, ...xs: Arr[]): Arr {
  const shape = broadcastShape(...xs.map((x) => x.shape));
  if (!shape) throw new Error('reference: shapes do not broadcast');
  return build(shape, (idx) => f(...xs.map((x) => at(x, idx))));
}

/** Reduce over `axes` (normalised, distinct); keepdim keeps them as size 1. */
export function reduce(
  op: 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin',
  x: Arr,
  axes: readonly number[],
  keepdim: boolean,
): Arr {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepdim ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  const redShape = axes.map((a) => x.shape[a]!);
  const n = size(redShape);
  const res = build(keptShape, (idx) => {
    let acc = op === 'sum' || op === 'mean' ? 0 : op === 'max' || op === 'argmax' ? -Infinity : Infinity;
    let best = 0;
    for (let j = 0; j < n; j++) {
      const r = unravel(j, redShape);
      const full = idx.slice();
      axes.forEach((a, k) => {
        full[a] = r[k]!;
      });
      const v = x.data[ravel(full, x.shape)]!;
      if (op === 'sum' || op === 'mean') acc += v;
      else if ((op === 'max' || op === 'argmax') && v > acc) {
        acc = v;
        best = j;
      } else if ((op === 'min' || op === 'argmin') && v < acc) {
        acc = v;
        best = j;
      }
    }
    if (op === 'mean') return acc / n;
    return op === 'argmax' || op === 'argmin' ? best : acc;
  });
  return { shape: outShape, data: res.data };
}

/** Softmax (or log-softmax) along `axis`, from the definition exp(x) / sum(exp(x)), shifted by the max. */
export function softmax(x: Arr, axis: number, log: boolean): Arr {
  return build(x.shape, (idx) => {
    const n = x.shape[axis]!;
    const row = Array.from({ length: n }, (_, j) => {
      const k = idx.slice();
      k[axis] = j;
      return x.data[ravel(k, x.shape)]!;
    });
    const m = Math.max(...row);
    const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
    const v = row[idx[axis]!]!;
    return log ? v - m - Math.log(s) : Math.exp(v - m) / s;
  });
}

/** PyTorch matmul: 1-D operands promoted and squeezed, batch dims broadcast. */
export function matmul(a: Arr, b: Arr): Arr {
  const A = a.shape.length === 1 ? { shape: [1, a.shape[0]!], data: a.data } : a;
  const B = b.shape.length === 1 ? { shape: [b.shape[0]!, 1], data: b.data } : b;
  const [M, K] = A.shape.slice(-2) as [number, number];
  const N = B.shape[B.shape.length - 1]!;
  const batch = broadcastShape(A.shape.slice(0, -2), B.shape.slice(0, -2));
  if (!batch || B.shape[B.shape.length - 2] !== K) throw new Error('reference: bad matmul shapes');
  const res = build([...batch, M, N], (idx) => {
    const bi = idx.slice(0, -2);
    const [i, j] = idx.slice(-2) as [number, number];
    let s = 0;
    for (let k = 0; k < K; k++) {
      const ai = [
        ...bi.slice(bi.length - (A.shape.length - 2)).map((v, q) => (A.shape[q] === 1 ? 0 : v)),
        i,
        k,
      ];
      const bj = [
        ...bi.slice(bi.length - (B.shape.length - 2)).map((v, q) => (B.shape[q] === 1 ? 0 : v)),
        k,
        j,
      ];
      s += A.data[ravel(ai, A.shape)]! * B.data[ravel(bj, B.shape)]!;
    }
    return s;
  });
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
  return { shape, data: res.data };
}

export function permute(x: Arr, order: readonly number[]): Arr {
  const shape = order.map((a) => x.shape[a]!);
  return build(shape, (idx) => {
    const src = new Array<number>(x.shape.length);
    order.forEach((a, k) => {
      src[a] = idx[k]!;
    });
    return x.data[ravel(src, x.shape)]!;
  });
}

/** out[i] = x[i with i[axis] replaced by index[i]] (index has out's shape). */
export function gather(x: Arr, axis: number, index: Arr): Arr {
  return build(index.shape, (idx) => {
    const src = idx.slice();
    src[axis] = index.data[ravel(idx, index.shape)]!;
    return x.data[ravel(src, x.shape)]!;
  });
}

export function indexSelect(x: Arr, axis: number, index: readonly number[]): Arr {
  const shape = x.shape.map((d, i) => (i === axis ? index.length : d));
  return build(shape, (idx) => {
    const src = idx.slice();
    src[axis] = index[idx[axis]!]!;
    return x.data[ravel(src, x.shape)]!;
  });
}

export function scatterAdd(x: Arr, axis: number, index: Arr, src: Arr): Arr {
  const data = x.data.slice();
  for (let i = 0; i < size(index.shape); i++) {
    const idx = unravel(i, index.shape);
    const dst = idx.slice();
    dst[axis] = index.data[i]!;
    data[ravel(dst, x.shape)] += src.data[ravel(idx, src.shape)]!;
  }
  return { shape: x.shape, data };
}

export function cat(xs: readonly Arr[], axis: number): Arr {
  const sizes = xs.map((x) => x.shape[axis]!);
  const shape = xs[0]!.shape.map((d, i) => (i === axis ? sizes.reduce((a, b) => a + b, 0) : d));
  return build(shape, (idx) => {
    let j = idx[axis]!;
    let k = 0;
    while (j >= sizes[k]!) j -= sizes[k++]!;
    const src = idx.slice();
    src[axis] = j;
    return xs[k]!.data[ravel(src, xs[k]!.shape)]!;
  });
}

/** Entries [start, start + length) of `axis`. */
export function narrow(x: Arr, axis: number, start: number, length: number): Arr {
  const shape = x.shape.map((d, i) => (i === axis ? length : d));
  return build(shape, (idx) => {
    const src = idx.slice();
    src[axis] = idx[axis]! + start;
    return x.data[ravel(src, x.shape)]!;
  });
}

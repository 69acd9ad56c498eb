import { binding, metaBinding } from './emit.js';
import { type Kernel, type ScalarType, kernel } from './spec.js';

/**
 * Batched matmul C[b] = A[b] B[b] over strided operands (a transposed operand is just swapped strides).
 * `tiled`: each 16x16 workgroup computes a 64x64 tile of C, staging 16-deep slices of A and B in workgroup memory,
 * each thread accumulating a 4x4 block in registers. `naive`: one thread per element of C, for comparison.
 *
 * meta = [M, N, K, batchRank Rb, aOff, aRow, aCol, bOff, bRow, bCol, batchShape[Rb], aBatch[Rb], bBatch[Rb]]
 * C is dense [batch, M, N]; workgroup z is the batch index.
 */
export interface MatmulSpec {
  readonly kind: 'matmul';
  readonly variant: 'tiled' | 'naive';
  readonly type: ScalarType;
  readonly batchRank: number;
}

/** Rows and columns of C per workgroup of the tiled kernel. */
export const MATMUL_TILE = { rows: 64, cols: 128 } as const;

export function matmulKernel(spec: Omit<MatmulSpec, 'kind'>): Kernel {
  return kernel({ kind: 'matmul', ...spec } as MatmulSpec, spec.variant === 'tiled' ? emitTiled : emitNaive);
}

export function matmulMeta(
  M: number,
  N: number,
  K: number,
  a: { offset: number; row: number; col: number; batch: readonly number[] },
  b: { offset: number; row: number; col: number; batch: readonly number[] },
  batchShape: readonly number[],
): Int32Array {
  return Int32Array.from([
    M,
    N,
    K,
    batchShape.length,
    a.offset,
    a.row,
    a.col,
    b.offset,
    b.row,
    b.col,
    ...batchShape,
    ...a.batch,
    ...b.batch,
  ]);
}

/** WGSL computing aBase / bBase for batch index `z`. */
function batchOffsets(Rb: number): string {
  const lines = ['  var aBase = info[4];', '  var bBase = info[7];', '  var rem = z;'];
  for (let d = Rb - 1; d >= 0; d--) {
    lines.push(
      `  { let sz = u32(info[${10 + d}]); let c = i32(rem % sz); rem = rem / sz; aBase += c * info[${10 + Rb + d}]; bBase += c * info[${10 + 2 * Rb + d}]; }`,
    );
  }
  return lines.join('\n');
}

function header(s: MatmulSpec): string {
  return `alias T = ${s.type};
${binding(0, 'C', s.type, true)}
${binding(1, 'A', s.type, false)}
${binding(2, 'B', s.type, false)}
${metaBinding(3)}`;
}

function emitTiled(s: MatmulSpec) {
  // 32-deep tiles of vec4s: As[k * 16 + m4] holds rows 4*m4..4*m4+3 of A at depth k, Bs[k * 32 + n4] columns
  // 4*n4..4*n4+3 of B. Each thread owns a 4x8 block of C (two vec4 per row): per k, one vec4 of A and two of B
  // feed eight vec4 multiply-adds, which LLVM (lavapipe) and GPUs alike vectorise well.
  const code = `${header(s)}
alias V = vec4<T>;

var<workgroup> As: array<V, 512>;
var<workgroup> Bs: array<V, 1024>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let M = u32(info[0]);
  let N = u32(info[1]);
  let K = u32(info[2]);
  let z = wid.z;
${batchOffsets(s.batchRank)}
  let aRow = info[5];
  let aCol = info[6];
  let bRow = info[8];
  let bCol = info[9];
  let row0 = wid.y * 64u;
  let col0 = wid.x * 128u;
  let t = lid.y * 16u + lid.x;
  var acc: array<V, 8>;
  for (var k0 = 0u; k0 < K; k0 += 32u) {
    for (var q = 0u; q < 2u; q++) {
      let e = t + q * 256u;
      let kk = e / 16u;
      let m4 = e % 16u;
      let gk = k0 + kk;
      var av = V(T(0));
      for (var i = 0u; i < 4u; i++) {
        let gm = row0 + m4 * 4u + i;
        av[i] = select(T(0), A[aBase + i32(gm) * aRow + i32(gk) * aCol], gk < K && gm < M);
      }
      As[kk * 16u + m4] = av;
    }
    for (var q = 0u; q < 4u; q++) {
      let e = t + q * 256u;
      let kk = e / 32u;
      let n4 = e % 32u;
      let gk = k0 + kk;
      var bv = V(T(0));
      for (var j = 0u; j < 4u; j++) {
        let gn = col0 + n4 * 4u + j;
        bv[j] = select(T(0), B[bBase + i32(gk) * bRow + i32(gn) * bCol], gk < K && gn < N);
      }
      Bs[kk * 32u + n4] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < 32u; k++) {
      let a = As[k * 16u + lid.y];
      let b0 = Bs[k * 32u + lid.x * 2u];
      let b1 = Bs[k * 32u + lid.x * 2u + 1u];
      acc[0] += a.x * b0;
      acc[1] += a.x * b1;
      acc[2] += a.y * b0;
      acc[3] += a.y * b1;
      acc[4] += a.z * b0;
      acc[5] += a.z * b1;
      acc[6] += a.w * b0;
      acc[7] += a.w * b1;
    }
    workgroupBarrier();
  }
  let r0 = row0 + lid.y * 4u;
  let c0 = col0 + lid.x * 8u;
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + i;
    if (r >= M) { break; }
    for (var j = 0u; j < 8u; j++) {
      if (c0 + j < N) { C[(z * M + r) * N + c0 + j] = acc[i * 2u + j / 4u][j % 4u]; }
    }
  }
}
`;
  return { code, workgroupSize: [16, 16, 1] as const };
}

function emitNaive(s: MatmulSpec) {
  const code = `${header(s)}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let M = u32(info[0]);
  let N = u32(info[1]);
  let K = u32(info[2]);
  let z = gid.z;
  if (gid.x >= N || gid.y >= M) { return; }
${batchOffsets(s.batchRank)}
  var acc = T(0);
  for (var k = 0u; k < K; k++) {
    acc += A[aBase + i32(gid.y) * info[5] + i32(k) * info[6]] * B[bBase + i32(k) * info[8] + i32(gid.x) * info[9]];
  }
  C[(z * M + gid.y) * N + gid.x] = acc;
}
`;
  return { code, workgroupSize: [16, 16, 1] as const };
}

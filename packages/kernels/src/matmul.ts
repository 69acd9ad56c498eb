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

export const MATMUL_TILE = 64;

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
  const code = `${header(s)}

var<workgroup> As: array<array<T, 64>, 16>;
var<workgroup> Bs: array<array<T, 64>, 16>;

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
  let col0 = wid.x * 64u;
  let t = lid.y * 16u + lid.x;
  var acc: array<array<T, 4>, 4>;
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    // 256 threads stage a 64x16 slice of A and a 16x64 slice of B, four elements each.
    for (var q = 0u; q < 4u; q++) {
      let e = t + q * 256u;
      let ak = e % 16u;
      let am = e / 16u;
      let gm = row0 + am;
      let gk = k0 + ak;
      As[ak][am] = select(T(0), A[aBase + i32(gm) * aRow + i32(gk) * aCol], gm < M && gk < K);
      let bn = e % 64u;
      let bk = e / 64u;
      let gn = col0 + bn;
      let gk2 = k0 + bk;
      Bs[bk][bn] = select(T(0), B[bBase + i32(gk2) * bRow + i32(gn) * bCol], gn < N && gk2 < K);
    }
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) {
      var a: array<T, 4>;
      var b: array<T, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = As[k][lid.y * 4u + i];
        b[i] = Bs[k][lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] += a[i] * b[j];
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c < N) { C[(z * M + r) * N + c] = acc[i][j]; }
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

import { emitSubgroup } from './matmulSubgroup.js';
import { type MatmulSpec, matmulDeclarations, matmulPrologue } from './matmulSpec.js';
import { type Kernel, defineKernel } from './spec.js';

/** Rows and columns of C per workgroup of the tiled kernel. */
export const MATMUL_TILE = { rows: 64, cols: 128 } as const;

const EMIT = { tiled: emitTiled, subgroup: emitSubgroup, naive: emitNaive };

/**
 * Batched matmul C[z] = A[z] B[z] over strided operands: a transposed operand is a view with swapped strides, never
 * a copy. Three variants share the spec and the uniform block:
 * - 'tiled' (portable; what a discrete GPU wants): a 16x16 workgroup computes a 64x128 tile of C from 32-deep
 *   slices of A and B staged in workgroup memory as vec4s, each thread accumulating a 4x8 block in registers.
 * - 'subgroup' (matmulSubgroup.ts): no workgroup memory; operands shared across a subgroup by broadcast, which is
 *   what CPU adapters (lavapipe, SwiftShader) need, since there every per-invocation memory access is scalarised.
 * - 'naive': one thread per element of C, the yardstick of the benchmark.
 * C is dense [batch, M, N] from `outOffset`; workgroup z is the batch index.
 */
export function matmulKernel(spec: MatmulSpec): Kernel {
  return defineKernel(spec, EMIT[spec.variant]);
}

interface TileStage {
  readonly operand: 'A' | 'B';
  readonly loads: number;
  readonly cell: 'm4' | 'n4';
  readonly origin: string;
  readonly bound: 'M' | 'N';
  readonly at: string;
  readonly into: string;
  readonly layout: readonly string[];
}

/**
 * The tiled kernel's loop that stages one operand's 32-deep slice in workgroup memory: `loads` vec4s per thread,
 * each 4 consecutive rows of A (`cell` m4, along M) or columns of B (n4, along N) at depth kk, zero outside the
 * matrix. `layout` places kk and the cell from the thread's element e; `at` indexes the operand from its base.
 */
function stageTile({ operand, loads, cell, origin, bound, at, into, layout }: TileStage): string {
  const [i, g] = operand === 'A' ? ['i', 'gm'] : ['j', 'gn'];
  // Stryker disable next-line StringLiteral: equivalent: WGSL statements end with ';', line breaks are layout.
  const lines = layout.join('\n      ');
  return `    for (var q = 0u; q < ${loads}u; q++) {
      let e = t + q * 256u;
      ${lines}
      let gk = k0 + i32(kk);
      var v = V(T(0));
      for (var ${i} = 0; ${i} < 4; ${i}++) {
        let ${g} = ${origin} + i32(${cell}) * 4 + ${i};
        v[${i}] = select(T(0), ${operand}[${operand.toLowerCase()}Base + ${at}], gk < K && ${g} < ${bound});
      }
      ${into} = v;
    }`;
}

function emitTiled(s: MatmulSpec) {
  const { U, bindings, head } = matmulDeclarations(s);
  // As[kk * 16 + m4] holds rows 4*m4..4*m4+3 of A at depth kk; Bs[kk * 32 + n4] columns 4*n4..4*n4+3 of B. The
  // fastest-varying tile coordinate across threads follows the operand's contiguous dim, so that neighbouring
  // threads read neighbouring addresses. The layout is a uniform, not a specialisation: CPU drivers take seconds
  // to compile this kernel, and the choice costs a select per loaded element.
  const stageA = stageTile({
    operand: 'A',
    loads: 2,
    cell: 'm4',
    origin: 'row0',
    bound: 'M',
    at: 'gm * aRow + gk * aCol',
    into: 'As[kk * 16u + m4]',
    layout: [
      `let aM = ${U.at('aAlongM')} != 0;`,
      'let kk = select(e % 32u, e / 16u, aM);',
      'let m4 = select(e / 32u, e % 16u, aM);',
    ],
  });
  const stageB = stageTile({
    operand: 'B',
    loads: 4,
    cell: 'n4',
    origin: 'col0',
    bound: 'N',
    at: 'gk * bRow + gn * bCol',
    into: 'Bs[kk * 32u + n4]',
    layout: [
      `let bK = ${U.at('bAlongK')} != 0;`,
      'let kk = select(e / 32u, e % 32u, bK);',
      'let n4 = select(e % 32u, e / 32u, bK);',
    ],
  });
  // Stores unrolled with constant indices: a dynamically indexed accumulator array would live in memory.
  const storeLines = Array.from({ length: 32 }, (_, e) => {
    const [i, j] = [Math.floor(e / 8), e % 8];
    return `  if (r0 + ${i} < M && c0 + ${j} < N) { C[cBase + (r0 + ${i}) * N + c0 + ${j}] = acc[${i * 2 + Math.floor(j / 4)}][${j % 4}]; }`;
  });
  // Stryker disable next-line StringLiteral: equivalent: each store is a whole statement; '\n' is layout.
  const stores = storeLines.join('\n');
  const code = `${head}

var<workgroup> As: array<V, 512>;
var<workgroup> Bs: array<V, 1024>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${matmulPrologue(U, 'wid')}
  let row0 = wg.y * 64;
  let col0 = wg.x * 128;
  let t = lid.y * 16u + lid.x;
  var acc: array<V, 8>;
  for (var k0 = 0; k0 < K; k0 += 32) {
${stageA}
${stageB}
    workgroupBarrier();
    // A bound the compiler cannot see keeps this loop rolled: CPU drivers (lavapipe) take seconds to compile it
    // unrolled; GPUs lose little, the body being eight vec4 multiply-adds.
    let depth = u32(min(32, K - k0));
    for (var k = 0u; k < depth; k++) {
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
  let r0 = row0 + i32(lid.y) * 4;
  let c0 = col0 + i32(lid.x) * 8;
${stores}
}
`;
  return { code, workgroupSize: [16, 16, 1] as const, bindings, uniforms: U };
}

function emitNaive(s: MatmulSpec) {
  const { U, bindings, head } = matmulDeclarations(s);
  const code = `${head}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${matmulPrologue(U, 'wid')}
  let r = wg.y * 16 + i32(lid.y);
  let c = wg.x * 16 + i32(lid.x);
  if (r >= M || c >= N) { return; }
  var acc = T(0);
  for (var k = 0; k < K; k++) {
    acc += A[aBase + r * aRow + k * aCol] * B[bBase + k * bRow + c * bCol];
  }
  C[cBase + r * N + c] = acc;
}
`;
  return { code, workgroupSize: [16, 16, 1] as const, bindings, uniforms: U };
}

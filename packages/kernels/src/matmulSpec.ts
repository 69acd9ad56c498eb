import type { ScalarType, Spec } from './spec.js';
import { Uniforms } from './uniforms.js';
import { alias, declare } from './wgsl.js';

/** The spec and the uniform block shared by the matmul variants (matmul.ts, matmulSubgroup.ts). */
export interface MatmulSpec extends Spec {
  readonly kind: 'matmul';
  readonly variant: 'tiled' | 'subgroup' | 'naive';
  readonly type: ScalarType;
  /**
   * 'subgroup' only: how each operand is loaded, as vec4s along its contiguous dim (A: 'k4' row-major, 'm4'
   * transposed; B: 'n4' row-major, 'k4' transposed) or as scalars through its strides ('any').
   */
  readonly aLoad?: 'k4' | 'm4' | 'any';
  readonly bLoad?: 'n4' | 'k4' | 'any';
  /** Lanes per subgroup, and blocks of that many rows of C per subgroup ('subgroup' only). */
  readonly subgroupSize?: number;
  readonly rowBlocks?: number;
}

export interface MatmulOperand {
  readonly offset: number;
  readonly row: number;
  readonly col: number;
  readonly batch: readonly number[];
}

/**
 * Batch dims (after the runtime merges what it can) are walked by a loop once per thread, so their number is a
 * uniform, not a specialisation: fewer variants to compile.
 */
export const MAX_BATCH_RANK = 4;

export function matmulUniforms(): Uniforms {
  const batchRank = MAX_BATCH_RANK;
  return new Uniforms({
    M: 1,
    N: 1,
    K: 1,
    outOffset: 1,
    aOffset: 1,
    aRow: 1,
    aCol: 1,
    bOffset: 1,
    bRow: 1,
    bCol: 1,
    gridCols: 1,
    groupBase: 3,
    aAlongM: 1,
    bAlongK: 1,
    batchRank: 1,
    batchShape: batchRank,
    aBatch: batchRank,
    bBatch: batchRank,
  });
}

export function matmulValues(
  M: number,
  N: number,
  K: number,
  a: MatmulOperand,
  b: MatmulOperand,
  batchShape: readonly number[],
  outOffset: number,
  gridCols = 1,
  groupBase: readonly [number, number, number] = [0, 0, 0],
): Record<string, number | readonly number[]> {
  if (batchShape.length > MAX_BATCH_RANK) {
    throw new Error(
      `matmul supports at most ${MAX_BATCH_RANK} batch dims that do not merge, got ${batchShape.length}`,
    );
  }
  const pad = (v: readonly number[]) => [...v, ...Array(MAX_BATCH_RANK - v.length).fill(0)];
  return {
    M,
    N,
    K,
    outOffset,
    aOffset: a.offset,
    aRow: a.row,
    aCol: a.col,
    bOffset: b.offset,
    bRow: b.row,
    bCol: b.col,
    gridCols,
    groupBase,
    // Which dim each operand is contiguous along (the tiled kernel's tile loads follow it; a layout choice only,
    // any value gives the right product).
    // Stryker disable next-line all: equivalent: both staging layouts cover the 32 x 64 slice once (speed only).
    aAlongM: a.col !== 1 && a.row === 1 ? 1 : 0,
    // Stryker disable next-line all: equivalent, as aAlongM: both layouts stage the 32 x 128 slice once.
    bAlongK: b.col !== 1 && b.row === 1 ? 1 : 0,
    batchRank: batchShape.length,
    batchShape: pad(batchShape),
    aBatch: pad(a.batch),
    bBatch: pad(b.batch),
  };
}

/**
 * Shared preamble: sizes, the workgroup's place in the whole grid `wg` (its id plus the launch's `groupBase`: WebGPU
 * caps each grid dimension at 65535 workgroups, so larger launches are split), and the operands' base offsets for
 * batch z = wg.z.
 */
export function matmulPrologue(U: Uniforms, wid: string): string {
  return `  let wg = vec3i(${wid}) + vec3i(${U.at('groupBase', 0)}, ${U.at('groupBase', 1)}, ${U.at('groupBase', 2)});
  let z = u32(wg.z);
  let M = ${U.at('M')};
  let N = ${U.at('N')};
  let K = ${U.at('K')};
  let aRow = ${U.at('aRow')};
  let aCol = ${U.at('aCol')};
  let bRow = ${U.at('bRow')};
  let bCol = ${U.at('bCol')};
  let cBase = ${U.at('outOffset')} + i32(z) * M * N;
  var aBase = ${U.at('aOffset')};
  var bBase = ${U.at('bOffset')};
  var rem = z;
  for (var d = ${U.at('batchRank')} - 1; d >= 0; d--) {
    let size = u32(${U.atDynamic('batchShape', 'd')});
    let c = i32(rem % size);
    rem = rem / size;
    aBase += c * ${U.atDynamic('aBatch', 'd')};
    bBase += c * ${U.atDynamic('bBatch', 'd')};
  }`;
}

export function matmulDeclarations(s: MatmulSpec, aType = 'T', bType = 'T') {
  const U = matmulUniforms();
  const { code, bindings } = declare(
    [
      { name: 'C', type: 'T', write: true },
      { name: 'A', type: aType },
      { name: 'B', type: bType },
    ],
    U,
  );
  return { U, bindings, head: `${alias(s.type)}\nalias V = vec4<T>;\n${code}` };
}

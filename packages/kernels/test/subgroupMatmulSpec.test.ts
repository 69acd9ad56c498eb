import { describe, expect, it } from 'vitest';
import {
  type Kernel,
  type MatmulSpec,
  SUBGROUPS_PER_WORKGROUP,
  SUBGROUP_ROW_BLOCKS,
  cellKernel,
  gatherKernel,
  lstmPersistentKernel,
  mapKernel,
  matmulKernel,
  reduceKernel,
  softmaxKernel,
} from '../src/index.js';

/**
 * What the subgroup matmul's spec promises and its launch (core's matmulLaunch) relies on, for the subgroup sizes
 * that real GPUs have (lavapipe, where the values are tested, has 8 only): a workgroup of SUBGROUPS_PER_WORKGROUP
 * subgroups of the given size, each computing S x rowBlocks rows (one accumulator per row), and the device
 * features a kernel needs declared exactly as its WGSL enables them, for every family.
 */
const subgroup = (subgroupSize: number | undefined, rowBlocks: number | undefined): MatmulSpec => ({
  kind: 'matmul',
  variant: 'subgroup',
  type: 'f32',
  aLoad: 'any',
  bLoad: 'any',
  subgroupSize,
  rowBlocks,
});

/** The `enable` directives of a WGSL module. */
const enables = (code: string) => [...code.matchAll(/^enable\s+(\w+)\s*;/gm)].map((m) => m[1]);

describe('the subgroup matmul kernel', () => {
  it.each([4, 8, 16, 32, 64])('is specialised to subgroups of %i lanes', (S) => {
    for (const rowBlocks of [1, 2, 3]) {
      const k = matmulKernel(subgroup(S, rowBlocks));
      expect(k.workgroupSize).toEqual([S * SUBGROUPS_PER_WORKGROUP, 1, 1]);
      expect(k.code).toContain(`let lane = i32(li % ${S}u);`);
      // One accumulator per row of the subgroup's block: S * rowBlocks rows.
      expect(k.code.match(/var acc\d+ = V\(0\);/g)?.length).toBe(S * rowBlocks);
    }
  });

  it('defaults to subgroups of 8 and SUBGROUP_ROW_BLOCKS blocks', () => {
    expect(matmulKernel(subgroup(undefined, undefined)).code).toBe(
      matmulKernel(subgroup(8, SUBGROUP_ROW_BLOCKS)).code,
    );
  });
});

describe('kernels declare the device features their WGSL enables', () => {
  // Built inside the tests (a kernel built while the file is collected would run outside any test).
  const kernels: (() => Kernel)[] = [
    () => matmulKernel(subgroup(16, 2)),
    () => matmulKernel({ ...subgroup(8, 1), aLoad: 'm4', bLoad: 'n4', type: 'i32' }),
    () => matmulKernel({ kind: 'matmul', variant: 'tiled', type: 'f32' }),
    () => matmulKernel({ kind: 'matmul', variant: 'naive', type: 'i32' }),
    () =>
      mapKernel({
        kind: 'map',
        expr: 'x',
        out: 'f32',
        inputs: [{ name: 'x', type: 'f32', fromOut: false }],
        rank: 2,
      }),
    () => gatherKernel({ kind: 'scatterAdd', type: 'f32', rank: 2, method: 'atomic' }),
    () => reduceKernel({ kind: 'reduce', op: 'argextreme', type: 'f32', flat: false, mode: 'group' }),
    () => softmaxKernel({ kind: 'softmax', log: true }),
    () => cellKernel({ kind: 'lstmCell' }),
    () =>
      lstmPersistentKernel({
        kind: 'lstmPersistent',
        wg: 64,
        capR: 64,
        capH: 0,
        keep: true,
        projection: false,
        vec4: true,
      }),
  ];

  it('for every family', () => {
    for (const make of kernels) {
      const k = make();
      expect([...k.features].sort(), k.key).toEqual(enables(k.code).sort());
    }
  });

  it('the subgroup matmul needs subgroups', () => {
    expect(matmulKernel(subgroup(32, 2)).features).toEqual(['subgroups']);
  });
});

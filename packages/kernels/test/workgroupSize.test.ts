import { describe, expect, it } from 'vitest';
import {
  CELLS,
  type CellDef,
  type CellKind,
  type Kernel,
  type MatmulSpec,
  type ReduceSpec,
  type ScalarType,
  cellKernel,
  gatherKernel,
  lstmPersistentKernel,
  mapKernel,
  matmulKernel,
  reduceKernel,
  softmaxKernel,
} from '../src/index.js';

/**
 * The `workgroupSize` a Kernel declares is what the runtime plans its launches with; the `@workgroup_size(...)` in
 * its WGSL is what the GPU runs. For every specialisation of every family the two must agree (parsed from the
 * code, constants resolved), and the code must have exactly one entry point, the declared one.
 */
const TYPES: readonly ScalarType[] = ['f32', 'i32'];

function kernels(): [string, Kernel][] {
  const out: [string, Kernel][] = [];
  const add = (k: Kernel) => out.push([k.key, k]);
  for (const type of TYPES) {
    for (const variant of ['tiled', 'naive'] as const) add(matmulKernel({ kind: 'matmul', variant, type }));
    for (const subgroupSize of [4, 8, 16, 32, 64, 128]) {
      for (const aLoad of ['k4', 'm4', 'any'] as const) {
        for (const bLoad of ['n4', 'k4', 'any'] as const) {
          for (const rowBlocks of [1, 2]) {
            const spec: MatmulSpec = {
              kind: 'matmul',
              variant: 'subgroup',
              type,
              aLoad,
              bLoad,
              subgroupSize,
              rowBlocks,
            };
            add(matmulKernel(spec));
          }
        }
      }
    }
    for (let rank = 1; rank <= 4; rank++) {
      const x = { name: 'x', type, fromOut: false };
      add(mapKernel({ kind: 'map', expr: 'x', out: type, inputs: [x], rank }));
      add(mapKernel({ kind: 'map', expr: 'p0', out: type, inputs: [], rank }));
      add(gatherKernel({ kind: 'gather', type, rank }));
      for (const method of ['loop', 'atomic'] as const)
        add(gatherKernel({ kind: 'scatterAdd', type, rank, method }));
    }
    for (const op of ['sum', 'extreme', 'argextreme'] as const) {
      for (const flat of [true, false]) {
        for (const mode of ['thread', 'group'] as const) {
          const spec: ReduceSpec = { kind: 'reduce', op, type, flat, mode };
          add(reduceKernel(spec));
        }
      }
    }
  }
  for (const log of [true, false]) add(softmaxKernel({ kind: 'softmax', log }));
  for (const kind of Object.keys(CELLS) as CellKind[]) {
    const optional: readonly string[] = (CELLS[kind] as CellDef).optional ?? [];
    // Every subset of the optional operands absent.
    for (let mask = 0; mask < 1 << optional.length; mask++) {
      add(cellKernel({ kind, absent: optional.filter((_, k) => (mask >> k) & 1) }));
    }
  }
  for (const wg of [32, 64, 256]) {
    for (const projection of [false, true]) {
      for (const keep of [false, true]) {
        for (const vec4 of [false, true]) {
          const capH = projection ? 128 : 0;
          add(lstmPersistentKernel({ kind: 'lstmPersistent', wg, capR: 64, capH, keep, projection, vec4 }));
        }
      }
    }
  }
  return out;
}

/** The three sizes in `@workgroup_size(...)`: integer literals, or module constants declared in the code. */
function declaredSize(code: string): number[] {
  const found = [...code.matchAll(/@workgroup_size\(([^)]*)\)/g)];
  expect(found.length, 'one @workgroup_size').toBe(1);
  const sizes = found[0]![1]!.split(',').map((term) => {
    const t = term.trim();
    const literal = /^(\d+)[ui]?$/.exec(t);
    if (literal) return Number(literal[1]);
    const constant = new RegExp(`const\\s+${t}\\s*(?::\\s*\\w+)?\\s*=\\s*(\\d+)[ui]?\\s*;`).exec(code);
    if (!constant) throw new Error(`@workgroup_size term '${t}' is neither a literal nor a module constant`);
    return Number(constant[1]);
  });
  while (sizes.length < 3) sizes.push(1);
  return sizes;
}

describe('kernels declare the workgroup size their WGSL has', () => {
  const all = kernels();

  it('covers every family', () => {
    const families = new Set(all.map(([, k]) => (JSON.parse(k.key) as { kind: string }).kind));
    expect([...families].sort()).toEqual(
      [
        'gather',
        'scatterAdd',
        'map',
        'matmul',
        'reduce',
        'softmax',
        'lstmPersistent',
        ...Object.keys(CELLS),
      ].sort(),
    );
  });

  const byFamily = new Map<string, [string, Kernel][]>();
  for (const entry of all) {
    const kind = (JSON.parse(entry[0]) as { kind: string }).kind;
    byFamily.set(kind, [...(byFamily.get(kind) ?? []), entry]);
  }

  it.each([...byFamily.keys()])('%s', (kind) => {
    for (const [key, kernel] of byFamily.get(kind)!) {
      expect(declaredSize(kernel.code), key).toEqual([...kernel.workgroupSize]);
      expect(
        kernel.workgroupSize.every((s) => Number.isInteger(s) && s >= 1),
        key,
      ).toBe(true);
      const entries = [...kernel.code.matchAll(/@compute[^]*?fn\s+(\w+)/g)].map((m) => m[1]);
      expect(entries, key).toEqual([kernel.entryPoint]);
    }
  });
});

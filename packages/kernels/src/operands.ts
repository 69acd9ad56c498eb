/**
 * Each kernel family's operands by name, the written one first: what a backend method receives as one record
 * (core's Backend types its records from this table, so a family, its kernels and every backend name an operand
 * alike). The fused cells keep their own per-kernel table (cells.ts).
 */
export const FAMILY_OPERANDS = {
  unary: ['out', 'x'],
  binary: ['out', 'a', 'b'],
  where: ['out', 'cond', 'a', 'b'],
  copy: ['out', 'x'],
  fill: ['out'],
  reduce: ['out', 'x'],
  softmax: ['out', 'x'],
  matmul: ['out', 'a', 'b'],
  gather: ['out', 'x', 'index'],
  scatterAdd: ['out', 'index', 'src'],
} as const satisfies Record<string, readonly ['out', ...string[]]>;

export type KernelFamily = keyof typeof FAMILY_OPERANDS;

/** Family `F`'s operands by name, each a `V` (the backend's view type, core's View). */
export type FamilyOperands<F extends KernelFamily, V> = {
  readonly [N in (typeof FAMILY_OPERANDS)[F][number]]: V;
};

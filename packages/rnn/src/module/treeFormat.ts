import type { Module } from './Module.js';

/**
 * Torch's printed tree for containers whose children all see the input (ConcatTable, ParallelTable):
 *
 *   nn.ConcatTable {
 *     input
 *       |`-> (1): nn.Linear(3 -> 4)
 *        `-> (2): nn.Identity
 *        ... -> output
 *   }
 *
 * Children are numbered from 1 as Torch prints them, and their own lines are indented under their branch.
 */
export function branchTree(typeName: string, modules: readonly Module[]): string {
  let s = `${typeName} {\n  input`;
  modules.forEach((m, i) => {
    const last = i === modules.length - 1;
    const head = last ? '   `-> ' : '  |`-> ';
    const ext = last ? '       ' : '  |    ';
    s += `\n  ${head}(${i + 1}): ${m.describe().replace(/\n/g, `\n  ${ext}`)}`;
  });
  return `${s}\n     ... -> output\n}`;
}

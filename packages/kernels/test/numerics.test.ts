import { describe, expect, it } from 'vitest';
import { cellKernel, mapKernel, reduceKernel, softmaxKernel, withNumerics } from '@webrnn/kernels';

/**
 * The numerics prelude is emitted in one place: withNumerics prepends exactly the helpers a kernel calls, with the
 * helpers those call, each once; code that calls none is left as it is.
 */
const count = (code: string, decl: string) => code.split(decl).length - 1;

describe('withNumerics', () => {
  it('leaves code without ieee* calls unchanged', () => {
    const code = 'fn main() { let y = max(1.0, 2.0); }';
    expect(withNumerics(code)).toBe(code);
  });

  it('adds the helpers called and their dependencies, once each, and nothing else', () => {
    const code = withNumerics('let y = ieeeSigmoid(x) + ieeeSigmoid(z);');
    for (const needed of [
      'fn ieeeSigmoid(',
      'fn ieeeExp(',
      'fn ieeeIsNan(',
      'fn ieeeInf(',
      'var<private> ieeeInfBits',
    ]) {
      expect(count(code, needed), needed).toBe(1);
    }
    for (const unused of ['fn ieeePow(', 'fn ieeeDiv(', 'fn ieeeLog(', 'fn ieeeNan('])
      expect(code).not.toContain(unused);
  });

  it('every kernel family that uses the helpers declares each once', () => {
    const kernels = [
      mapKernel({
        kind: 'map',
        expr: 'ieeeMax(a, b) + ieeePow(a, b) + ieeeDiv(a, b)',
        out: 'f32',
        rank: 1,
        inputs: [
          { name: 'a', type: 'f32', fromOut: false },
          { name: 'b', type: 'f32', fromOut: false },
        ],
      }),
      reduceKernel({ kind: 'reduce', op: 'argextreme', type: 'f32', flat: true, mode: 'group' }),
      softmaxKernel({ kind: 'softmax', log: true }),
      cellKernel({ kind: 'lstmCellBackward' }),
    ];
    for (const k of kernels) {
      const declared = [...k.code.matchAll(/fn (ieee\w+)\(/g)].map((m) => m[1]);
      expect(declared.length, k.key).toBeGreaterThan(0);
      expect(new Set(declared).size, k.key).toBe(declared.length);
      expect(count(k.code, 'var<private> ieeeInfBits'), k.key).toBe(k.code.includes('ieeeInf()') ? 1 : 0);
    }
  });

  it('keeps integer kernels free of the float helpers', () => {
    const k = reduceKernel({ kind: 'reduce', op: 'extreme', type: 'i32', flat: true, mode: 'thread' });
    expect(k.code).not.toContain('ieee');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';

import { gpu } from './helpers/backendPairs.js';

/**
 * int32 tensors hold what the user wrote or nothing: creation from values an int32 cannot hold exactly (fractions,
 * NaN, +-Inf, beyond [-2^31, 2^31 - 1]) is refused with the op, the value and its position, where an Int32Array
 * store would wrap 3e9 to -1294967296 or truncate 1.5 without a word. cast() from float is the one conversion that
 * rounds, by a rule written down (truncate, saturate, NaN -> 0) and equal on both devices.
 */
const MIN = -2147483648;
const MAX = 2147483647;

const good = fc.oneof(fc.integer(), fc.constantFrom(0, -0, MIN, MAX, 2 ** 24 + 1));
const bad = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    0.5,
    -1.5,
    3e9,
    MAX + 1,
    MIN - 1,
  ),
  fc.double({ noNaN: true }).filter((v) => !Number.isInteger(v) || v > MAX || v < MIN),
);
const why = (v: number) =>
  !Number.isFinite(v) ? 'not finite' : !Number.isInteger(v) ? 'not an integer' : "outside int32's range";

/** Expect `f` to fail naming `op`, the value (as JS prints it) and, when given, its position. */
function refused(f: () => unknown, op: string, value: number, position?: string): void {
  let error: unknown = null;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error, `${op} with ${value}`).toBeInstanceOf(core.WebrnnError);
  const message = (error as Error).message;
  expect(message.startsWith(`${op}: `), message).toBe(true);
  expect(message, message).toContain(`is ${value}, ${why(value)}`);
  if (position) expect(message, message).toContain(position);
}

describe('int32 creation refuses values an int32 cannot hold', () => {
  it('tensor and fromData: exact when every value fits, else the first bad value with its position', () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }))
      .chain(([r, c]) =>
        fc.tuple(
          fc.constant([r, c]),
          fc.array(good, { minLength: r * c, maxLength: r * c }),
          fc.option(fc.tuple(fc.nat(r * c - 1), bad), { nil: null }),
        ),
      );
    fc.assert(
      fc.property(arb, ([shape, values, spoil]) => {
        const data = [...values];
        if (spoil) data[spoil[0]] = spoil[1];
        const nested = Array.from({ length: shape[0]! }, (_, i) =>
          data.slice(i * shape[1]!, (i + 1) * shape[1]!),
        );
        const make = [
          ['tensor', () => core.tensor(nested, { dtype: 'int32' })],
          ['tensor', () => core.tensor(data, { dtype: 'int32', shape })],
          ['fromData', () => core.fromData(new Float64Array(data), shape, { dtype: 'int32' })],
        ] as const;
        for (const [op, f] of make) {
          if (!spoil) {
            expect(Array.from(f().dataSync()), op).toEqual(data.map((v) => v + 0));
          } else {
            const first = data.findIndex((v) => !Number.isInteger(v) || v > MAX || v < MIN);
            const at = `element ${first} (at [${Math.floor(first / shape[1]!)}, ${first % shape[1]!}])`;
            refused(f, op, data[first]!, at);
          }
        }
      }),
    );
  });

  it('the reported case: tensor([3e9], { dtype: int32 })', () => {
    expect(() => core.tensor([3e9], { dtype: 'int32' })).toThrow(
      "tensor: element 0 is 3000000000, outside int32's range [-2147483648, 2147483647], so it cannot be stored as int32",
    );
    expect(() => core.tensor(3e9, { dtype: 'int32' })).toThrow(/^tensor: element 0 is 3000000000/);
    // An Int32Array is int32 already; other typed arrays are checked.
    expect(Array.from(core.fromData(new Int32Array([MIN, MAX]), [2]).dataSync())).toEqual([MIN, MAX]);
    expect(() => core.tensor(new Float32Array([1, 2.5]), { dtype: 'int32' })).toThrow(
      /^tensor: element 1 is 2.5/,
    );
  });

  it('full, fill_ and the *Like creators check the fill value', () => {
    fc.assert(
      fc.property(fc.oneof(good, bad), (v) => {
        const ok = Number.isInteger(v) && v >= MIN && v <= MAX;
        const t = core.zeros([2], { dtype: 'int32' });
        const cases = [
          ['full', () => core.full([2], v, { dtype: 'int32' })],
          ['fill_', () => t.fill_(v)],
          ['fullLike', () => core.fullLike(t, v)],
        ] as const;
        for (const [op, f] of cases) {
          if (ok) expect(Array.from(f().dataSync()), op).toEqual([v + 0, v + 0]);
          else refused(f, op, v);
        }
      }),
    );
    // Float tensors take any number.
    expect(core.full([1], 1.5).dataSync()[0]).toBe(1.5);
  });

  it('arange and linspace with dtype int32 check every value; randint checks its bounds', () => {
    expect(() => core.arange(0, 2, 0.5, { dtype: 'int32' })).toThrow(
      /^arange: element 1 is 0.5, not an integer/,
    );
    expect(() => core.arange(MAX - 1, MAX + 2)).toThrow(
      /^arange: element 2 is 2147483648, outside int32's range/,
    );
    expect(Array.from(core.arange(MAX - 2, MAX + 1).dataSync())).toEqual([MAX - 2, MAX - 1, MAX]);
    expect(() => core.linspace(0, 1, 3, { dtype: 'int32' })).toThrow(/^linspace: element 1 is 0.5/);
    expect(Array.from(core.linspace(0, 4, 3, { dtype: 'int32' }).dataSync())).toEqual([0, 2, 4]);
    expect(() => core.randint(0, 2 ** 32, [2])).toThrow(
      /^randint: high - 1 \(the largest draw\) is 4294967295, outside/,
    );
    expect(() => core.randint(MIN - 1, 0, [2])).toThrow(/^randint: low is -2147483649, outside/);
    const r = core.randint(MIN, 2 ** 31, [64]).dataSync();
    expect(r.every((v) => v >= MIN && v <= MAX)).toBe(true);
    expect(() => core.uniform([2], 0, 1, { dtype: 'int32' })).toThrow(/^uniform: draws real numbers/);
    expect(() => core.randn([2], { dtype: 'int32' })).toThrow(/^randn: draws real numbers/);
  });
});

/** The documented float -> int32 rule. */
const saturate = (v: number) => (Number.isNaN(v) ? 0 : v >= MAX ? MAX : v <= MIN ? MIN : Math.trunc(v) + 0);

const SPECIAL = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 31,
  -(2 ** 31),
  2147483520, // the largest float32 below 2^31
  -2147483904, // the float32 just below -2^31
  3e9,
  -3e9,
  1e30,
  -0.5,
  0.999,
  -1.999,
  -0,
];

describe('cast from float to int32: truncate, saturate, NaN -> 0, on every device', () => {
  it('float64 and float32 on the CPU', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double(), fc.constantFrom(...SPECIAL)), { maxLength: 20 }),
        (values) => {
          for (const dtype of ['float64', 'float32'] as const) {
            const x = core.tensor(values, { dtype });
            const want = Array.from(x.dataSync(), saturate);
            expect(Array.from(x.cast('int32').dataSync()), dtype).toEqual(want);
          }
        },
      ),
    );
  });

  it.skipIf(!gpu)('WebGPU equals the CPU, strided views included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.float(), fc.constantFrom(...SPECIAL.map(Math.fround))), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.boolean(),
        async (values, strided) => {
          const x = core.tensor(values);
          const view = (t: core.Tensor) =>
            strided && values.length > 1 ? t.narrow(0, 1, values.length - 1) : t;
          const want = Array.from(view(x).cast('int32').dataSync());
          const got = Array.from(await view(x.to('webgpu')).cast('int32').data());
          expect(got).toEqual(want);
          expect(want).toEqual(Array.from(view(x).dataSync(), saturate));
        },
      ),
      { numRuns: 30 },
    );
  });
});

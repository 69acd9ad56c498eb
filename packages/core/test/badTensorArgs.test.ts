import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';

/**
 * Every public function of @webrnn/core that takes a tensor first argument refuses a non-tensor there (undefined,
 * null, a plain array, a number, an object, a string, a typed array) with a WebrnnError that names the op and says
 * a Tensor was expected, before it reads anything else: never "t.assertAlive is not a function". The functions are
 * enumerated from the module's exports, so a new op is covered the day it is exported; what is not an op taking a
 * tensor first is listed below with the reason.
 */
const NOT_TENSOR_FIRST: Record<string, string> = {
  // classes
  CpuBackend: 'class',
  WebGPUBackend: 'class',
  WebrnnError: 'class',
  Tensor: 'class',
  Storage: 'class',
  Generator: 'class',
  // devices and backends
  getBackend: 'takes a device name',
  getDefaultDevice: 'takes nothing',
  hasBackend: 'takes a device name',
  registerBackend: 'takes a backend',
  setDefaultDevice: 'takes a device name',
  initWebGPU: 'takes options',
  lastWebGPUError: 'takes nothing',
  setCpuWasm: 'takes a mode (a bad one is refused: matmulWasm.test.ts)',
  cpuWasmStatus: 'takes nothing',
  cpuThreadStatus: 'takes nothing',
  chooseDevice: 'takes a probe function (a bad one is refused: chooseDevice.test.ts)',
  forgetDeviceChoices: 'takes nothing',
  // process set-up (Node)
  relaunchWithoutDawnWarnings: 'takes nothing',
  DawnWarningFilter: 'class',
  // helpers on other values
  typedArrayFor: 'takes a dtype',
  fmtShape: 'takes a shape',
  checkDTypeName: 'takes an op name',
  binaryInPlace: 'takes an op name first (the tensor second; checked below)',
  memory: 'takes nothing',
  tidy: 'takes a function',
  manualSeed: 'takes a seed',
  isGradEnabled: 'takes nothing',
  noGrad: 'takes a function',
  withGradMode: 'takes a mode',
  gradcheck: 'takes a function',
  customOp: 'takes a name',
  // creation from values and shapes
  fromData: 'takes a typed array',
  tensor: 'takes values',
  full: 'takes a shape',
  zeros: 'takes a shape',
  ones: 'takes a shape',
  arange: 'takes numbers',
  linspace: 'takes numbers',
  range: 'takes numbers',
  logspace: 'takes numbers',
  randperm: 'takes a length',
  uniform: 'takes a shape',
  rand: 'takes a shape',
  randn: 'takes a shape',
  randint: 'takes numbers',
};

/** Ops whose message names another op than their export name. */
const OP_NAME: Record<string, string> = {
  toAsync: 'to',
  addInPlace: 'add_',
  copyInPlace: 'copy_',
  fillInPlace: 'fill_',
};

const SEED = Number(process.env.WEBRNN_FC_SEED ?? 20261204);
const RUNS = Number(process.env.WEBRNN_BADARGS_RUNS ?? 30);

const BAD: readonly unknown[] = [undefined, null, [1, 2], 3, {}, 'x', new Float32Array(2)];

const ops = Object.entries(core).filter(
  (e): e is [string, (...args: unknown[]) => unknown] =>
    typeof e[1] === 'function' && !(e[0] in NOT_TENSOR_FIRST),
);

/** The error `f(...args)` throws or rejects with (null when it returns). */
async function errorOf(f: (...args: unknown[]) => unknown, args: unknown[]): Promise<unknown> {
  try {
    await f(...args);
    return null;
  } catch (e) {
    return e;
  }
}

function expectNamed(e: unknown, op: string, what: string): void {
  expect(e, what).toBeInstanceOf(core.WebrnnError);
  const err = e as core.WebrnnError;
  expect(err.op, `${what}: ${err.message}`).toBe(op);
  expect(err.message, what).toMatch(new RegExp(`^${op}: .* is .*, expected (a Tensor|an array of Tensors)$`));
}

describe('a non-tensor where a tensor is expected is a named WebrnnError', () => {
  it('the exclusion list names only real exports', () => {
    for (const name of Object.keys(NOT_TENSOR_FIRST)) expect(core, name).toHaveProperty(name);
    expect(ops.length).toBeGreaterThan(50);
  });

  it.each(ops)('%s', async (name, f) => {
    const op = OP_NAME[name] ?? name;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BAD),
        fc.array(fc.anything(), { maxLength: 3 }),
        async (bad, rest) => {
          // Whatever the other arguments are, the tensor argument is checked first.
          expectNamed(await errorOf(f, [bad, ...rest]), op, `${name}(${core.fmtShape([])}...)`);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('names the argument: tensor second arguments, lists of tensors, in-place targets', async () => {
    const t = core.ones([2, 2]);
    const cases: [string, () => unknown, RegExp][] = [
      [
        'matmul',
        () => core.matmul(t, [1, 2] as never),
        /^matmul: argument b is an Array, expected a Tensor$/,
      ],
      [
        'matmul',
        () => core.matmul(undefined as never, t),
        /^matmul: argument a is undefined, expected a Tensor$/,
      ],
      ['add', () => core.add(t, [1, 2] as never), /^add: tensor operand 2 is an Array, expected a Tensor$/],
      [
        'cat',
        () => core.cat([t, 3] as never),
        /^cat: argument tensors\[1\] is a number \(3\), expected a Tensor$/,
      ],
      [
        'stack',
        () => core.stack(t as never),
        /^stack: argument tensors is a Tensor, expected an array of Tensors$/,
      ],
      ['vjp', () => core.vjp([t], [{}] as never, [t]), /^vjp: argument gradOutputs\[0\] is an Object/],
      ['add_', () => core.binaryInPlace('add', null as never, t), /^add_: .* is null, expected a Tensor$/],
      [
        'lstmSequence',
        () => core.lstmSequence(t, t, t, t, { projection: [[1]] as never }),
        /^lstmSequence: argument projection is an Array, expected a Tensor$/,
      ],
    ];
    for (const [op, f, message] of cases) {
      const e = await errorOf(f, []);
      expect(e, op).toBeInstanceOf(core.WebrnnError);
      expect((e as Error).message, op).toMatch(message);
    }
    const gone = core.ones([1]);
    gone.dispose();
    expect(() => core.matmul(gone, t)).toThrow(/^matmul: tensor #\d+ of shape \[1\] was disposed/);
  });
});

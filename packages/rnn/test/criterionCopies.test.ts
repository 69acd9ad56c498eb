import { describe, expect, it } from 'vitest';
import {
  type Activity,
  type DType,
  type DeviceName,
  type Tensor,
  manualSeed,
  memory,
  nn,
  randn,
  tensor,
  tidy,
  uniform,
} from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * Criterions as Torch's: clone() (a deep copy: own weights and decorated criteria, same results, independent),
 * type()/float()/double() and to(device) converting their class weights and decorated criteria, over every
 * criterion of nn; nothing leaks.
 */
const gpu = await webgpuForFile('criterion copies');

type Target = Activity | number;
interface Case {
  /** The criterion, with float32 class weights on the CPU where it takes some. */
  readonly make: () => nn.Criterion;
  /** Its input and target on `device` in `dtype`, the same values for a seed. */
  readonly args: (dtype: DType, device: DeviceName) => [Activity, Target];
  /** Its modules are its parts (ModuleCriterion's), copied by clone(); else shared (VRClassReward's policy). */
  readonly ownsModules?: boolean;
}

const on = (t: Tensor, dtype: DType, device: DeviceName) =>
  (t.dtype === 'int32' ? t : t.cast(dtype)).to(device);
/** Inputs drawn in float64 on the CPU from a fixed seed, then converted (so each dtype sees the same values). */
const draw = (make: () => Tensor[], dtype: DType, device: DeviceName) => {
  manualSeed(21);
  return make().map((t) => on(t, dtype, device));
};
const f64 = { dtype: 'float64' as const };
const i32 = { dtype: 'int32' as const };
const classWeights = () => tensor([0.5, 1, 2, 1.5], { dtype: 'float32' });

const nllArgs = (logs: boolean) => (dtype: DType, device: DeviceName) => {
  const [x, t] = draw(
    () => [logs ? randn([3, 4], f64).logSoftmax(-1) : randn([3, 4], f64), tensor([0, 3, 2], i32)],
    dtype,
    device,
  );
  return [x!, t!] as [Activity, Target];
};
const pairOf = (shape: number[]) => (dtype: DType, device: DeviceName) => {
  const [x, t] = draw(() => [randn(shape, f64), randn(shape, f64)], dtype, device);
  return [x!, t!] as [Activity, Target];
};

const CASES: Record<string, Case> = {
  ClassNLLCriterion: { make: () => new nn.ClassNLLCriterion(classWeights()), args: nllArgs(true) },
  CrossEntropyCriterion: {
    make: () => new nn.CrossEntropyCriterion(classWeights(), false),
    args: nllArgs(false),
  },
  MSECriterion: { make: () => new nn.MSECriterion(), args: pairOf([3, 2]) },
  BCECriterion: {
    make: () => new nn.BCECriterion(classWeights()),
    args: (dtype, device) => {
      const [x, t] = draw(() => [uniform([3, 4], 0.1, 0.9, f64), uniform([3, 4], 0, 1, f64)], dtype, device);
      return [x!, t!];
    },
  },
  SequencerCriterion: {
    make: () => new nn.SequencerCriterion(new nn.ClassNLLCriterion(classWeights()), true),
    args: (dtype, device) => {
      const [x, t] = draw(
        () => [
          randn([2, 3, 4], f64).logSoftmax(-1),
          tensor(
            [
              [0, 1, 2],
              [3, 3, 0],
            ],
            i32,
          ),
        ],
        dtype,
        device,
      );
      return [x!, t!];
    },
  },
  RepeaterCriterion: {
    make: () => new nn.RepeaterCriterion(new nn.MSECriterion()),
    args: (dtype, device) => {
      const [x, t] = draw(() => [randn([2, 3, 2], f64), randn([3, 2], f64)], dtype, device);
      return [x!, t!];
    },
  },
  MaskZeroCriterion: {
    make: () =>
      new nn.MaskZeroCriterion(new nn.ClassNLLCriterion(classWeights()), 1).setZeroMask(
        tensor([0, 1, 0], i32),
      ),
    args: nllArgs(true),
  },
  NCECriterion: {
    make: () => new nn.NCECriterion(true),
    // NCEModule's output: probabilities of the targets and of k = 2 noise words, under the model and the noise.
    args: (dtype, device) => {
      const [pmt, pms, pnt, pns] = draw(
        () => [
          uniform([3], 0.1, 0.9, f64),
          uniform([3, 2], 0.1, 0.9, f64),
          uniform([3], 0.01, 0.2, f64),
          uniform([3, 2], 0.01, 0.2, f64),
        ],
        dtype,
        device,
      );
      return [[pmt!, pms!, pnt!, pns!], 0];
    },
  },
  ParallelCriterion: {
    make: () =>
      new nn.ParallelCriterion()
        .add(new nn.ClassNLLCriterion(classWeights()), 0.5)
        .add(new nn.MSECriterion(), 2),
    args: (dtype, device) => {
      const [x, y, t, u] = draw(
        () => [
          randn([3, 4], f64).logSoftmax(-1),
          randn([3, 2], f64),
          tensor([0, 3, 2], i32),
          randn([3, 2], f64),
        ],
        dtype,
        device,
      );
      return [
        [x!, y!],
        [t!, u!],
      ];
    },
  },
  ModuleCriterion: {
    make: () => new nn.ModuleCriterion(new nn.ClassNLLCriterion(classWeights()), new nn.LogSoftMax()),
    args: nllArgs(false),
    ownsModules: true,
  },
  VRClassReward: {
    make: () => new nn.VRClassReward(new nn.ReinforceNormal(0.5), 2),
    args: (dtype, device) => {
      const [p, b, t] = draw(
        () => [randn([3, 4], f64), randn([3], f64), tensor([1, 0, 3], i32)],
        dtype,
        device,
      );
      return [[p!, b!], t!];
    },
  },
};

const values = (a: Activity): number[] =>
  Array.isArray(a) ? (a as readonly Activity[]).flatMap(values) : Array.from((a as Tensor).dataSync());
/** Loss and gradInput, as numbers. */
const results = (c: nn.Criterion, [x, t]: [Activity, Target]) => {
  const loss = c.forward(x, t);
  return [...values(loss), ...values(c.backward(x, t))];
};
const fields = (c: nn.Criterion) => Object.values(c) as unknown[];
/** Its class weights, a tensor (ParallelCriterion's `weights` are numbers, as Torch's). */
const classWeightsOf = (c: nn.Criterion): Tensor | null => {
  const w = (c as { weights?: unknown }).weights;
  return w && typeof w === 'object' && 'dataSync' in w ? (w as Tensor) : null;
};
/**
 * Dispose a criterion and the modules it refers to. VRClassReward's policy keeps the last reward it was handed,
 * which Module.dispose does not free (a Reinforce module's own state): freed here by hand.
 */
const release = (c: nn.Criterion) => {
  for (const v of fields(c)) {
    if (!(v instanceof nn.Module)) continue;
    if (v instanceof nn.Reinforce) v.reward?.dispose();
    v.dispose();
  }
  c.dispose();
};

describe('every criterion of nn', () => {
  it('has a case here (a new criterion must show that it copies and converts)', () => {
    const criteria = Object.entries(nn)
      .filter(([k, v]) => typeof v === 'function' && v.prototype instanceof nn.Criterion && k !== 'Criterion')
      .map(([k]) => k);
    expect(criteria.sort()).toEqual(Object.keys(CASES).sort());
  });

  it.each(Object.entries(CASES))(
    '%s: clone() is a deep copy with the same results, independent of the original',
    (_n, k) => {
      const before = memory().tensors;
      tidy(() => {
        const c = k.make().double();
        const args = k.args('float64', 'cpu');
        const want = results(c, args);
        const copy = c.clone();
        expect(copy).not.toBe(c);
        expect(copy.constructor).toBe(c.constructor);
        expect(copy.output).toBeNull();
        expect(results(copy, args)).toEqual(want);
        // Decorated criteria and weights are copies too; modules are shared.
        fields(c).forEach((v, i) => {
          const w = fields(copy)[i];
          if (v instanceof nn.Criterion || (v && typeof v === 'object' && 'dataSync' in v))
            expect(w).not.toBe(v);
          if (v instanceof nn.Module && k.ownsModules) expect(w).not.toBe(v);
          else if (v instanceof nn.Module) expect(w).toBe(v);
        });
        const weights = classWeightsOf(c);
        if (weights) {
          weights.fill_(3);
          expect(results(c, args)).not.toEqual(want);
          expect(results(copy, args)).toEqual(want);
        }
        copy.dispose();
        expect(results(c, args).length).toBe(want.length);
        release(c);
      });
      expect(memory().tensors).toBe(before);
    },
  );

  it.each(Object.entries(CASES))(
    '%s: double() and float() convert its weights and decorated criteria',
    (_n, k) => {
      const before = memory().tensors;
      tidy(() => {
        const first = k.make();
        const ref = results(first, k.args('float32', 'cpu'));
        release(first);
        const c = k.make();
        const given = classWeightsOf(c);
        expect(c.double()).toBe(c);
        const weights = () => classWeightsOf(c);
        if (given) {
          expect(weights()!.dtype).toBe('float64');
          expect(given.dtype).toBe('float32'); // the caller's tensor is not changed
        }
        const r64 = results(c, k.args('float64', 'cpu'));
        r64.forEach((v, i) =>
          expect(Math.abs(v - ref[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))),
        );
        expect(c.float()).toBe(c);
        if (given) expect(weights()!.dtype).toBe('float32');
        expect(results(c, k.args('float32', 'cpu'))).toEqual(ref);
        release(c);
        expect(given?.isDisposed ?? false).toBe(false);
      });
      expect(memory().tensors).toBe(before);
      expect(() => k.make().type('int32')).toThrow(/\.type: dtype must be float32 or float64, got int32/);
    },
  );

  it.skipIf(!gpu).each(Object.entries(CASES))(
    '%s: to(webgpu) moves its weights; results equal the CPU',
    async (_n, k) => {
      const cpu = tidy(() => {
        const c = k.make();
        const r = c.forward(...k.args('float32', 'cpu'));
        const g = c.backward(...k.args('float32', 'cpu'));
        return [r, g] as const;
      });
      const c = k.make().to('webgpu');
      const w = classWeightsOf(c);
      if (w) expect(w.device).toBe('webgpu');
      // MaskZeroCriterion reads its mask on the host: it stays on the CPU, as the class asks.
      const args = k.args('float32', 'webgpu');
      await expectCloseToCpu('loss', cpu[0], c.forward(...args), 1e-4);
      const grads = c.backward(...args);
      const flat = (a: Activity): Tensor[] =>
        Array.isArray(a) ? (a as readonly Activity[]).flatMap(flat) : [a as Tensor];
      const cg = flat(cpu[1]);
      for (const [i, g] of flat(grads).entries()) await expectCloseToCpu(`gradInput ${i}`, cg[i]!, g, 1e-4);
      // Moving again is a no-op; back to the CPU needs an asynchronous read (as for modules): refused, naming it.
      expect(c.to('webgpu')).toBe(c);
      if (w) {
        expect(classWeightsOf(c)).toBe(w);
        expect(() => c.to('cpu')).toThrow(/^nn\.\w+.*: to: reading from webgpu is asynchronous/);
      }
      c.dispose();
    },
  );
});

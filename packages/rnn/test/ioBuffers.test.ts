import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, mul, nn, randn, sum, tidy, zeros } from '@webrnn/rnn';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadModule,
  loadModuleFromSafetensors,
  loadStateDict,
  loadTensors,
  moduleToSafetensors,
  namedBuffers,
  namedParameters,
  saveModule,
  stateDict,
} from '../src/io/index.js';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * Buffers (Module.registerBuffer, PyTorch's register_buffer): FastLSTM bn's running statistics are saved and
 * loaded with the model, so that a reloaded model evaluates exactly as the saved one; files from before buffers
 * were saved (fixtures/fastlstm_bn_v1.safetensors, written by saveModule at commit e7524db) still load.
 */
const gpu = await webgpuForFile('io buffers');
const dir = await mkdtemp(join(tmpdir(), 'webrnn-buffers-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fastlstm_bn_v1.safetensors');

const STATS = ['bnWx', 'bnWh', 'bnC'].flatMap((k) => [`0.${k}.runningMean`, `0.${k}.runningVar`]);

function build(seed: number, D = 3, H = 4) {
  manualSeed(seed);
  return new nn.Sequencer(new nn.FastLSTM(D, H, undefined, { bn: true }));
}

/** A few training steps, so that the running statistics are far from their initial 0 and 1. */
function trained(seed: number, D = 3, H = 4, steps = 2) {
  const m = build(seed, D, H);
  for (let s = 0; s < steps; s++) {
    tidy(() => {
      const y = m.forward(randn([4, 3, D])) as Tensor;
      sum(mul(y, y)).backward();
    });
    m.updateParameters(0.05);
  }
  return m;
}

const valuesOf = (m: nn.Module) =>
  Object.fromEntries(Object.entries(stateDict(m)).map(([n, p]) => [n, Array.from(p.dataSync())]));

describe('buffers in state dicts and checkpoints', () => {
  it('FastLSTM bn names its running statistics as buffers, beside (not among) its parameters', () => {
    const m = build(1);
    expect(namedBuffers(m).map(([n]) => n)).toEqual(STATS);
    expect(namedParameters(m).some(([n]) => n.includes('running'))).toBe(false);
    expect(Object.keys(stateDict(m))).toEqual(expect.arrayContaining(STATS));
    expect(m.buffers().length).toBe(6);
    m.dispose();
  });

  it('save then load gives identical evaluate() outputs, for random sizes and seeds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1000 }),
        async (D, H, seed) => {
          const a = trained(seed, D, H);
          const path = join(dir, `rt-${D}-${H}-${seed}.safetensors`);
          await saveModule(path, a);
          const b = build(seed + 1, D, H); // other weights, fresh statistics
          expect(await loadModule(path, b)).toMatchObject({ missing: [], unexpected: [] });
          expect(valuesOf(b)).toEqual(valuesOf(a));
          a.evaluate();
          b.evaluate();
          const x = randn([3, 2, D]);
          expect(Array.from((b.forward(x) as Tensor).dataSync())).toEqual(
            Array.from((a.forward(x) as Tensor).dataSync()),
          );
          x.dispose();
          a.dispose();
          b.dispose();
        },
      ),
      { numRuns: 6 },
    );
  });

  it('the statistics really matter: without them the evaluation differs (the round trip above can fail)', () => {
    const a = trained(3);
    const b = build(4);
    loadStateDict(
      b,
      Object.fromEntries(namedParameters(a)),
      { strict: false }, // parameters only
    );
    a.evaluate();
    b.evaluate();
    const x = randn([3, 2, 3]);
    const ya = Array.from((a.forward(x) as Tensor).dataSync());
    const yb = Array.from((b.forward(x) as Tensor).dataSync());
    expect(yb).not.toEqual(ya);
    for (const m of [a, b]) m.dispose();
    x.dispose();
  });

  it('a file saved before buffers loads strictly: parameters loaded, statistics kept, reported missing', async () => {
    const m = build(9);
    const before = namedBuffers(m).map(([, b]) => Array.from(b.dataSync()));
    const r = await loadModule(fixture, m);
    expect(r.missing).toEqual(STATS);
    expect(r.unexpected).toEqual([]);
    expect(r.metadata.made).toContain('e7524db');
    const file = await loadTensors(fixture);
    for (const [n, p] of namedParameters(m))
      expect(Array.from(p.dataSync()), n).toEqual(Array.from(file[n]!.dataSync()));
    expect(namedBuffers(m).map(([, b]) => Array.from(b.dataSync()))).toEqual(before);
    for (const t of Object.values(file)) t.dispose();
    m.dispose();
  });

  it('a file with buffers that lacks one is refused in strict mode, naming it; loads with strict: false', async () => {
    const a = trained(5);
    const bytes = await moduleToSafetensors(a);
    // The same file less one statistic: decode, drop it, encode with the metadata (the buffers key) kept.
    const { tensors, metadata } = decodeSafetensors(bytes, 'mem');
    const { ['0.bnC.runningVar']: _dropped, ...rest } = tensors;
    const cut = await encodeSafetensors(rest, metadata);
    const b = build(6);
    const bn = b.get(0) as nn.FastLSTM;
    const varBefore = Array.from(bn.bnC!.runningVar.dataSync());
    expect(() => loadModuleFromSafetensors(cut, b, {}, 'cut.safetensors')).toThrow(
      /cut\.safetensors does not fit nn\.Sequencer.*missing: '0\.bnC\.runningVar'/,
    );
    expect(Array.from(bn.bnC!.runningMean.dataSync())).toEqual(new Array(4).fill(0)); // nothing written
    const r = loadModuleFromSafetensors(cut, b, { strict: false });
    expect(r.missing).toEqual(['0.bnC.runningVar']);
    expect(Array.from(bn.bnC!.runningVar.dataSync())).toEqual(varBefore);
    const abn = a.get(0) as nn.FastLSTM;
    expect(Array.from(bn.bnC!.runningMean.dataSync())).toEqual(Array.from(abn.bnC!.runningMean.dataSync()));
    a.dispose();
    b.dispose();
  });

  it('loadStateDict needs the buffers (strict, as PyTorch) and refuses a buffer of another shape', () => {
    const a = trained(7);
    const b = build(8);
    const params = Object.fromEntries(namedParameters(a));
    expect(() => loadStateDict(b, params)).toThrow(`missing: ${STATS.map((n) => `'${n}'`).join(', ')}`);
    const wrong = zeros([5]);
    expect(() => loadStateDict(b, { ...stateDict(a), '0.bnC.runningMean': wrong })).toThrow(
      "shape mismatch: '0.bnC.runningMean' is [5] there, [4] in the module",
    );
    expect(loadStateDict(b, stateDict(a))).toEqual({ missing: [], unexpected: [] });
    expect(valuesOf(b)).toEqual(valuesOf(a));
    wrong.dispose();
    a.dispose();
    b.dispose();
  });

  it('type(), clone() and dispose() carry buffers: converted, copied (not shared), freed', () => {
    const live = memory().tensors;
    const a = trained(10);
    a.double();
    for (const [n, b] of namedBuffers(a)) expect(b.dtype, n).toBe('float64');
    const c = a.clone();
    const [, ca] = namedBuffers(a)[0]!;
    const [, cc] = namedBuffers(c)[0]!;
    expect(cc).not.toBe(ca);
    expect(Array.from(cc.dataSync())).toEqual(Array.from(ca.dataSync()));
    cc.fill_(3);
    expect(Array.from(ca.dataSync())).not.toContain(3);
    // The field and the registered buffer stay one tensor in the copy.
    expect((c.get(0) as nn.FastLSTM).bnWx!.runningMean).toBe(cc);
    a.dispose();
    c.dispose();
    expect(memory().tensors).toBe(live);
  });

  it('a second buffer or parameter of one name is refused, naming the module', () => {
    class Twice extends nn.Identity {
      constructor() {
        super();
        this.registerBuffer('stat', zeros([2]));
        this.registerBuffer('stat', zeros([2]));
      }
    }
    expect(() => new Twice()).toThrow("already has a parameter or buffer named 'stat'");
  });

  it.skipIf(!gpu)(
    'WebGPU: buffers move with to(), save from the GPU and reload on the CPU alike',
    async () => {
      const cpu = trained(11);
      const g = cpu.clone().to('webgpu');
      for (const [n, b] of namedBuffers(g)) expect(b.device, n).toBe('webgpu');
      const path = join(dir, 'gpu.safetensors');
      await saveModule(path, g);
      const back = build(12);
      await loadModule(path, back);
      expect(valuesOf(back)).toEqual(valuesOf(cpu));
      for (const m of [cpu, g]) m.evaluate();
      const x = randn([3, 2, 3]);
      const xg = x.to('webgpu');
      await expectCloseToCpu('evaluate', cpu.forward(x) as Tensor, g.forward(xg) as Tensor);
      for (const t of [x, xg]) t.dispose();
      for (const m of [cpu, g, back]) m.dispose();
    },
  );
});

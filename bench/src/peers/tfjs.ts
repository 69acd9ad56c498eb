/**
 * TensorFlow.js 4.22 running the benchmark's workloads on its `cpu`, `wasm` or `webgpu` backend, written the
 * way a TF.js user would: tfjs-core ops, `tf.basicLSTMCell`, `optimizer.minimize`, everything in `tf.tidy`.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  CHAR_GEN,
  argmax,
  CHAR_LSTM,
  type Measurement,
  SEED_COS,
  SMALL_LATENCY,
  lcg,
  timeIt,
} from '../workloads.js';

const require = createRequire(import.meta.url);

export async function setupTfjs(backend: 'cpu' | 'wasm' | 'webgpu'): Promise<string> {
  if (backend === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(`${path.join(dir, 'dist')}/`);
  }
  if (backend === 'webgpu') {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    (globalThis as { navigator?: unknown }).navigator = { gpu: create([]) };
    await import('@tensorflow/tfjs-backend-webgpu');
  }
  await tf.setBackend(backend);
  await tf.ready();
  return tf.getBackend();
}

function uniform(shape: number[], scale: number, rand: () => number): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
  return tf.variable(tf.tensor(data, shape));
}

/** The tutorial's cosine model, one SGD iteration per call. */
export async function seedCos(): Promise<number> {
  const { input, hidden: H, rho, batch, lr } = SEED_COS;
  const rand = lcg(1);
  const s = 1 / Math.sqrt(H);
  const w1 = uniform([input, H], 1, rand);
  const b1 = uniform([H], 1, rand);
  const kernel = uniform([2 * H, 4 * H], s, rand);
  const bias = uniform([4 * H], s, rand);
  const w2 = uniform([H, 1], s, rand);
  const b2 = uniform([1], s, rand);
  const xs = Array.from({ length: rho }, (_, t) =>
    tf.tensor2d(
      Array.from({ length: batch }, (_, b) => [Math.cos((b * 25 + t) * 0.1)]),
      [batch, 1],
    ),
  );
  const y = tf.tensor2d(
    Array.from({ length: batch }, (_, b) => [Math.cos((b * 25 + rho) * 0.1)]),
    [batch, 1],
  );
  const opt = tf.train.sgd(lr);
  const forget = tf.scalar(1);
  const step = async () => {
    const cost = opt.minimize(() => {
      let c = tf.zeros([batch, H]) as tf.Tensor2D;
      let h = tf.zeros([batch, H]) as tf.Tensor2D;
      for (const x of xs) {
        const e = tf.add(tf.matMul(x, w1), b1) as tf.Tensor2D;
        [c, h] = tf.basicLSTMCell(forget, kernel as tf.Tensor2D, bias as tf.Tensor1D, e, c, h);
      }
      const out = tf.clipByValue(tf.add(tf.matMul(h, w2), b2), -1, 1);
      return tf.losses.meanSquaredError(y, out) as tf.Scalar;
    }, true);
    await cost!.data();
    cost!.dispose();
  };
  const seconds = await timeIt(step, { warmup: 1, minRuns: 3, minSeconds: 5 });
  return 1 / seconds;
}

interface CharModel {
  embed: tf.Variable;
  layers: { kernel: tf.Variable; bias: tf.Variable }[];
  wOut: tf.Variable;
  bOut: tf.Variable;
}

function charModel(rand: () => number): CharModel {
  const { vocab, embed, hidden: H, layers } = CHAR_LSTM;
  const s = 1 / Math.sqrt(H);
  return {
    embed: uniform([vocab, embed], 1, rand),
    layers: Array.from({ length: layers }, (_, l) => ({
      kernel: uniform([(l === 0 ? embed : H) + H, 4 * H], s, rand),
      bias: uniform([4 * H], s, rand),
    })),
    wOut: uniform([H, vocab], s, rand),
    bOut: uniform([vocab], s, rand),
  };
}

function charLogits(m: CharModel, tokens: tf.Tensor2D): tf.Tensor2D[] {
  const { hidden: H, seq, batch } = CHAR_LSTM;
  const forget = tf.scalar(1);
  const state = m.layers.map(() => ({
    c: tf.zeros([batch, H]) as tf.Tensor2D,
    h: tf.zeros([batch, H]) as tf.Tensor2D,
  }));
  const logits: tf.Tensor2D[] = [];
  for (let t = 0; t < seq; t++) {
    const ids = tf.squeeze(tf.slice(tokens, [0, t], [batch, 1]), [1]) as tf.Tensor1D;
    // TF.js wasm has no gradient kernel for gather (UnsortedSegmentSum): there the lookup is a one-hot matmul.
    let x = (
      tf.getBackend() === 'wasm'
        ? tf.matMul(tf.oneHot(ids, CHAR_LSTM.vocab), m.embed)
        : tf.gather(m.embed, ids)
    ) as tf.Tensor2D;
    m.layers.forEach((layer, l) => {
      const s = state[l]!;
      [s.c, s.h] = tf.basicLSTMCell(
        forget,
        layer.kernel as tf.Tensor2D,
        layer.bias as tf.Tensor1D,
        x,
        s.c,
        s.h,
      );
      x = s.h;
    });
    logits.push(tf.add(tf.matMul(x, m.wOut), m.bOut) as tf.Tensor2D);
  }
  return logits;
}

function charData(rand: () => number): { tokens: tf.Tensor2D; targets: tf.Tensor2D } {
  const { vocab, seq, batch } = CHAR_LSTM;
  const ids = Int32Array.from({ length: batch * (seq + 1) }, () => Math.floor(rand() * vocab));
  const all = tf.tensor2d(ids, [batch, seq + 1], 'int32');
  return { tokens: tf.slice(all, [0, 0], [batch, seq]), targets: tf.slice(all, [0, 1], [batch, seq]) };
}

/** 2-layer LSTM language model: training tokens per second. */
export async function charLstmTrain(): Promise<number> {
  const { vocab, seq, batch, lr } = CHAR_LSTM;
  const rand = lcg(2);
  const m = charModel(rand);
  const { tokens, targets } = charData(rand);
  const opt = tf.train.sgd(lr);
  const step = async () => {
    const cost = opt.minimize(() => {
      const logits = tf.concat(charLogits(m, tokens), 0);
      const labels = tf.oneHot(tf.reshape(tf.transpose(targets), [seq * batch]), vocab);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    }, true);
    await cost!.data();
    cost!.dispose();
  };
  const seconds = await timeIt(step, { warmup: 1, minRuns: 2, minSeconds: 5 });
  return (seq * batch) / seconds;
}

/** The same model, forward only: inference tokens per second. */
export async function charLstmInfer(): Promise<number> {
  const { seq, batch } = CHAR_LSTM;
  const rand = lcg(2);
  const m = charModel(rand);
  const { tokens } = charData(rand);
  const step = async () => {
    const out = tf.tidy(() => tf.concat(charLogits(m, tokens), 0));
    await out.data();
    out.dispose();
  };
  const seconds = await timeIt(step, { warmup: 1, minRuns: 3, minSeconds: 3 });
  return (seq * batch) / seconds;
}

/** Generation: batch 1, one token at a time, the next token the argmax of the logits read back. */
export async function charLstmGen(): Promise<number> {
  const { hidden: H, vocab } = CHAR_LSTM;
  const m = charModel(lcg(2));
  const forget = tf.scalar(1);
  const step = async () => {
    let state = m.layers.map(() => ({
      c: tf.zeros([1, H]) as tf.Tensor2D,
      h: tf.zeros([1, H]) as tf.Tensor2D,
    }));
    let token = 0;
    for (let t = 0; t < CHAR_GEN.tokens; t++) {
      const [logits, next] = tf.tidy(() => {
        const id = tf.tensor1d([token], 'int32');
        let x = (
          tf.getBackend() === 'wasm' ? tf.matMul(tf.oneHot(id, vocab), m.embed) : tf.gather(m.embed, id)
        ) as tf.Tensor2D;
        const states = m.layers.map((layer, l) => {
          const s = state[l]!;
          const [c, h] = tf.basicLSTMCell(
            forget,
            layer.kernel as tf.Tensor2D,
            layer.bias as tf.Tensor1D,
            x,
            s.c,
            s.h,
          );
          x = h;
          return { c, h };
        });
        return [tf.add(tf.matMul(x, m.wOut), m.bOut), states] as const;
      });
      for (const s of state) tf.dispose([s.c, s.h]);
      state = next;
      const v = await logits.data();
      logits.dispose();
      token = argmax(v);
    }
    for (const s of state) tf.dispose([s.c, s.h]);
  };
  const seconds = await timeIt(step, { warmup: 1, minRuns: 3, minSeconds: 3 });
  return CHAR_GEN.tokens / seconds;
}

/** Hidden 128, batch 1, 100 steps, forward and backward: milliseconds per sequence. */
export async function smallLatency(): Promise<number> {
  const { input, hidden: H, steps } = SMALL_LATENCY;
  const rand = lcg(3);
  const kernel = uniform([input + H, 4 * H], 1 / Math.sqrt(H), rand);
  const bias = uniform([4 * H], 1 / Math.sqrt(H), rand);
  const xs = Array.from({ length: steps }, () => uniform([1, input], 1, rand));
  const forget = tf.scalar(1);
  const step = async () => {
    const { value, grads } = tf.variableGrads(() => {
      let c = tf.zeros([1, H]) as tf.Tensor2D;
      let h = tf.zeros([1, H]) as tf.Tensor2D;
      for (const x of xs)
        [c, h] = tf.basicLSTMCell(forget, kernel as tf.Tensor2D, bias as tf.Tensor1D, x as tf.Tensor2D, c, h);
      return tf.sum(h) as tf.Scalar;
    }, [kernel, bias]);
    await grads[kernel.name]!.data();
    value.dispose();
    tf.dispose(grads);
  };
  return 1000 * (await timeIt(step, { warmup: 1, minRuns: 3, minSeconds: 3 }));
}

/** float32 n x n matmul, GFLOP/s. */
export async function matmul(n: number): Promise<number> {
  const rand = lcg(4);
  const a = uniform([n, n], 1, rand);
  const b = uniform([n, n], 1, rand);
  const seconds = await timeIt(
    async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    },
    { warmup: 2, minRuns: 3, minSeconds: 2 },
  );
  return (2 * n * n * n) / seconds / 1e9;
}

export async function runTfjs(
  backend: 'cpu' | 'wasm' | 'webgpu',
  workloads: readonly string[],
): Promise<Measurement[]> {
  await setupTfjs(backend);
  const peer = `tfjs-${backend}`;
  const out: Measurement[] = [];
  const rss = () => process.memoryUsage().rss;
  const run: Record<string, () => Promise<Omit<Measurement, 'peer' | 'workload'>>> = {
    'seed-cos': async () => ({ value: await seedCos(), unit: 'it/s', higherIsBetter: true }),
    'char-lstm-train': async () => ({ value: await charLstmTrain(), unit: 'tokens/s', higherIsBetter: true }),
    'char-lstm-infer': async () => ({ value: await charLstmInfer(), unit: 'tokens/s', higherIsBetter: true }),
    'char-lstm-gen': async () => ({ value: await charLstmGen(), unit: 'tokens/s', higherIsBetter: true }),
    'small-latency': async () => ({ value: await smallLatency(), unit: 'ms/seq', higherIsBetter: false }),
  };
  for (const w of workloads) {
    const f = w.startsWith('matmul-')
      ? async () => ({
          value: await matmul(Number(w.slice(7))),
          unit: 'GFLOP/s' as const,
          higherIsBetter: true,
        })
      : run[w];
    if (!f) continue;
    try {
      out.push({ peer, workload: w as Measurement['workload'], ...(await f()), rssBytes: rss() });
    } catch (e) {
      console.error(`${peer} ${w}: ${(e as Error).message}`);
    }
  }
  return out;
}

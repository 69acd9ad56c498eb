import fc from 'fast-check';
import { type DType, Tensor, WebrnnError, add, mean, memory, mul, sum, tensor, tidy } from '@webrnn/core';
import {
  ARITH,
  type Domain,
  GRAD_TOL,
  type InputSpec,
  type OpCase,
  type OpEntry,
  type Tolerance,
  sizeOf,
} from './cases.js';
import { type Chain, applyChain, chainArb, describeChain } from './views.js';

/**
 * The differential harness: an op, inputs reached through random chains of views, run on the reference (the CPU
 * backend in float64; int32 stays int32) and on each device under test (CPU and WebGPU in float32) from the same
 * values; outputs and the gradients of a random objective (sum(out * R), sum(out) or mean(out)) are compared with
 * the op's tolerance. A refusal is an outcome too: where the reference throws a WebrnnError, every device must
 * throw the same message. Every run must also give back every tensor it made.
 */
export type SeedKind = 'sumR' | 'sum' | 'mean';

export interface Drawn {
  readonly opCase: OpCase;
  readonly chains: readonly Chain[];
  readonly valueSeed: number;
  readonly seedKind: SeedKind;
  /** NaN, +-Inf and +-0 mixed into the float inputs: devices are then compared with the CPU in float32. */
  readonly specials: boolean;
  /** One out-of-range value (-1 or n) in each index input: every device must refuse it with the same message. */
  readonly badIndex: boolean;
}

export interface Config {
  readonly device: 'cpu' | 'webgpu';
  readonly float: DType;
  /** Absolute values of every input and of R: the sums of absolute terms that bound a sum's rounding. */
  readonly abs?: boolean;
}

export const REFERENCE: Config = { device: 'cpu', float: 'float64' };

type Outcome =
  | { readonly error: string }
  | {
      readonly outputs: readonly Result[];
      readonly grads: readonly (Result | null)[];
    };

interface Result {
  readonly shape: readonly number[];
  readonly int: boolean;
  readonly values: ArrayLike<number>;
}

/** Draws a case of `entry`: its inputs, a chain of views per input, the value seed and the objective. */
export function drawnArb(entry: OpEntry): fc.Arbitrary<Drawn> {
  return entry.gen.chain((opCase) =>
    fc.record({
      opCase: fc.constant(opCase),
      chains: fc.tuple(
        ...opCase.inputs.map((inp) =>
          inp.views === false ? fc.constant({ base: inp.shape, steps: [] }) : chainArb(inp.shape),
        ),
      ),
      valueSeed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      seedKind: fc.constantFrom<SeedKind>('sumR', 'sumR', 'sum', 'mean'),
      specials:
        entry.specials === false || !opCase.inputs.some((i) => i.dtype === 'float')
          ? fc.constant(false)
          : fc.oneof(
              { weight: 4, arbitrary: fc.constant(false) },
              { weight: 1, arbitrary: fc.constant(true) },
            ),
      badIndex: opCase.inputs.some((i) => typeof i.domain === 'object')
        ? fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
        : fc.constant(false),
    }),
  );
}

// ---- values ---------------------------------------------------------------------------------------------------

/** mulberry32: a tiny deterministic generator, so that a case's values follow from its seed alone. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0];

function value(domain: Domain, u: () => number): number {
  const real = (lo: number, hi: number) => Math.fround(lo + (hi - lo) * u());
  const int = (lo: number, hi: number) => lo + Math.floor(u() * (hi - lo + 1));
  if (typeof domain === 'object') return int(0, domain.index - 1);
  switch (domain) {
    case 'any':
      return real(-3, 3);
    case 'pos':
      return real(0.3, 2.5);
    case 'away':
      return (u() < 0.5 ? -1 : 1) * real(0.25, 2.5);
    case 'prob':
      return real(0.05, 0.95);
    case 'grid':
      return int(-6, 6) / 2;
    case 'mask':
      return int(0, 1);
    case 'int':
      return int(-20, 20);
    case 'intNonZero':
      return (u() < 0.5 ? -1 : 1) * int(1, 9);
  }
}

/** The base values of input `k` of a case (the same on every device). */
function baseValues(d: Drawn, k: number, abs = false): number[] {
  const spec = d.opCase.inputs[k]!;
  const u = rng(d.valueSeed + 7919 * k);
  const n = sizeOf(d.chains[k]!.base);
  const out = Array.from({ length: n }, () => value(spec.domain, u));
  if (d.specials && spec.dtype === 'float' && typeof spec.domain !== 'object' && spec.domain !== 'mask') {
    for (let i = 0; i < n; i++) if (u() < 0.15) out[i] = SPECIALS[Math.floor(u() * SPECIALS.length)]!;
  }
  if (d.badIndex && typeof spec.domain === 'object' && n > 0) {
    out[Math.floor(u() * n)] = u() < 0.5 ? -1 : spec.domain.index;
  }
  return abs ? out.map(Math.abs) : out;
}

// ---- running ---------------------------------------------------------------------------------------------------

const dtypeOf = (spec: InputSpec, cfg: Config): DType => (spec.dtype === 'int32' ? 'int32' : cfg.float);

async function read(t: Tensor): Promise<Result> {
  return { shape: [...t.shape], int: t.dtype === 'int32', values: Array.from(await t.data()) };
}

/** Run the case on one configuration. Errors other than WebrnnError (TypeError, RangeError...) are defects. */
export async function runOn(entry: OpEntry, d: Drawn, cfg: Config): Promise<Outcome> {
  const before = memory().tensors;
  const bases = d.opCase.inputs.map((spec, k) =>
    tensor(baseValues(d, k, cfg.abs), {
      shape: d.chains[k]!.base,
      dtype: dtypeOf(spec, cfg),
      device: cfg.device,
      requiresGrad: spec.dtype === 'float' && spec.grad !== false,
    }),
  );
  const made: Tensor[] = [...bases];
  const owned: { dispose(): void }[] = [];
  try {
    let outs: Tensor[];
    let watch: Tensor[] = [];
    try {
      [outs, watch] = tidy(() => {
        const views = bases.map((b, k) => applyChain(b, d.chains[k]!));
        const o = entry.run(views, d.opCase.params, { ...cfg, bases, own: (x) => owned.push(x) });
        if (o instanceof Tensor) return [[o], []];
        if (Array.isArray(o)) return [[...o], []];
        const r = o as { outputs: readonly Tensor[]; watch: readonly Tensor[] };
        return [[...r.outputs], [...r.watch]];
      });
    } catch (e) {
      if (e instanceof WebrnnError) return { error: e.message };
      throw e;
    }
    made.push(...outs);
    let outputs: Result[];
    try {
      outputs = await Promise.all(outs.map(read));
    } catch (e) {
      // Device-side errors (a bad index found by a WebGPU kernel) surface at the read.
      if (e instanceof WebrnnError) return { error: e.message };
      throw e;
    }
    const differentiable = outs.filter((o) => o.requiresGrad && o.dtype !== 'int32');
    const leaves = [...bases, ...watch];
    let grads: (Result | null)[] = leaves.map(() => null);
    if (differentiable.length > 0) {
      const u = rng(d.valueSeed ^ 0x5bd1e995);
      const loss = tidy(() => {
        const terms = differentiable.map((o) => {
          if (d.seedKind === 'sum') return sum(o);
          if (d.seedKind === 'mean') return mean(o);
          const r = tensor(
            Array.from({ length: o.size }, () => Math.fround((cfg.abs ? Math.abs : Number)(u() * 4 - 2))),
            { shape: o.shape, dtype: o.dtype, device: cfg.device },
          );
          return sum(mul(o, r));
        });
        return terms.reduce((a, b) => add(a, b));
      });
      made.push(loss);
      try {
        loss.backward();
        grads = await Promise.all(leaves.map((b) => (b.grad ? read(b.grad) : null)));
      } catch (e) {
        if (e instanceof WebrnnError) return { error: `backward: ${e.message}` };
        throw e;
      }
    }
    return { outputs, grads };
  } finally {
    for (const t of made) t.dispose();
    for (const o of owned) o.dispose();
    const after = memory().tensors;
    if (after !== before)
      throw new Error(`${after - before} tensors were not disposed on ${cfg.device}/${cfg.float}`);
  }
}

// ---- comparing ---------------------------------------------------------------------------------------------------

/**
 * Messages agree up to the float dtype and the device named in them. A shape may be followed by its dtype where
 * it is not the default float32 (as @webrnn/rnn's messages print shapes): that suffix goes too.
 */
const normalise = (m: string) =>
  m
    .replace(/\] float(32|64)\b/g, ']')
    .replace(/float(32|64)/g, 'float')
    .replace(/\b(webgpu|cpu)\b/g, 'DEVICE');

/**
 * Two refusals agree when their messages do (up to dtype and device). One exception, stated here rather than
 * hidden: an index that WebGPU finds out of range is reported at the next read, after the modules that launched
 * the lookup have returned, so the message names the module that ran the lookup but not the containers around it
 * (`nn.ClassNLLCriterion: target: class 7 ...` where the CPU says `nn.SequencerCriterion(...): step 0: target:
 * class 7 ...`); the reason itself (index, position, range) must be the same.
 */
function sameRefusal(got: string, want: string): boolean {
  const [g, w] = [normalise(got), normalise(want)];
  if (g === w) return true;
  const reason = (m: string) => m.slice(m.lastIndexOf(': ') + 2);
  return / is out of range /.test(w) && reason(g) === reason(w) && w.endsWith(g.slice(g.indexOf(': ') + 2));
}

/**
 * Elementwise: |got - want| <= rtol |want| + ftol * bound, where the bound is the shadow's value (the same
 * computation on absolute values: the sum of absolute terms) when there is one, else the tensor's largest value.
 */
function compareValues(
  what: string,
  got: Result,
  want: Result,
  tol: Tolerance,
  shadow?: Result | null,
): string | null {
  if (got.shape.join() !== want.shape.join()) return `${what}: shape [${got.shape}] vs [${want.shape}]`;
  if (got.int !== want.int)
    return `${what}: dtype ${got.int ? 'int32' : 'float'} vs ${want.int ? 'int32' : 'float'}`;
  // Inputs and seeds are of order one, so rounding of order one is allowed even where a result is tiny (a gradient
  // that cancels to about 0, as that of mean(softmax(x))).
  let scale = 1;
  for (let i = 0; i < want.values.length; i++) {
    const w = want.values[i]!;
    if (Number.isFinite(w)) scale = Math.max(scale, Math.abs(w));
  }
  for (let i = 0; i < want.values.length; i++) {
    const g = got.values[i]!;
    const w = want.values[i]!;
    if (
      Number.isNaN(w)
        ? Number.isNaN(g)
        : !Number.isFinite(w)
          ? g === w
          : Math.abs(g - w) <= tol.rtol * Math.abs(w) + tol.ftol * scale
    )
      continue;
    return `${what}[${i}] is ${g}, expected ${w} (tolerance rtol ${tol.rtol}, ftol ${tol.ftol} x ${scale})`;
  }
  return null;
}

const atLeast = (a: Tolerance, b: Tolerance): Tolerance => ({
  rtol: Math.max(a.rtol, b.rtol),
  ftol: Math.max(a.ftol, b.ftol),
});

/** Null when `got` agrees with `want`, else what differs first. */
export function compare(
  entry: OpEntry,
  d: Drawn,
  got: Outcome,
  want: Outcome,
  shadow?: Outcome,
): string | null {
  if ('error' in want) {
    if (!('error' in got)) return `the reference refused (${want.error}) but this device did not`;
    return sameRefusal(got.error, want.error)
      ? null
      : `refused with "${got.error}", the reference with "${want.error}"`;
  }
  if ('error' in got) return `refused with "${got.error}", the reference ran`;
  if (got.outputs.length !== want.outputs.length)
    return `${got.outputs.length} outputs, expected ${want.outputs.length}`;
  const base = typeof entry.tol === 'function' ? entry.tol(d.opCase) : (entry.tol ?? ARITH);
  for (let k = 0; k < want.outputs.length; k++) {
    const sh = shadow && !('error' in shadow) ? shadow.outputs[k] : null;
    const m = compareValues(`output ${k}`, got.outputs[k]!, want.outputs[k]!, base, sh);
    if (m) return m;
  }
  const gtol = atLeast(base, GRAD_TOL);
  const inputs = d.opCase.inputs.length;
  const what = (k: number) => (k < inputs ? `input ${k}` : `watched tensor ${k - inputs}`);
  // An expanded input's gradient sums one term per copy of each element, and each term carries its own rounding:
  // where the terms cancel (the gradient of sum(logSoftmax(x)) is 0) only the copies bound the result.
  const copies = (k: number) =>
    k < inputs ? Math.max(1, sizeOf(d.opCase.inputs[k]!.shape) / Math.max(1, sizeOf(d.chains[k]!.base))) : 1;
  for (let k = 0; k < want.grads.length; k++) {
    const g = got.grads[k];
    const w = want.grads[k];
    if (!g !== !w)
      return `gradient of input ${k} is ${g ? 'present' : 'missing'}, the reference's ${w ? 'present' : 'missing'}`;
    if (g && w) {
      const sh = shadow && !('error' in shadow) ? shadow.grads[k] : null;
      const t = sh ? base : gtol;
      const m = compareValues(`gradient of ${what(k)}`, g, w, { rtol: t.rtol, ftol: t.ftol * copies(k) }, sh);
      if (m) return m;
    }
  }
  return null;
}

/** A reproducer a reader can act on. */
export function describe(entry: OpEntry, d: Drawn): string {
  const inputs = d.opCase.inputs
    .map((inp, k) => {
      const dom = typeof inp.domain === 'object' ? `index < ${inp.domain.index}` : inp.domain;
      return `    #${k} ${inp.dtype} [${inp.shape.join(', ')}] ${dom}${inp.grad === false ? ' (no grad)' : ''}: ${describeChain(d.chains[k]!)}`;
    })
    .join('\n');
  return [
    `  op ${entry.op}${entry.label ? ` (${entry.label})` : ''}`,
    inputs,
    `    params ${JSON.stringify(d.opCase.params)}`,
    `    values from seed ${d.valueSeed}${d.specials ? ' with NaN/Inf/0 mixed in' : ''}${d.badIndex ? ' with a bad index' : ''}; objective ${d.seedKind === 'sumR' ? 'sum(out * R)' : `${d.seedKind}(out)`}`,
  ].join('\n');
}

/**
 * One case on every configuration: the first disagreement as a message with a reproducer, or null. With special
 * values the reference is the CPU in float32 (float64 overflows elsewhere), and the CPU is not compared with itself.
 */
export async function checkCase(
  entry: OpEntry,
  d: Drawn,
  devices: readonly Config[],
): Promise<string | null> {
  const reference = d.specials ? { device: 'cpu' as const, float: 'float32' as const } : REFERENCE;
  const want = await runOn(entry, d, reference);
  const shadow = entry.shadow ? await runOn(entry, d, { ...reference, abs: true }) : undefined;
  for (const cfg of devices) {
    if (cfg.device === reference.device && cfg.float === reference.float) continue;
    const got = await runOn(entry, d, cfg);
    const m = compare(entry, d, got, want, shadow);
    if (m)
      return `${cfg.device} (${cfg.float}) differs from ${reference.device} (${reference.float}): ${m}\n${describe(entry, d)}`;
  }
  return null;
}

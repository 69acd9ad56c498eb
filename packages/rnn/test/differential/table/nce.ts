import fc from 'fast-check';
import { type Tensor, nn } from '@webrnn/rnn';
import { F, I, type OpEntry, smallDim } from '../../../../core/test/differential/cases.js';
import { type Seeds, backwardEntry, chained, forwardEntry } from '../moduleEntry.js';

/**
 * dpnn's NCEModule. Its training forward draws noise words, but from the core's default generator, which `build`
 * seeds before making the module: weight initialisation takes the same numbers on every configuration, so the
 * forward draws the same noise on each, and training mode is compared as it is (no fixed sample needed). The
 * evaluate() mode with `normalized` (the full softmax) is compared too.
 */
type NceP = Seeds & { d: number; v: number; k: number; n: number; z: number; batchnoise: boolean };

const nceGen = (beyond: number) =>
  fc
    .record({
      d: fc.integer({ min: 1, max: 5 }),
      v: fc.integer({ min: 1, max: 9 }),
      k: fc.integer({ min: 1, max: 4 }),
      n: smallDim,
      // Z given, or estimated from the first batch.
      z: fc.constantFrom(-1, 1, 0.5),
      batchnoise: fc.boolean(),
    })
    .map((p) => ({ inputs: [F([p.n, p.d]), I([p.n], { index: p.v + beyond })], params: p }));

const nce = (label: string, beyond = 0) => ({
  name: 'NCEModule',
  label,
  gen: nceGen(beyond),
  make: (p: NceP) => {
    const m = new nn.NCEModule(
      p.d,
      p.v,
      p.k,
      Array.from({ length: p.v }, (_, i) => i + 1),
      p.z,
    );
    m.batchnoise = p.batchnoise;
    return m;
  },
  input: ([x, t]: readonly Tensor[]) => [x!, t!],
  // exp of a dot product over d terms; the weights' gradients sum over the batch and the noise words; the
  // estimated Z is a mean over the batch.
  tol: (p: NceP) => chained(Math.max(p.d, p.n * p.k), 2),
});

export const NCE: OpEntry[] = [
  forwardEntry(nce('training: seeded noise')),
  backwardEntry(nce('training: seeded noise')),
  forwardEntry(nce('targets up to outputSize + 1: out-of-range ones must be refused on every device', 2)),
  forwardEntry({
    name: 'NCEModule',
    label: 'evaluate(), normalized: log-softmax over the vocabulary',
    gen: nceGen(0),
    make: (p: NceP) =>
      new nn.NCEModule(
        p.d,
        p.v,
        p.k,
        Array.from({ length: p.v }, () => 1),
        p.z,
      ),
    input: ([x, t]) => [x!, t!],
    prepare: (m) => {
      const nce = m as nn.NCEModule;
      nce.evaluate();
      nce.normalized = true;
      nce.logsoftmax = true;
    },
    tol: (p: NceP) => chained(Math.max(p.d, p.v), 2),
  }),
];

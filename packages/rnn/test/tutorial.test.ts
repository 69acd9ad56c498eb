import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, randint, tidy } from '@webrnn/rnn';

/** The Torch7 rnn README's first example, line by line (0-based word indices). */
describe('the rnn tutorial, as written', () => {
  const batchSize = 8;
  const rho = 5;
  const hiddenSize = 7;
  const nIndex = 10;

  function data(seed: number) {
    manualSeed(seed);
    // A sequence where word t+1 follows word t deterministically: (w + 1) mod nIndex.
    const start = randint(0, nIndex, [batchSize]).dataSync();
    const steps = Array.from({ length: rho + 1 }, (_, t) => Int32Array.from(start, (w) => (w + t) % nIndex));
    return steps;
  }

  it('Recursor(Sequential(Recurrent, Linear, LogSoftMax)): step-wise training makes the loss fall', async () => {
    const { tensor } = await import('@webrnn/rnn');
    manualSeed(0);
    const r = new nn.Recurrent(
      hiddenSize,
      new nn.LookupTable(nIndex, hiddenSize),
      new nn.Linear(hiddenSize, hiddenSize),
      new nn.Sigmoid(),
      rho,
    );
    const rnn = new nn.Recursor(
      new nn.Sequential().add(r).add(new nn.Linear(hiddenSize, nIndex)).add(new nn.LogSoftMax()),
      rho,
    );
    const criterion = new nn.ClassNLLCriterion();
    expect(rnn.toString()).toContain(
      'nn.Recursor @ nn.Sequential {\n  [input -> (1) -> (2) -> (3) -> output]',
    );
    expect(rnn.toString()).toContain(
      'nn.Recurrent {\n    [{input(t), output(t-1)} -> (1) -> (2) -> (3) -> output(t)]',
    );
    const seq = data(1).map((s) => tensor(s, { dtype: 'int32' }));
    const losses: number[] = [];
    for (let iteration = 0; iteration < 200; iteration++) {
      const loss = tidy(() => {
        const outputs: Tensor[] = [];
        let err = 0;
        for (let step = 0; step < rho; step++) {
          outputs.push(rnn.forward(seq[step]!) as Tensor);
          err += criterion.forward(outputs[step]!, seq[step + 1]!).itemSync();
        }
        for (let step = rho - 1; step >= 0; step--) {
          criterion.forward(outputs[step]!, seq[step + 1]!);
          rnn.backward(seq[step]!, criterion.backward(outputs[step]!, seq[step + 1]!));
        }
        rnn.updateParameters(0.1);
        rnn.forget();
        rnn.zeroGradParameters();
        return err / rho;
      });
      losses.push(loss);
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5);
  });

  it('Sequencer + SequencerCriterion, and the Recurrence variant, learn the same task', async () => {
    const { tensor } = await import('@webrnn/rnn');
    const seq = data(2).map((s) => tensor(s, { dtype: 'int32' }));
    const inputs = seq.slice(0, rho);
    const targets = seq.slice(1);
    const make = (variant: 'recurrent' | 'recurrence') => {
      manualSeed(3);
      const rr =
        variant === 'recurrent'
          ? new nn.Sequential()
              .add(
                new nn.Recurrent(
                  hiddenSize,
                  new nn.LookupTable(nIndex, hiddenSize),
                  new nn.Linear(hiddenSize, hiddenSize),
                  new nn.Sigmoid(),
                  rho,
                ),
              )
              .add(new nn.Linear(hiddenSize, nIndex))
              .add(new nn.LogSoftMax())
          : new nn.Sequential()
              .add(new nn.LookupTable(nIndex, hiddenSize))
              .add(
                new nn.Recurrence(
                  new nn.Sequential()
                    .add(
                      new nn.ParallelTable()
                        .add(new nn.Linear(hiddenSize, hiddenSize))
                        .add(new nn.Linear(hiddenSize, hiddenSize)),
                    )
                    .add(new nn.CAddTable())
                    .add(new nn.Sigmoid()),
                  hiddenSize,
                  1,
                ),
              )
              .add(new nn.Linear(hiddenSize, nIndex))
              .add(new nn.LogSoftMax());
      return new nn.Sequencer(rr);
    };
    for (const variant of ['recurrent', 'recurrence'] as const) {
      const rnn = make(variant);
      const criterion = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
      const losses: number[] = [];
      for (let i = 0; i < 200; i++) {
        losses.push(
          tidy(() => {
            const out = rnn.forward(inputs);
            const err = criterion.forward(out, targets).itemSync();
            rnn.zeroGradParameters();
            rnn.backward(inputs, criterion.backward(out, targets));
            rnn.updateParameters(0.1);
            return err;
          }),
        );
      }
      expect(losses.at(-1)!, variant).toBeLessThan(losses[0]! * 0.5);
    }
  });
});

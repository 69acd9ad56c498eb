/**
 * The Torch7 rnn tutorial (Element-research/rnn's README and examples/simple-{recurrent,sequencer,recurrence}-
 * network.lua), snippet by snippet in TypeScript: word indices are int32 and 0-based.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, nn, randint, tensor, tidy } from '@webrnn/rnn';

// hyper-parameters
const batchSize = 8;
const rho = 5; // sequence length
const hiddenSize = 7;
const nIndex = 10;
const lr = 0.1;

/**
 * The dummy dataset: one long sequence 0, 1, ..., 9, 0, 1, ... (the task is to predict the next item), read at
 * `batchSize` random offsets that advance by one each step.
 */
function dataset(seed: number) {
  manualSeed(seed);
  const length = 100 * nIndex;
  const sequence = Int32Array.from({ length }, (_, i) => i % nIndex);
  const offsets = Array.from(randint(0, length, [batchSize]).dataSync());
  return () => {
    const inputs: Tensor[] = [];
    const targets: Tensor[] = [];
    for (let step = 0; step < rho; step++) {
      inputs.push(
        tensor(
          Int32Array.from(offsets, (o) => sequence[o]!),
          { dtype: 'int32' },
        ),
      );
      for (let j = 0; j < batchSize; j++) offsets[j] = (offsets[j]! + 1) % length;
      targets.push(
        tensor(
          Int32Array.from(offsets, (o) => sequence[o]!),
          { dtype: 'int32' },
        ),
      );
    }
    return { inputs, targets };
  };
}

const recursorPrint = [
  'nn.Recursor @ nn.Sequential {',
  '  [input -> (1) -> (2) -> (3) -> output]',
  '  (1): nn.Recurrent {',
  '    [{input(t), output(t-1)} -> (1) -> (2) -> (3) -> output(t)]',
  '    (1):  {',
  '      input(t)',
  '        |`-> (t==0): nn.Add',
  '        |`-> (t~=0): nn.LookupTable',
  '      output(t-1)',
  '        |`-> nn.Linear(7 -> 7)',
  '    }',
  '    (2): nn.CAddTable',
  '    (3): nn.Sigmoid',
  '  }',
  '  (2): nn.Linear(7 -> 10)',
  '  (3): nn.LogSoftMax',
  '}',
].join('\n');

function simpleRecurrentNetwork() {
  // build simple recurrent neural network
  const r = new nn.Recurrent(
    hiddenSize,
    new nn.LookupTable(nIndex, hiddenSize),
    new nn.Linear(hiddenSize, hiddenSize),
    new nn.Sigmoid(),
    rho,
  );
  return new nn.Sequential().add(r).add(new nn.Linear(hiddenSize, nIndex)).add(new nn.LogSoftMax());
}

/** One iteration of simple-recurrent-network.lua; returns the summed NLL of the rho steps. */
function recursorIteration(
  rnn: InstanceType<typeof nn.Recursor>,
  criterion: InstanceType<typeof nn.ClassNLLCriterion>,
  next: ReturnType<typeof dataset>,
): number {
  return tidy(() => {
    // 1. create a sequence of rho time-steps
    const { inputs, targets } = next();
    // 2. forward sequence through rnn
    rnn.zeroGradParameters();
    rnn.forget(); // forget all past time-steps
    const outputs: Tensor[] = [];
    let err = 0;
    for (let step = 0; step < rho; step++) {
      outputs[step] = rnn.forward(inputs[step]!) as Tensor;
      err += criterion.forward(outputs[step]!, targets[step]!).itemSync();
    }
    // 3. backward sequence through rnn (i.e. backprop through time), in reverse order of the forward calls
    for (let step = rho - 1; step >= 0; step--) {
      criterion.forward(outputs[step]!, targets[step]!);
      const gradOutput = criterion.backward(outputs[step]!, targets[step]!);
      rnn.backward(inputs[step]!, gradOutput);
    }
    // 4. update
    rnn.updateParameters(lr);
    return err;
  });
}

/** One iteration of simple-sequencer-network.lua. */
function sequencerIteration(
  rnn: InstanceType<typeof nn.Sequencer>,
  criterion: InstanceType<typeof nn.SequencerCriterion>,
  next: ReturnType<typeof dataset>,
): number {
  return tidy(() => {
    const { inputs, targets } = next();
    rnn.zeroGradParameters();
    const outputs = rnn.forward(inputs);
    const err = criterion.forward(outputs, targets).itemSync();
    const gradOutputs = criterion.backward(outputs, targets);
    rnn.backward(inputs, gradOutputs);
    rnn.updateParameters(lr);
    return err;
  });
}

/** Mean of the first and of the last `k` values. */
const ends = (xs: number[], k = 10) => {
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return [mean(xs.slice(0, k)), mean(xs.slice(-k))] as const;
};

describe('the rnn tutorial, as written', () => {
  it('the README snippet builds and prints as in Torch', () => {
    const r = new nn.Recurrent(7, new nn.LookupTable(10, 7), new nn.Linear(7, 7), new nn.Sigmoid(), 5);
    const rnn0 = new nn.Sequential().add(r).add(new nn.Linear(7, 10)).add(new nn.LogSoftMax());
    const rnn = new nn.Recursor(rnn0, 5);
    expect(rnn.toString()).toBe(recursorPrint);
    expect(rnn.rho).toBe(5);
    const out = rnn.forward(tensor([0, 3, 9], { dtype: 'int32' })) as Tensor;
    expect(out.shape).toEqual([3, 10]);
  });

  it('simple-recurrent-network: Recursor, forward 5 steps, backward in reverse, update; the loss falls', () => {
    manualSeed(0);
    const rnn = new nn.Recursor(simpleRecurrentNetwork(), rho);
    expect(rnn.toString()).toBe(recursorPrint);
    const criterion = new nn.ClassNLLCriterion();
    const next = dataset(1);
    const losses = Array.from({ length: 200 }, () => recursorIteration(rnn, criterion, next));
    const [first, last] = ends(losses);
    expect(first).toBeGreaterThan(rho * 1.8); // about rho * ln(10) at first
    expect(last).toBeLessThan(first * 0.35); // about 11 -> 2.1 to 2.7 here
  });

  it('simple-sequencer-network: the same network in a Sequencer with a SequencerCriterion learns too', () => {
    manualSeed(0);
    // internally, rnn will be wrapped into a Recursor to make it an AbstractRecurrent instance.
    const rnn = new nn.Sequencer(simpleRecurrentNetwork());
    expect(rnn.toString()).toBe(`nn.Sequencer @ ${recursorPrint}`);
    const criterion = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
    expect(criterion.toString()).toBe('nn.SequencerCriterion(nn.ClassNLLCriterion)');
    const next = dataset(1);
    const losses = Array.from({ length: 200 }, () => sequencerIteration(rnn, criterion, next));
    const [first, last] = ends(losses);
    expect(last).toBeLessThan(first * 0.35); // about 11 -> 2.1 to 2.7 here
  });

  it('the Recursor and Sequencer scripts compute the same losses, step for step', () => {
    manualSeed(0);
    const a = new nn.Recursor(simpleRecurrentNetwork(), rho);
    manualSeed(0);
    const b = new nn.Sequencer(simpleRecurrentNetwork());
    const [na, nb] = [dataset(3), dataset(3)];
    const ca = new nn.ClassNLLCriterion();
    const cb = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
    for (let i = 0; i < 20; i++) {
      expect(sequencerIteration(b, cb, nb)).toBeCloseTo(recursorIteration(a, ca, na), 4);
    }
  });

  it('simple-recurrence-network: nn.Recurrence (nInputDim 0 for word indices) learns the task', () => {
    manualSeed(0);
    // the internal recurrentModule used by Recurrence: its input is {x[t], h[t-1]}
    const rm = new nn.Sequential()
      .add(
        new nn.ParallelTable()
          .add(new nn.LookupTable(nIndex, hiddenSize)) // input layer
          .add(new nn.Linear(hiddenSize, hiddenSize)), // recurrent layer
      )
      .add(new nn.CAddTable()) // merge
      .add(new nn.Sigmoid()); // transfer
    const rnn = new nn.Sequencer(
      new nn.Sequential()
        .add(new nn.Recurrence(rm, hiddenSize, 0)) // similar to nn.Recurrent, but more general, and no startModule
        .add(new nn.Linear(hiddenSize, nIndex))
        .add(new nn.LogSoftMax()),
    );
    expect(rnn.toString()).toBe(
      [
        'nn.Sequencer @ nn.Recursor @ nn.Sequential {',
        '  [input -> (1) -> (2) -> (3) -> output]',
        '  (1): nn.Recurrence @ nn.Sequential {',
        '    [input -> (1) -> (2) -> (3) -> output]',
        '    (1): nn.ParallelTable {',
        '      input',
        '        |`-> (1): nn.LookupTable',
        '         `-> (2): nn.Linear(7 -> 7)',
        '         ... -> output',
        '    }',
        '    (2): nn.CAddTable',
        '    (3): nn.Sigmoid',
        '  }',
        '  (2): nn.Linear(7 -> 10)',
        '  (3): nn.LogSoftMax',
        '}',
      ].join('\n'),
    );
    const criterion = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
    const next = dataset(2);
    const losses = Array.from({ length: 200 }, () => sequencerIteration(rnn, criterion, next));
    const [first, last] = ends(losses);
    expect(last).toBeLessThan(first * 0.35); // about 11 -> 2.1 to 2.7 here
  });

  it('200 training iterations of the tutorial model leave memory() flat (Recursor and Sequencer)', () => {
    manualSeed(0);
    const rec = new nn.Recursor(simpleRecurrentNetwork(), rho);
    const seq = new nn.Sequencer(simpleRecurrentNetwork());
    const nll = new nn.ClassNLLCriterion();
    const snll = new nn.SequencerCriterion(new nn.ClassNLLCriterion());
    const next = dataset(4);
    recursorIteration(rec, nll, next);
    sequencerIteration(seq, snll, next);
    const before = memory();
    for (let i = 0; i < 200; i++) {
      recursorIteration(rec, nll, next);
      sequencerIteration(seq, snll, next);
    }
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
  });
});

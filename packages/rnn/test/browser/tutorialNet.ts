import { type DeviceName, type Tensor, manualSeed, nn, tensor, tidy } from '@webrnn/rnn';

/**
 * The tutorial's first net (Element-research/rnn's simple-recurrent-network.lua, as scripts/outside-project/main.ts
 * runs it), as one function that runs unchanged in Node, in a bundle in a vm context and in a browser page, so
 * that the losses of every place can be compared with one another.
 */
export async function trainTutorialNet(device: DeviceName, iterations = 30): Promise<number[]> {
  const batchSize = 8;
  const rho = 5;
  const hiddenSize = 7;
  const nIndex = 10;
  manualSeed(1);
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
  ).to(device);
  const criterion = new nn.ClassNLLCriterion();
  // The sequence 0, 1, ..., 9, 0, 1, ... read at batchSize offsets; the target is the next item.
  const offsets = Array.from({ length: batchSize }, (_, i) => (i * 37) % nIndex);
  const step = (): Tensor =>
    tensor(
      Int32Array.from(offsets, (o) => o % nIndex),
      { dtype: 'int32', device },
    );
  const losses: number[] = [];
  for (let iteration = 0; iteration < iterations; iteration++) {
    const err = tidy(() => {
      const inputs: Tensor[] = [];
      const targets: Tensor[] = [];
      for (let t = 0; t < rho; t++) {
        inputs.push(step());
        for (let j = 0; j < batchSize; j++) offsets[j]! += 1;
        targets.push(step());
      }
      rnn.zeroGradParameters();
      rnn.forget();
      const outputs = inputs.map((x) => rnn.forward(x) as Tensor);
      let sum = criterion.forward(outputs[0]!, targets[0]!);
      for (let t = 1; t < rho; t++) sum = sum.add(criterion.forward(outputs[t]!, targets[t]!));
      for (let t = rho - 1; t >= 0; t--) {
        criterion.forward(outputs[t]!, targets[t]!);
        rnn.backward(inputs[t]!, criterion.backward(outputs[t]!, targets[t]!));
      }
      rnn.updateParameters(0.5);
      return sum;
    });
    losses.push(await err.item());
    err.dispose();
  }
  rnn.dispose();
  return losses;
}

/** The written tolerance between two runs of the net: float32 on both, the GPU's sums in another order. */
export const LOSS_TOLERANCE = { sameBackend: 1e-9, cpuVsWebgpu: 5e-5 } as const;

/** True when the mean of the last five losses is under 80% of the first five's. */
export function lossFell(losses: readonly number[]): boolean {
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean(losses.slice(-5)) < 0.8 * mean(losses.slice(0, 5));
}

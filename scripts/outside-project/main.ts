// The tutorial's first net (Element-research/rnn's simple-recurrent-network.lua), run from a project outside the
// monorepo that installed the packed tarballs: `node main.js [cpu|webgpu]` prints a falling loss or exits 1.
import {
  type Tensor,
  type WebGPUBackend,
  initWebGPU,
  lastWebGPUError,
  manualSeed,
  nn,
  tensor,
  tidy,
} from '@webrnn/rnn';

const device = process.argv[2] === 'webgpu' ? 'webgpu' : 'cpu';
let gpu: WebGPUBackend | null = null;
if (device === 'webgpu') {
  gpu = await initWebGPU();
  if (!gpu) {
    console.log(`webgpu: skipped, no adapter (${lastWebGPUError()})`);
    process.exit(process.env.WEBRNN_REQUIRE_WEBGPU === '1' ? 1 : 0);
  }
}

const batchSize = 8;
const rho = 5;
const hiddenSize = 7;
const nIndex = 10;
const lr = 0.1;
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
for (let iteration = 0; iteration < 40; iteration++) {
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
    rnn.updateParameters(lr);
    return sum;
  });
  losses.push(await err.item());
  err.dispose();
  if (iteration % 10 === 0 || iteration === 39)
    console.log(`${device} iteration ${iteration}: loss ${losses.at(-1)!.toFixed(4)}`);
}
gpu?.destroy();

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
if (!(mean(losses.slice(-5)) < 0.8 * mean(losses.slice(0, 5)))) {
  console.error(`${device}: the loss did not fall (${losses.map((l) => l.toFixed(3)).join(' ')})`);
  process.exit(1);
}
console.log(`${device}: the loss fell from ${losses[0]!.toFixed(4)} to ${losses.at(-1)!.toFixed(4)}`);

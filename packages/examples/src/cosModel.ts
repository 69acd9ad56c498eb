import { type DeviceName, type Tensor, cos, linspace, nn, tensor, tidy, unbind } from '@webrnn/rnn';
import { type AutoProbe, stepsOf, trainingProbe, values } from './shared/probe.js';

/**
 * The cos example's data and model, free of Node imports: cos.ts trains them from the command line and the web
 * demo (packages/examples/web/) in a page.
 */

// The data: cos over 2000 points of [0, 200], ten points per radian. The tutorial trains on all of it and
// predicts its beginning; here the last quarter is held out and the predictions are made there.
export const LENGTH = 2000;
export const TRAIN_END = 1500;
export const EVAL_START = TRAIN_END;

export interface CosData {
  readonly device: DeviceName;
  readonly sequence: readonly number[];
  /** Windows of rho values starting at `starts` (from `values`: the sequence, or predictions), [rho, N, 1]. */
  windowsAt(starts: readonly number[], values?: readonly number[]): Tensor;
  /** The value of the sequence that follows each window, [N, 1]. */
  nextValuesAt(starts: readonly number[]): Tensor;
}

export function cosData(rho: number, device: DeviceName): CosData {
  // torch.cos(torch.linspace(0, 200, 2000)), in float64.
  const sequence = Array.from(tidy(() => cos(linspace(0, 200, LENGTH, { dtype: 'float64' })).dataSync()));
  return {
    device,
    sequence,
    windowsAt(starts, values = sequence) {
      const n = starts.length;
      const x = new Float32Array(rho * n);
      for (let t = 0; t < rho; t++) for (let b = 0; b < n; b++) x[t * n + b] = values[starts[b]! + t]!;
      return tensor(x, { shape: [rho, n, 1], device });
    },
    nextValuesAt(starts) {
      const y = Float32Array.from(starts, (s) => sequence[s + rho]!);
      return tensor(y, { shape: [starts.length, 1], device });
    },
  };
}

/** The tutorial's model: a step module that the Sequencer applies to every element of the sequence. */
export function buildModel(hidden: number, select: boolean): nn.Module {
  if (!select) {
    return new nn.Sequencer(
      new nn.Sequential()
        .add(new nn.Linear(1, hidden))
        .add(new nn.FastLSTM(hidden, hidden))
        .add(new nn.NormStabilizer()) // keeps the norm of h(t) steady from step to step (Krueger & Memisevic)
        .add(new nn.Linear(hidden, 1))
        .add(new nn.HardTanh()), // cos(x) lies in [-1, 1]
    );
  }
  // The same net with the output layers applied to the last step only: the input is one tensor [rho, batch, 1].
  return new nn.Sequential()
    .add(new nn.SplitTable(0))
    .add(
      new nn.Sequencer(
        new nn.Sequential()
          .add(new nn.Linear(1, hidden))
          .add(new nn.FastLSTM(hidden, hidden))
          .add(new nn.NormStabilizer()),
      ),
    )
    .add(new nn.SelectTable(-1))
    .add(new nn.Linear(hidden, 1))
    .add(new nn.HardTanh());
}

/**
 * What `--backend auto` times for this model (shared/probe.ts): one training step at these sizes. cos.ts and the
 * web demo's `auto` measure the same probe.
 */
export function cosProbe(s: { hidden: number; rho: number; batch: number }, select: boolean): AutoProbe {
  const { hidden, rho, batch } = s;
  return trainingProbe('cos', { hidden, rho, batch, select }, (d) => [
    {
      model: buildModel(hidden, select).to(d),
      input: select ? values([rho, batch, 1], d) : stepsOf(rho, () => values([batch, 1], d)),
    },
  ]);
}

/** The model's prediction of the value after each window x [rho, N, 1], as [N, 1]. */
export function predictNext(rnn: nn.Module, x: Tensor, select: boolean): Tensor {
  if (select) return rnn.forward(x) as Tensor;
  const outputs = rnn.forward(unbind(x, 0)) as Tensor[];
  return outputs.at(-1)!;
}

import { type DeviceName, type DeviceProbe, type Tensor, full, nn, sum, tensor } from '@webrnn/rnn';

/**
 * The probes that `--backend auto` times (core's chooseDevice) to pick the faster device for a program: the
 * program's own model at its own sizes, built fresh on each device, and one training step of it. Building the
 * model draws from the random generator, which chooseDevice restores: the run that follows builds the same weights
 * from the same seed and trains exactly as it would on that device given explicitly.
 */

/** A table of tensors, as modules take and give them. */
export type Table = Tensor | readonly Table[];

/** One model of a program and a batch of its input. */
export interface ProbePart {
  // biome-ignore lint/suspicious/noExplicitAny: any module, whatever its input and output types
  readonly model: nn.Module<any, any>;
  readonly input: Table;
  /** Whatever else the build made that must be freed: criterions, an NCEModule's estimate of Z (which a container's
   * dispose does not reach). */
  readonly owned?: readonly { dispose(): void }[];
}

/** What chooseBackend needs for `auto`: the shape class (the cache key) and the probe. */
export interface AutoProbe {
  readonly key: string;
  readonly probe: DeviceProbe;
}

/**
 * A probe whose step is one forward and one backward (BPTT included) of each part, with a gradient of ones in
 * place of the criterion's (a criterion costs little next to the model). `sizes` name the shape class: the program
 * and the options that set the model's and the batch's sizes.
 */
export function trainingProbe(
  program: string,
  sizes: Sizes,
  build: (device: DeviceName) => ProbePart[],
): AutoProbe {
  return probeOf(program, sizes, (device) => {
    const parts = build(device);
    return {
      step: () => {
        let total: Tensor | null = null;
        for (const { model, input } of parts) {
          model.training();
          model.zeroGradParameters();
          const output = model.forward(input) as Table;
          model.backward(input, onesLike(output));
          model.forget();
          for (const t of flat(output)) total = total ? total.add(sum(t)) : sum(t);
        }
        return total!;
      },
      dispose: () => {
        for (const { model, input, owned = [] } of parts) {
          for (const o of owned) o.dispose();
          model.dispose();
          for (const t of flat(input)) t.dispose();
        }
      },
    };
  });
}

/** The options that set a program's sizes: they and the program's name make the shape class. */
export type Sizes = Record<string, number | string | boolean>;

/** The sizes among a program's options, by name: `sizesOf(o, ['hidden', 'rho', 'batch'])`. */
export function sizesOf<K extends string>(values: Record<K, Sizes[string]>, keys: readonly K[]): Sizes {
  return Object.fromEntries(keys.map((k) => [k, values[k]]));
}

/**
 * A program's own probe, for models that a forward and backward with gradients of ones does not drive (chained
 * encoder and decoder stages): its step is the program's training step without the parameter update.
 */
export function probeOf(program: string, sizes: Sizes, probe: DeviceProbe): AutoProbe {
  const shape = Object.entries(sizes).map(([k, v]) => `${k}=${v}`);
  return { key: [program, ...shape].join(' '), probe };
}

function flat(t: Table): Tensor[] {
  return Array.isArray(t) ? (t as readonly Table[]).flatMap(flat) : [t as Tensor];
}

function onesLike(t: Table): Table {
  if (Array.isArray(t)) return (t as readonly Table[]).map(onesLike);
  const x = t as Tensor;
  return full(x.shape, 1, { device: x.device, dtype: x.dtype });
}

/** int32 indices in [from, from + count), cycling, shaped `shape`: a batch of tokens or classes without random draws. */
export function indices(shape: readonly number[], count: number, device: DeviceName, from = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Int32Array.from({ length: n }, (_, i) => from + ((i * 7) % count));
  return tensor(data, { shape, dtype: 'int32', device });
}

/** float32 values in [-1, 1] shaped `shape`. */
export function values(shape: readonly number[], device: DeviceName): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float32Array.from({ length: n }, (_, i) => Math.sin(i)),
    { shape, device },
  );
}

/** `n` steps of `make(device)`: the table a Sequencer takes. */
export function stepsOf(n: number, make: () => Tensor): Tensor[] {
  return Array.from({ length: n }, make);
}

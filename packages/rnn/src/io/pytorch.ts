import { WebrnnError, fmtShape, typedArrayFor } from '../module/deps.js';
import type { HostTensor } from './safetensors.js';
import { setOwn } from './safetensorsHeader.js';

/**
 * PyTorch state dicts (e.g. saved with Python's `safetensors.torch.save_file(model.state_dict(), path)`) in
 * webrnn's names and layouts, for `loadStateDict`. The mapping is explicit: for each webrnn module path (as in
 * `stateDict`: '' the root, '1', '2.0') the PyTorch module's prefix:
 *
 *   const { tensors } = io.decodeSafetensors(readFileSync('model.safetensors'));
 *   io.loadStateDict(model, io.fromPyTorch(tensors, { '0': 'embed', '1': 'lstm', '2.0': 'fc' }));
 *
 * - nn.Embedding `weight` [n, d] -> LookupTable `weight` (same layout); nn.Linear `weight` [out, in] and `bias`
 *   -> Linear (same layout as Torch's).
 * - nn.LSTM layer k (`{ from: 'lstm', layer: k }`, default 0) -> SeqLSTM: `weight` = [W_ih^T; W_hh^T] with the
 *   gate columns reordered from PyTorch's (i, f, g, o) to SeqLSTM's (i, f, o, g), `bias` = b_ih + b_hh (zeros
 *   without biases), and with `proj_size` `weightO` = W_hr^T. One SeqLSTM per layer and direction.
 * Every tensor under a mapped prefix must be used (a bidirectional LSTM's `_reverse` weights, or a layer not
 * mapped, are refused by name rather than dropped); names outside the mapped prefixes are ignored.
 */
export type PyTorchSource = string | { readonly from: string; readonly layer?: number };

/** webrnn gate block k comes from PyTorch gate block TORCH_GATE[k] (i, f, o, g from i, f, g, o). */
export const TORCH_GATE = [0, 1, 3, 2];

export function fromPyTorch(
  tensors: Record<string, HostTensor>,
  map: Record<string, PyTorchSource>,
): Record<string, HostTensor> {
  const op = 'fromPyTorch';
  const out: Record<string, HostTensor> = {};
  const used = new Set<string>();
  const prefixes: string[] = [];
  const get = (name: string): HostTensor | undefined =>
    Object.hasOwn(tensors, name) ? tensors[name] : undefined;
  for (const [target, source] of Object.entries(map)) {
    const { from, layer = 0 } = typeof source === 'string' ? { from: source } : source;
    const prefix = from === '' ? '' : `${from}.`;
    const to = (name: string) => (target === '' ? name : `${target}.${name}`);
    prefixes.push(prefix);
    const take = (name: string) => {
      const t = get(prefix + name);
      if (t) used.add(prefix + name);
      return t;
    };
    if (get(`${prefix}weight_ih_l${layer}`)) {
      for (const [k, v] of Object.entries(lstm(take, layer, prefix, op))) setOwn(out, to(k), v);
    } else if (get(`${prefix}weight`)) {
      setOwn(out, to('weight'), take('weight')!);
      const bias = take('bias');
      if (bias) setOwn(out, to('bias'), bias);
    } else {
      throw new WebrnnError(
        op,
        `no PyTorch tensors '${prefix}weight' or '${prefix}weight_ih_l${layer}' for webrnn module '${target}'`,
      );
    }
  }
  for (const name of Object.keys(tensors)) {
    const p = prefixes.find((p) => name.startsWith(p) && !name.slice(p.length).includes('.'));
    if (p !== undefined && !used.has(name)) {
      throw new WebrnnError(
        op,
        `PyTorch tensor '${name}' is not used by the mapping (map each LSTM layer to its own SeqLSTM; bidirectional _reverse weights are not supported)`,
      );
    }
  }
  return out;
}

function lstm(
  take: (name: string) => HostTensor | undefined,
  layer: number,
  prefix: string,
  op: string,
): Record<string, HostTensor> {
  const l = `_l${layer}`;
  const ih = take(`weight_ih${l}`)!;
  const hh = take(`weight_hh${l}`);
  const [bih, bhh, hr] = [take(`bias_ih${l}`), take(`bias_hh${l}`), take(`weight_hr${l}`)];
  const bad = (msg: string): never => {
    throw new WebrnnError(op, `PyTorch LSTM '${prefix}*${l}': ${msg}`);
  };
  if (ih.shape.length !== 2 || ih.shape[0]! % 4 !== 0 || ih.shape[0] === 0) {
    bad(`weight_ih${l} must be [4 * hidden, input], got ${fmtShape(ih.shape)}`);
  }
  const [G, D] = ih.shape as [number, number];
  const H = G / 4;
  const R = hr ? hr.shape[0]! : H;
  if (hr && (hr.shape.length !== 2 || hr.shape[1] !== H))
    bad(`weight_hr${l} must be [proj, ${H}], got ${fmtShape(hr.shape)}`);
  if (!hh || hh.shape.length !== 2 || hh.shape[0] !== G || hh.shape[1] !== R) {
    bad(`weight_hh${l} must be [${G}, ${R}], got ${hh ? fmtShape(hh.shape) : 'none'}`);
  }
  for (const [name, b] of [
    [`bias_ih${l}`, bih],
    [`bias_hh${l}`, bhh],
  ] as const) {
    if (b && (b.shape.length !== 1 || b.shape[0] !== G))
      bad(`${name} must be [${G}], got ${fmtShape(b.shape)}`);
  }
  if (!bih !== !bhh) bad('has one of bias_ih and bias_hh but not the other');
  const dtype = ih.dtype;
  const weight = typedArrayFor(dtype, (D + R) * G);
  const bias = typedArrayFor(dtype, G);
  for (let gate = 0; gate < 4; gate++) {
    for (let j = 0; j < H; j++) {
      const col = gate * H + j;
      const row = TORCH_GATE[gate]! * H + j;
      for (let k = 0; k < D; k++) weight[k * G + col] = ih.data[row * D + k]!;
      for (let k = 0; k < R; k++) weight[(D + k) * G + col] = hh!.data[row * R + k]!;
      bias[col] = bih ? bih.data[row]! + bhh!.data[row]! : 0;
    }
  }
  const out: Record<string, HostTensor> = {
    weight: { dtype, shape: [D + R, G], data: weight },
    bias: { dtype, shape: [G], data: bias },
  };
  if (hr) {
    const wo = typedArrayFor(dtype, H * R);
    for (let i = 0; i < H; i++) for (let r = 0; r < R; r++) wo[i * R + r] = hr.data[r * H + i]!;
    out.weightO = { dtype, shape: [H, R], data: wo };
  }
  return out;
}
